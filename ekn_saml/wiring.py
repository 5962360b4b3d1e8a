# SPDX-License-Identifier: Apache-2.0
"""The services of ``config.include("ekn_saml")``: read from the settings and files at commit, then registered.

Nothing here runs at include time.  :func:`add_service_actions` (called by
:func:`ekn_saml.includeme`) adds deferred configuration actions, as
pyramid_retry and pyramid_tm do, so that a host can still change
``ekn_saml.*`` settings after ``config.include("ekn_saml")`` and before the
configuration is committed:

1. at :data:`ORDER_BUILD` one action parses the settings, loads the keys,
   the trusted IdP metadata (files, the development IdP, federation
   metadata), opens the store and builds every service; it raises one
   :class:`~ekn_saml.errors.ConfigurationError` listing every problem
   (Pyramid wraps it in a ``ConfigurationExecutionError`` at commit);
2. at :data:`ORDER_REGISTER` one action per interface of
   :mod:`ekn_saml.interfaces` registers the built object as a utility, under
   the discriminator ``("ekn_saml", "service", <interface name>)`` and with
   an introspectable, so a second registration conflicts at commit and each
   shows in ``pviews`` and the debug toolbar.
"""

from __future__ import annotations

from typing import Any, cast

from pyramid.interfaces import PHASE2_CONFIG
from zope.interface.interface import InterfaceClass

from .errors import ConfigurationError
from .interfaces import (
    IDevelopmentIdp,
    IFederationMetadata,
    IFormActionOrigins,
    IIdpRegistry,
    IMetrics,
    ISamlServiceProvider,
    ISamlSessionFactory,
    ISpMetadataDocuments,
    IStateStore,
)

# After the settings a host may add during its own configuration (those
# are immediate), before the views and routes of the default phase: nothing
# else at configuration time needs the services, so any early phase works.
ORDER_BUILD = PHASE2_CONFIG
ORDER_REGISTER = PHASE2_CONFIG + 1

SERVICES: tuple[InterfaceClass, ...] = (
    ISamlServiceProvider,
    IStateStore,
    ISamlSessionFactory,
    IIdpRegistry,
    ISpMetadataDocuments,
    IFormActionOrigins,
    IFederationMetadata,  # only with ekn_saml.federation.metadata_url
    IDevelopmentIdp,  # only with ekn_saml.devidp.enabled
    IMetrics,  # only with ekn_saml.metrics.enabled
)
INTROSPECTION_CATEGORY = "ekn_saml services"


def _development_idp(settings, profile_credentials, registry):
    """The development IdPs, trusted through their metadata in ``registry``; their engines and metadata."""
    from .devidp import DevelopmentIdp, development_trust
    from .metadata.sp import sp_metadata_bytes
    from .pysaml2_bridge import DevIdpEngine
    from .timeutil import utcnow

    dev = settings.devidp
    trust = development_trust(dev.entity_id, dev.base_url, dev.cert, now=utcnow())
    registry.merge(trust.records)
    # every SP profile's metadata: the IdPs know each profile's entityID, keys and ACS
    sp_metadata = [
        sp_metadata_bytes(settings, profile_credentials[p.name], profile=p).decode() for p in settings.sp_profiles
    ]
    engines = {
        idp.slug: DevIdpEngine(
            entity_id=idp.entity_id,
            sso_url=idp.sso_url,
            key_file=dev.key,
            cert_file=dev.cert,
            sp_metadata_xml=sp_metadata,
            data_encryption=dev.data_encryption,
        )
        for idp in trust.idps
    }
    return DevelopmentIdp(engines, trust.metadata)


def _xml_crypto(name: str):
    """The :class:`~ekn_saml.xmlsecurity.XmlCrypto` engine ``ekn_saml.crypto_backend`` names.

    ``xmlsec1`` imports pysaml2's program runner (through the bridge) only
    when asked for, and raises ConfigurationError if the program is not
    installed; the service provider itself never imports the bridge.
    """
    if name == "xmlsec1":
        from .pysaml2_bridge import Xmlsec1Crypto

        return Xmlsec1Crypto.create()
    from .xmlsecurity import IN_PROCESS

    return IN_PROCESS


def build_services(
    raw_settings: dict[str, Any], *, devidp_routes: bool, operations_routes: tuple[tuple[str, str], ...] | None = None
) -> dict[InterfaceClass, object]:
    """Every service of the plugin, built from ``raw_settings`` (the app's settings); keyed by interface.

    Reads the key files, the server key file, the trusted metadata (and
    loads federation metadata, which may mean a download) and opens the
    store (without connecting).  ``devidp_routes`` says whether the
    development IdP's routes were added at include time: it must agree with
    ``ekn_saml.devidp.enabled`` now; ``operations_routes``, if given, are
    the health and metrics routes added then, which must agree with
    ``ekn_saml.health.*`` and ``ekn_saml.metrics.*`` now.  With metrics on,
    the store is wrapped in a :class:`~ekn_saml.metrics.MeteredStore` (every
    user of the store is timed) and the recorder is registered as
    :class:`~ekn_saml.interfaces.IMetrics`.  Raises one ConfigurationError listing
    every problem.  Starts no thread: the federation refresher starts when
    the WSGI app is created.
    """
    from .credentials import load_profile_credentials
    from .headers import FormActionOrigins
    from .metadata.idp import IdpRegistry, load_idp_metadata_files
    from .metadata.sp import SpMetadataDocuments, sp_metadata_bytes
    from .server_keys import load_server_keys
    from .service import ServiceProvider
    from .session import StoreSessionFactory
    from .settings import DEFAULT_SP_PROFILE, parse_settings
    from .storage import StateStore, store_from_url
    from .timeutil import utcnow
    from .xmlsec_check import check_xmlsec

    # one libxml2 for lxml and xmlsec, the profile's algorithms, the SAML schemas (once per process)
    check_xmlsec()
    settings = parse_settings(raw_settings)
    problems: list[str] = []
    if settings.devidp.enabled != devidp_routes:
        problems.append(
            "ekn_saml.devidp.enabled was changed after config.include('ekn_saml'): set it before the include, "
            "which decides from it whether the development IdP's routes are added"
        )
    if operations_routes is not None and settings.operations.routes != operations_routes:
        problems.append(
            "ekn_saml.health.* or ekn_saml.metrics.* was changed after config.include('ekn_saml'): set them "
            "before the include, which adds the health and metrics routes from them"
        )
    # every SP profile's keys, loaded once and checked against their certificates
    profile_credentials, key_problems = load_profile_credentials(settings)
    problems += key_problems
    # the secret of the store's index keys and encrypted identities
    server_keys, key_problems = load_server_keys(
        settings.server_keys, development=settings.is_development, quiet=settings.testing
    )
    problems += key_problems
    idps, metadata_problems = load_idp_metadata_files(settings.idp_metadata_files, now=utcnow())
    problems += metadata_problems
    registry = IdpRegistry(idps)
    services: dict[InterfaceClass, object] = {IIdpRegistry: registry}
    federation = None
    if settings.federation.enabled and not problems:
        from .metadata.federation import attach_federation

        federation, federation_problems = attach_federation(settings, registry)
        problems += federation_problems
        if federation is not None:
            services[IFederationMetadata] = federation
    if settings.devidp.enabled and not problems:
        services[IDevelopmentIdp] = _development_idp(settings, profile_credentials, registry)
    for method in settings.methods:
        if method.idp_entity_id not in registry:
            problems.append(f"ekn_saml.method.{method.name}.idp: {method.idp_entity_id} is not in any trusted metadata")
    if problems:
        raise ConfigurationError(problems)

    try:
        store = store_from_url(
            settings.store_url,
            key_prefix=settings.store_key_prefix,
            allow_memory=settings.testing,
            backend=settings.store_backend,
        )
    except ValueError as exc:
        raise ConfigurationError([f"ekn_saml.store.url: {exc}"]) from None
    if settings.operations.metrics_enabled:
        from .metrics import MeteredStore, Recorder

        recorder = Recorder({m.name: m.idp_entity_id for m in settings.methods})
        services[IMetrics] = recorder
        # not a StateStore subclass, but it keeps the contract: every call goes to the store it wraps
        store = cast("StateStore", MeteredStore(store, recorder))
    if federation is not None:
        # one download per machine and interval: the workers share a lease in the store (and the backing file)
        federation.use_store(store)
    sp = ServiceProvider(
        settings,
        profile_credentials[DEFAULT_SP_PROFILE],
        registry,
        store,
        profile_credentials=profile_credentials,
        server_keys=server_keys,
        crypto=_xml_crypto(settings.crypto_backend),
    )
    services[ISamlServiceProvider] = sp
    services[IStateStore] = store
    # each SP profile's metadata document, built (and schema-checked) once
    services[ISpMetadataDocuments] = SpMetadataDocuments(
        {p.name: sp_metadata_bytes(settings, profile_credentials[p.name], profile=p) for p in settings.sp_profiles}
    )
    # Forms may post to the IdPs (HTTP-POST binding) and to our own public
    # origin (the development IdP may sit on another origin and posts to our ACS,
    # whichever SP profile's: every profile's ACS is on the public origin).
    # The IdPs' origins come from the metadata in force when each response is made.
    services[IFormActionOrigins] = FormActionOrigins(
        sorted({settings.public_base_url, *([settings.devidp.base_url] if settings.devidp.enabled else [])}),
        sp.idp_form_origins,
    )
    services[ISamlSessionFactory] = StoreSessionFactory(
        store,
        server_keys=sp.server_keys,  # the one ServerKeys of the app: index MACs and sealed sessions
        cookie_name=settings.session_cookie_name,
        secure=settings.session_cookie_secure,
        idle_timeout=settings.session_idle_timeout,
        absolute_timeout=settings.session_absolute_timeout,
    )
    return services


class _Built:
    """What the build action made, handed to the registration actions that run after it."""

    def __init__(self) -> None:
        self.services: dict[InterfaceClass, object] = {}


def add_service_actions(
    config, *, devidp_routes: bool, operations_routes: tuple[tuple[str, str], ...] | None = None
) -> None:
    """Add the deferred build and one registration action per service interface (see the module's docstring)."""
    built = _Built()

    def build() -> None:
        built.services = build_services(
            config.get_settings(), devidp_routes=devidp_routes, operations_routes=operations_routes
        )

    config.action(("ekn_saml", "build services"), build, order=ORDER_BUILD)
    for iface in SERVICES:
        intr = config.introspectable(INTROSPECTION_CATEGORY, iface.__name__, iface.__name__, "ekn_saml service")
        intr["interface"] = iface

        def register(iface=iface) -> None:
            service = built.services.get(iface)
            if service is not None:  # the optional ones are absent when not configured
                config.registry.registerUtility(service, iface)

        config.action(("ekn_saml", "service", iface.__name__), register, order=ORDER_REGISTER, introspectables=(intr,))
