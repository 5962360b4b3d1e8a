# SPDX-License-Identifier: Apache-2.0
"""Local logout: a CSRF-protected POST ends the session here first (sp-checklist §3.10)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPFound
from pyramid.security import forget
from pyramid.view import view_config

from .. import audit
from ..events import LogoutCompleted
from ..public_url import public_url


@view_config(route_name="saml.logout", request_method="POST", require_csrf=True)
def logout(request):
    identity = request.identity
    forget(request)
    audit.logged_out(request, identity)
    request.registry.notify(LogoutCompleted(request, identity))
    return HTTPFound(location=public_url(request, request.registry.ekn_saml.settings.logged_out_path))


@view_config(route_name="saml.logged_out", request_method="GET", renderer="ekn_saml:templates/logged_out.jinja2")
def logged_out(request):
    return {}
