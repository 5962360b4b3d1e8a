# SPDX-License-Identifier: Apache-2.0
"""Exception views: every failure becomes a friendly page with a code and a reference id."""
from __future__ import annotations

import logging

from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from pyramid.httpexceptions import HTTPException, HTTPFound
from pyramid.renderers import render_to_response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config

from .. import audit
from ..errors import BadRequestError, ErrorCode, ErrorFamily, SamlError, StoreUnavailableError, new_reference
from ..session import detach_session

log = logging.getLogger("ekn_saml")
TEMPLATE = "ekn_saml:templates/error.jinja2"


def render_error(request, *, family: str, code: str, reference: str, status: int):
    response = render_to_response(
        TEMPLATE,
        {"family": family, "code": code, "reference": reference, "retry_url": request.route_path("saml.login")},
        request=request,
    )
    response.status_int = status
    return response


@exception_view_config(SamlError)
def saml_error(exc: SamlError, request):
    # Operators read the detail; users see the code and the reference only.
    level = logging.ERROR if isinstance(exc, StoreUnavailableError) else logging.WARNING
    if isinstance(exc, StoreUnavailableError):
        # the page must render without the store it reports as down, and
        # must not show a login whose session could not be saved
        detach_session(request)
    log.log(level, "%s ref=%s: %s", exc.code.value, exc.reference, exc.detail)
    audit.login_failed(request, exc)
    return render_error(request, family=exc.family.value, code=exc.code.value, reference=exc.reference, status=exc.http_status)


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
    log.warning("%s ref=%s: bad CSRF token on %s", ErrorCode.CSRF_FAILED.value, reference, request.path)
    return render_error(request, family=ErrorFamily.BAD_REQUEST.value, code=ErrorCode.CSRF_FAILED.value, reference=reference, status=400)


@forbidden_view_config()
def forbidden(request):
    if request.identity is None:
        # Not logged in: log in first, then come back here (the path is checked when used).
        return HTTPFound(location=request.route_path("saml.login", _query={"next": request.path_qs}))
    reference = new_reference()
    return render_error(request, family=ErrorFamily.BAD_REQUEST.value, code="EKN-WEB-403", reference=reference, status=403)


@notfound_view_config()
def not_found(request):
    return render_error(request, family=ErrorFamily.BAD_REQUEST.value, code="EKN-WEB-404", reference=new_reference(), status=404)


@exception_view_config(Exception)
def unexpected(exc, request):
    # Never a stack trace to the user; the reference ties the page to this log line.
    if isinstance(exc, HTTPException):
        return exc  # redirects and Pyramid's own HTTP answers are responses, not failures
    reference = new_reference()
    log.exception("EKN-500 ref=%s: unexpected error on %s", reference, request.path)
    return render_error(request, family=ErrorFamily.UNAVAILABLE.value, code="EKN-500", reference=reference, status=500)
