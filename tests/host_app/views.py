# SPDX-License-Identifier: Apache-2.0
"""The portal's pages, and its own 404, 403 and exception views (plain HTML, as the portal's own)."""

from __future__ import annotations

from html import escape

from pyramid.csrf import get_csrf_token
from pyramid.httpexceptions import HTTPException, HTTPFound
from pyramid.response import Response
from pyramid.security import forget, remember
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config, view_config

import ekn_saml

VISITS_KEY = "portal.visits"


def _page(request, body: str, status: int = 200) -> Response:
    return Response(
        f'<!DOCTYPE html><html lang="{request.locale_name}"><head><meta charset="utf-8"><title>Portal</title></head>'
        f"<body>{body}</body></html>",
        status=status,
        content_type="text/html",
    )


def _visit(request) -> int:
    """The portal's own use of its cookie session: a visit counter, kept across the SAML login."""
    request.session[VISITS_KEY] = request.session.get(VISITS_KEY, 0) + 1
    return request.session[VISITS_KEY]


@view_config(route_name="portal.home", request_method="GET")
def home(request):
    visits = _visit(request)
    return _page(
        request,
        f'<h1>Portal</h1><p data-testid="visits">{visits}</p><a href="/portal/konto">Konto</a>'
        # the portal's own login for its staff, with the portal's own CSRF token
        f'<form class="staff-login" method="post" action="/portal/staff-login">'
        f'<input type="hidden" name="csrf_token" value="{escape(get_csrf_token(request))}">'
        f'<input type="text" name="name" aria-label="Namn"><button type="submit">Logga in</button></form>',
    )


@view_config(route_name="portal.account", request_method="GET", permission="customer")
def account(request):
    """A customer's page: who is logged in, through the portal's policy and ekn_saml's building block."""
    visits = _visit(request)
    identity = request.identity  # the portal's policy, which gives the SAML identity for customers
    saml = ekn_saml.identity_of(request)  # the same, straight from ekn_saml
    number = saml.personal_number_masked or saml.org_number or ""
    return _page(
        request,
        f'<h1 data-testid="display-name">{escape(identity.display_name)}</h1>'
        f'<p data-testid="method">{escape(saml.method)}</p>'
        f'<p data-testid="number">{escape(number)}</p>'
        f'<p data-testid="visits">{visits}</p>'
        # a button to ekn_saml's logout, with ekn_saml's CSRF token (not the portal's)
        f'<form class="saml-logout" method="post" action="/logout">'
        f'<input type="hidden" name="csrf_token" value="{escape(ekn_saml.csrf_token(request))}">'
        f'<button type="submit">Logga ut</button></form>'
        # the portal's own form, with the portal's own CSRF token
        f'<form class="end-sessions" method="post" action="/portal/end-sessions">'
        f'<input type="hidden" name="csrf_token" value="{escape(get_csrf_token(request))}">'
        f'<button type="submit">Logga ut överallt</button></form>',
    )


@view_config(route_name="portal.end_sessions", request_method="POST", permission="customer")
def end_sessions(request):
    """ "Log me out on every device": every ekn_saml session of this customer ends."""
    ended = ekn_saml.end_sessions(request, ekn_saml.identity_of(request).subject)
    return _page(request, f'<p data-testid="ended">{ended}</p>')


@view_config(route_name="portal.staff_login", request_method="POST")
def staff_login(request):
    # the portal's own login (no password check in this example), through its own policy
    remember(request, request.POST["name"])
    return HTTPFound(location="/")


@view_config(route_name="portal.staff_logout", request_method="POST")
def staff_logout(request):
    forget(request)  # the portal's policy: its staff login and any SAML login of this browser
    return HTTPFound(location="/")


@view_config(route_name="portal.broken", request_method="GET")
def broken(request):
    raise RuntimeError("a bug in the portal")


@notfound_view_config()
def portal_not_found(request):
    return _page(request, '<h1 data-testid="portal-404">Sidan finns inte</h1>', status=404)


@forbidden_view_config()
def portal_forbidden(request):
    if request.identity is None:
        # not logged in: ekn_saml's chooser, coming back here after the login
        return HTTPFound(location=ekn_saml.login_url(request, request.path_qs))
    return _page(request, '<h1 data-testid="portal-403">Ingen behörighet</h1>', status=403)


@exception_view_config(Exception)
def portal_error(exc, request):
    if isinstance(exc, HTTPException):
        return exc  # a raised redirect or HTTP answer is a response, not a failure
    return _page(request, '<h1 data-testid="portal-500">Portalen har ett fel</h1>', status=500)
