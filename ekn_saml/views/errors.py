# SPDX-License-Identifier: Apache-2.0
"""Exception views: every failure becomes a friendly page with a code and a reference id.

Also the ordinary views those pages need: ``/login-expired``, where the ACS
sends a request-state failure that came cross-site (see :func:`saml_error`),
and ``/login-error``, the same page again (another language) from a signed
link that names only the code and the reference (:func:`error_page`).

Every reference a page shows is in the log and the audit trail (a failed
login's ``login_failure`` line, else an ``error_page`` line).  A cancel and a
harmless "you are still logged in" are calm pages with HTTP 200.

Which of them are the plugin's and which the host's:

* always (``config.include("ekn_saml")``, by ``config.scan``): the plugin's
  own exceptions (:class:`~ekn_saml.errors.SamlError`, wherever raised:
  only the plugin raises them), and, **on the plugin's routes only** (view
  predicate ``ekn_saml_route=True``), CSRF failures, undecodable URLs and
  unexpected errors;
* opt-in (:func:`includeme`, part of ``ekn_saml.host_wide``; the demo takes
  it): the same three for every route, and the app's 404 (``EKN-WEB-404``)
  and 403 views (an anonymous user is sent to the login chooser).  Without
  it a host's own views answer for its routes.
"""

from __future__ import annotations

import logging
import re

from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from pyramid.httpexceptions import HTTPException, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import exception_view_config, view_config

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
    refusal_of,
)
from ..interfaces import ISamlServiceProvider
from ..login_state import identity_of
from ..public_url import login_url, public_route_url
from ..routes import is_plugin_route
from ..session import detach_session
from . import redirect, service_provider

log = logging.getLogger("ekn_saml")
TEMPLATE = "ekn_saml:templates/error.jinja2"
# families with a page of their own (same variables as TEMPLATE); the others share TEMPLATE
FAMILY_TEMPLATES: dict[str, str] = {
    ErrorFamily.STEP_UP_MISMATCH: "ekn_saml:templates/error_step_up.jinja2",
}
_REFERENCE = re.compile(r"[0-9A-F]{10}")  # what new_reference() makes
# The routes of a login: starting one, and the ACS of every SP profile.  An
# error there is a failed login for the audit trail; an error on any other
# page (the language switch, a session page) is logged, not audited as one.
_LOGIN_ROUTES = frozenset({"saml.login_start", "saml.acs", "saml.acs_profile"})
# Codes of pages that are not SamlErrors: their family (the page) when shown again by error_page
NOT_FOUND_CODE = "EKN-WEB-404"
FORBIDDEN_CODE = "EKN-WEB-403"
UNEXPECTED_CODE = "EKN-500"
_OTHER_PAGES = {
    NOT_FOUND_CODE: ErrorFamily.NOT_FOUND,
    FORBIDDEN_CODE: ErrorFamily.BAD_REQUEST,
    UNEXPECTED_CODE: ErrorFamily.UNAVAILABLE,
}
# the server keys' purpose of the signed code and reference in /login-error links
_PAGE_PURPOSE = "ekn_saml error page"


def _is_login(request) -> bool:
    route = getattr(request, "matched_route", None)
    return route is not None and route.name in _LOGIN_ROUTES


def error_page_path(request, code: str, reference: str) -> str | None:
    """The path of ``/login-error`` showing the page of ``code`` with ``reference`` again; ``None`` without the SP.

    The language switch of an error page leads there, so the page comes back
    in the other language with the same code and reference.  The link names
    nothing but those two (no personal data), signed with the server keys so
    that nobody can make the site show a page of their choosing.
    """
    sp = request.registry.queryUtility(ISamlServiceProvider)
    if sp is None or not _REFERENCE.fullmatch(reference):
        return None
    return request.route_path("saml.error_page", _query={"page": error_page_token(sp.server_keys, code, reference)})


def error_page_token(server_keys, code: str, reference: str) -> str:
    """The ``page`` value of a ``/login-error`` link: ``code~reference`` signed with ``server_keys``."""
    return server_keys.sign(_PAGE_PURPOSE, f"{code}~{reference}")


def render_error(request, *, family: str, code: str, reference: str, status: int):
    continue_url = None
    # A login that cannot finish (a form sent again with the back button, a
    # second window) leaves an earlier login untouched: a user who is still
    # logged in is sent back into the service, not only into a new login.
    # The family is tested first so that other pages (the store-outage one)
    # do not read the session.
    if family == ErrorFamily.REQUEST_STATE and identity_of(request) is not None:
        continue_url = service_provider(request).settings.landing_path
    try:
        refusal = refusal_of(ErrorCode(code))
    except ValueError:  # EKN-WEB-404 and the other page codes that are not ErrorCodes
        refusal = None
    response = render_to_response(
        FAMILY_TEMPLATES.get(family, TEMPLATE),
        {
            "family": family,
            "code": code,
            "reference": reference,
            "refusal": refusal.value if refusal is not None else None,
            "retry_url": request.route_path("saml.login"),
            "continue_url": continue_url,
            "page_lang_next": error_page_path(request, code, reference),
        },
        request=request,
    )
    # A deliberate cancel, or a resubmission while still logged in, is no
    # failure the user must deal with: a calm page, and a 200.
    calm = family == ErrorFamily.CANCELLED or continue_url is not None
    response.status_int = 200 if calm else status
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
    else:
        audit.error_page_shown(request, code=exc.code.value, reference=exc.reference)
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


@view_config(route_name="saml.error_page", request_method="GET")
def error_page(request):
    """An error page shown again, from the signed link of its language switch (:func:`error_page_path`).

    Same code, same reference, the language the user now has.  It answers
    with the status of the page (404 for the not-found page, 200 for a calm
    one, else 400): the failure it describes was logged when it happened.
    A link that is not signed with the server keys is a 404.
    """
    sp = service_provider(request)
    value = sp.server_keys.unsign(_PAGE_PURPOSE, request.GET.get("page"))
    code, _, reference = (value or "").partition("~")
    if code in _OTHER_PAGES:
        family = _OTHER_PAGES[code]
    else:
        try:
            family = family_of(ErrorCode(code))
        except ValueError:
            raise HTTPNotFound() from None
    if not _REFERENCE.fullmatch(reference):
        raise HTTPNotFound()
    status = 404 if family is ErrorFamily.NOT_FOUND else 400
    return render_error(request, family=family.value, code=code, reference=reference, status=status)


def _url_is_undecodable(request) -> bool:
    try:
        request.path_info  # noqa: B018 - WebOb decodes on first read
        request.GET  # noqa: B018
    except UnicodeDecodeError:
        return True
    return False


@exception_view_config(UnicodeDecodeError, ekn_saml_route=True)
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


@exception_view_config(BadCSRFToken, ekn_saml_route=True)
@exception_view_config(BadCSRFOrigin, ekn_saml_route=True)
def csrf_error(exc, request):
    reference = new_reference()
    reason = "origin" if isinstance(exc, BadCSRFOrigin) else "token"
    # the path is decoded: %0A would be a newline, so it is escaped for the log line
    log.warning("%s ref=%s: bad CSRF %s on %s", ErrorCode.CSRF_FAILED.value, reference, reason, printable(request.path))
    # a forged cross-site request is a security event: it goes to the audit trail too
    audit.csrf_failed(
        request,
        code=ErrorCode.CSRF_FAILED.value,
        reference=reference,
        reason=reason,
        identity=identity_of(request),
    )
    return render_error(
        request, family=ErrorFamily.BAD_REQUEST.value, code=ErrorCode.CSRF_FAILED.value, reference=reference, status=400
    )


def forbidden(request):
    """Opt-in 403 view: without a SAML login, go and log in (and come back); else the EKN-WEB-403 page.

    "Logged in" is ekn_saml's login state (:func:`identity_of`), whatever
    the app's policy says, so this suits an app whose protected pages want
    a SAML login.
    """
    if identity_of(request) is None:
        # Not logged in: log in first, then come back here (the path is checked when used).
        return redirect(login_url(request, request.path_qs))
    reference = new_reference()
    log.warning("%s ref=%s: forbidden: %s", FORBIDDEN_CODE, reference, printable(request.path))
    audit.error_page_shown(request, code=FORBIDDEN_CODE, reference=reference)
    return render_error(
        request, family=ErrorFamily.BAD_REQUEST.value, code=FORBIDDEN_CODE, reference=reference, status=403
    )


def not_found(request):
    """Opt-in 404 view: "page not found" with EKN-WEB-404, its reference logged and audited."""
    reference = new_reference()
    # the path is what the user asked for: escaped, it cannot forge a log line
    log.info("%s ref=%s: no page at %s", NOT_FOUND_CODE, reference, printable(request.path, 200))
    audit.error_page_shown(request, code=NOT_FOUND_CODE, reference=reference)
    return render_error(
        request, family=ErrorFamily.NOT_FOUND.value, code=NOT_FOUND_CODE, reference=reference, status=404
    )


@exception_view_config(Exception, ekn_saml_route=True)
def unexpected(exc, request):
    # Never a stack trace to the user; the reference ties the page to this log line.
    if isinstance(exc, HTTPException):
        return exc  # redirects and Pyramid's own HTTP answers are responses, not failures
    reference = new_reference()
    log.exception("%s ref=%s: unexpected error on %s", UNEXPECTED_CODE, reference, printable(request.path))
    audit.error_page_shown(request, code=UNEXPECTED_CODE, reference=reference)
    return render_error(
        request, family=ErrorFamily.UNAVAILABLE.value, code=UNEXPECTED_CODE, reference=reference, status=500
    )


class PluginRoutePredicate:
    """View predicate ``ekn_saml_route=True``: the request matched one of the plugin's routes.

    So the plugin's exception views for generic exceptions (CSRF, URL
    decoding, unexpected errors) answer for the plugin's pages and leave the
    host's routes to the host's views.
    """

    def __init__(self, value, config) -> None:
        self.value = bool(value)

    def text(self) -> str:
        return f"ekn_saml_route = {self.value}"

    phash = text

    def __call__(self, context, request) -> bool:
        return is_plugin_route(request) == self.value


def includeme(config) -> None:
    """Opt-in, host-wide: the plugin's error pages for every route of the app.

    The 404 view (``EKN-WEB-404``), the 403 view (:func:`forbidden`), and
    CSRF failures (``EKN-WEB-003``), undecodable URLs (``EKN-WEB-004``) and
    unexpected errors (``EKN-500``) on the host's routes too.  Part of
    ``ekn_saml.host_wide``; the demo takes it.
    """
    config.add_notfound_view(not_found)
    config.add_forbidden_view(forbidden)
    config.add_exception_view(undecodable_url, context=UnicodeDecodeError)
    config.add_exception_view(csrf_error, context=BadCSRFToken)
    config.add_exception_view(csrf_error, context=BadCSRFOrigin)
    config.add_exception_view(unexpected, context=Exception)
