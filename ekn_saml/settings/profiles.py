# SPDX-License-Identifier: Apache-2.0
"""The rules of the SP sections: ``ekn_saml.sp.*`` (the default SP profile and what its metadata says) and
``ekn_saml.sp_profiles`` / ``ekn_saml.sp_profile.<name>.*`` (further SP entities of the same app).

Each function reads one section and records its problems on the :class:`Reader`;
none reads a key file (only whether it exists).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from ..constants import DEFAULT_SP_PROFILE, acs_path
from ..metadata.categories import (
    ACCEPTS_COORDINATION_NUMBER,
    ATTRIBUTES,
    ENTITY_CATEGORIES,
    PERSONAL_NUMBER_CATEGORIES,
    PROFILE_CATEGORY,
    PUBLIC_SECTOR_SP,
    SECURE_AUTHENTICATOR_BINDING,
    SERVICE_TYPES,
)
from ..numbers import luhn_ok
from .model import PREFIX, LoginMethod, SpMetadataSettings, SpProfile
from .reader import Reader, base_url_problem, http_url_problem, is_absolute_uri, per_language, quiet_bool
from .table import METHOD_NAME

CONTRACT_PREFIX = "http://id.swedenconnect.se/contract/"
TRANSACTION_IDENTIFIER = ATTRIBUTES["transactionIdentifier"]
_EMAIL = re.compile(r"^[^@\s:/]+@[^@\s]+\.[^@\s]+$")


def sp_section(r: Reader, file_exists: Callable[[str], bool]) -> dict[str, Any]:
    """``ekn_saml.sp.entity_id``, ``.public_base_url`` and the key files: the SamlSettings fields of the same names.

    The files must exist; they are not read here.  Whether the base URL may
    be plain http depends on the mode: :func:`check_https` says.
    """
    entity_id = r.str("sp.entity_id")
    r.check(
        not entity_id or is_absolute_uri(entity_id), f"{PREFIX}sp.entity_id must be an absolute URI, not {entity_id!r}"
    )
    base = r.str("sp.public_base_url").rstrip("/")
    if base:
        problem = base_url_problem("sp.public_base_url", base)
        if problem:
            r.problems.append(problem)

    def path_setting(key: str) -> str:
        value = r.str(key)
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
    return dict(
        entity_id=entity_id,
        public_base_url=base,
        signing_key=signing_key,
        signing_cert=signing_cert,
        encryption_keys=encryption_keys,
        encryption_cert=encryption_cert,
    )


def check_https(r: Reader, base: str, *, development: bool) -> None:
    """DP §6.1: the ACS MUST be TLS-protected; plain http only in development.

    Every SP profile's ACS (and so the Destination and Recipient we accept)
    is built on ``sp.public_base_url``, so one check covers all.
    """
    r.check(
        urlsplit(base).scheme != "http" or development,
        f"{PREFIX}sp.public_base_url must be https (the ACS must be TLS-protected, DP §6.1), not {base!r}; "
        f"http only in development ({PREFIX}development, {PREFIX}testing or {PREFIX}devidp.enabled)",
    )


def sp_profiles_section(
    r: Reader,
    sp: dict[str, Any],
    methods: tuple[LoginMethod, ...],
    profile_names: tuple[str, ...],
    file_exists: Callable[[str], bool],
) -> tuple[SpProfile, ...]:
    """Every SP profile, the default one (from :func:`sp_section`'s ``sp`` and the sp.* metadata keys) first.

    Then the rules across profiles and methods (:func:`_check_sp_profiles`).
    """
    base = sp["public_base_url"]
    default = SpProfile(
        name=DEFAULT_SP_PROFILE,
        entity_id=sp["entity_id"],
        acs_url=base + acs_path(DEFAULT_SP_PROFILE),
        signing_key=sp["signing_key"],
        signing_cert=sp["signing_cert"],
        encryption_keys=sp["encryption_keys"],
        encryption_cert=sp["encryption_cert"],
        metadata=_default_metadata(r, [m for m in methods if m.sp_profile == DEFAULT_SP_PROFILE], file_exists),
    )
    profiles = [default]
    for name in profile_names:
        bound = [m for m in methods if m.sp_profile == name]
        profiles.append(_parse_extra_profile(r, name, base, default, bound, file_exists))
    _check_sp_profiles(r, profiles, list(methods))
    return tuple(profiles)


def _parse_categories(r: Reader, key: str, methods: list[LoginMethod]) -> tuple[str, ...]:
    """Entity category URIs from ``key``, or by default what ``methods`` need (EC §1.3), nothing more."""
    accept_coordination = quiet_bool(r.raw, "security.accept_coordination_number")
    if r.raw.get(key) is None:
        categories = list(dict.fromkeys(PROFILE_CATEGORY[m.profile] for m in methods if m.profile in PROFILE_CATEGORY))
        # only an SP that receives personal identity numbers can receive a samordningsnummer: in
        # personalIdentityNumber, or as an eIDAS login's mapped number (EC §2.2.1 note, §6.2)
        if accept_coordination and any(m.profile in ("person", "foreign_person") for m in methods):
            categories.append(ACCEPTS_COORDINATION_NUMBER)
        # EKN is a public-sector SP: TAR §3.5.2 wants a service type, and EC §4.2 this one for eIDAS
        if not set(SERVICE_TYPES) & set(categories):
            categories.append(PUBLIC_SECTOR_SP)
    else:
        categories = []
        for name in r.list(key):
            uri = ENTITY_CATEGORIES.get(name, name)
            if not is_absolute_uri(uri):
                r.problems.append(f"{PREFIX}{key}: {name!r} is neither a known category nor an absolute URI")
            elif uri not in categories:
                categories.append(uri)
    binding = [m.name for m in methods if m.secure_authenticator_binding]
    if binding and r.raw.get(key) is None:
        categories.append(SECURE_AUTHENTICATOR_BINDING)  # EC §6.1: the SP declares what it requires
    r.check(
        not binding or SECURE_AUTHENTICATOR_BINDING in categories,
        f"{PREFIX}{key} must include secure-authenticator-binding: "
        f"{', '.join(binding)} require(s) it (method.<name>.secure_authenticator_binding)",
    )
    eidas = [m.name for m in methods if m.profile == "foreign_person"]
    # EC §2.2.1, §1.3: the connector matches only an SP that declares eidas-naturalperson; without it
    # the method would be disabled at every startup (a configuration mistake, not a federation change)
    r.check(
        not eidas or PROFILE_CATEGORY["foreign_person"] in categories,
        f"{PREFIX}{key} must include eidas-naturalperson: the eIDAS method {', '.join(eidas)} "
        "uses this SP profile (EC §2.2.1)",
    )
    r.check(
        not eidas or bool(set(SERVICE_TYPES) & set(categories)),
        f"{PREFIX}{key}: the eIDAS method {', '.join(eidas)} needs public-sector-sp or private-sector-sp "
        "(the connector passes the SP's type on, EC §4.2)",
    )
    # Declaring it makes IdPs send samordningsnummer, which the ACS would then refuse (TAR §3.8).
    r.check(
        ACCEPTS_COORDINATION_NUMBER not in categories or accept_coordination,
        f"{PREFIX}{key}: accepts-coordination-number needs security.accept_coordination_number = true",
    )
    return tuple(categories)


def _parse_contracts(r: Reader, key: str, inherited: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Service contract categories (EC §5, TAR §3.6) from ``key``: short names or ``http://id.swedenconnect.se/contract/...`` URIs.

    Not set: ``inherited``.  Only contract URIs are taken: a contract decides
    which IdPs will answer (EC §1.3), so another category here is refused
    rather than declared by mistake.  Does **not** check that the federation
    has signed the contract with us.
    """
    if r.raw.get(key) is None:
        return inherited
    contracts: list[str] = []
    for name in r.list(key):
        uri = ENTITY_CATEGORIES.get(name, name)
        if not uri.startswith(CONTRACT_PREFIX) or not is_absolute_uri(uri):
            r.problems.append(f"{PREFIX}{key}: {name!r} is not a service contract category ({CONTRACT_PREFIX}...)")
        elif uri not in contracts:
            contracts.append(uri)
    return tuple(contracts)


def _contracts_of(categories: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c for c in categories if c.startswith(CONTRACT_PREFIX))


def _with_contracts(categories: tuple[str, ...], contracts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(categories + contracts))


def _parse_requested_attributes(r: Reader, key: str, inherited: tuple[str, ...] = ()) -> tuple[str, ...]:
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


def _default_metadata(r: Reader, methods: list[LoginMethod], file_exists: Callable[[str], bool]) -> SpMetadataSettings:
    """The default SP profile's metadata contents, from the ``ekn_saml.sp.*`` keys; ``methods`` are the ones bound to it."""
    logo_url = r.str("sp.logo_url", "")
    org_url = r.str("sp.organization.url", "")
    for key, value in (("sp.logo_url", logo_url), ("sp.organization.url", org_url)):
        problem = value and http_url_problem(key, value)
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
        display_name=per_language(r, "sp.display_name"),
        description=per_language(r, "sp.description"),
        logo_url=logo_url,
        logo_width=r.int("sp.logo_width", 200, 16, 2000),
        logo_height=r.int("sp.logo_height", 60, 16, 2000),
        organization_name=org_name,
        organization_display_name=r.str("sp.organization.display_name", org_name),
        organization_url=org_url,
        organization_number=org_number,
        technical_email=emails["technical"],
        support_email=emails["support"],
        entity_categories=_with_contracts(
            _parse_categories(r, "sp.entity_categories", methods), _parse_contracts(r, "sp.contract_categories")
        ),
        # BID §6.1: an SP is RECOMMENDED to request transactionIdentifier (the BankID orderRef); person methods
        requested_attributes=_parse_requested_attributes(
            r,
            "sp.requested_attributes",
            (TRANSACTION_IDENTIFIER,) if any(m.profile == "person" for m in methods) else (),
        ),
        valid_days=r.int("sp.metadata_valid_days", 7, 1, 365),
        next_signing_cert=next_cert,
    )


def sp_profile_names(r: Reader) -> tuple[str, ...]:
    """The valid names of ``ekn_saml.sp_profiles``; each bad one is reported once."""
    names: list[str] = []
    for name in r.list("sp_profiles"):
        if not METHOD_NAME.match(name):
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
    r: Reader, name: str, base: str, default: SpProfile, methods: list[LoginMethod], file_exists: Callable[[str], bool]
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
        not entity_id or is_absolute_uri(entity_id),
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
        display_name=per_language(r, stem + "display_name", inherited.display_name),
        description=per_language(r, stem + "description", inherited.description),
        entity_categories=_with_contracts(
            _parse_categories(r, stem + "entity_categories", methods),
            _parse_contracts(r, stem + "contract_categories", _contracts_of(inherited.entity_categories)),
        ),
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


def _check_sp_profiles(r: Reader, profiles: list[SpProfile], methods: list[LoginMethod]) -> None:
    """Rules across profiles and methods: distinct entityIDs, every profile used, no pnr for organisation-only SPs."""
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
