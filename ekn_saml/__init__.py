# SPDX-License-Identifier: Apache-2.0
"""ekn_saml: a strict SAML 2.0 Service Provider for Pyramid, for Swedish e-legitimations.

Use it with ``config.include("ekn_saml")``; see :func:`includeme`.  What a
host app builds on (docs/integration.md):

* :func:`identity_of` — the SAML :class:`Identity` logged in with a request, or ``None``;
* :func:`remember_identity`, :func:`forget_identity` — log an identity in and out of ekn_saml's state;
* :func:`end_sessions` — end every session of an identity, on every node;
* :func:`principals_of` — the ACL principals of an identity;
* :class:`SamlSecurityPolicy` — a security policy on these, set alone
  (``ekn_saml.host_wide.security_policy``) or wrapped by the host's;
* :func:`csrf_token` — the token a form posting to the plugin (logout) carries;
* :func:`login_url` — where to send someone who must log in;
* :func:`chosen_language` — the language picked with the plugin's switch;
* the services of :mod:`ekn_saml.interfaces`, from ``request.registry.getUtility``.
"""

from __future__ import annotations

from pyramid.events import ApplicationCreated, BeforeRender
from pyramid.settings import asbool
from pyramid.tweens import EXCVIEW

from ._version import __version__
from .csrf import csrf_token
from .errors import ConfigurationError
from .i18n import chosen_language
from .identity import Identity
from .login_state import forget_identity, identity_of, remember_identity
from .public_url import login_url
from .security import SamlSecurityPolicy, principals_of
from .session import end_sessions

__all__ = [
    "Identity",
    "SamlSecurityPolicy",
    "__version__",
    "chosen_language",
    "csrf_token",
    "end_sessions",
    "forget_identity",
    "identity_of",
    "includeme",
    "login_url",
    "principals_of",
    "remember_identity",
]


def _start_federation_refresher(event) -> None:
    # Once the app exists: a startup that fails after the metadata loaded leaves no thread behind.
    from .interfaces import IFederationMetadata

    federation = event.app.registry.queryUtility(IFederationMetadata)
    if federation is not None:
        federation.start()


def includeme(config):
    """Add the SP to the app: routes, views, services, templates and translations, and nothing host-wide.

    Registers, for the plugin's own use:

    * deferred actions that parse the ``ekn_saml.*`` settings, load keys and
      trusted metadata and register the services of
      :mod:`ekn_saml.interfaces` at commit (:mod:`ekn_saml.wiring`), so
      settings may still change after this include; every problem is
      reported in one :class:`~ekn_saml.errors.ConfigurationError` (wrapped
      by Pyramid in a ``ConfigurationExecutionError``);
    * the routes of :mod:`ekn_saml.routes` (an ACS and a metadata document
      per SP profile) and the language switch, their views, the static files
      at ``/ekn_saml_static/``, and the development IdP's routes when
      ``ekn_saml.devidp.enabled`` is true **at this point** (checked again
      at commit);
    * ``request.ekn_saml_session``: the plugin's own server-side session,
      which holds the login whatever the app's ``request.session`` is, and
      the tween that saves it (under ``EXCVIEW``);
    * exception views for :class:`~ekn_saml.errors.SamlError` and, on the
      plugin's routes (view predicate ``ekn_saml_route``), for CSRF
      failures, undecodable URLs and unexpected errors;
    * a tween that sets the security headers on the plugin's responses;
    * the health checks (``/healthz``, ``/readyz``) and, with
      ``prometheus_client`` installed, ``/metrics`` (for the
      ``status.allowed_addresses`` only), its tween and a ``LoginSucceeded``
      subscriber, as ``ekn_saml.health.*`` and ``ekn_saml.metrics.*`` say
      **at this point** (checked again at commit); the metrics use a
      registry of their own, not prometheus_client's global one;
    * Jinja2 (``pyramid_jinja2``), the ``ekn_saml`` translations, and a
      ``BeforeRender`` subscriber that gives the plugin's templates (only
      theirs) who is logged in and the plugin's CSRF token.

    It does **not** set the app's session factory, security policy, default
    CSRF check, locale negotiator, 404/403/Exception views or headers on the
    host's pages: those are the opt-in includes of :mod:`ekn_saml.host_wide`.
    The plugin must be mounted at the root: its ACS and metadata URLs are
    published as ``ekn_saml.sp.public_base_url`` + path, so a
    ``route_prefix`` is refused.
    """
    from .events import LoginSucceeded
    from .headers import add_plugin_tween
    from .health import count_login_success
    from .routes import add_operations_routes
    from .session import REQUEST_ATTR, request_session
    from .settings import operations_at_include
    from .views import template_values
    from .views.errors import PluginRoutePredicate
    from .views.health import add_operations_views
    from .views.static import add_static_files
    from .wiring import add_service_actions

    if config.route_prefix:
        raise ConfigurationError(
            [
                f"config.include('ekn_saml') with route_prefix {config.route_prefix!r}: the ACS and metadata "
                "URLs are published on ekn_saml.sp.public_base_url at fixed paths, so mount the plugin at the root"
            ]
        )
    # The development IdP's routes are added now or never; the deferred
    # build checks that the setting still says the same at commit.
    devidp = asbool(config.get_settings().get("ekn_saml.devidp.enabled", False))
    # The health and metrics routes too (ekn_saml.health.*, ekn_saml.metrics.*): checked again at commit.
    operations = operations_at_include(config.get_settings())
    add_service_actions(config, devidp_routes=devidp, operations_routes=operations.routes)

    config.add_request_method(request_session, REQUEST_ATTR, reify=True)
    # under the exception view, so a store error while saving becomes the 503 page
    config.add_tween("ekn_saml.session.session_tween_factory", under=EXCVIEW)
    add_plugin_tween(config)
    config.add_view_predicate("ekn_saml_route", PluginRoutePredicate)
    config.add_subscriber(template_values, BeforeRender)
    config.add_subscriber(_start_federation_refresher, ApplicationCreated)

    config.include(".i18n")
    add_static_files(config)
    config.include(".routes")
    add_operations_routes(config, operations)
    add_operations_views(config, operations)
    if operations.metrics_enabled:
        # over EXCVIEW: it reads request.exception once an exception view has answered
        config.add_tween("ekn_saml.health.metrics_tween_factory", over=EXCVIEW)
        config.add_subscriber(count_login_success, LoginSucceeded)
    config.scan(".views")
    if devidp:
        config.include(".devidp")
