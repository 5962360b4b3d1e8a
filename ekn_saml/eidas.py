# SPDX-License-Identifier: Apache-2.0
"""Foreign e-IDs through the Swedish eIDAS connector: from its attributes to a ``foreign_person`` identity.

The connector behaves as an IdP of the federation and releases the eIDAS
natural person attribute set, ELN-AP-eIDAS-NatPer-01 (Attribute
Specification 1.8, "ATTR", §2.5).  Its response has passed every ACS check
of :mod:`ekn_saml.response` before it gets here, the LoA included (one of
the notified ``eidas-nf-*`` levels the request asked for, exact match).

The identity is keyed on ``prid`` (ATTR §3.3.1; its syntax in the eIDAS
Constructed Attributes Specification 1.2, "CONSTR", §2.1), never on the
name.  A ``mappedPersonalIdentityNumber`` is kept only when one of its
``personalIdentityNumberBinding`` processes is one the operator accepts
(ATTR §3.3.2); otherwise it is dropped and the login goes on as the foreign
identity it is (the SP "SHOULD NOT use" it, which does not make the rest of
the assertion wrong).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pyramid.i18n import TranslationString, TranslationStringFactory

from .errors import ErrorCode, ResponseValidationError
from .facts import AssertionFacts
from .identity import DATE_OF_BIRTH, GIVEN_NAME, SN, Identity, common_fields, single
from .numbers import check_personal_number

_ = TranslationStringFactory("ekn_saml")

# Attribute names (ATTR §3.1; OIDs in the Registry for identifiers 1.8, §3.2)
COUNTRY = "urn:oid:2.5.4.6"  # c: the eIDAS country that authenticated the subject (ATTR §2.5)
PRID = "urn:oid:1.2.752.201.3.4"
PRID_PERSISTENCE = "urn:oid:1.2.752.201.3.5"
PERSONAL_IDENTITY_NUMBER_BINDING = "urn:oid:1.2.752.201.3.6"
EIDAS_PERSON_IDENTIFIER = "urn:oid:1.2.752.201.3.7"
MAPPED_PERSONAL_IDENTITY_NUMBER = "urn:oid:1.2.752.201.3.16"

# Identity binding processes (Registry 1.8, §3.1.9.3): short name -> URI, for the settings
BINDING_PROCESSES = {
    "populationregister": "http://id.swedenconnect.se/id-binding/process/populationregister",
    "swedish-eid": "http://id.swedenconnect.se/id-binding/process/swedish-eid",
}

# CONSTR §2.1: country code, ':', 10 to 30 characters (lower case; upper case matched case-insensitively)
_PRID = re.compile(r"^([A-Z]{2}):([0-9a-z][0-9a-z-]{8,28}[0-9a-z])$")
# CONSTR §2.2: A (as lasting as a personnummer), B (relatively stable), C (no expectation)
PRID_PERSISTENCE_VALUES = ("A", "B", "C")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# The names of the countries an eIDAS login may come from (EU and EEA), for pages; others show their code.
COUNTRY_NAMES: dict[str, TranslationString] = {
    "AT": _("Austria"),
    "BE": _("Belgium"),
    "BG": _("Bulgaria"),
    "CY": _("Cyprus"),
    "CZ": _("Czechia"),
    "DE": _("Germany"),
    "DK": _("Denmark"),
    "EE": _("Estonia"),
    "ES": _("Spain"),
    "FI": _("Finland"),
    "FR": _("France"),
    "GR": _("Greece"),
    "HR": _("Croatia"),
    "HU": _("Hungary"),
    "IE": _("Ireland"),
    "IS": _("Iceland"),
    "IT": _("Italy"),
    "LI": _("Liechtenstein"),
    "LT": _("Lithuania"),
    "LU": _("Luxembourg"),
    "LV": _("Latvia"),
    "MT": _("Malta"),
    "NL": _("Netherlands"),
    "NO": _("Norway"),
    "PL": _("Poland"),
    "PT": _("Portugal"),
    "RO": _("Romania"),
    "SE": _("Sweden"),
    "SI": _("Slovenia"),
    "SK": _("Slovakia"),
}


# Registry 1.8 §3.1.9.1: the alias of a country's eIDAS Proxy Service, for Scoping (DP §5.3.2)
PROXY_SERVICE_ALIAS = "http://id.swedenconnect.se/eidas/1.0/proxy-service/{}"


def proxy_service_aliases(countries: tuple[str, ...]) -> tuple[str, ...]:
    """The proxy-service alias URIs of ``countries`` (ISO 3166-1 alpha-2; lower case, as DP §5.3.2's example)."""
    return tuple(PROXY_SERVICE_ALIAS.format(code.lower()) for code in countries)


def country_name(code: str | None) -> TranslationString | str | None:
    """The translatable name of an ISO 3166-1 alpha-2 code; the code itself for a country not listed."""
    if not code:
        return None
    return COUNTRY_NAMES.get(code, code)


def _required(attrs: dict[str, tuple[str, ...]], name: str) -> str:
    return single(attrs, name, required=True)


def _prid(attrs: dict[str, tuple[str, ...]]) -> tuple[str, str]:
    """The prid (normalised to lower-case identifier, CONSTR §2.1) and its country."""
    values = attrs.get(PRID)
    if not values or not values[0].strip():
        # its own code: without prid there is nothing to key the identity on (ATTR §3.3.1)
        raise ResponseValidationError(ErrorCode.PRID_MISSING, "the eIDAS assertion has no prid")
    value = single(attrs, PRID, required=True)
    country, sep, ident = value.partition(":")
    # upper-case letters in the identifier "should be matched using case insensitive matching"
    normalised = f"{country}{sep}{ident.lower()}"
    match = _PRID.match(normalised)
    # CONSTR §2.1: at least 8 characters that are not a hyphen
    if not match or len(match.group(2).replace("-", "")) < 8:
        raise ResponseValidationError(ErrorCode.ATTRIBUTE_VALUE_MALFORMED, "prid does not match CONSTR §2.1")
    return normalised, match.group(1)


def _mapped_number(
    attrs: dict[str, tuple[str, ...]], accepted_bindings: tuple[str, ...], accept_coordination_number: bool
) -> tuple[str | None, tuple[str, ...]]:
    """The mapped personal identity number if one of its bindings is accepted, and the bindings it came with.

    ATTR §3.3.2: the bindings are a ``;``-separated list of process URIs,
    each of which established the binding; one accepted process is enough.
    A number that comes without a binding (the connector MUST send one) is
    not accepted either.  An accepted number is checked as a
    personalIdentityNumber is (a samordningsnummer only with
    accept_coordination_number, EC §2.2.1 note and §6.2).
    """
    number = single(attrs, MAPPED_PERSONAL_IDENTITY_NUMBER, required=False)
    binding_value = single(attrs, PERSONAL_IDENTITY_NUMBER_BINDING, required=False) or ""
    bindings = tuple(uri.strip() for uri in binding_value.split(";") if uri.strip())
    if number is None or not set(bindings) & set(accepted_bindings):
        return None, bindings
    check_personal_number(number, accept_coordination=accept_coordination_number)
    return number, bindings


def map_foreign_person(
    facts: AssertionFacts,
    *,
    accepted_bindings: tuple[str, ...] = (),
    accept_coordination_number: bool = False,
    sp_entity_id: str | None = None,
) -> Identity:
    """Map the checked facts of an eIDAS connector assertion to a ``foreign_person`` :class:`Identity`.

    REQUIRED (ATTR §2.5), each single-valued: prid (else PRID_MISSING;
    syntax CONSTR §2.1), pridPersistence (A, B or C, CONSTR §2.2),
    eidasPersonIdentifier, dateOfBirth (YYYY-MM-DD), sn, givenName and c,
    whose country must be the prid's (both name the country of the eID).
    displayName is not in the set: the identity's is "givenName sn".
    ``mappedPersonalIdentityNumber`` is kept (as ``mapped_personal_number``)
    only under an accepted binding, see :func:`_mapped_number`; a dropped
    one is reported through ``mapped_number_dropped`` for the audit trail.

    Does **not** check that the country is an EU/EEA one (the connector
    decides which countries it serves), nor that the mapped number's birth
    date is the dateOfBirth, nor transactionIdentifier (kept if present).
    """
    attrs = facts.attributes
    prid, prid_country = _prid(attrs)
    persistence = _required(attrs, PRID_PERSISTENCE)
    if persistence not in PRID_PERSISTENCE_VALUES:
        raise ResponseValidationError(ErrorCode.ATTRIBUTE_VALUE_MALFORMED, "pridPersistence is not A, B or C")
    country = _required(attrs, COUNTRY).upper()
    if not _COUNTRY.match(country):
        raise ResponseValidationError(ErrorCode.ATTRIBUTE_VALUE_MALFORMED, "c is not an ISO 3166-1 alpha-2 code")
    if country != prid_country:
        raise ResponseValidationError(ErrorCode.ATTRIBUTE_VALUE_MALFORMED, "c and the prid name different countries")
    born = _required(attrs, DATE_OF_BIRTH)
    try:
        if not _DATE.match(born):
            raise ValueError(born)
        dt.date.fromisoformat(born)
    except ValueError:
        raise ResponseValidationError(ErrorCode.ATTRIBUTE_VALUE_MALFORMED, "dateOfBirth is not YYYY-MM-DD") from None
    given, surname = _required(attrs, GIVEN_NAME), _required(attrs, SN)
    mapped, bindings = _mapped_number(attrs, accepted_bindings, accept_coordination_number)
    fields: dict[str, Any] = common_fields(facts, sp_entity_id)
    return Identity(
        kind="foreign_person",
        display_name=f"{given} {surname}",
        given_name=given,
        surname=surname,
        date_of_birth=born,
        prid=prid,
        prid_persistence=persistence,
        country=country,
        eidas_person_identifier=_required(attrs, EIDAS_PERSON_IDENTIFIER),
        mapped_personal_number=mapped,
        personal_number_binding=bindings if mapped else (),
        mapped_number_dropped=mapped is None and MAPPED_PERSONAL_IDENTITY_NUMBER in attrs,
        **fields,
    )
