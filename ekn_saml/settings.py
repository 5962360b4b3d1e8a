# SPDX-License-Identifier: Apache-2.0
"""``ekn_saml.*`` settings, parsed once into one typed, frozen object.

:func:`parse_settings` reads every ``ekn_saml.*`` key of the ini file, rejects
unknown keys (a typo must not silently fall back to a default) and raises one
:class:`~ekn_saml.errors.ConfigurationError` that lists **every** problem.
It does **not** read key files or metadata: :mod:`ekn_saml.keys` and
:mod:`ekn_saml.metadata` do that, adding their problems to the same report.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from pyramid.settings import asbool, aslist

from .constants import (
    ACS_PATH,
    DEFAULT_MAX_VALIDITY_DAYS,
    DEFAULT_SP_PROFILE,
    LOA3,
    LOA3_NONRESIDENT,
    METADATA_PATH,
    UNCERTIFIED_LOA3,
    acs_path,
)
from .cookies import RESERVED_PREFIXES as RESERVED_COOKIE_PREFIXES
from .errors import ConfigurationError
from .numbers import luhn_ok
from .xml_limits import MESSAGE_LIMITS, XmlLimits

PREFIX = "ekn_saml."

PROFILES = ("person", "organisation")
BINDINGS = ("redirect", "post")

# The three methods EKN Online offers, with the defaults a portal expects.
# BankID IdPs often issue only uncertified-loa3, so both are requested.
KNOWN_METHODS: dict[str, dict[str, Any]] = {
    "mobilt_bankid": {"profile": "person", "loa": (LOA3, UNCERTIFIED_LOA3)},
    "bankid": {"profile": "person", "loa": (LOA3, UNCERTIFIED_LOA3)},
    "expisoft": {"profile": "organisation", "loa": (LOA3, LOA3_NONRESIDENT, UNCERTIFIED_LOA3)},
}

_METHOD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")  # also the syntax of SP profile names


@dataclass(frozen=True, slots=True)
class LoginMethod:
    """One choice on the chooser page: which IdP, which LoAs, which attribute profile, which SP."""

    name: str
    idp_entity_id: str
    loa: tuple[str, ...]
    profile: str  # "person" | "organisation"
    label: str | None = None  # overrides the translated built-in label
    sp_profile: str = DEFAULT_SP_PROFILE  # the SP entity whose AuthnRequests this method sends


@dataclass(frozen=True, slots=True)
class DevIdpSettings:
    enabled: bool = False
    entity_id: str = ""
    base_url: str = ""
    key: str = ""
    cert: str = ""
    data_encryption: str = "aes256-gcm"


@dataclass(frozen=True, slots=True)
class SpMetadataSettings:
    """What the published SP metadata says about us besides keys and the ACS (DP §2, TAR §3)."""

    display_name: tuple[tuple[str, str], ...] = ()  # (xml:lang, text)
    description: tuple[tuple[str, str], ...] = ()
    logo_url: str = ""
    logo_width: int = 200
    logo_height: int = 60
    organization_name: str = ""
    organization_display_name: str = ""
    organization_url: str = ""
    organization_number: str = ""
    technical_email: str = ""
    support_email: str = ""
    entity_categories: tuple[str, ...] = ()  # full URIs
    requested_attributes: tuple[str, ...] = ()  # attribute Names (urn:oid:...)
    valid_days: int = 7
    next_signing_cert: str = ""


@dataclass(frozen=True, slots=True)
class SpProfile:
    """One SP entity of the app, as registered in the federation: entityID, keys, ACS, metadata.

    The default profile is made of the ``ekn_saml.sp.*`` keys; each name in
    ``ekn_saml.sp_profiles`` adds one from ``ekn_saml.sp_profile.<name>.*``
    (TAR §3.4: personal identity numbers for some logins and organisation
    identities for others need two SPs).  Holds file paths only: the keys are
    loaded and checked against their certificates by
    :func:`ekn_saml.credentials.load_profile_credentials`.
    """

    name: str
    entity_id: str
    acs_url: str  # Destination and Recipient of responses to this profile must equal it
    signing_key: str
    signing_cert: str
    encryption_keys: tuple[str, ...]
    encryption_cert: str
    metadata: SpMetadataSettings

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_SP_PROFILE

    @property
    def setting_prefix(self) -> str:
        """How the ini file names this profile's keys, for messages: ``ekn_saml.sp.`` or ``ekn_saml.sp_profile.<name>.``."""
        return f"{PREFIX}sp." if self.is_default else f"{PREFIX}sp_profile.{self.name}."


@dataclass(frozen=True, slots=True)
class FederationSettings:
    """Where signed federation metadata comes from and how it is kept fresh."""

    metadata_url: str = ""  # empty: no federation metadata
    signing_certs: tuple[str, ...] = ()
    backing_file: str = ""
    min_refresh: int = 600
    max_refresh: int = 14400
    timeout: int = 30
    max_bytes: int = 64 * 1024 * 1024
    # a signed document is refused if its validUntil is further ahead than this:
    # it bounds how long a captured document could be replayed
    max_validity_days: int = DEFAULT_MAX_VALIDITY_DAYS
    allow_loopback_http: bool = False  # only with ekn_saml.testing

    @property
    def enabled(self) -> bool:
        return bool(self.metadata_url)


@dataclass(frozen=True, slots=True)
class SamlSettings:
    """Everything ekn_saml reads from the ini file; the only source of settings."""

    entity_id: str
    public_base_url: str
    signing_key: str
    signing_cert: str
    encryption_keys: tuple[str, ...]
    encryption_cert: str
    idp_metadata_files: tuple[str, ...]
    methods: tuple[LoginMethod, ...]
    authn_request_binding: str = "redirect"
    force_authn: bool = True
    clock_skew: int = 30
    max_response_age: int = 180
    require_encrypted_assertion: bool = True
    accept_coordination_number: bool = False
    max_response_bytes: int = 256 * 1024
    request_ttl: int = 600
    xml_limits: XmlLimits = MESSAGE_LIMITS  # the caps on a message's shape before any signature work
    login_start_limit: int = 60  # login starts per client address and window; 0: no limit
    login_start_window: int = 60  # seconds
    store_url: str = ""
    store_key_prefix: str = "ekn_saml:"
    session_idle_timeout: int = 1800
    session_absolute_timeout: int = 8 * 3600
    session_cookie_secure: bool = True
    session_cookie_name: str = "ekn_session"
    landing_path: str = "/"
    logged_out_path: str = "/login"
    devidp: DevIdpSettings = field(default_factory=DevIdpSettings)
    testing: bool = False
    sp_metadata: SpMetadataSettings = field(default_factory=SpMetadataSettings)
    federation: FederationSettings = field(default_factory=FederationSettings)
    status_allowed_addresses: tuple[str, ...] = ("127.0.0.1", "::1")
    crypto_backend: str = "xmlsec"  # "xmlsec" (in process) | "xmlsec1" (pysaml2's program, for comparison)
    development_flag: bool = False  # ekn_saml.development; see is_development
    server_keys: str = ""  # path of the key file (ekn_saml.server_keys); empty only in development
    # Every SP profile, the default one (the fields entity_id ... sp_metadata above) first.
    sp_profiles: tuple[SpProfile, ...] = ()

    ACS_PATH = ACS_PATH
    METADATA_PATH = METADATA_PATH

    @property
    def acs_url(self) -> str:
        """The exact ACS URL of the default SP profile; Destination and Recipient must equal it."""
        return self.public_base_url + self.ACS_PATH

    @property
    def default_sp_profile(self) -> SpProfile:
        """The profile of the ``ekn_saml.sp.*`` keys (always the first)."""
        return self.sp_profiles[0]

    def sp_profile(self, name: str) -> SpProfile | None:
        for profile in self.sp_profiles:
            if profile.name == name:
                return profile
        return None

    def methods_of(self, sp_profile: str) -> tuple[LoginMethod, ...]:
        """The login methods whose AuthnRequests go out as ``sp_profile``."""
        return tuple(m for m in self.methods if m.sp_profile == sp_profile)

    @property
    def is_development(self) -> bool:
        """Development or tests: the development IdP, ``ekn_saml.testing`` or ``ekn_saml.development`` is on.

        Only development may run without some production safeguards (an
        ephemeral server key); never enable any of the three in production.
        """
        return self.development_flag or self.devidp.enabled or self.testing

    @property
    def public_scheme_is_https(self) -> bool:
        return self.public_base_url.startswith("https://")

    def method(self, name: str) -> LoginMethod | None:
        for m in self.methods:
            if m.name == name:
                return m
        return None


# Documented defaults, also the list of keys the parser accepts.
# key -> (default or REQUIRED, description).  The README table is generated
# from this mapping by a test, so the two cannot drift apart.
REQUIRED = object()
KEYS: dict[str, tuple[Any, str]] = {
    "sp.entity_id": (REQUIRED, "The SP's entityID (an absolute URI)."),
    "sp.public_base_url": (
        REQUIRED,
        "The public base URL users reach (scheme://host[:port], no path). ACS = base + /saml/acs; "
        "Destination and Recipient are compared with it exactly, so set it even behind a proxy. "
        "https (DP §6.1); http only in development. Every redirect's Location is built from it, never from the Host header.",
    ),
    "sp.signing_key": (REQUIRED, "PEM private key that signs AuthnRequests (RSA >= 2048)."),
    "sp.signing_cert": (REQUIRED, "PEM certificate of the signing key, published in metadata."),
    "sp.encryption_keys": (
        REQUIRED,
        "PEM private keys that decrypt assertions, newest first; keep the old one here during rollover.",
    ),
    "sp.encryption_cert": (REQUIRED, "PEM certificate of the newest encryption key, published in metadata."),
    "idp.metadata_files": ("", "IdP metadata files trusted as they are (e.g. the development IdP's)."),
    "methods": ("mobilt_bankid bankid expisoft", "Login methods in chooser order."),
    "method.<name>.idp": (REQUIRED, "entityID of the IdP for this method (one key per method)."),
    "method.<name>.loa": (
        "built-in per method",
        "LoA URIs to request (Comparison=exact); defaults: BankID loa3 + uncertified-loa3, "
        "Expisoft loa3 + loa3-nonresident + uncertified-loa3.",
    ),
    "method.<name>.profile": ("built-in per method", "person (personal identity number) or organisation."),
    "method.<name>.label": ("", "Chooser label for a method that is not built in."),
    "method.<name>.sp_profile": (
        "default",
        "The SP profile (entityID, keys, ACS) this method's AuthnRequests go out as: default (the sp.* keys) "
        "or a name from sp_profiles.",
    ),
    "authn_request.binding": ("redirect", "redirect or post."),
    "authn_request.force_authn": ("true", "ForceAuthn sent explicitly in every AuthnRequest."),
    "security.clock_skew": ("30", "Allowed clock skew in seconds (0-60)."),
    "security.max_response_age": ("180", "Maximum age of a Response's IssueInstant in seconds."),
    "security.require_encrypted_assertion": ("true", "Reject assertions that are not EncryptedAssertion."),
    "security.accept_coordination_number": ("false", "Accept a samordningsnummer as personalIdentityNumber."),
    "security.max_response_bytes": ("262144", "Size cap of the SAMLResponse form field, checked before decoding."),
    "security.request_ttl": ("600", "Seconds an outstanding AuthnRequest may wait for its response."),
    "security.max_xml_nodes": (
        "2000",
        "Most nodes (elements, attributes, namespace declarations, comments) a SAML message may hold; "
        "counted on the bytes before parsing (EKN-IN-012).",
    ),
    "security.max_xml_attributes": (
        "32",
        "Most attributes on one element of a SAML message (EKN-IN-013); federation metadata has the default cap.",
    ),
    "security.max_xml_depth": ("32", "Deepest nesting of elements in a SAML message (EKN-IN-014)."),
    "security.max_xml_namespaces": ("64", "Most namespace declarations in a SAML message (EKN-IN-015)."),
    "security.login_start_limit": (
        "60",
        "Login starts (/login/<method>: a signed AuthnRequest and a stored request each) one client address "
        "(REMOTE_ADDR) may make per login_start_window; more get HTTP 429 (EKN-WEB-006). 0 turns the limit off.",
    ),
    "security.login_start_window": ("60", "Seconds of the login_start_limit window (fixed, from the first start)."),
    "store.url": (
        "sqlite:///<cwd>/var/ekn_saml.sqlite",
        "State store: sqlite:///path, redis://host:port/db, or memory:// (unit tests only).",
    ),
    "store.key_prefix": ("ekn_saml:", "Prefix of every Redis key, so apps can share a server."),
    "session.idle_timeout": ("1800", "Seconds of inactivity that end a session (server-side)."),
    "session.absolute_timeout": ("28800", "Seconds after login that end a session whatever the activity."),
    "session.cookie_secure": ("true", "Send cookies with Secure (browsers accept it on http://localhost)."),
    "session.cookie_name": (
        "ekn_session",
        "Name of the session cookie; with cookie_secure = true it is sent as __Host-<name> (so is the "
        "browser-binding cookie, __Host-ekn_saml_req), which a subdomain cannot set.",
    ),
    "landing_path": ("/", "Local path to go to after login when no safe next target was given."),
    "logged_out_path": ("/login", "Local path to go to after logout."),
    "crypto_backend": (
        "xmlsec",
        "Who verifies and decrypts after the SP's own checks: xmlsec (python-xmlsec, in process) or xmlsec1 "
        "(pysaml2's xmlsec1 program, only to compare; needs the xmlsec1 system package).",
    ),
    "testing": ("false", "Set only by test suites: allows the memory:// store without a warning."),
    "development": (
        "false",
        "Development mode, implied by devidp.enabled and testing: allows an ephemeral server key. Never in production.",
    ),
    "server_keys": (
        "(empty; required outside development)",
        "File of the server's secret keys, newest first (mode 0600; `ekn-saml keygen --server-keys` makes it): "
        "they key the store's indexes and encrypt stored identities.",
    ),
    "devidp.enabled": ("false", "Serve the embedded development IdP. Never enable in production."),
    "devidp.entity_id": (
        "<public_base_url>/devidp",
        "entityID prefix of the development IdPs (one per method: /mobilt-bankid, /bankid, /expisoft).",
    ),
    "devidp.base_url": ("<public_base_url>", "Base URL the development IdP is reached at."),
    "devidp.key": ("", "PEM private key of the development IdP (TEST ONLY)."),
    "devidp.cert": ("", "PEM certificate of the development IdP."),
    "devidp.data_encryption": ("aes256-gcm", "aes128-gcm, aes256-gcm, aes128-cbc or aes256-cbc."),
    # --- SP metadata contents (DP §2, TAR §3); see docs/admin.md ---
    "sp.display_name.sv": ("", "mdui:DisplayName in Swedish: the service name approved by the federation."),
    "sp.display_name.en": ("<sp.display_name.sv>", "mdui:DisplayName in English."),
    "sp.description.sv": ("", "mdui:Description in Swedish."),
    "sp.description.en": ("<sp.description.sv>", "mdui:Description in English."),
    "sp.logo_url": ("", "https URL of the mdui:Logo (the federation requires one and checks it is reachable)."),
    "sp.logo_width": ("200", "Width of the logo in pixels."),
    "sp.logo_height": ("60", "Height of the logo in pixels."),
    "sp.organization.name": ("", "md:OrganizationName: the registered name, as in the federation agreement."),
    "sp.organization.display_name": ("<sp.organization.name>", "md:OrganizationDisplayName."),
    "sp.organization.url": ("", "md:OrganizationURL (http or https)."),
    "sp.organization.number": ("", "Organisation number, 10 digits without hyphen (check digit verified)."),
    "sp.contact.technical.email": ("", "E-mail address of the technical ContactPerson."),
    "sp.contact.support.email": ("", "E-mail address of the support ContactPerson."),
    "sp.entity_categories": (
        "loa3-pnr and/or loa3-orgid from the methods' profiles",
        "Entity categories, short names (loa3-pnr, public-sector-sp, prepaid-auth-2021, ...) or URIs. "
        "accepts-coordination-number only with security.accept_coordination_number = true.",
    ),
    "sp.requested_attributes": ("", "Extra attributes as RequestedAttribute (friendly names or urn:oid:...)."),
    "sp.metadata_valid_days": ("7", "validUntil of signed SP metadata, in days from signing (1-365)."),
    "sp.next_signing_cert": ("", "PEM certificate of the next signing key, published before it is used (rollover)."),
    # --- further SP profiles (TAR §3.4: one SP for loa3-pnr logins, another for loa3-orgid); see docs/admin.md ---
    "sp_profiles": (
        "",
        "Names of further SP profiles, each its own SP entity with ACS /saml/acs/<name> and metadata "
        "/saml/metadata/<name>; the sp.* keys are the default profile. Each must be used by a method.",
    ),
    "sp_profile.<name>.entity_id": (
        REQUIRED,
        "The profile's entityID (an absolute URI, distinct from every other profile's).",
    ),
    "sp_profile.<name>.signing_key": (
        "<sp.signing_key>",
        "PEM private key that signs this profile's AuthnRequests; set with signing_cert.",
    ),
    "sp_profile.<name>.signing_cert": (
        "<sp.signing_cert>",
        "PEM certificate of the profile's signing key; set with signing_key.",
    ),
    "sp_profile.<name>.encryption_keys": (
        "<sp.encryption_keys>",
        "PEM private keys that decrypt assertions sent to this profile, newest first; set with encryption_cert.",
    ),
    "sp_profile.<name>.encryption_cert": (
        "<sp.encryption_cert>",
        "PEM certificate of the profile's newest encryption key; set with encryption_keys.",
    ),
    "sp_profile.<name>.next_signing_cert": (
        "<sp.next_signing_cert> if the signing key is inherited",
        "PEM certificate of the profile's next signing key (rollover).",
    ),
    "sp_profile.<name>.entity_categories": (
        "loa3-pnr and/or loa3-orgid from the profile's methods",
        "The profile's entity categories (short names or URIs); loa*-pnr is refused on a profile of organisation methods only.",
    ),
    "sp_profile.<name>.display_name.sv": ("<sp.display_name.sv>", "The profile's mdui:DisplayName in Swedish."),
    "sp_profile.<name>.display_name.en": ("<display_name.sv>", "The profile's mdui:DisplayName in English."),
    "sp_profile.<name>.description.sv": ("<sp.description.sv>", "The profile's mdui:Description in Swedish."),
    "sp_profile.<name>.description.en": ("<description.sv>", "The profile's mdui:Description in English."),
    "sp_profile.<name>.requested_attributes": ("<sp.requested_attributes>", "The profile's extra RequestedAttributes."),
    # --- federation metadata ---
    "federation.metadata_url": ("", "Signed federation metadata: an https URL or a file path; empty = none."),
    "federation.signing_cert": ("", "PEM certificate(s) pinned to verify the federation metadata signature."),
    "federation.backing_file": (
        "<cwd>/var/federation-metadata.xml",
        "Last-known-good copy, written atomically after each verified load; used at startup and when a refresh fails.",
    ),
    "federation.min_refresh": ("600", "Shortest refresh interval in seconds (also the retry delay after a failure)."),
    "federation.max_refresh": ("14400", "Longest refresh interval in seconds (used when there is no cacheDuration)."),
    "federation.timeout": ("30", "Seconds to wait for the metadata server."),
    "federation.max_bytes": ("67108864", "Largest metadata document accepted, in bytes."),
    "federation.max_validity_days": (
        "31",
        "Refuse a document whose validUntil is more than this many days ahead (1-366), so that a captured "
        "old document cannot be replayed for long; raise it only if the federation signs for longer.",
    ),
    # --- status endpoint ---
    "status.allowed_addresses": ("127.0.0.1 ::1", "Client addresses or networks (CIDR) that may read /saml/status."),
}
DATA_ENCRYPTIONS = ("aes128-gcm", "aes192-gcm", "aes256-gcm", "aes128-cbc", "aes192-cbc", "aes256-cbc")
CRYPTO_BACKENDS = ("xmlsec", "xmlsec1")
_METHOD_KEY = re.compile(r"^method\.([^.]+)\.(idp|loa|profile|label|sp_profile)$")
_PROFILE_KEY_STEM = "sp_profile.<name>."
# the keys a further SP profile may set: exactly the documented ones
_PROFILE_KEY = re.compile(
    r"^sp_profile\.([^.]+)\.({})$".format(
        "|".join(re.escape(key[len(_PROFILE_KEY_STEM) :]) for key in KEYS if key.startswith(_PROFILE_KEY_STEM))
    )
)


class _Reader:
    """Collects problems instead of stopping at the first."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.problems: list[str] = []

    def str(self, key: str, default: str | None = None) -> str:
        value = self.raw.get(key)
        if value is None or str(value).strip() == "":
            if default is None:
                self.problems.append(f"{PREFIX}{key} is required")
                return ""
            return default
        return str(value).strip()

    def bool(self, key: str, default: bool) -> bool:
        value = self.raw.get(key)
        if value is None:
            return default
        text = str(value).strip().lower()
        if text not in ("true", "false", "yes", "no", "on", "off", "1", "0"):
            self.problems.append(f"{PREFIX}{key} must be true or false, not {value!r}")
            return default
        return asbool(text)

    def int(self, key: str, default: int, low: int, high: int) -> int:
        value = self.raw.get(key)
        if value is None:
            return default
        try:
            number = int(str(value).strip())
        except ValueError:
            self.problems.append(f"{PREFIX}{key} must be a whole number, not {value!r}")
            return default
        if not low <= number <= high:
            self.problems.append(f"{PREFIX}{key} must be between {low} and {high}, not {number}")
            return default
        return number

    def list(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.raw.get(key)
        if value is None:
            return default
        return tuple(aslist(value, flatten=True))

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.str(key, default)
        if value not in choices:
            self.problems.append(f"{PREFIX}{key} must be one of {', '.join(choices)}, not {value!r}")
            return default
        return value

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.problems.append(message)


def _is_absolute_uri(value: str) -> bool:
    parts = urlsplit(value)
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme == "urn")


def _base_url_problem(key: str, value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{PREFIX}{key} must be an http(s) URL, not {value!r}"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return f"{PREFIX}{key} must have no path, query or fragment: {value!r}"
    return None


def _local_path_problem(key: str, value: str) -> str | None:
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return f"{PREFIX}{key} must be a local path starting with a single '/', not {value!r}"
    return None


_EMAIL = re.compile(r"^[^@\s:/]+@[^@\s]+\.[^@\s]+$")
_LANGS = ("sv", "en")


def _quiet_bool(raw: dict[str, Any], key: str) -> bool:
    """A boolean another part of the parser reports on; read here without a second report."""
    return str(raw.get(key, "")).strip().lower() in ("true", "yes", "on", "1")


def _http_url_problem(key: str, value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{PREFIX}{key} must be an http(s) URL, not {value!r}"
    return None


def _per_language(r: _Reader, stem: str, inherited: tuple[tuple[str, str], ...] = ()) -> tuple[tuple[str, str], ...]:
    """``<stem>.sv`` and ``<stem>.en``; English falls back to Swedish, both to ``inherited`` when neither is set."""
    given = dict(inherited)
    sv = r.str(f"{stem}.sv", given.get("sv", ""))
    en = r.str(f"{stem}.en", sv if r.raw.get(f"{stem}.sv") else given.get("en", ""))
    return tuple((lang, text) for lang, text in (("sv", sv), ("en", en)) if text)


def _parse_categories(r: _Reader, key: str, methods: list[LoginMethod]) -> tuple[str, ...]:
    """Entity category URIs from ``key``, or by default what ``methods`` need (EC §1.3), nothing more."""
    from .metadata.categories import ACCEPTS_COORDINATION_NUMBER, ENTITY_CATEGORIES, PROFILE_CATEGORY

    accept_coordination = _quiet_bool(r.raw, "security.accept_coordination_number")
    if r.raw.get(key) is None:
        categories = list(dict.fromkeys(PROFILE_CATEGORY[m.profile] for m in methods if m.profile in PROFILE_CATEGORY))
        # only an SP that receives personal identity numbers can receive a samordningsnummer
        if accept_coordination and any(m.profile == "person" for m in methods):
            categories.append(ACCEPTS_COORDINATION_NUMBER)
    else:
        categories = []
        for name in r.list(key):
            uri = ENTITY_CATEGORIES.get(name, name)
            if not _is_absolute_uri(uri):
                r.problems.append(f"{PREFIX}{key}: {name!r} is neither a known category nor an absolute URI")
            elif uri not in categories:
                categories.append(uri)
    # Declaring it makes IdPs send samordningsnummer, which the ACS would then refuse (TAR §3.8).
    r.check(
        ACCEPTS_COORDINATION_NUMBER not in categories or accept_coordination,
        f"{PREFIX}{key}: accepts-coordination-number needs security.accept_coordination_number = true",
    )
    return tuple(categories)


def _parse_requested_attributes(r: _Reader, key: str, inherited: tuple[str, ...] = ()) -> tuple[str, ...]:
    from .metadata.categories import ATTRIBUTES

    if r.raw.get(key) is None:
        return inherited
    requested: list[str] = []
    for name in r.list(key):
        uri = ATTRIBUTES.get(name, name)
        if not uri.startswith("urn:oid:"):
            r.problems.append(f"{PREFIX}{key}: {name!r} is neither a known attribute nor urn:oid:...")
        elif uri not in requested:
            requested.append(uri)
    return tuple(requested)


def _parse_sp_metadata(
    r: _Reader, methods: list[LoginMethod], file_exists: Callable[[str], bool]
) -> SpMetadataSettings:
    """The default SP profile's metadata contents, from the ``ekn_saml.sp.*`` keys; ``methods`` are the ones bound to it."""
    logo_url = r.str("sp.logo_url", "")
    org_url = r.str("sp.organization.url", "")
    for key, value in (("sp.logo_url", logo_url), ("sp.organization.url", org_url)):
        problem = value and _http_url_problem(key, value)
        if problem:
            r.problems.append(problem)
    org_number = r.str("sp.organization.number", "")
    r.check(
        not org_number
        or (len(org_number) == 10 and org_number.isascii() and org_number.isdigit() and luhn_ok(org_number)),
        f"{PREFIX}sp.organization.number must be 10 digits without hyphen and with a valid check digit, not {org_number!r}",
    )
    emails = {}
    for role in ("technical", "support"):
        email = r.str(f"sp.contact.{role}.email", "").removeprefix("mailto:")
        r.check(
            not email or bool(_EMAIL.match(email)),
            f"{PREFIX}sp.contact.{role}.email is not an e-mail address: {email!r}",
        )
        emails[role] = email
    next_cert = r.str("sp.next_signing_cert", "")
    if next_cert and not file_exists(next_cert):
        r.problems.append(f"{PREFIX}sp.next_signing_cert: file not found: {next_cert}")
    org_name = r.str("sp.organization.name", "")
    return SpMetadataSettings(
        display_name=_per_language(r, "sp.display_name"),
        description=_per_language(r, "sp.description"),
        logo_url=logo_url,
        logo_width=r.int("sp.logo_width", 200, 16, 2000),
        logo_height=r.int("sp.logo_height", 60, 16, 2000),
        organization_name=org_name,
        organization_display_name=r.str("sp.organization.display_name", org_name),
        organization_url=org_url,
        organization_number=org_number,
        technical_email=emails["technical"],
        support_email=emails["support"],
        entity_categories=_parse_categories(r, "sp.entity_categories", methods),
        requested_attributes=_parse_requested_attributes(r, "sp.requested_attributes"),
        valid_days=r.int("sp.metadata_valid_days", 7, 1, 365),
        next_signing_cert=next_cert,
    )


def _sp_profile_names(r: _Reader) -> tuple[str, ...]:
    """The valid names of ``ekn_saml.sp_profiles``; each bad one is reported once."""
    names: list[str] = []
    for name in r.list("sp_profiles"):
        if not _METHOD_NAME.match(name):
            r.problems.append(f"{PREFIX}sp_profiles: {name!r} is not a valid profile name (a-z, 0-9, _)")
        elif name == DEFAULT_SP_PROFILE:
            r.problems.append(
                f"{PREFIX}sp_profiles: {name!r} is the profile of the {PREFIX}sp.* keys; choose another name"
            )
        elif name in names:
            r.problems.append(f"{PREFIX}sp_profiles: {name!r} is listed twice")
        else:
            names.append(name)
    return tuple(names)


def _parse_extra_profile(
    r: _Reader, name: str, base: str, default: SpProfile, methods: list[LoginMethod], file_exists: Callable[[str], bool]
) -> SpProfile:
    """``ekn_saml.sp_profile.<name>.*``: what is not set is the default profile's, except as noted.

    Organisation, contacts, logo and validity are always shared.  Entity
    categories are not inherited: by default they are what the profile's own
    methods need.  A key and its certificate are set together or not at all,
    so a profile never pairs its own key with the default's certificate.
    The next signing certificate is inherited only with the signing key.
    """
    stem = f"sp_profile.{name}."
    entity_id = r.str(stem + "entity_id")
    r.check(
        not entity_id or _is_absolute_uri(entity_id),
        f"{PREFIX}{stem}entity_id must be an absolute URI, not {entity_id!r}",
    )

    def own(key: str) -> bool:
        return bool(str(r.raw.get(stem + key) or "").strip())

    for key, partner in (("signing_key", "signing_cert"), ("encryption_keys", "encryption_cert")):
        r.check(
            own(key) == own(partner),
            f"{PREFIX}{stem}{key} and {PREFIX}{stem}{partner} must be set together (a key and its certificate) or both left out",
        )

    def path(key: str, inherited: str) -> str:
        value = r.str(stem + key, inherited)
        if own(key) and not file_exists(value):
            r.problems.append(f"{PREFIX}{stem}{key}: file not found: {value}")
        return value

    signing_key = path("signing_key", default.signing_key)
    signing_cert = path("signing_cert", default.signing_cert)
    encryption_cert = path("encryption_cert", default.encryption_cert)
    encryption_keys = default.encryption_keys
    if own("encryption_keys"):
        encryption_keys = r.list(stem + "encryption_keys")
        for key_path in encryption_keys:
            if not file_exists(key_path):
                r.problems.append(f"{PREFIX}{stem}encryption_keys: file not found: {key_path}")
    # the default's next key belongs to the default's signing key, not to one of this profile's own
    next_cert = path("next_signing_cert", "" if own("signing_key") else default.metadata.next_signing_cert)
    inherited = default.metadata
    metadata = replace(
        inherited,
        display_name=_per_language(r, stem + "display_name", inherited.display_name),
        description=_per_language(r, stem + "description", inherited.description),
        entity_categories=_parse_categories(r, stem + "entity_categories", methods),
        requested_attributes=_parse_requested_attributes(
            r, stem + "requested_attributes", inherited.requested_attributes
        ),
        next_signing_cert=next_cert,
    )
    return SpProfile(
        name=name,
        entity_id=entity_id,
        acs_url=base + acs_path(name),
        signing_key=signing_key,
        signing_cert=signing_cert,
        encryption_keys=encryption_keys,
        encryption_cert=encryption_cert,
        metadata=metadata,
    )


def _check_sp_profiles(r: _Reader, profiles: list[SpProfile], methods: list[LoginMethod]) -> None:
    """Rules across profiles and methods: distinct entityIDs, every profile used, no pnr for organisation-only SPs."""
    from .metadata.categories import PERSONAL_NUMBER_CATEGORIES

    owners: dict[str, str] = {}
    for profile in profiles:
        if profile.entity_id in owners:
            r.problems.append(
                f"{profile.setting_prefix}entity_id {profile.entity_id} is also the entityID of SP profile "
                f"{owners[profile.entity_id]!r}: each profile is its own SP and needs its own entityID"
            )
        if profile.entity_id:  # a missing one is reported as required
            owners.setdefault(profile.entity_id, profile.name)
        if not methods:
            continue  # "methods must name at least one login method" says it all
        bound = [m for m in methods if m.sp_profile == profile.name]
        if not bound:
            # almost always a forgotten method.<name>.sp_profile; its metadata would ask for no attributes
            r.problems.append(
                f"SP profile {profile.name!r} is used by no login method: set {PREFIX}method.<name>.sp_profile = {profile.name}"
                + (f" or remove it from {PREFIX}sp_profiles" if not profile.is_default else "")
            )
        elif all(m.profile == "organisation" for m in bound):
            # TAR §3.4: a pnr category makes IdPs release personal identity numbers to organisation logins
            declared = [c for c in profile.metadata.entity_categories if c in PERSONAL_NUMBER_CATEGORIES]
            r.check(
                not declared,
                f"{profile.setting_prefix}entity_categories: SP profile {profile.name!r} serves organisation logins only "
                f"({', '.join(m.name for m in bound)}) and must not declare {', '.join(declared)}",
            )


_LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "localhost")


def _parse_federation(r: _Reader, file_exists: Callable[[str], bool]) -> FederationSettings:
    url = r.str("federation.metadata_url", "")
    certs = r.list("federation.signing_cert")
    testing = _quiet_bool(r.raw, "testing")
    min_refresh = r.int("federation.min_refresh", 600, 60, 86400)
    max_refresh = r.int("federation.max_refresh", 14400, 60, 7 * 86400)
    r.check(min_refresh <= max_refresh, f"{PREFIX}federation.min_refresh must not exceed federation.max_refresh")
    result = FederationSettings(
        metadata_url=url,
        signing_certs=certs,
        backing_file=r.str("federation.backing_file", os.path.abspath(os.path.join("var", "federation-metadata.xml"))),
        min_refresh=min_refresh,
        max_refresh=max_refresh,
        timeout=r.int("federation.timeout", 30, 1, 600),
        max_bytes=r.int("federation.max_bytes", 64 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
        max_validity_days=r.int("federation.max_validity_days", DEFAULT_MAX_VALIDITY_DAYS, 1, 366),
        allow_loopback_http=testing,
    )
    if not url:
        return result
    parts = urlsplit(url)
    if parts.scheme == "https":
        r.check(bool(parts.netloc), f"{PREFIX}federation.metadata_url has no host: {url!r}")
    elif parts.scheme == "http":
        # The signature protects integrity either way; plain http is refused so that an
        # observer cannot hold us on an old (still valid) aggregate.  Tests may use loopback.
        r.check(
            testing and parts.netloc.rsplit(":", 1)[0] in _LOOPBACK_HOSTS,
            f"{PREFIX}federation.metadata_url must be https (or a file), not {url!r}",
        )
    else:
        path = parts.path if parts.scheme == "file" else url
        # a missing file is not a configuration error: the backing file covers it, as for a URL
        r.check(parts.scheme in ("", "file") and bool(path), f"{PREFIX}federation.metadata_url: unsupported {url!r}")
    # The signature is required: without a pinned certificate nothing could be trusted.
    r.check(bool(certs), f"{PREFIX}federation.signing_cert is required when federation.metadata_url is set")
    for path in certs:
        if not file_exists(path):
            r.problems.append(f"{PREFIX}federation.signing_cert: file not found: {path}")
    return result


def _parse_addresses(r: _Reader) -> tuple[str, ...]:
    import ipaddress

    values = r.list("status.allowed_addresses", ("127.0.0.1", "::1"))
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            r.problems.append(f"{PREFIX}status.allowed_addresses: {value!r} is not an IP address or network")
    return values


def parse_settings(  # noqa: C901 - to be split by settings section (issue 13)
    settings: dict[str, Any], *, file_exists: Callable[[str], bool] = os.path.isfile
) -> SamlSettings:
    """Parse the ``ekn_saml.*`` keys of ``settings``; raise ConfigurationError listing every problem."""
    raw = {k[len(PREFIX) :]: v for k, v in settings.items() if k.startswith(PREFIX)}
    r = _Reader(raw)

    # unknown keys first: a typo is the most common mistake
    for key in sorted(raw):
        if key in KEYS or _METHOD_KEY.match(key) or _PROFILE_KEY.match(key):
            continue
        r.problems.append(f"unknown setting {PREFIX}{key}")
    profile_names = _sp_profile_names(r)

    entity_id = r.str("sp.entity_id")
    r.check(
        not entity_id or _is_absolute_uri(entity_id), f"{PREFIX}sp.entity_id must be an absolute URI, not {entity_id!r}"
    )
    base = r.str("sp.public_base_url").rstrip("/")
    if base:
        problem = _base_url_problem("sp.public_base_url", base)
        if problem:
            r.problems.append(problem)

    def path_setting(key: str) -> str:
        value = r.str(key)
        if value and not file_exists(value):
            r.problems.append(f"{PREFIX}{key}: file not found: {value}")
        return value

    def path_setting_optional(key: str) -> str:
        value = r.str(key, "")
        if value and not file_exists(value):
            r.problems.append(f"{PREFIX}{key}: file not found: {value}")
        return value

    signing_key = path_setting("sp.signing_key")
    signing_cert = path_setting("sp.signing_cert")
    encryption_cert = path_setting("sp.encryption_cert")
    encryption_keys = r.list("sp.encryption_keys")
    if not encryption_keys:
        r.problems.append(f"{PREFIX}sp.encryption_keys is required")
    for path in encryption_keys:
        if not file_exists(path):
            r.problems.append(f"{PREFIX}sp.encryption_keys: file not found: {path}")
    metadata_files = r.list("idp.metadata_files")
    for path in metadata_files:
        if not file_exists(path):
            r.problems.append(f"{PREFIX}idp.metadata_files: file not found: {path}")

    # devidp first: its entityID is the default IdP of every method in development
    dev_enabled = r.bool("devidp.enabled", False)
    devidp = DevIdpSettings(
        enabled=dev_enabled,
        entity_id=r.str("devidp.entity_id", f"{base}/devidp"),
        base_url=r.str("devidp.base_url", base).rstrip("/"),
        key=r.str("devidp.key", ""),
        cert=r.str("devidp.cert", ""),
        data_encryption=r.choice("devidp.data_encryption", "aes256-gcm", DATA_ENCRYPTIONS),
    )
    if dev_enabled:
        for key in ("devidp.key", "devidp.cert"):
            value = getattr(devidp, key.split(".")[1])
            if not value:
                r.problems.append(f"{PREFIX}{key} is required when devidp.enabled = true")
            elif not file_exists(value):
                r.problems.append(f"{PREFIX}{key}: file not found: {value}")
        problem = _base_url_problem("devidp.base_url", devidp.base_url)
        if problem:
            r.problems.append(problem)

    methods = []
    names = r.list("methods", tuple(KNOWN_METHODS))
    r.check(bool(names), f"{PREFIX}methods must name at least one login method")
    seen: set[str] = set()
    for name in names:
        if not _METHOD_NAME.match(name):
            r.problems.append(f"{PREFIX}methods: {name!r} is not a valid method name (a-z, 0-9, _)")
            continue
        if name in seen:
            r.problems.append(f"{PREFIX}methods: {name!r} is listed twice")
            continue
        seen.add(name)
        builtin = KNOWN_METHODS.get(name, {})
        idp = r.str(f"method.{name}.idp")
        r.check(not idp or _is_absolute_uri(idp), f"{PREFIX}method.{name}.idp must be an absolute URI, not {idp!r}")
        loa = r.list(f"method.{name}.loa", builtin.get("loa", ()))
        r.check(bool(loa), f"{PREFIX}method.{name}.loa must list at least one LoA URI")
        for uri in loa:
            r.check(_is_absolute_uri(uri), f"{PREFIX}method.{name}.loa: {uri!r} is not an absolute URI")
        profile = r.str(f"method.{name}.profile", builtin.get("profile", ""))
        r.check(profile in PROFILES, f"{PREFIX}method.{name}.profile must be person or organisation, not {profile!r}")
        label = raw.get(f"method.{name}.label")
        r.check(
            bool(builtin) or bool(label), f"{PREFIX}method.{name}.label is required for a method that is not built in"
        )
        sp_profile = r.str(f"method.{name}.sp_profile", DEFAULT_SP_PROFILE)
        r.check(
            sp_profile == DEFAULT_SP_PROFILE or sp_profile in profile_names,
            f"{PREFIX}method.{name}.sp_profile: {sp_profile!r} is neither {DEFAULT_SP_PROFILE} nor in {PREFIX}sp_profiles",
        )
        methods.append(
            LoginMethod(
                name=name, idp_entity_id=idp, loa=tuple(loa), profile=profile, label=label, sp_profile=sp_profile
            )
        )
    for key in raw:
        match = _METHOD_KEY.match(key)
        if match and match.group(1) not in seen:
            r.problems.append(f"{PREFIX}{key} configures a method that is not in {PREFIX}methods")
        match = _PROFILE_KEY.match(key)
        if match and match.group(1) not in profile_names:
            r.problems.append(f"{PREFIX}{key} configures an SP profile that is not in {PREFIX}sp_profiles")

    landing = r.str("landing_path", "/")
    logged_out = r.str("logged_out_path", "/login")
    for key, value in (("landing_path", landing), ("logged_out_path", logged_out)):
        problem = _local_path_problem(key, value)
        if problem:
            r.problems.append(problem)

    idle = r.int("session.idle_timeout", 1800, 60, 7 * 86400)
    absolute = r.int("session.absolute_timeout", 8 * 3600, 60, 30 * 86400)
    r.check(idle <= absolute, f"{PREFIX}session.idle_timeout must not exceed session.absolute_timeout")

    default_metadata = _parse_sp_metadata(r, [m for m in methods if m.sp_profile == DEFAULT_SP_PROFILE], file_exists)
    default_profile = SpProfile(
        name=DEFAULT_SP_PROFILE,
        entity_id=entity_id,
        acs_url=base + acs_path(DEFAULT_SP_PROFILE),
        signing_key=signing_key,
        signing_cert=signing_cert,
        encryption_keys=encryption_keys,
        encryption_cert=encryption_cert,
        metadata=default_metadata,
    )
    profiles = [default_profile]
    for name in profile_names:
        profiles.append(
            _parse_extra_profile(
                r, name, base, default_profile, [m for m in methods if m.sp_profile == name], file_exists
            )
        )
    _check_sp_profiles(r, profiles, methods)

    result = SamlSettings(
        entity_id=entity_id,
        public_base_url=base,
        signing_key=signing_key,
        signing_cert=signing_cert,
        encryption_keys=encryption_keys,
        encryption_cert=encryption_cert,
        idp_metadata_files=metadata_files,
        methods=tuple(methods),
        authn_request_binding=r.choice("authn_request.binding", "redirect", BINDINGS),
        force_authn=r.bool("authn_request.force_authn", True),
        # The Swedish profile (v1.9) says skew SHOULD NOT exceed one minute.
        clock_skew=r.int("security.clock_skew", 30, 0, 60),
        max_response_age=r.int("security.max_response_age", 180, 10, 3600),
        require_encrypted_assertion=r.bool("security.require_encrypted_assertion", True),
        accept_coordination_number=r.bool("security.accept_coordination_number", False),
        max_response_bytes=r.int("security.max_response_bytes", 256 * 1024, 4096, 16 * 1024 * 1024),
        request_ttl=r.int("security.request_ttl", 600, 30, 3600),
        xml_limits=XmlLimits(
            max_nodes=r.int("security.max_xml_nodes", MESSAGE_LIMITS.max_nodes, 100, 100_000),
            max_attributes=r.int("security.max_xml_attributes", MESSAGE_LIMITS.max_attributes, 8, 1024),
            max_depth=r.int("security.max_xml_depth", MESSAGE_LIMITS.max_depth, 8, 256),
            max_namespaces=r.int("security.max_xml_namespaces", MESSAGE_LIMITS.max_namespaces, 8, 10_000),
        ),
        login_start_limit=r.int("security.login_start_limit", 60, 0, 100_000),
        login_start_window=r.int("security.login_start_window", 60, 1, 3600),
        store_url=r.str("store.url", "sqlite:///" + os.path.abspath(os.path.join("var", "ekn_saml.sqlite"))),
        store_key_prefix=r.str("store.key_prefix", "ekn_saml:"),
        session_idle_timeout=idle,
        session_absolute_timeout=absolute,
        session_cookie_secure=r.bool("session.cookie_secure", True),
        session_cookie_name=r.str("session.cookie_name", "ekn_session"),
        landing_path=landing,
        logged_out_path=logged_out,
        devidp=devidp,
        testing=r.bool("testing", False),
        sp_metadata=default_metadata,
        sp_profiles=tuple(profiles),
        federation=_parse_federation(r, file_exists),
        status_allowed_addresses=_parse_addresses(r),
        crypto_backend=r.choice("crypto_backend", "xmlsec", CRYPTO_BACKENDS),
        development_flag=r.bool("development", False),
        server_keys=path_setting_optional("server_keys"),
    )
    # DP §6.1: the ACS MUST be TLS-protected. Every SP profile's ACS (and so the
    # Destination and Recipient we accept) is built on this base, so one check covers all.
    r.check(
        urlsplit(base).scheme != "http" or result.is_development,
        f"{PREFIX}sp.public_base_url must be https (the ACS must be TLS-protected, DP §6.1), not {base!r}; "
        f"http only in development ({PREFIX}development, {PREFIX}testing or {PREFIX}devidp.enabled)",
    )
    store_scheme = urlsplit(result.store_url).scheme
    r.check(
        store_scheme in ("sqlite", "redis", "rediss", "unix", "memory"),
        f"{PREFIX}store.url must start with sqlite:///, redis:// or memory://, not {result.store_url!r}",
    )
    # the prefix follows from cookie_secure (ekn_saml.cookies); a configured one would be doubled or refused by browsers
    r.check(
        not result.session_cookie_name.startswith(RESERVED_COOKIE_PREFIXES),
        f"{PREFIX}session.cookie_name must not start with {' or '.join(RESERVED_COOKIE_PREFIXES)}: "
        f"the __Host- prefix is added when session.cookie_secure = true",
    )
    if r.problems:
        raise ConfigurationError(r.problems)
    return result
