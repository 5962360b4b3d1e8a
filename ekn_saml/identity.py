# SPDX-License-Identifier: Apache-2.0
"""From attributes to the identity EKN Online uses, keyed on ``urn:oid:`` names (ATTR §3).

A BankID login gives a *person* (personal identity number, names, date of
birth); an Expisoft login gives an *organisation identity* (orgAffiliation
``uid@orgnr``, organisation name), with no personal identity number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any, Literal, overload

from .errors import ErrorCode, ResponseValidationError
from .facts import AssertionFacts
from .numbers import check_org_number, check_personal_number, mask_personal_number
from .timeutil import parse_instant

SN = "urn:oid:2.5.4.4"
GIVEN_NAME = "urn:oid:2.5.4.42"
DISPLAY_NAME = "urn:oid:2.16.840.1.113730.3.1.241"
PERSONAL_IDENTITY_NUMBER = "urn:oid:1.2.752.29.4.13"
DATE_OF_BIRTH = "urn:oid:1.3.6.1.5.5.7.9.1"
ORGANIZATION_NAME = "urn:oid:2.5.4.10"
ORGANIZATION_IDENTIFIER = "urn:oid:2.5.4.97"
ORG_AFFILIATION = "urn:oid:1.2.752.201.3.1"
TRANSACTION_IDENTIFIER = "urn:oid:1.2.752.201.3.2"


@dataclass(frozen=True)
class Identity:
    """The logged-in identity, as :func:`ekn_saml.identity_of` gives it (and ``request.identity`` under its policy).

    ``personal_number`` is kept only server-side (in the session store);
    use :attr:`personal_number_masked` anywhere else, logs included.
    """

    kind: str  # "person" | "organisation"
    method: str
    idp: str
    loa: str
    authn_instant: dt.datetime
    name_id: str
    name_id_format: str
    session_index: str
    transaction_id: str | None
    display_name: str
    given_name: str | None = None
    surname: str | None = None
    personal_number: str | None = None
    date_of_birth: str | None = None
    org_number: str | None = None
    org_name: str | None = None
    org_unique_id: str | None = None
    org_identifier: str | None = None
    # every (uid, orgnr) of the orgAffiliation values, in the IdP's order; the
    # organisation above (org_number, org_unique_id) is one of them.  Only that
    # one gets an ekn:org: principal.  Sessions written before this field get the
    # one organisation they had (see from_dict).
    org_affiliations: tuple[tuple[str, str], ...] = ()
    # the assertion this login came from (audit trail, support); not in older sessions
    assertion_id: str | None = None
    # the entityID of the SP profile the user logged in through (the assertion's Audience); not in older sessions
    sp_entity_id: str | None = None

    @property
    def personal_number_masked(self) -> str | None:
        return mask_personal_number(self.personal_number)

    @property
    def subject(self) -> str:
        """A stable key for this person or organisation identity (used to end all its sessions)."""
        if self.kind == "person":
            return f"pnr:{self.personal_number}"
        return f"org:{self.org_unique_id}@{self.org_number}"

    @property
    def principals(self) -> list[str]:
        """What an ACL can test: method, kind, organisation number and LoA."""
        found = ["ekn:authenticated", f"ekn:method:{self.method}", f"ekn:kind:{self.kind}", f"ekn:loa:{self.loa}"]
        if self.org_number:
            found.append(f"ekn:org:{self.org_number}")
        return found

    def to_dict(self) -> dict:
        # A shallow copy: every field is immutable (str, None, tuples of str), so
        # dataclasses.asdict's recursive deep copy would only cost time (ACS).
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["authn_instant"] = self.authn_instant.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Identity:
        """The identity :meth:`to_dict` wrote, after a trip through JSON (which makes tuples lists).

        A session written before ``org_affiliations`` existed held one
        organisation only, which becomes its one affiliation.
        """
        affiliations = data.get("org_affiliations")
        if affiliations is None:
            affiliations = [(data.get("org_unique_id"), data["org_number"])] if data.get("org_number") else []
        return cls(
            **{
                **data,
                "authn_instant": parse_instant(data["authn_instant"]),
                "org_affiliations": tuple((uid, orgnr) for uid, orgnr in affiliations),
            }
        )

    def __repr__(self) -> str:  # never print the full number, e.g. in a traceback
        return f"Identity(kind={self.kind!r}, method={self.method!r}, subject={self.log_subject!r}, loa={self.loa!r})"

    @property
    def log_subject(self) -> str:
        if self.kind == "person":
            return f"pnr:{self.personal_number_masked}"
        return self.subject


@overload
def _single(attributes: dict[str, tuple[str, ...]], name: str, *, required: Literal[True]) -> str: ...
@overload
def _single(attributes: dict[str, tuple[str, ...]], name: str, *, required: Literal[False]) -> str | None: ...


def _single(attributes: dict[str, tuple[str, ...]], name: str, *, required: bool) -> str | None:
    values = attributes.get(name)
    if not values:
        if required:
            raise ResponseValidationError(ErrorCode.ATTRIBUTE_MISSING, f"attribute {name} is missing")
        return None
    if len(values) != 1:
        raise ResponseValidationError(ErrorCode.ATTRIBUTE_MULTI_VALUED, f"attribute {name} has {len(values)} values")
    value = values[0].strip()
    if required and not value:
        raise ResponseValidationError(ErrorCode.ATTRIBUTE_MISSING, f"attribute {name} is empty")
    return value or None


def map_identity(
    facts: AssertionFacts, *, profile: str, accept_coordination_number: bool, sp_entity_id: str | None = None
) -> Identity:
    """Map checked assertion facts to an :class:`Identity` for the method's profile.

    ``sp_entity_id`` (the SP profile that received the assertion) is recorded as given, not checked here.

    person: pnr-01 (sn, givenName, displayName, personalIdentityNumber; dateOfBirth optional).
    organisation: org-person-01 (displayName, orgAffiliation, o; organizationIdentifier optional).
    Every orgAffiliation value must be ``uid@orgnr`` (split at the last ``@``)
    with a valid organisation number that is a ``shibmd:Scope`` of the issuing
    IdP; organizationIdentifier, when given, must be the orgnr of one of them
    (DP §6.2.1).  The identity's organisation is that one, else the first in
    the IdP's order; all of them are kept in ``org_affiliations``.  Does
    **not** check that the user may act for the organisation beyond what the
    IdP asserts, nor let the user choose among several.
    """
    attrs = facts.attributes
    common: dict[str, Any] = dict(
        method=facts.request.method,
        idp=facts.idp.entity_id,
        loa=facts.loa,
        authn_instant=facts.authn_instant,
        name_id=facts.name_id,
        name_id_format=facts.name_id_format,
        session_index=facts.session_index,
        transaction_id=_single(attrs, TRANSACTION_IDENTIFIER, required=False),
        assertion_id=facts.assertion_id,
        sp_entity_id=sp_entity_id,
        display_name=_single(attrs, DISPLAY_NAME, required=True),
    )
    if profile == "person":
        pnr = _single(attrs, PERSONAL_IDENTITY_NUMBER, required=True)
        born = check_personal_number(pnr, accept_coordination=accept_coordination_number)
        dob = _single(attrs, DATE_OF_BIRTH, required=False)
        if dob is not None and dob != born.isoformat():
            raise ResponseValidationError(
                ErrorCode.ATTRIBUTE_VALUE_MALFORMED, "dateOfBirth disagrees with the personal identity number"
            )
        return Identity(
            kind="person",
            given_name=_single(attrs, GIVEN_NAME, required=True),
            surname=_single(attrs, SN, required=True),
            personal_number=pnr,
            date_of_birth=born.isoformat(),
            **common,
        )
    affiliations = attrs.get(ORG_AFFILIATION) or ()
    if not affiliations or not affiliations[0].strip():
        raise ResponseValidationError(ErrorCode.ATTRIBUTE_MISSING, f"attribute {ORG_AFFILIATION} is missing")
    parsed = []
    for value in affiliations:
        # Split at the LAST '@': the uid part may itself contain '@' (ATTR §3.2.5).
        uid, sep, scope = value.strip().rpartition("@")
        if not sep or not uid:
            raise ResponseValidationError(ErrorCode.ATTRIBUTE_VALUE_MALFORMED, "orgAffiliation is not uid@orgnr")
        check_org_number(scope)
        if scope not in facts.idp.scopes:
            raise ResponseValidationError(
                ErrorCode.SCOPE_NOT_AUTHORISED, f"scope {scope} is not a shibmd:Scope of the IdP"
            )
        parsed.append((uid, scope))
    org_identifier = _single(attrs, ORGANIZATION_IDENTIFIER, required=False)
    chosen = parsed[0]
    if org_identifier is not None:
        check_org_number(org_identifier)
        # it says which organisation the login is for; one the affiliations do not name
        # (so one the IdP's scope does not vouch for) must not become the identity's
        named = [pair for pair in parsed if pair[1] == org_identifier]
        if not named:
            raise ResponseValidationError(
                ErrorCode.ORG_IDENTIFIER_MISMATCH, "organizationIdentifier is the scope of no orgAffiliation value"
            )
        chosen = named[0]
    uid, org_number = chosen
    return Identity(
        kind="organisation",
        org_number=org_number,
        org_unique_id=uid,
        org_name=_single(attrs, ORGANIZATION_NAME, required=True),
        org_identifier=org_identifier,
        org_affiliations=tuple(parsed),
        **common,
    )
