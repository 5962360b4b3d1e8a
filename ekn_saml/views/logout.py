# SPDX-License-Identifier: Apache-2.0
"""Local logout: a CSRF-protected POST ends the session here first (sp-checklist §3.10)."""

from __future__ import annotations

from pyramid.view import view_config

from .. import audit
from ..csrf import check_plugin_form
from ..events import LogoutCompleted
from ..login_state import forget_identity
from ..public_url import public_url
from . import redirect, service_provider


# require_csrf=False: the host's default CSRF check (if any) would look for
# the host's token; the form carries ekn_saml's own, checked here (ekn_saml.csrf).
@view_config(route_name="saml.logout", request_method="POST", require_csrf=False)
def logout(request):
    check_plugin_form(request)
    identity = forget_identity(request)
    audit.logged_out(request, identity)
    request.registry.notify(LogoutCompleted(request, identity))
    return redirect(public_url(request, service_provider(request).settings.logged_out_path))


@view_config(route_name="saml.logged_out", request_method="GET", renderer="ekn_saml:templates/logged_out.jinja2")
def logged_out(request):
    return {}
