# SPDX-License-Identifier: Apache-2.0
"""Exception views: every failure becomes a friendly page with a code and a reference id.

Also the one ordinary view those pages need: ``/login-expired``, where the ACS
sends a request-state failure that came cross-site (see :func:`saml_error`).
"""

from __future__ import annotations

import logging
import re

from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from pyramid.httpexceptions import HTTPException, HTTPFound, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config, view_config

from .. import audit
from ..errors import (
    BadRequestError,
    ErrorCode,
    ErrorFamily,
    RequestStateError,
    SamlError,
    StoreUnavailableError,
    family_of,
    new_reference,
    printable,
)
from ..public_url import public_route_url
from ..session import detach_session

log = logging.getLogger("ekn_saml")
TEMPLATE = "ekn_saml:templates/error.jinja2"
_REFERENCE = re.compile(r"[0-9A-F]{10}")  # what new_reference() makes
# The routes of a login: starting one, and the ACS of every SP profile.  An
# error there is a failed login for the audit trail; an error on any other
# page (the language switch, a session page) is logged, not audited as one.
_LOGIN_ROUTES = frozenset({"saml.login_start", "saml.acs", "saml.acs_profile"})


def _is_login(request) -> bool:
    route = getattr(request, "matched_route", None)
    return route is not None and route.name in _LOGIN_ROUTES


def render_error(request, *, family: str, code: str, reference: str, status: int):
    continue_url = None
    # A login that cannot finish (a form sent again with the back button, a
    # second window) leaves an earlier login untouched: a user who is still
    # logged in is sent back into the service, not only into a new login.
    # The family is tested first so that other pages (the store-outage one)
    # do not read the session.
    if family == ErrorFamily.REQUEST_STATE and request.identity is not None:
        continue_url = request.registry.ekn_saml.settings.landing_path
    response = render_to_response(
        TEMPLATE,
        {
            "family": family,
            "code": code,
            "reference": reference,
            "retry_url": request.route_path("saml.login"),
            "continue_url": continue_url,
        },
        request=request,
    )
    response.status_int = status
    return response


def _session_cookie_withheld(request) -> bool:
    """Whether the browser says this is a cross-site request, which carries no SameSite=Lax session cookie."""
    return request.headers.get("Sec-Fetch-Site") == "cross-site"


@exception_view_config(SamlError)
def saml_error(exc: SamlError, request):
    # Operators read the detail; users see the code and the reference only.
    level = logging.ERROR if isinstance(exc, StoreUnavailableError) else logging.WARNING
    if isinstance(exc, StoreUnavailableError):
        # the page must render without the store it reports as down, and
        # must not show a login whose session could not be saved
        detach_session(request)
    log.log(level, "%s ref=%s: %s", exc.code.value, exc.reference, exc.detail)
    if _is_login(request):
        audit.login_failed(request, exc)
    if exc.family is ErrorFamily.REQUEST_STATE and _session_cookie_withheld(request):
        # The IdP's page posts to the ACS cross-site (also when the back button
        # sends an old answer again), so the session cookie, SameSite=Lax, is
        # not sent and this request cannot see a login that is still valid.
        # The page comes after a redirect: that GET is a top-level navigation,
        # which carries the cookie.
        return HTTPSeeOther(
            location=public_route_url(
                request, "saml.login_expired", _query={"code": exc.code.value, "ref": exc.reference}
            )
        )
    response = render_error(
        request, family=exc.family.value, code=exc.code.value, reference=exc.reference, status=exc.http_status
    )
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


@view_config(route_name="saml.login_expired", request_method="GET")
def login_expired(request):
    """The page of a request-state failure the ACS redirected to (see :func:`saml_error`).

    It only shows what the ACS logged and audited: anything but a request-state
    code and a reference of the right form is a 404, so the page cannot be
    made to show other pages' words.
    """
    try:
        code = ErrorCode(request.GET.get("code", ""))
    except ValueError:
        raise HTTPNotFound() from None
    reference = request.GET.get("ref", "")
    if family_of(code) is not ErrorFamily.REQUEST_STATE or not _REFERENCE.fullmatch(reference):
        raise HTTPNotFound()
    return render_error(
        request,
        family=ErrorFamily.REQUEST_STATE.value,
        code=code.value,
        reference=reference,
        status=RequestStateError.http_status,
    )


def _url_is_undecodable(request) -> bool:
    try:
        request.path_info  # noqa: B018 - WebOb decodes on first read
        request.GET  # noqa: B018
    except UnicodeDecodeError:
        return True
    return False


@exception_view_config(UnicodeDecodeError)
def undecodable_url(exc, request):
    # WebOb decodes the path and query string as UTF-8 when first read, so
    # "/login?next=%ff" raised deep in a view: a bad request, not a 500.
    if not _url_is_undecodable(request):
        return unexpected(exc, request)  # a decoding bug of ours stays a 500
    # The page links back to request.path_qs (language switch), which would
    # fail again: it is rendered as if for the site root.
    request.environ["PATH_INFO"] = "/"
    request.environ["QUERY_STRING"] = ""
    return saml_error(BadRequestError(ErrorCode.REQUEST_ENCODING_INVALID, "the URL is not UTF-8"), request)


@exception_view_config(BadCSRFToken)
@exception_view_config(BadCSRFOrigin)
def csrf_error(exc, request):
    reference = new_reference()
    reason = "origin" if isinstance(exc, BadCSRFOrigin) else "token"
    # the path is decoded: %0A would be a newline, so it is escaped for the log line
    log.warning("%s ref=%s: bad CSRF %s on %s", ErrorCode.CSRF_FAILED.value, reference, reason, printable(request.path))
    # a forged cross-site request is a security event: it goes to the audit trail too
    audit.csrf_failed(request, code=ErrorCode.CSRF_FAILED.value, reference=reference, reason=reason)
    return render_error(
        request, family=ErrorFamily.BAD_REQUEST.value, code=ErrorCode.CSRF_FAILED.value, reference=reference, status=400
    )


@forbidden_view_config()
def forbidden(request):
    if request.identity is None:
        # Not logged in: log in first, then come back here (the path is checked when used).
        return HTTPFound(location=public_route_url(request, "saml.login", _query={"next": request.path_qs}))
    reference = new_reference()
    return render_error(
        request, family=ErrorFamily.BAD_REQUEST.value, code="EKN-WEB-403", reference=reference, status=403
    )


@notfound_view_config()
def not_found(request):
    return render_error(
        request, family=ErrorFamily.BAD_REQUEST.value, code="EKN-WEB-404", reference=new_reference(), status=404
    )


@exception_view_config(Exception)
def unexpected(exc, request):
    # Never a stack trace to the user; the reference ties the page to this log line.
    if isinstance(exc, HTTPException):
        return exc  # redirects and Pyramid's own HTTP answers are responses, not failures
    reference = new_reference()
    log.exception("EKN-500 ref=%s: unexpected error on %s", reference, printable(request.path))
    return render_error(request, family=ErrorFamily.UNAVAILABLE.value, code="EKN-500", reference=reference, status=500)
