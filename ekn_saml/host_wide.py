# SPDX-License-Identifier: Apache-2.0
"""The opt-in, host-wide parts: what an app that is *only* the plugin's (the demo) takes over from it.

``config.include("ekn_saml")`` adds routes, views, services and templates and
nothing host-wide.  Each function here is an include of its own, so a host
takes exactly what it wants::

    config.include("ekn_saml")
    config.include("ekn_saml.host_wide")                  # all of them (the demo)
    config.include("ekn_saml.host_wide.security_headers")  # or one by one

Each sets something Pyramid keeps once per app (``set_session_factory``,
``set_security_policy``, ``set_default_csrf_options``,
``set_locale_negotiator``, the 404 and 403 views).  By Pyramid's conflict
resolution the same setting made in the host's own ``main`` wins over the
one made here, and one made in another include of the host conflicts at
commit: nothing is replaced by accident.
"""

from __future__ import annotations


def _app_session(request):
    # the app's request.session *is* the request's ekn_saml session: one object, saved once
    return request.ekn_saml_session


def session_factory(config) -> None:
    """ekn_saml's server-side session (:mod:`ekn_saml.session`) becomes the app's ``request.session``.

    The cookie holds a random id; the data (the login, the CSRF token,
    whatever the app stores) lives sealed in the state store.  Without this
    include the plugin keeps its login in that session all the same
    (``request.ekn_saml_session``), beside the host's own.
    """
    config.set_session_factory(_app_session)


def security_policy(config) -> None:
    """:class:`~ekn_saml.security.SamlSecurityPolicy` becomes the app's: ``request.identity`` is the SAML login."""
    from .security import SamlSecurityPolicy

    config.set_security_policy(SamlSecurityPolicy())


def csrf_default(config) -> None:
    """Pyramid's CSRF check on every unsafe request of the app's views (``require_csrf=True`` by default).

    It takes its token from the app's CSRF storage policy (by default
    ``request.session``: with :func:`session_factory`, ekn_saml's).  The
    plugin's own forms do not need it: they are checked by :mod:`ekn_saml.csrf`.
    """
    config.set_default_csrf_options(require_csrf=True)


def locale_negotiator(config) -> None:
    """The plugin's locale negotiator becomes the app's (:func:`ekn_saml.i18n.locale_negotiator`)."""
    from .i18n import add_locale_negotiator

    add_locale_negotiator(config)


def error_views(config) -> None:
    """The plugin's error pages for every route: 404, 403, CSRF, undecodable URLs, unexpected errors.

    See :func:`ekn_saml.views.errors.includeme`.
    """
    config.include("ekn_saml.views.errors")


def security_headers(config) -> None:
    """The plugin's security headers on every response of the app (:mod:`ekn_saml.headers`)."""
    config.include("ekn_saml.headers")


def favicon(config) -> None:
    """The plugin's icon at ``/favicon.ico`` (:func:`ekn_saml.views.static.favicon`), instead of a 404 on every visit."""
    from .views.static import add_favicon

    add_favicon(config)


def includeme(config) -> None:
    """Every host-wide part: session factory, security policy, CSRF default, locale negotiator, error views, headers, favicon."""
    for part in (
        session_factory,
        security_policy,
        csrf_default,
        locale_negotiator,
        error_views,
        security_headers,
        favicon,
    ):
        config.include(part)
