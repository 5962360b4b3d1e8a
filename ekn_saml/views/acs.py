# SPDX-License-Identifier: Apache-2.0
"""The Assertion Consumer Service (HTTP-POST)."""
from __future__ import annotations

import logging

from pyramid.httpexceptions import HTTPFound
from pyramid.security import remember
from pyramid.view import view_config

from ..events import LoginSucceeded
from ..service import BROWSER_COOKIE

log = logging.getLogger("ekn_saml")


@view_config(route_name="saml.acs", request_method="POST", require_csrf=False)
def acs(request):
    # No CSRF token can come from the IdP: the signed response, its single-use
    # InResponseTo and the browser-binding cookie protect this endpoint.
    sp = request.registry.ekn_saml
    # Keep the (size-capped) body in memory: no temporary file on the login path.
    request.request_body_tempfile_limit = 2 * sp.settings.max_response_bytes
    identity, next_path = sp.finish_login(
        request.POST.get("SAMLResponse"), request.POST.get("RelayState"), request.cookies.get(BROWSER_COOKIE)
    )
    remember(request, identity.subject, identity=identity)
    log.info("login ok method=%s idp=%s loa=%s subject=%s", identity.method, identity.idp, identity.loa, identity.log_subject)
    request.registry.notify(LoginSucceeded(request, identity))
    return HTTPFound(location=next_path)
