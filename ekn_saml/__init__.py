# SPDX-License-Identifier: Apache-2.0
"""ekn_saml: a strict SAML 2.0 Service Provider for Pyramid, for Swedish e-legitimations.

Use it with ``config.include("ekn_saml")``; see :func:`includeme`.
"""

from __future__ import annotations

from pyramid.renderers import render_to_response
from pyramid.tweens import EXCVIEW

from ._version import __version__
from .errors import ConfigurationError, MetadataError
from .identity import Identity
from .session import end_sessions

__all__ = ["Identity", "__version__", "end_sessions", "includeme"]


def _load_trusted_idps(settings, now):
    from .metadata.idp import parse_idp_metadata

    idps, problems = {}, []
    for path in settings.idp_metadata_files:
        try:
            with open(path, "rb") as fh:
                idps.update(parse_idp_metadata(fh.read(), source=path, now=now))
        except (OSError, MetadataError) as exc:
            problems.append(f"ekn_saml.idp.metadata_files: {getattr(exc, 'detail', exc)}")
    return idps, problems


def _setup_devidp(config, settings, profile_credentials, registry) -> list[str]:
    from .devidp import dev_idp_metadata, dev_idps
    from .metadata.idp import parse_idp_metadata
    from .metadata.sp import sp_metadata_bytes
    from .pysaml2_bridge import DevIdpEngine
    from .timeutil import utcnow
    from .xmlsecurity import PublicKey

    dev = settings.devidp
    with open(dev.cert, "rb") as fh:
        cert = PublicKey.from_pem(fh.read())
    idps = dev_idps(dev.entity_id, dev.base_url)
    metadata = dev_idp_metadata(idps, cert)
    # trusted through metadata, parsed by the same code as any federation's
    registry.merge(parse_idp_metadata(metadata, source="development IdP", now=utcnow()))
    # every SP profile's metadata: the IdPs know each profile's entityID, keys and ACS
    sp_metadata = [
        sp_metadata_bytes(settings, profile_credentials[p.name], profile=p).decode() for p in settings.sp_profiles
    ]
    config.registry.ekn_devidp = {
        idp.slug: DevIdpEngine(
            entity_id=idp.entity_id,
            sso_url=idp.sso_url,
            key_file=dev.key,
            cert_file=dev.cert,
            sp_metadata_xml=sp_metadata,
            data_encryption=dev.data_encryption,
        )
        for idp in idps
    }
    config.registry.ekn_devidp_metadata = metadata
    return []


def _render_autopost(request, action: str, fields: dict[str, str]):
    from .i18n import _

    return render_to_response(
        "ekn_saml:templates/autopost.jinja2",
        {"action": action, "fields": fields, "button_label": request.localizer.translate(_("Continue"))},
        request=request,
    )


def includeme(config):
    """Set up the SP: settings, keys, trusted IdPs, store, sessions, security, routes and views.

    Parses ``ekn_saml.*`` settings once and raises one
    :class:`~ekn_saml.errors.ConfigurationError` listing every problem.
    Registers ``request.identity`` (through a security policy), a
    server-side session factory, default CSRF checks on unsafe methods, the
    i18n and security-header setup, and the routes in :mod:`ekn_saml.routes`
    (an ACS and a metadata document per SP profile; the session, chooser and
    logout are shared by all profiles).  Every profile's keys are loaded once here.
    The development IdP is included only when ``ekn_saml.devidp.enabled``.
    """
    from .credentials import load_profile_credentials
    from .metadata.idp import IdpRegistry
    from .metadata.sp import sp_metadata_bytes
    from .security import SamlSecurityPolicy
    from .server_keys import load_server_keys
    from .service import ServiceProvider
    from .session import StoreSessionFactory
    from .settings import DEFAULT_SP_PROFILE, parse_settings
    from .storage import store_from_url
    from .timeutil import utcnow
    from .xmlsec_check import check_xmlsec

    # one libxml2 for lxml and xmlsec, the profile's algorithms, the SAML schemas (once per process)
    check_xmlsec()
    settings = parse_settings(config.get_settings())
    # every SP profile's keys, loaded once and checked against their certificates
    profile_credentials, problems = load_profile_credentials(settings)
    # the secret of the store's index keys and encrypted identities
    server_keys, key_problems = load_server_keys(
        settings.server_keys, development=settings.is_development, quiet=settings.testing
    )
    problems += key_problems
    idps, metadata_problems = _load_trusted_idps(settings, utcnow())
    problems += metadata_problems
    registry = IdpRegistry(idps)
    if settings.federation.enabled and not problems:
        from .metadata.federation import attach_federation

        problems += attach_federation(config, settings, registry)
    if settings.devidp.enabled and not problems:
        problems += _setup_devidp(config, settings, profile_credentials, registry)
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
        )
    except ValueError as exc:
        raise ConfigurationError([f"ekn_saml.store.url: {exc}"]) from None
    sp = ServiceProvider(
        settings,
        profile_credentials[DEFAULT_SP_PROFILE],
        registry,
        store,
        profile_credentials=profile_credentials,
        server_keys=server_keys,
    )
    config.registry.ekn_saml = sp
    # each SP profile's metadata document, built (and schema-checked) once
    config.registry.ekn_saml_profile_metadata = {
        p.name: sp_metadata_bytes(settings, profile_credentials[p.name], profile=p) for p in settings.sp_profiles
    }
    config.registry.ekn_saml_metadata = config.registry.ekn_saml_profile_metadata[DEFAULT_SP_PROFILE]
    # Forms may post to the IdPs (HTTP-POST binding) and to our own public
    # origin (the development IdP may sit on another origin and posts to our ACS,
    # whichever SP profile's: every profile's ACS is on the public origin).
    config.registry.ekn_saml_form_action_origins = sorted(
        {settings.public_base_url, *([settings.devidp.base_url] if settings.devidp.enabled else [])}
    )
    # the IdPs' origins come from the metadata in force when each response is made
    config.registry.ekn_saml_dynamic_form_action_origins = sp.idp_form_origins

    sessions = StoreSessionFactory(
        store,
        server_keys=sp.server_keys,  # the one ServerKeys of the app: index MACs and sealed sessions
        cookie_name=settings.session_cookie_name,
        secure=settings.session_cookie_secure,
        idle_timeout=settings.session_idle_timeout,
        absolute_timeout=settings.session_absolute_timeout,
    )
    config.registry.ekn_saml_sessions = sessions  # end_sessions_of() for host apps; see ekn_saml.end_sessions
    config.set_session_factory(sessions)
    # under the exception view, so a store error while saving becomes the 503 page
    config.add_tween("ekn_saml.session.session_tween_factory", under=EXCVIEW)
    config.set_security_policy(SamlSecurityPolicy())
    config.set_default_csrf_options(require_csrf=True)
    config.add_request_method(_render_autopost, "render_autopost")

    config.include(".i18n")
    config.include(".headers")
    config.add_static_view("ekn_saml_static", "ekn_saml:static/", cache_max_age=3600)
    config.include(".routes")
    config.scan(".views")
    if settings.devidp.enabled:
        config.include(".devidp")
