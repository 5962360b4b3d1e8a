# SPDX-License-Identifier: Apache-2.0
"""Test personas of the development IdP.  Every number here is made up for testing.

The personal identity numbers and organisation numbers have valid check
digits (so they pass our checks) but belong to no one we know of.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..constants import EIDAS_NF_SUB
from ..eidas import (
    COUNTRY,
    EIDAS_PERSON_IDENTIFIER,
    MAPPED_PERSONAL_IDENTITY_NUMBER,
    PERSONAL_IDENTITY_NUMBER_BINDING,
    PRID,
    PRID_PERSISTENCE,
)
from ..identity import (
    DATE_OF_BIRTH,
    DISPLAY_NAME,
    GIVEN_NAME,
    ORG_AFFILIATION,
    ORGANIZATION_IDENTIFIER,
    ORGANIZATION_NAME,
    PERSONAL_IDENTITY_NUMBER,
    SN,
    TRANSACTION_IDENTIFIER,
)
from ..settings import LOA3, LOA3_NONRESIDENT, UNCERTIFIED_LOA3

# The organisations the development Expisoft IdP may vouch for (its shibmd:Scope).
DEV_ORG_SCOPES = ("5560000001", "2021005489")


@dataclass(frozen=True)
class Persona:
    id: str
    label: str
    method: str
    loa: str
    attributes: dict[str, list[str]] = field(default_factory=dict)


def _person(pid, method, given, sn, pnr, loa=UNCERTIFIED_LOA3):
    dob = f"{pnr[0:4]}-{pnr[4:6]}-{int(pnr[6:8]) % 60:02d}"
    return Persona(
        id=pid,
        label=f"{given} {sn} ({pnr[:8]}-{pnr[8:]})",
        method=method,
        loa=loa,
        attributes={
            PERSONAL_IDENTITY_NUMBER: [pnr],
            GIVEN_NAME: [given],
            SN: [sn],
            DISPLAY_NAME: [f"{given} {sn}"],
            DATE_OF_BIRTH: [dob],
        },
    )


def _org(pid, given, sn, uid, orgnr, org_name, loa=LOA3_NONRESIDENT):
    return Persona(
        id=pid,
        label=f"{given} {sn}, {org_name} ({uid}@{orgnr})",
        method="expisoft",
        loa=loa,
        attributes={
            ORG_AFFILIATION: [f"{uid}@{orgnr}"],
            ORGANIZATION_NAME: [org_name],
            ORGANIZATION_IDENTIFIER: [orgnr],
            DISPLAY_NAME: [f"{given} {sn}"],
        },
    )


def _foreign(pid, given, sn, country, ident, born, persistence, loa=EIDAS_NF_SUB, mapped=None):
    """A person as the Swedish eIDAS connector asserts one (ATTR §2.5); ``mapped``: a personnummer it bound."""
    attributes = {
        PRID: [f"{country}:{ident}"],
        PRID_PERSISTENCE: [persistence],
        EIDAS_PERSON_IDENTIFIER: [f"{country}/SE/{ident}"],
        COUNTRY: [country],
        DATE_OF_BIRTH: [born],
        GIVEN_NAME: [given],
        SN: [sn],
        TRANSACTION_IDENTIFIER: [f"_{country.lower()}-node-{pid}"],
    }
    if mapped:
        attributes[MAPPED_PERSONAL_IDENTITY_NUMBER] = [mapped]
        attributes[PERSONAL_IDENTITY_NUMBER_BINDING] = [
            "http://id.swedenconnect.se/id-binding/process/populationregister"
        ]
    return Persona(id=pid, label=f"{given} {sn} ({country})", method="eidas", loa=loa, attributes=attributes)


def _without_prid(persona: Persona) -> Persona:
    attributes = {name: values for name, values in persona.attributes.items() if name != PRID}
    return Persona(
        id=persona.id, label=f"{persona.label}, no prid", method=persona.method, loa=persona.loa, attributes=attributes
    )


PERSONAS: tuple[Persona, ...] = (
    _person("anna", "mobilt_bankid", "Anna", "Andersson", "198001012387"),
    _person("bertil", "mobilt_bankid", "Bertil", "Berg", "197512249819", loa=LOA3),
    _person("karin", "bankid", "Karin", "Karlsson", "196506151239"),
    # a samordningsnummer (day + 60): refused unless accept_coordination_number is on
    _person("sam", "bankid", "Sam", "Samordnad", "199003652386"),
    _org("eva", "Eva", "Exportsson", "stbj1006", "5560000001", "Exportbolaget Test AB"),
    _org("erik", "Erik", "Ekonom", "anst42", "2021005489", "Testmyndigheten"),
    # an organisation outside the IdP's shibmd:Scope: refused by the SP
    _org("mallory", "Mallory", "Utanför", "x1", "5560000019", "Ej godkänd AB"),
    # one person in both organisations, with no organizationIdentifier: the SP lets her choose
    Persona(
        id="olga",
        label="Olga Organisationsdotter, Exportbolaget Test AB + Testmyndigheten (two organisations)",
        method="expisoft",
        loa=LOA3_NONRESIDENT,
        attributes={
            ORG_AFFILIATION: ["olga1@5560000001", "olga2@2021005489"],
            ORGANIZATION_NAME: ["Exportbolaget Test AB"],
            DISPLAY_NAME: ["Olga Organisationsdotter"],
        },
    ),
    # the eIDAS connector (made-up people and identifiers; the persistence classes as CONSTR §2.4 would give)
    _foreign("lena", "Lena", "Schneider", "DE", "4f2a9c81d07e3b56", "1984-06-02", "C"),
    # bound by the connector to a (made-up) Swedish number: kept only if the binding is accepted
    _foreign("ola", "Ola", "Nordmann", "NO", "01018099887", "1979-03-15", "A", mapped="197903150006"),
    _foreign("marie", "Marie", "Dupont", "FR", "fr-7730-2291-5468", "1991-11-23", "B"),
    # an answer without prid, the identity's only key: refused by the SP (EKN-ATTR-009)
    _without_prid(_foreign("piotr", "Piotr", "Nowak", "PL", "85071203456", "1985-07-12", "C")),
)


def personas_for(method: str) -> list[Persona]:
    return [p for p in PERSONAS if p.method == method]


def persona(method: str, persona_id: str) -> Persona | None:
    for p in PERSONAS:
        if p.method == method and p.id == persona_id:
            return p
    return None
