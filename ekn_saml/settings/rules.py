# SPDX-License-Identifier: Apache-2.0
"""The rules of the settings, one function per section of ``ekn_saml.*`` keys (the SP's own are in :mod:`.profiles`).

Each function reads its section with the :class:`~.reader.Reader`, records
every problem on it, and returns what the section contributes to
:class:`~.model.SamlSettings` (a value, or a dict of fields by name).  A
function never stops at the first problem, and none reads a file (only
whether it exists) or connects to anything.
"""

from __future__ import annotations

import importlib.util
import inspect
import ipaddress
import os
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from pyramid.path import DottedNameResolver

from ..constants import DEFAULT_MAX_VALIDITY_DAYS, DEFAULT_SP_PROFILE
from ..cookies import RESERVED_PREFIXES as RESERVED_COOKIE_PREFIXES
from ..eidas import BINDING_PROCESSES
from ..errors import StoreUrlError
from ..methods import DEFAULT_METHODS, PROFILES
from ..storage import StateStore
from ..storage.redis_connection import is_sentinel_url, parse_sentinel_url
from ..storage.registry import BACKENDS, SCHEMES, missing_requirement, supported_urls
from ..xml_limits import MESSAGE_LIMITS, XmlLimits
from .model import PREFIX, DevIdpSettings, FederationSettings, LoginMethod, OperationsSettings, SupportContact
from .reader import Reader, base_url_problem, is_absolute_uri, local_path_problem, per_language, quiet_bool
from .table import (
    BINDINGS,
    CRYPTO_BACKENDS,
    DATA_ENCRYPTIONS,
    KEYS,
    KNOWN_METHODS,
    METHOD_KEY,
    METHOD_NAME,
    PROFILE_KEY,
)

_LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "localhost")


def check_known_keys(r: Reader) -> None:
    """Every key must be in :data:`~.table.KEYS` or match a method's or an SP profile's key: a typo must not fall back to a default."""
    for key in sorted(r.raw):
        if key in KEYS or METHOD_KEY.match(key) or PROFILE_KEY.match(key):
            continue
        r.problems.append(f"unknown setting {PREFIX}{key}")


def check_listed(r: Reader, methods: tuple[LoginMethod, ...], profile_names: tuple[str, ...]) -> None:
    """A ``method.<name>.*`` or ``sp_profile.<name>.*`` key must configure a listed method or profile."""
    listed = {m.name for m in methods}
    for key in r.raw:
        match = METHOD_KEY.match(key)
        if match and match.group(1) not in listed:
            r.problems.append(f"{PREFIX}{key} configures a method that is not in {PREFIX}methods")
        match = PROFILE_KEY.match(key)
        if match and match.group(1) not in profile_names:
            r.problems.append(f"{PREFIX}{key} configures an SP profile that is not in {PREFIX}sp_profiles")


def mode_section(r: Reader, file_exists: Callable[[str], bool]) -> dict[str, Any]:
    """``testing``, ``development``, ``server_keys`` and ``crypto_backend``: how this process runs.

    The server key file must exist if named; whether it may be left out
    (development only) is for :func:`ekn_saml.server_keys.load_server_keys` to say.
    """
    server_keys = r.str("server_keys", "")
    if server_keys and not file_exists(server_keys):
        r.problems.append(f"{PREFIX}server_keys: file not found: {server_keys}")
    return dict(
        testing=r.bool("testing", False),
        development_flag=r.bool("development", False),
        server_keys=server_keys,
        crypto_backend=r.choice("crypto_backend", "xmlsec", CRYPTO_BACKENDS),
    )


def idp_section(r: Reader, file_exists: Callable[[str], bool]) -> tuple[str, ...]:
    """``idp.metadata_files``: IdP metadata trusted as it is; each file must exist (it is read by the wiring)."""
    metadata_files = r.list("idp.metadata_files")
    for path in metadata_files:
        if not file_exists(path):
            r.problems.append(f"{PREFIX}idp.metadata_files: file not found: {path}")
    return metadata_files


def devidp_section(r: Reader, base: str, file_exists: Callable[[str], bool]) -> DevIdpSettings:
    """``devidp.*``: the embedded development IdP; when enabled, its key and certificate must exist."""
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
        for key, value in (("devidp.key", devidp.key), ("devidp.cert", devidp.cert)):
            if not value:
                r.problems.append(f"{PREFIX}{key} is required when devidp.enabled = true")
            elif not file_exists(value):
                r.problems.append(f"{PREFIX}{key}: file not found: {value}")
        problem = base_url_problem("devidp.base_url", devidp.base_url)
        if problem:
            r.problems.append(problem)
    return devidp


def methods_section(r: Reader, profile_names: tuple[str, ...]) -> tuple[LoginMethod, ...]:
    """``methods`` and each ``method.<name>.*``: the login methods, in chooser order.

    A built-in method (:data:`~.table.KNOWN_METHODS`) has its profile and
    LoAs by default; another needs its IdP, profile and label.  Each method
    goes out as the SP profile it names (default: the default one).
    Does **not** check that the IdP is trusted: that needs the metadata.
    """
    methods = []
    names = r.list("methods", DEFAULT_METHODS)
    r.check(bool(names), f"{PREFIX}methods must name at least one login method")
    seen: set[str] = set()
    for name in names:
        if not METHOD_NAME.match(name):
            r.problems.append(f"{PREFIX}methods: {name!r} is not a valid method name (a-z, 0-9, _)")
            continue
        if name in seen:
            r.problems.append(f"{PREFIX}methods: {name!r} is listed twice")
            continue
        seen.add(name)
        methods.append(_method(r, name, profile_names))
    return tuple(methods)


def _method(r: Reader, name: str, profile_names: tuple[str, ...]) -> LoginMethod:
    builtin = KNOWN_METHODS.get(name, {})
    idp = r.str(f"method.{name}.idp")
    r.check(not idp or is_absolute_uri(idp), f"{PREFIX}method.{name}.idp must be an absolute URI, not {idp!r}")
    loa = r.list(f"method.{name}.loa", builtin.get("loa", ()))
    r.check(bool(loa), f"{PREFIX}method.{name}.loa must list at least one LoA URI")
    for uri in loa:
        r.check(is_absolute_uri(uri), f"{PREFIX}method.{name}.loa: {uri!r} is not an absolute URI")
    profile = r.str(f"method.{name}.profile", builtin.get("profile", ""))
    r.check(
        profile in PROFILES,
        f"{PREFIX}method.{name}.profile must be person, organisation or foreign_person, not {profile!r}",
    )
    label = r.raw.get(f"method.{name}.label")
    r.check(bool(builtin) or bool(label), f"{PREFIX}method.{name}.label is required for a method that is not built in")
    sp_profile = r.str(f"method.{name}.sp_profile", DEFAULT_SP_PROFILE)
    r.check(
        sp_profile == DEFAULT_SP_PROFILE or sp_profile in profile_names,
        f"{PREFIX}method.{name}.sp_profile: {sp_profile!r} is neither {DEFAULT_SP_PROFILE} nor in {PREFIX}sp_profiles",
    )
    return LoginMethod(
        name=name,
        idp_entity_id=idp,
        loa=tuple(loa),
        profile=profile,
        label=label,
        sp_profile=sp_profile,
        secure_authenticator_binding=r.bool(f"method.{name}.secure_authenticator_binding", False),
    )


def authn_request_section(r: Reader) -> dict[str, Any]:
    """``authn_request.*`` and ``user_message.*``: the binding, ForceAuthn and UserMessage of every AuthnRequest."""
    return dict(
        authn_request_binding=r.choice("authn_request.binding", "redirect", BINDINGS),
        force_authn=r.bool("authn_request.force_authn", True),
        user_message=user_message_section(r),
    )


USER_MESSAGE_MAX = 200  # characters; BankID shows it in the app, where long texts are cut
USER_MESSAGE_DEFAULTS = (("sv", "Logga in på EKN Online"), ("en", "Log in to EKN Online"))
# C0/C1 controls other than the line break (UMSG §3.1: IdPs must handle line breaks), DEL, bidi overrides
_MESSAGE_FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# a run of digits as long as an organisation or personal identity number
_IDENTITY_LIKE = re.compile(r"\d{10,}")


def user_message_section(r: Reader) -> tuple[tuple[str, str], ...]:
    """``user_message.sv`` and ``.en``: the umsg:UserMessage texts, each checked; an empty one is left out.

    The IdP shows the text before the user is authenticated (UMSG §3.2), so
    it must be a fixed anti-phishing text: plain text of at most
    :data:`USER_MESSAGE_MAX` characters, no control characters but line
    breaks, no bidirectional overrides, and no run of ten digits or more
    (which would look like an identity number).  Does **not** judge the
    wording.
    """
    found = []
    for lang, default in USER_MESSAGE_DEFAULTS:
        key = f"user_message.{lang}"
        # read raw: an empty value switches the language off, where Reader.str would give the default
        raw = r.raw.get(key)
        text = (default if raw is None else str(raw)).replace("\r\n", "\n").strip()
        if not text:
            continue
        problems = []
        if len(text) > USER_MESSAGE_MAX:
            problems.append(f"is {len(text)} characters long, more than {USER_MESSAGE_MAX}")
        if _MESSAGE_FORBIDDEN.search(text):
            problems.append("holds control or bidirectional-override characters")
        if _IDENTITY_LIKE.search(text):
            problems.append("holds a run of 10 or more digits: no identity numbers or other personal data")
        for problem in problems:
            r.problems.append(f"{PREFIX}{key} {problem}")
        if not problems:
            found.append((lang, text))
    return tuple(found)


def _message_cap(value: int | None) -> int:
    # MESSAGE_LIMITS sets every cap; "no cap" (None) is only for federation metadata's
    if value is None:
        raise ValueError("every cap of MESSAGE_LIMITS must be set")
    return value


def security_section(r: Reader) -> dict[str, Any]:
    """``security.*``: the ACS's time and size rules, the caps on a message's shape, the login-start limit."""
    return dict(
        # The Swedish profile (v1.9) says skew SHOULD NOT exceed one minute.
        clock_skew=r.int("security.clock_skew", 30, 0, 60),
        max_response_age=r.int("security.max_response_age", 180, 10, 3600),
        require_encrypted_assertion=r.bool("security.require_encrypted_assertion", True),
        accept_coordination_number=r.bool("security.accept_coordination_number", False),
        max_response_bytes=r.int("security.max_response_bytes", 256 * 1024, 4096, 16 * 1024 * 1024),
        request_ttl=r.int("security.request_ttl", 600, 30, 3600),
        xml_limits=XmlLimits(
            max_nodes=r.int("security.max_xml_nodes", _message_cap(MESSAGE_LIMITS.max_nodes), 100, 100_000),
            max_attributes=r.int("security.max_xml_attributes", _message_cap(MESSAGE_LIMITS.max_attributes), 8, 1024),
            max_depth=r.int("security.max_xml_depth", _message_cap(MESSAGE_LIMITS.max_depth), 8, 256),
            max_namespaces=r.int("security.max_xml_namespaces", _message_cap(MESSAGE_LIMITS.max_namespaces), 8, 10_000),
        ),
        login_start_limit=r.int("security.login_start_limit", 60, 0, 100_000),
        login_start_window=r.int("security.login_start_window", 60, 1, 3600),
    )


def eidas_section(r: Reader) -> dict[str, Any]:
    """``eidas.*``: which identity bindings of the eIDAS connector make a mapped number usable, which countries.

    Short names are the Registry's processes (§3.1.9.3); any absolute URI is
    also taken, as the Registry may add processes.  Empty (the default):
    every mappedPersonalIdentityNumber is dropped.
    """
    bindings: list[str] = []
    for name in r.list("eidas.mapped_number_bindings"):
        uri = BINDING_PROCESSES.get(name, name)
        if not is_absolute_uri(uri):
            r.problems.append(
                f"{PREFIX}eidas.mapped_number_bindings: {name!r} is neither "
                f"{' nor '.join(BINDING_PROCESSES)} nor an absolute URI"
            )
        elif uri not in bindings:
            bindings.append(uri)
    countries: list[str] = []
    for code in r.list("eidas.countries"):
        upper = code.upper()
        if not (len(upper) == 2 and upper.isascii() and upper.isalpha()):
            r.problems.append(f"{PREFIX}eidas.countries: {code!r} is not a two-letter country code (ISO 3166-1)")
        elif upper not in countries:
            countries.append(upper)
    return dict(eidas_mapped_number_bindings=tuple(bindings), eidas_countries=tuple(countries))


def store_section(r: Reader) -> dict[str, Any]:
    """``store.*``: the state store's URL and key prefix, and the host's own backend class if one is named.

    Without ``store.backend`` the URL's scheme must be a built-in backend's
    (:data:`~ekn_saml.storage.registry.SCHEMES`), and what that backend
    needs must be installed (``redis://`` needs the ``[redis]`` extra).
    With it the URL is the class's to read, and only the class is checked
    (:func:`_host_backend`).  A ``redis+sentinel://`` URL is parsed here
    as the store will parse it, so a malformed one is a startup problem
    with its :class:`~ekn_saml.storage.redis_connection.SentinelUrlProblem`
    code.  Does **not** connect to the store.
    """
    url = r.str("store.url", "sqlite:///" + os.path.abspath(os.path.join("var", "ekn_saml.sqlite")))
    dotted = r.str("store.backend", "")
    backend = _host_backend(r, dotted) if dotted else None
    if not dotted:
        scheme = urlsplit(url).scheme
        if scheme not in SCHEMES:
            r.problems.append(
                f"{PREFIX}store.url must be one of {supported_urls()}, not {url!r} "
                f"(or name your own backend in {PREFIX}store.backend)"
            )
        else:
            problem = missing_requirement(BACKENDS[scheme])
            if problem:
                r.problems.append(f"{PREFIX}store.url is {scheme}://, but {problem}")
            if is_sentinel_url(url):
                try:
                    parse_sentinel_url(url)
                except StoreUrlError as exc:
                    r.problems.append(f"{PREFIX}store.url: {exc}")
    return dict(store_url=url, store_key_prefix=r.str("store.key_prefix", "ekn_saml:"), store_backend=backend)


def _host_backend(r: Reader, dotted: str) -> type[StateStore] | None:
    """The class ``store.backend`` names, if it resolves to a concrete StateStore that builds itself from a URL."""
    key = f"{PREFIX}store.backend"
    try:
        found = DottedNameResolver().resolve(dotted)
    except Exception as exc:  # noqa: BLE001 - importing the host's module may fail in any way; each is a problem
        r.problems.append(f"{key}: {dotted!r} cannot be imported ({exc.__class__.__name__}: {exc})")
        return None
    if not (isinstance(found, type) and issubclass(found, StateStore)):
        r.problems.append(f"{key}: {dotted!r} is not a StateStore class (ekn_saml.storage.StateStore)")
        return None
    if inspect.isabstract(found):
        missing = ", ".join(sorted(getattr(found, "__abstractmethods__", ())))
        r.problems.append(f"{key}: {dotted!r} does not implement {missing}")
        return None
    # the base class's from_url only says that the class cannot be built from a URL
    if inspect.getattr_static(found, "from_url") is inspect.getattr_static(StateStore, "from_url"):
        r.problems.append(f"{key}: {dotted!r} does not define from_url(url, *, key_prefix), which builds it")
        return None
    return found


def session_section(r: Reader) -> dict[str, Any]:
    """``session.*``: timeouts and the session cookie."""
    # as short as 10 s: a test of the expiry warning must not wait minutes; production keeps 1800
    idle = r.int("session.idle_timeout", 1800, 10, 7 * 86400)
    absolute = r.int("session.absolute_timeout", 8 * 3600, 60, 30 * 86400)
    r.check(idle <= absolute, f"{PREFIX}session.idle_timeout must not exceed session.absolute_timeout")
    cookie_name = r.str("session.cookie_name", "ekn_session")
    # the prefix follows from cookie_secure (ekn_saml.cookies); a configured one would be doubled or refused by browsers
    r.check(
        not cookie_name.startswith(RESERVED_COOKIE_PREFIXES),
        f"{PREFIX}session.cookie_name must not start with {' or '.join(RESERVED_COOKIE_PREFIXES)}: "
        f"the __Host- prefix is added when session.cookie_secure = true",
    )
    return dict(
        session_idle_timeout=idle,
        session_absolute_timeout=absolute,
        session_cookie_secure=r.bool("session.cookie_secure", True),
        session_cookie_name=cookie_name,
    )


def paths_section(r: Reader) -> dict[str, Any]:
    """``landing_path`` and ``logged_out_path``: local paths only."""
    landing = r.str("landing_path", "/")
    logged_out = r.str("logged_out_path", "/login")
    for key, value in (("landing_path", landing), ("logged_out_path", logged_out)):
        problem = local_path_problem(key, value)
        if problem:
            r.problems.append(problem)
    return dict(landing_path=landing, logged_out_path=logged_out)


def federation_section(r: Reader, file_exists: Callable[[str], bool]) -> FederationSettings:
    """``federation.*``: where signed federation metadata comes from, how it is pinned and refreshed.

    The source must be https (or a file; loopback http only with
    ``testing``), and a signing certificate is required with it.
    """
    url = r.str("federation.metadata_url", "")
    certs = r.list("federation.signing_cert")
    testing = quiet_bool(r.raw, "testing")
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


def status_section(r: Reader) -> tuple[str, ...]:
    """``status.allowed_addresses``: addresses or networks (CIDR) that may read /saml/status."""
    values = r.list("status.allowed_addresses", ("127.0.0.1", "::1"))
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            r.problems.append(f"{PREFIX}status.allowed_addresses: {value!r} is not an IP address or network")
    return values


# what a phone number may be written with; anything else (a URL, markup) is a typo
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{4,30}$")
# the same shape as the SP metadata's contact addresses (profiles._EMAIL)
_SUPPORT_EMAIL = re.compile(r"^[^@\s:/]+@[^@\s]+\.[^@\s]+$")


def support_section(r: Reader, metadata_support_email: str) -> SupportContact:
    """``support.*``: EKN's customer service for the pages; the e-mail defaults to ``sp.contact.support.email``.

    The e-mail must look like one, the phone be digits with ``+ - ( )`` and
    spaces, and each contact form an https URL with a host: users follow it.
    """
    email = r.str("support.email", metadata_support_email).removeprefix("mailto:")
    r.check(
        not email or bool(_SUPPORT_EMAIL.match(email)), f"{PREFIX}support.email is not an e-mail address: {email!r}"
    )
    phone = r.str("support.phone", "")
    r.check(not phone or bool(_PHONE.match(phone)), f"{PREFIX}support.phone is not a phone number: {phone!r}")
    forms = per_language(r, "support.form_url")
    for language, url in forms:
        if f"support.form_url.{language}" not in r.raw:
            continue  # English inherits Swedish: its problem is reported once, as the Swedish key's
        parts = urlsplit(url)
        r.check(
            parts.scheme == "https" and bool(parts.hostname),
            f"{PREFIX}support.form_url.{language} must be an https URL, not {url!r}",
        )
    return SupportContact(
        email=email, phone=phone, opening_hours=per_language(r, "support.opening_hours"), form_url=forms
    )


# a fixed route path: segments of unreserved characters, so no route pattern ({...}, *) and no query
_ROUTE_PATH = re.compile(r"^(/[A-Za-z0-9._~-]+)+$")


def prometheus_client_installed() -> bool:
    """Whether prometheus_client can be imported (the ``[metrics]`` extra); looks without importing it."""
    return importlib.util.find_spec("prometheus_client") is not None


def operations_section(r: Reader, *, metrics_available: Callable[[], bool] | None = None) -> OperationsSettings:
    """``health.*`` and ``metrics.*``: the operators' endpoints, and whether each is served.

    ``metrics.enabled`` left out means "if prometheus_client is installed"
    (``metrics_available``, default :func:`prometheus_client_installed`);
    set to true without it, it is a problem (with the ``pip install``
    command), as ``redis://`` without the redis package is.  Paths are
    fixed paths (no route pattern) and must differ from each other.  Does
    **not** check them against the host's routes: a host route of the same
    path added earlier wins (docs/admin.md).
    """
    health = r.bool("health.enabled", True)
    # looked up now, not bound as a default: tests take the package away by replacing this module's function
    installed = (metrics_available or prometheus_client_installed)()
    if "metrics.enabled" in r.raw:
        metrics = r.bool("metrics.enabled", installed)
        if metrics and not installed:
            r.problems.append(
                f"{PREFIX}metrics.enabled is true, but prometheus_client is not installed: "
                "pip install 'ekn_saml[metrics]' (or set it to false)"
            )
            metrics = False
    else:
        metrics = installed
    result = OperationsSettings(
        health_enabled=health,
        live_path=r.str("health.live_path", "/healthz"),
        ready_path=r.str("health.ready_path", "/readyz"),
        metrics_enabled=metrics,
        metrics_path=r.str("metrics.path", "/metrics"),
    )
    keys = (
        ("health.live_path", result.live_path),
        ("health.ready_path", result.ready_path),
        ("metrics.path", result.metrics_path),
    )
    for key, value in keys:
        r.check(bool(_ROUTE_PATH.match(value)), f"{PREFIX}{key} must be a fixed path like /healthz, not {value!r}")
    paths = [path for _name, path in result.routes]
    r.check(len(paths) == len(set(paths)), f"{PREFIX}health.* and metrics.path must be different paths: {paths}")
    return result
