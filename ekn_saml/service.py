# SPDX-License-Identifier: Apache-2.0
"""The service provider: starting a login and finishing it.  Views call only this."""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from zope.interface import implementer

from . import audit, cookies
from .authn_request import (
    build_authn_request,
    new_id,
    post_fields,
    principal_selection,
    redirect_url,
    user_message,
)
from .credentials import SpCredentials
from .eidas import map_foreign_person, proxy_service_aliases
from .errors import (
    BadRequestError,
    ErrorCode,
    LoginRateLimitedError,
    MetadataError,
    MethodUnavailableError,
    SamlError,
    StepUpMismatchError,
    printable,
)
from .facts import OutstandingRequest, browser_hash
from .headers import is_origin
from .identity import Identity, map_identity
from .interfaces import ISamlServiceProvider
from .metadata.categories import SECURE_AUTHENTICATOR_BINDING, SUPPORTS_USER_MESSAGE
from .metadata.idp import BINDING_POST, BINDING_REDIRECT, IdpInfo, IdpRegistry
from .metadata.matching import mismatches
from .methods import FOREIGN_PERSON
from .response import REQUESTS, ValidationPolicy, validate_response
from .safe_url import MAX_NEXT_PATH, is_acceptable_next, is_safe_local_path
from .server_keys import ServerKeys
from .settings import DEFAULT_SP_PROFILE, LoginMethod, SamlSettings, SpProfile
from .storage import StateStore
from .timeutil import utcnow
from .xmlsecurity import IN_PROCESS, XmlCrypto

log = logging.getLogger("ekn_saml")

# ServerKeys purpose of the browser-binding cookie's signature
BROWSER_BINDING_PURPOSE = "browser-binding"
# store namespace of the login-start counters, and the ServerKeys purpose of their keys
LOGIN_STARTS = "login_starts"
LOGIN_STARTS_PURPOSE = "login-starts"
# ServerKeys purpose of the subject a step-up must come back with (OutstandingRequest.step_up_subject)
STEP_UP_PURPOSE = "step-up/subject"


def method_unavailable_reason(method: LoginMethod, idp: IdpInfo, sp_categories: Collection[str] = ()) -> str | None:
    """Why ``method`` cannot be used with ``idp`` as its metadata says now, or ``None``.

    * The EC §1.3 matching rules (:func:`~ekn_saml.metadata.matching.mismatches`)
      between ``sp_categories`` (the entity categories the method's SP
      profile declares) and the IdP's, when the IdP declares any category:
      an IdP with no entity categories at all (a test IdP of
      ``idp.metadata_files``) is not matched, and ``ekn-saml check`` warns of it;
    * with ``method.<name>.secure_authenticator_binding`` the IdP must declare
      secure-authenticator-binding (EC §6.1), or it would not bind the
      authenticator to the browser.

    Does **not** check LoAs or that the IdP is in the metadata at all (the
    caller has the record).
    """
    reasons = mismatches(sp_categories, idp.entity_categories) if idp.entity_categories else []
    if method.secure_authenticator_binding and SECURE_AUTHENTICATOR_BINDING not in idp.entity_categories:
        reasons.append("does not declare secure-authenticator-binding, which the method requires")
    if reasons:
        return f"IdP {idp.entity_id} of method {method.name} " + "; ".join(reasons)
    return None


@dataclass(frozen=True)
class LoadedSpProfile:
    """An SP profile ready for use: its settings, its keys (loaded once) and the policy of its ACS."""

    settings: SpProfile
    credentials: SpCredentials
    policy: ValidationPolicy

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def entity_id(self) -> str:
        return self.settings.entity_id

    @property
    def acs_url(self) -> str:
        return self.settings.acs_url


@dataclass(frozen=True)
class LoginStart:
    """Where to send the browser: a redirect URL, or a form to POST."""

    binding: str  # "redirect" | "post"
    url: str
    fields: dict[str, str]
    request_id: str


@dataclass(frozen=True)
class BrowserBinding:
    """The browser-binding of one browser: the random ``token`` and the signed ``cookie`` that carries it.

    The outstanding request stores a hash of ``token``
    (:func:`~ekn_saml.facts.browser_hash`); the browser holds
    ``cookie`` (``token.<key id>.<MAC>``, :meth:`ServerKeys.sign`).
    """

    token: str
    cookie: str


@implementer(ISamlServiceProvider)
class ServiceProvider:
    """One per process; holds the parsed settings, every SP profile's keys, trusted IdPs and the store.

    ``credentials`` are the default SP profile's; ``profile_credentials``
    maps the name of every further profile (``ekn_saml.sp_profiles``) to its
    own (see :func:`~ekn_saml.credentials.load_profile_credentials`).
    ``credentials`` and ``policy`` stay the default profile's, as before
    there were profiles.  ``crypto`` is the engine ``ekn_saml.crypto_backend``
    names (ValueError for another): the in-process one unless the wiring
    built another.
    """

    def __init__(
        self,
        settings: SamlSettings,
        credentials: SpCredentials,
        registry: IdpRegistry,
        store: StateStore,
        *,
        clock=utcnow,
        profile_credentials: dict[str, SpCredentials] | None = None,
        server_keys: ServerKeys | None = None,
        crypto: XmlCrypto = IN_PROCESS,
    ) -> None:
        self.settings = settings
        # the store's index and value secrets (ekn_saml.server_keys); a process-lifetime key if none is given
        self.server_keys = server_keys or ServerKeys.ephemeral()
        self.credentials = credentials
        self.registry = registry
        self.store = store
        self.clock = clock
        # ekn_saml.crypto_backend: the engine that verifies and decrypts after our checks; the
        # wiring builds it (the xmlsec1 one comes from the pysaml2 bridge, which the SP never imports)
        if crypto.name != settings.crypto_backend:
            raise ValueError(
                f"ekn_saml.crypto_backend is {settings.crypto_backend}, but the engine given is {crypto.name}"
            )
        self.crypto = crypto
        keys = {**(profile_credentials or {}), DEFAULT_SP_PROFILE: credentials}
        missing = [p.name for p in settings.sp_profiles if p.name not in keys]
        if missing:
            raise ValueError(f"no credentials for SP profile(s) {', '.join(missing)}")
        self.profiles: dict[str, LoadedSpProfile] = {
            profile.name: LoadedSpProfile(profile, keys[profile.name], self._policy_of(profile))
            for profile in settings.sp_profiles
        }
        self.policy = self.profiles[DEFAULT_SP_PROFILE].policy
        # (the methods' IdP records, their SSO origins): see idp_form_origins
        self._form_origins: tuple[tuple, tuple[str, ...]] | None = None
        # the availability last reported (report_method_changes); None: never reported
        self._method_problems: dict[str, str | None] | None = None

    @property
    def browser_cookie_name(self) -> str:
        """The browser-binding cookie's name: ``__Host-ekn_saml_req`` when cookies are Secure (ekn_saml.cookies)."""
        return cookies.cookie_name(cookies.BROWSER_BINDING, secure=self.settings.session_cookie_secure)

    def browser_binding(self, cookie: str | None) -> BrowserBinding:
        """The binding carried by ``cookie`` if the SP issued it, else a new one (``cookie=None``: always new).

        The existing one is reused so that logins started in two tabs of one
        browser can both finish.  Only a value signed with the server key
        (:meth:`ServerKeys.sign`, any key of the file) is reused: the SP never
        adopts a value it did not make, such as a fixed or guessable one planted
        by a sibling subdomain or anything else able to write the cookie.

        What signing does **not** stop: an attacker can get an SP-issued
        binding for himself (by starting a login), bind his own IdP answer to
        it and then try to plant that cookie in a victim's browser (login
        CSRF).  What stops the planting is the cookie's ``__Host-`` name
        (:mod:`ekn_saml.cookies`): on https, a subdomain cannot set it.  With
        ``session.cookie_secure = false`` (plain-http development) there is no
        such protection.
        """
        token = self.server_keys.unsign(BROWSER_BINDING_PURPOSE, cookie)
        if token is not None:
            return BrowserBinding(token, cookie)
        token = secrets.token_urlsafe(32)  # 256 random bits; never contains "."
        return BrowserBinding(token, self.server_keys.sign(BROWSER_BINDING_PURPOSE, token))

    def _policy_of(self, profile: SpProfile) -> ValidationPolicy:
        settings = self.settings
        return ValidationPolicy(
            entity_id=profile.entity_id,
            acs_url=profile.acs_url,
            sp_profile=profile.name,
            clock_skew=settings.clock_skew,
            max_response_age=settings.max_response_age,
            require_encrypted_assertion=settings.require_encrypted_assertion,
            max_response_bytes=settings.max_response_bytes,
            xml_limits=settings.xml_limits,
        )

    def profile_of_entity(self, entity_id: str) -> LoadedSpProfile | None:
        """The SP profile whose entityID is ``entity_id`` (entityIDs are distinct), or ``None``."""
        for profile in self.profiles.values():
            if profile.entity_id == entity_id:
                return profile
        return None

    def idp_form_origins(self) -> tuple[str, ...]:
        """Origins of the login methods' IdP SSO endpoints, as the metadata says *now* (CSP form-action).

        Read for every response, so a refresh that moves an IdP to another
        origin needs no restart; worked out again only when one of the
        methods' IdP records has changed (a refresh builds new ones).  An
        endpoint that is not a bare http(s) origin (user info, odd host) is
        left out with a warning: a POST to it is then blocked by the browser,
        never allowed by a policy it could widen.
        """
        idps = tuple(self.registry.get(m.idp_entity_id) for m in self.settings.methods)
        cached = self._form_origins
        if (
            cached is not None
            and len(cached[0]) == len(idps)
            and all(a is b for a, b in zip(cached[0], idps, strict=False))
        ):
            return cached[1]
        origins = set()
        for idp in idps:
            for url in idp.sso_urls.values() if idp else ():
                parts = urlsplit(url)
                origin = f"{parts.scheme}://{parts.netloc}"
                if is_origin(origin):
                    origins.add(origin)
                else:
                    log.warning(
                        "IdP %s: SSO endpoint %r is not a plain origin; left out of form-action",
                        printable(idp.entity_id),
                        url,
                    )
        result = tuple(sorted(origins))
        self._form_origins = (idps, result)
        return result

    def start_login(
        self,
        method_name: str,
        next_path: str | None,
        browser_token: str,
        *,
        previous_session: str | None = None,
        client_address: str | None = None,
        step_up: Identity | None = None,
    ) -> LoginStart:
        """Build, store and sign the AuthnRequest for ``method_name``.

        The request goes out as the method's SP profile: its entityID as
        Issuer, its ACS URL, signed with its signing key; the stored
        outstanding request names the profile.
        ``next_path`` must pass :func:`is_acceptable_next`, a safe local path of
        at most :data:`MAX_NEXT_PATH` characters (else UNSAFE_REDIRECT);
        it is stored server-side, never sent to the IdP (RelayState is opaque).
        ``previous_session`` is the store key of the session the browser has
        now (:func:`~ekn_saml.session.current_session_key`); it is stored with
        the request, and :meth:`finish_login` hands it back to be ended.
        ``client_address`` is the client's address (``REMOTE_ADDR``): the start
        is counted against it (:meth:`count_login_start`) before anything is
        built, signed or stored.

        Extensions: ``umsg:UserMessage`` with the ``user_message.*`` texts, only
        to an IdP that declares supports-user-message (UMSG §3.2).  A method
        with ``secure_authenticator_binding`` whose IdP does not declare it is
        refused (:class:`MethodUnavailableError`) before anything is sent.

        ``step_up`` is the logged-in identity for a step-up
        (:func:`ekn_saml.step_up`): the method must be the identity's, ForceAuthn
        is true whatever the setting, a MAC of its subject is stored with the
        request for the ACS to compare, and ``psc:PrincipalSelection`` carries
        the values the IdP asks for in ``psc:RequestedPrincipalSelection`` that
        the identity has (DP §5.3.3), none to other IdPs.  A request carrying a
        PrincipalSelection goes by the POST binding, so the personal identity
        number is never in a URL (browser history, proxy and IdP access logs);
        to an IdP without a POST endpoint none is sent.
        """
        method = self.settings.method(method_name)
        if method is None:
            raise BadRequestError(ErrorCode.UNKNOWN_METHOD, f"no login method {method_name!r}")
        if next_path and not is_acceptable_next(next_path):
            raise BadRequestError(
                ErrorCode.UNSAFE_REDIRECT,
                f"next is not a local path of at most {MAX_NEXT_PATH} characters ({len(next_path)})",
            )
        idp = self.registry.get(method.idp_entity_id)
        if idp is None:
            # gone from the federation metadata: a refusal with its own page, not an outage
            raise MethodUnavailableError(
                method.name, f"IdP {method.idp_entity_id} of method {method.name} is not in trusted metadata"
            )
        post = self.settings.authn_request_binding == "post"
        binding = BINDING_POST if post else BINDING_REDIRECT
        destination = idp.sso_url(binding) or ""
        if not destination:
            raise MetadataError(f"IdP {idp.entity_id} has no SingleSignOnService for {binding}")
        unavailable = self.method_problem(method, idp)
        if unavailable:
            raise MethodUnavailableError(method.name, unavailable)
        if step_up is not None and step_up.method != method.name:
            raise BadRequestError(ErrorCode.UNKNOWN_METHOD, f"a step-up must use {step_up.method}, not {method.name}")
        self.count_login_start(client_address)
        extensions = []
        if self.settings.user_message and SUPPORTS_USER_MESSAGE in idp.entity_categories:
            extensions.append(user_message(self.settings.user_message))
        force_authn = self.settings.force_authn
        step_up_subject = None
        if step_up is not None:
            force_authn = True  # the point of a step-up: the person authenticates now
            step_up_subject = self.server_keys.mac(STEP_UP_PURPOSE, step_up.subject)
            match_values = step_up.match_values(idp.requested_principal_selection)
            post_url = idp.sso_url(BINDING_POST)
            if match_values and post_url:
                extensions.append(principal_selection(match_values))
                post, destination = True, post_url
        profile = self.profiles[method.sp_profile]
        request_id = new_id()
        relay_state = secrets.token_urlsafe(16)
        request = build_authn_request(
            request_id=request_id,
            issuer=profile.entity_id,
            destination=destination,
            acs_url=profile.acs_url,
            loa=method.loa,
            force_authn=force_authn,
            extensions=extensions,
            # the connector's country dialogue offers only these (DP §5.3.2); none: every country it serves
            idp_list=proxy_service_aliases(self.settings.eidas_countries) if method.profile == FOREIGN_PERSON else (),
        )
        outstanding = OutstandingRequest(
            request_id=request_id,
            method=method.name,
            idp_entity_id=idp.entity_id,
            loa=method.loa,
            force_authn=force_authn,
            step_up_subject=step_up_subject,
            issued_at=time.time(),
            browser=browser_hash(browser_token),
            relay_state=relay_state,
            next_path=next_path or None,  # none given: landing_path, as it is when the answer comes
            sp_profile=profile.name,
            previous_session=previous_session,
        )
        # Stored before the browser leaves, so the answer can land on any node.
        self.store.put(REQUESTS, request_id, outstanding.to_dict(), self.settings.request_ttl)
        # an EC P-256 key signs with ecdsa-sha256, far cheaper than RSA-3072 (SpCredentials.signing_algorithm)
        signing_key, algorithm = profile.credentials.signing_key, profile.credentials.signing_algorithm
        if post:
            fields = post_fields(request, relay_state, signing_key, algorithm)
            return LoginStart("post", destination, fields, request_id)
        url = redirect_url(destination, request, relay_state, signing_key, algorithm)
        return LoginStart("redirect", url, {}, request_id)

    def method_problem(self, method: LoginMethod, idp: IdpInfo | None = None) -> str | None:
        """Why ``method`` cannot be used now (its IdP as the metadata says it *now*), or ``None``.

        ``idp`` is the method's IdP record if the caller has it.  An IdP
        missing from the metadata is a reason too (``start_login`` refuses it
        with the same code, METHOD_UNAVAILABLE, before asking).  See :func:`method_unavailable_reason`.
        """
        idp = idp or self.registry.get(method.idp_entity_id)
        if idp is None:
            return f"IdP {method.idp_entity_id} of method {method.name} is in no trusted metadata"
        profile = self.settings.sp_profile(method.sp_profile)
        categories = profile.metadata.entity_categories if profile is not None else ()
        return method_unavailable_reason(method, idp, categories)

    def method_problems(self) -> dict[str, str | None]:
        """:meth:`method_problem` of every configured method, in chooser order."""
        return {method.name: self.method_problem(method) for method in self.settings.methods}

    def report_method_changes(self) -> dict[str, str | None]:
        """Work out every method's availability again; log and audit each change; return the new state.

        For startup and after every metadata refresh (any thread).  The
        first call reports every unavailable method; later calls report a
        method that became unavailable, changed its reason, or became
        available again.  Never raises for a metadata problem: a method
        whose IdP no longer matches is disabled, not the app.
        """
        current = self.method_problems()
        previous, self._method_problems = self._method_problems, current
        for name, reason in current.items():
            before = (previous or {}).get(name)
            if reason == before:
                continue
            idp = self.settings.method(name).idp_entity_id  # type: ignore[union-attr]
            if reason is not None:
                log.warning("login method %s is unavailable: %s", name, printable(reason))
            elif previous is not None:
                log.info("login method %s is available again", name)
            else:
                continue
            audit.method_availability(name, idp, reason=reason)
        return current

    def _is_step_up_subject(self, stored: str, subject: str) -> bool:
        return any(hmac.compare_digest(stored, mac) for mac in self.server_keys.macs(STEP_UP_PURPOSE, subject))

    def _step_up_identity(self, identity: Identity, stored: str) -> Identity | None:
        """``identity`` as the subject the step-up was started for (MAC ``stored``), or ``None`` if it is not that subject.

        An organisation identity whose user had chosen another of the
        login's organisations (``/choose-organisation``) steps up as that one
        if the answer asserts it again among its ``orgAffiliation`` values
        (``org_name`` dropped as the picker does); nothing the IdP did not
        assert is taken.
        """
        if self._is_step_up_subject(stored, identity.subject):
            return identity
        if identity.kind != "organisation":
            return None
        for uid, orgnr in identity.org_affiliations:
            candidate = replace(identity, org_unique_id=uid, org_number=orgnr, org_name=None)
            if self._is_step_up_subject(stored, candidate.subject):
                return candidate
        return None

    def count_login_start(self, client_address: str | None) -> None:
        """Count a login start of ``client_address``; LoginRateLimitedError once it is over ``security.login_start_limit``.

        Each start costs a 3072-bit RSA signature and a stored request, so one
        client must not make them without bound.  The counter lives in the
        store, so the limit holds across workers and nodes; its window is
        fixed (``security.login_start_window`` from the first start), so a
        client may make up to twice the limit across a window's edge.  The
        key is a MAC of the address (no client address in the store).  The
        limit is per address: it does **not** stop many addresses (a botnet),
        and all users behind one NAT or proxy share it; behind a reverse
        proxy REMOTE_ADDR must be the client's (README, "Limits").
        A missing address (some WSGI servers on a Unix socket) is one shared client.
        """
        limit = self.settings.login_start_limit
        if not limit:
            return
        window = self.settings.login_start_window
        key = self.server_keys.mac(LOGIN_STARTS_PURPOSE, client_address or "")
        if self.store.increment(LOGIN_STARTS, key, window) > limit:
            raise LoginRateLimitedError(
                window, f"more than {limit} login starts in {window} s from this client address"
            )

    def finish_login(
        self,
        saml_response: str | None,
        relay_state: str | None,
        browser_cookie: str | None,
        *,
        sp_profile: str = DEFAULT_SP_PROFILE,
        end_previous_session: Callable[[str], None] | None = None,
    ) -> tuple[Identity, str]:
        """Check the response posted to the ACS of ``sp_profile`` and map its identity; return it with the stored next path.

        Every check of :func:`validate_response` runs with the profile's
        entityID (Audience), ACS URL (Destination, Recipient) and decryption
        keys; a response to a request another profile sent is refused with
        SP_PROFILE_MISMATCH.  ``sp_profile`` must be a configured profile
        (KeyError otherwise: the ACS view answers 404 for unknown ones).
        The next path was checked when stored and is checked again here, so a
        store written by anything else still cannot make us redirect off-site.
        ``browser_cookie`` is the browser-binding cookie as the browser sent it:
        one the SP did not sign (:meth:`browser_binding`) binds nothing, so the
        response is refused with REQUEST_BROWSER_MISMATCH, before the
        outstanding request is consumed (a stranger cannot burn the login).
        Once every check has passed, ``end_previous_session`` is called with
        the store key of the session the browser had when it started this
        login, if it had one (see :meth:`start_login`): a new login ends it,
        also when it is another user's.
        A failure carries the IdP and method known when it failed
        (:attr:`SamlError.idp`, :attr:`SamlError.method`) for the audit trail.

        A step-up's answer must carry the subject the request was started
        for (compared by MAC, under any server key); another is refused with
        STEP_UP_SUBJECT_MISMATCH and ``end_previous_session`` is called all the
        same, so the session that asked is ended.  A matching one gets
        ``stepped_up_at`` = its AuthnInstant.
        """
        profile = self.profiles[sp_profile]
        trail: dict[str, str] = {}
        browser_token = self.server_keys.unsign(BROWSER_BINDING_PURPOSE, browser_cookie)
        try:
            identity, next_path, previous_session = self._finish_login(
                profile, saml_response, relay_state, browser_token, trail
            )
        except StepUpMismatchError as exc:
            # someone else answered a step-up: the session it was started from ends too
            if exc.session_to_end and end_previous_session is not None:
                end_previous_session(exc.session_to_end)
            exc.idp = exc.idp or trail.get("idp")
            exc.method = exc.method or trail.get("method")
            raise
        except SamlError as exc:
            exc.idp = exc.idp or trail.get("idp")
            exc.method = exc.method or trail.get("method")
            raise
        if previous_session and end_previous_session is not None:
            end_previous_session(previous_session)
        return identity, next_path

    def _finish_login(
        self, profile: LoadedSpProfile, saml_response, relay_state, browser_token, trail: dict[str, str]
    ) -> tuple[Identity, str, str | None]:
        facts = validate_response(
            saml_response,
            relay_state,
            browser_token,
            policy=profile.policy,
            credentials=profile.credentials,
            registry=self.registry,
            store=self.store,
            now=self.clock(),
            trail=trail,
            crypto=self.crypto,
        )
        method = self.settings.method(facts.request.method)
        if method is None:  # the method was removed from the settings while the user was away
            raise BadRequestError(ErrorCode.UNKNOWN_METHOD, f"no login method {facts.request.method!r}")
        if method.profile == FOREIGN_PERSON:
            identity = map_foreign_person(
                facts,
                accepted_bindings=self.settings.eidas_mapped_number_bindings,
                accept_coordination_number=self.settings.accept_coordination_number,
                sp_entity_id=profile.entity_id,
            )
        else:
            identity = map_identity(
                facts,
                profile=method.profile,
                accept_coordination_number=self.settings.accept_coordination_number,
                sp_entity_id=profile.entity_id,
            )
        stored = facts.request.step_up_subject
        if stored is not None:
            stepped_up = self._step_up_identity(identity, stored)
            if stepped_up is None:
                raise StepUpMismatchError(
                    f"step-up answered for {identity.log_subject}, not the logged-in subject",
                    session_to_end=facts.request.previous_session,
                )
            identity = replace(stepped_up, stepped_up_at=identity.authn_instant)
        next_path = facts.request.next_path  # None when none was given: landing_path
        if not is_safe_local_path(next_path):
            next_path = self.settings.landing_path
        return identity, next_path, facts.request.previous_session
