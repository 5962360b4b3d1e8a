# SPDX-License-Identifier: Apache-2.0
"""The service provider: starting a login and finishing it.  Views call only this."""
from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from .authn_request import OutstandingRequest, browser_hash, build_authn_request, new_id, post_fields, redirect_url
from .credentials import SpCredentials
from .errors import BadRequestError, ErrorCode, MetadataError, SamlError
from .identity import Identity, map_identity
from .metadata.idp import BINDING_POST, BINDING_REDIRECT, IdpRegistry
from .response import REQUESTS, ValidationPolicy, validate_response
from .safe_url import is_safe_local_path
from .settings import SamlSettings
from .storage import StateStore
from .timeutil import utcnow

log = logging.getLogger("ekn_saml")

BROWSER_COOKIE = "ekn_saml_req"


def _xml_crypto(name: str):
    """The :class:`~ekn_saml.xmlsecurity.XmlCrypto` named by ``ekn_saml.crypto_backend``.

    ``xmlsec1`` imports pysaml2's program runner only when asked for, and
    raises ConfigurationError if the program is not installed.
    """
    if name == "xmlsec1":
        from .pysaml2_bridge import Xmlsec1Crypto

        return Xmlsec1Crypto.create()
    from .xmlsecurity import IN_PROCESS

    return IN_PROCESS


@dataclass(frozen=True)
class LoginStart:
    """Where to send the browser: a redirect URL, or a form to POST."""

    binding: str  # "redirect" | "post"
    url: str
    fields: dict[str, str]
    request_id: str


class ServiceProvider:
    """One per process; holds the parsed settings, keys, trusted IdPs and the store."""

    def __init__(
        self,
        settings: SamlSettings,
        credentials: SpCredentials,
        registry: IdpRegistry,
        store: StateStore,
        *,
        clock=utcnow,
    ) -> None:
        self.settings = settings
        self.credentials = credentials
        self.registry = registry
        self.store = store
        self.clock = clock
        # ekn_saml.crypto_backend: the engine that verifies and decrypts after our checks
        self.crypto = _xml_crypto(settings.crypto_backend)
        self.policy = ValidationPolicy(
            entity_id=settings.entity_id,
            acs_url=settings.acs_url,
            clock_skew=settings.clock_skew,
            max_response_age=settings.max_response_age,
            require_encrypted_assertion=settings.require_encrypted_assertion,
            max_response_bytes=settings.max_response_bytes,
        )

    def idp_form_origins(self) -> list[str]:
        """Origins of IdP SSO endpoints we may POST to (for the CSP form-action)."""
        origins = set()
        for method in self.settings.methods:
            idp = self.registry.get(method.idp_entity_id)
            if idp:
                for url in idp.sso_urls.values():
                    parts = urlsplit(url)
                    origins.add(f"{parts.scheme}://{parts.netloc}")
        return sorted(origins)

    def start_login(self, method_name: str, next_path: str | None, browser_token: str) -> LoginStart:
        """Build, store and sign the AuthnRequest for ``method_name``.

        ``next_path`` must pass :func:`is_safe_local_path` (else UNSAFE_REDIRECT);
        it is stored server-side, never sent to the IdP (RelayState is opaque).
        """
        method = self.settings.method(method_name)
        if method is None:
            raise BadRequestError(ErrorCode.UNKNOWN_METHOD, f"no login method {method_name!r}")
        if next_path and not is_safe_local_path(next_path):
            raise BadRequestError(ErrorCode.UNSAFE_REDIRECT, "next is not a local path")
        idp = self.registry.get(method.idp_entity_id)
        if idp is None:
            raise MetadataError(f"IdP {method.idp_entity_id} of method {method.name} is not in trusted metadata")
        post = self.settings.authn_request_binding == "post"
        binding = BINDING_POST if post else BINDING_REDIRECT
        destination = idp.sso_url(binding) or ""
        if not destination:
            raise MetadataError(f"IdP {idp.entity_id} has no SingleSignOnService for {binding}")
        request_id = new_id()
        relay_state = secrets.token_urlsafe(16)
        request = build_authn_request(
            request_id=request_id,
            issuer=self.settings.entity_id,
            destination=destination,
            acs_url=self.settings.acs_url,
            loa=method.loa,
            force_authn=self.settings.force_authn,
        )
        outstanding = OutstandingRequest(
            request_id=request_id,
            method=method.name,
            idp_entity_id=idp.entity_id,
            acs_url=self.settings.acs_url,
            loa=method.loa,
            force_authn=self.settings.force_authn,
            issued_at=time.time(),
            browser=browser_hash(browser_token),
            relay_state=relay_state,
            next_path=next_path or self.settings.landing_path,
        )
        # Stored before the browser leaves, so the answer can land on any node.
        self.store.put(REQUESTS, request_id, outstanding.to_dict(), self.settings.request_ttl)
        if post:
            return LoginStart("post", destination, post_fields(request, relay_state, self.credentials.signing_key), request_id)
        url = redirect_url(destination, request, relay_state, self.credentials.signing_key)
        return LoginStart("redirect", url, {}, request_id)

    def finish_login(self, saml_response: str | None, relay_state: str | None, browser_token: str | None) -> tuple[Identity, str]:
        """Check the response and map its identity; return it with the stored next path.

        The next path was checked when stored and is checked again here, so a
        store written by anything else still cannot make us redirect off-site.
        A failure carries the IdP and method known when it failed
        (:attr:`SamlError.idp`, :attr:`SamlError.method`) for the audit trail.
        """
        trail: dict[str, str] = {}
        try:
            return self._finish_login(saml_response, relay_state, browser_token, trail)
        except SamlError as exc:
            exc.idp = exc.idp or trail.get("idp")
            exc.method = exc.method or trail.get("method")
            raise

    def _finish_login(self, saml_response, relay_state, browser_token, trail: dict[str, str]) -> tuple[Identity, str]:
        facts = validate_response(
            saml_response,
            relay_state,
            browser_token,
            policy=self.policy,
            credentials=self.credentials,
            registry=self.registry,
            store=self.store,
            now=self.clock(),
            trail=trail,
            crypto=self.crypto,
        )
        method = self.settings.method(facts.request.method)
        if method is None:  # the method was removed from the settings while the user was away
            raise BadRequestError(ErrorCode.UNKNOWN_METHOD, f"no login method {facts.request.method!r}")
        identity = map_identity(
            facts, profile=method.profile, accept_coordination_number=self.settings.accept_coordination_number
        )
        next_path = facts.request.next_path
        if not is_safe_local_path(next_path):
            next_path = self.settings.landing_path
        return identity, next_path
