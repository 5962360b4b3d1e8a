# SPDX-License-Identifier: Apache-2.0
"""An existing portal that adds ekn_saml and keeps its own session, policy, error pages and language.

What "EKN Online" looked like before ekn_saml, reduced to a few pages: its
own signed-cookie session (:class:`~pyramid.session.SignedCookieSessionFactory`),
its own security policy (its staff log in with the portal's own form;
customers log in through ekn_saml, and the policy delegates to ekn_saml for
them, :mod:`.security`), its own 404 and exception views and its own
locale negotiator, and Pyramid's CSRF check on its own forms.  It includes
``ekn_saml`` (with the development IdP, from ``ekn_saml.devidp.enabled``, as
the demo does) and none of ekn_saml's host-wide parts (``ekn_saml.host_wide``).

The README section "Adding ekn_saml to an existing Pyramid app" is built
on it; tests/functional/test_host_app.py and tests/browser/test_host_app_login.py
drive it.
"""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.session import SignedCookieSessionFactory

from ekn_saml import chosen_language

from .security import PortalSecurityPolicy, Root

SESSION_COOKIE = "portal_session"
LANGUAGE_COOKIE = "portal_lang"
DEFAULT_LANGUAGE = "en"  # the portal's own default; ekn_saml's negotiator would say Swedish


def portal_locale(request) -> str:
    """The portal's own language choice: its cookie, then the one made on ekn_saml's pages, then English."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in ("sv", "en"):
        return chosen
    # the language switch on ekn_saml's pages (the chooser, error pages) sets its own cookie
    return chosen_language(request) or DEFAULT_LANGUAGE


def main(global_config, **settings):
    """The portal's WSGI app: its own set-up first, then ekn_saml's routes, views and services."""
    with Configurator(settings=settings, root_factory=Root) as config:
        # --- the portal's own, as it was before ekn_saml ---
        # A signed cookie: readable by the browser, so it must never hold a
        # personal identity number (ekn_saml keeps its login server-side).
        config.set_session_factory(
            SignedCookieSessionFactory(settings["portal.session_secret"], cookie_name=SESSION_COOKIE, secure=True)
        )
        config.set_security_policy(PortalSecurityPolicy())
        config.set_default_csrf_options(require_csrf=True)
        config.set_locale_negotiator(portal_locale)
        config.add_route("portal.home", "/")
        config.add_route("portal.account", "/portal/konto")
        config.add_route("portal.end_sessions", "/portal/end-sessions")
        config.add_route("portal.staff_login", "/portal/staff-login")
        config.add_route("portal.staff_logout", "/portal/staff-logout")
        config.add_route("portal.broken", "/portal/broken")
        config.scan(".views")
        # --- the SAML login: routes, views, services and templates, nothing host-wide ---
        config.include("ekn_saml")
        return config.make_wsgi_app()
