# SPDX-License-Identifier: Apache-2.0
"""The Assertion Consumer Service (HTTP-POST)."""

from __future__ import annotations

import logging
from functools import partial

from pyramid.view import view_config

from .. import audit
from ..errors import ErrorCode, ResponseValidationError
from ..events import LoginSucceeded
from ..login_state import remember_identity
from ..public_url import public_url
from ..session import end_replaced_session
from . import redirect, service_provider, sp_profile_of_route

log = logging.getLogger("ekn_saml")


@view_config(route_name="saml.acs", request_method="POST", require_csrf=False)
@view_config(route_name="saml.acs_profile", request_method="POST", require_csrf=False)
def acs(request):
    # No CSRF token can come from the IdP: the signed response, its single-use
    # InResponseTo and the browser-binding cookie protect this endpoint.
    sp = service_provider(request)
    sp_profile = sp_profile_of_route(request)
    # The size cap comes before the body is read (checklist 12): a body too big
    # to hold a SAMLResponse under the cap (form encoding at most triples
    # base64: '+', '/', '=' become %XX) is refused unread, so nothing big is
    # parsed, nor spooled to a temporary file (which was also left unclosed).
    body_cap = 3 * sp.settings.max_response_bytes + 4096
    if (request.content_length or 0) > body_cap:
        raise ResponseValidationError(
            ErrorCode.RESPONSE_TOO_LARGE, f"POST body of {request.content_length} bytes, cap {body_cap}"
        )
    request.request_body_tempfile_limit = body_cap  # what passes is kept in memory
    identity, next_path = sp.finish_login(
        request.POST.get("SAMLResponse"),
        request.POST.get("RelayState"),
        request.cookies.get(sp.browser_cookie_name),
        sp_profile=sp_profile,
        end_previous_session=partial(end_replaced_session, request),
    )
    # ekn_saml's own login state, whatever the host's security policy is
    remember_identity(request, identity)
    log.info(
        "login ok method=%s idp=%s sp=%s loa=%s subject=%s",
        identity.method,
        identity.idp,
        identity.sp_entity_id,
        identity.loa,
        identity.log_subject,
    )
    audit.login_succeeded(request, identity)
    request.registry.notify(LoginSucceeded(request, identity))
    return redirect(public_url(request, next_path))
