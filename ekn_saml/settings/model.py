# SPDX-License-Identifier: Apache-2.0
"""The parsed settings: frozen dataclasses, the only source of settings for the rest of ekn_saml.

Plain data, built by :func:`ekn_saml.settings.parse_settings`; nothing here
reads or checks a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..constants import ACS_PATH, DEFAULT_MAX_VALIDITY_DAYS, DEFAULT_SP_PROFILE, METADATA_PATH
from ..storage import StateStore
from ..xml_limits import MESSAGE_LIMITS, XmlLimits

# the prefix of every key this package reads
PREFIX = "ekn_saml."


@dataclass(frozen=True, slots=True)
class LoginMethod:
    """One choice on the chooser page: which IdP, which LoAs, which attribute profile, which SP."""

    name: str
    idp_entity_id: str
    loa: tuple[str, ...]
    profile: str  # "person" | "organisation" | "foreign_person"
    label: str | None = None  # overrides the translated built-in label
    sp_profile: str = DEFAULT_SP_PROFILE  # the SP entity whose AuthnRequests this method sends
    # EC §6.1: its SP profile declares secure-authenticator-binding, and its IdP must declare it too
    secure_authenticator_binding: bool = False


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
class SupportContact:
    """EKN's customer service as users see it on error pages and /help; every part may be empty."""

    email: str = ""
    phone: str = ""
    opening_hours: tuple[tuple[str, str], ...] = ()  # (language, text)
    form_url: tuple[tuple[str, str], ...] = ()  # (language, https URL)

    @property
    def configured(self) -> bool:
        return bool(self.email or self.phone or self.form_url)

    def hours_in(self, language: str) -> str:
        """The opening hours in ``language``, else Swedish, else ``""``."""
        return _in_language(self.opening_hours, language)

    def form_in(self, language: str) -> str:
        """The contact form's URL for ``language``, else the Swedish one, else ``""``."""
        return _in_language(self.form_url, language)


def _in_language(values: tuple[tuple[str, str], ...], language: str) -> str:
    given = dict(values)
    return given.get(language) or given.get("sv", "")


@dataclass(frozen=True, slots=True)
class OperationsSettings:
    """The endpoints for operators' tools: health checks for load balancers, Prometheus metrics.

    The paths are routes the include adds (``health.*``, ``metrics.*``);
    ``metrics_enabled`` is false when prometheus_client is not installed and
    the setting left it to that.
    """

    health_enabled: bool = True
    live_path: str = "/healthz"
    ready_path: str = "/readyz"
    metrics_enabled: bool = False
    metrics_path: str = "/metrics"

    @property
    def routes(self) -> tuple[tuple[str, str], ...]:
        """``(route name, path)`` of each endpoint that is on, as :func:`ekn_saml.routes.add_operations_routes` adds them."""
        routes = []
        if self.health_enabled:
            routes += [("saml.healthz", self.live_path), ("saml.readyz", self.ready_path)]
        if self.metrics_enabled:
            routes.append(("saml.metrics", self.metrics_path))
        return tuple(routes)


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
    # umsg:UserMessage texts, (xml:lang, text); sent only to IdPs declaring supports-user-message; empty: none
    user_message: tuple[tuple[str, str], ...] = ()
    force_authn: bool = True
    clock_skew: int = 30
    max_response_age: int = 180
    require_encrypted_assertion: bool = True
    accept_coordination_number: bool = False
    # ekn_saml.eidas.mapped_number_bindings: binding process URIs under which an eIDAS login's
    # mappedPersonalIdentityNumber is kept (ATTR §3.3.2); none by default, so it is always dropped
    eidas_mapped_number_bindings: tuple[str, ...] = ()
    # ekn_saml.eidas.countries: the countries the connector offers (Scoping, DP §5.3.2); empty: all it serves
    eidas_countries: tuple[str, ...] = ()
    max_response_bytes: int = 256 * 1024
    request_ttl: int = 600
    xml_limits: XmlLimits = MESSAGE_LIMITS  # the caps on a message's shape before any signature work
    login_start_limit: int = 60  # login starts per client address and window; 0: no limit
    login_start_window: int = 60  # seconds
    store_url: str = ""
    store_key_prefix: str = "ekn_saml:"
    # ekn_saml.store.backend: the host's own StateStore class, built from store_url; None: chosen by the URL's scheme
    store_backend: type[StateStore] | None = None
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
    support: SupportContact = field(default_factory=SupportContact)
    operations: OperationsSettings = field(default_factory=OperationsSettings)  # health checks, metrics
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
