# SPDX-License-Identifier: Apache-2.0
"""Names of the Swedish eID registry (REG, EC, ATTR) that admins write in the ini file.

Admins may write either the short name (``loa3-pnr``) or the full URI; the
settings parser stores full URIs only.  The tables here are lookup aids, not
allow-lists: any absolute URI is accepted as an entity category, because
federations add contract categories (``contract/<org>/<name>``) of their own.
"""

from __future__ import annotations

ENTITY_CATEGORY_ATTRIBUTE = "http://macedir.org/entity-category"
ASSURANCE_CERTIFICATION_ATTRIBUTE = "urn:oasis:names:tc:SAML:attribute:assurance-certification"
URI_NAME_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"

_ELN_EC = "http://id.elegnamnden.se/ec/1.0/"
_SC_EC = "http://id.swedenconnect.se/ec/1.0/"
_CONTRACT = "http://id.swedenconnect.se/contract/sc/"
_GENERAL = "http://id.swedenconnect.se/general-ec/1.0/"

# short name -> URI (EC §2-§6, TAR §3.5-§3.8)
ENTITY_CATEGORIES: dict[str, str] = {
    **{f"loa{n}-pnr": f"{_ELN_EC}loa{n}-pnr" for n in (2, 3, 4)},
    **{f"loa{n}-orgid": f"{_SC_EC}loa{n}-orgid" for n in (2, 3, 4)},
    **{f"loa{n}-name": f"{_SC_EC}loa{n}-name" for n in (2, 3, 4)},
    "uncertified-loa3-pnr": "http://id.swedenconnect.se/ec/sc/uncertified-loa3-pnr",
    "loa3-hsaid": f"{_SC_EC}loa3-hsaid",
    "eidas-naturalperson": f"{_ELN_EC}eidas-naturalperson",
    "mobile-auth": "http://id.elegnamnden.se/sprop/1.0/mobile-auth",
    "public-sector-sp": "http://id.elegnamnden.se/st/1.0/public-sector-sp",
    "private-sector-sp": "http://id.elegnamnden.se/st/1.0/private-sector-sp",
    "sweden-connect": f"{_CONTRACT}sweden-connect",
    "eid-choice-2017": f"{_CONTRACT}eid-choice-2017",
    "prepaid-auth-2021": f"{_CONTRACT}prepaid-auth-2021",
    "eid-authorization-system": f"{_CONTRACT}eid-authorization-system",
    "secure-authenticator-binding": f"{_GENERAL}secure-authenticator-binding",
    "accepts-coordination-number": f"{_GENERAL}accepts-coordination-number",
    "supports-user-message": f"{_GENERAL}supports-user-message",
}
ACCEPTS_COORDINATION_NUMBER = ENTITY_CATEGORIES["accepts-coordination-number"]
# EC §6.3 / UMSG §3.1: the IdP accepts umsg:UserMessage (declared as an entity category, nothing else)
SUPPORTS_USER_MESSAGE = ENTITY_CATEGORIES["supports-user-message"]
# EC §6.1: declared by an SP that requires it, and by an IdP able to bind the authenticator to the browser
SECURE_AUTHENTICATOR_BINDING = ENTITY_CATEGORIES["secure-authenticator-binding"]
SERVICE_TYPES = (ENTITY_CATEGORIES["public-sector-sp"], ENTITY_CATEGORIES["private-sector-sp"])
# An SP that wants personal identity numbers declares loa3-pnr; organisation identities need loa3-orgid (EC §2);
# foreign identities through the eIDAS connector need eidas-naturalperson (EC §2.2.1).
PROFILE_CATEGORY = {
    "person": ENTITY_CATEGORIES["loa3-pnr"],
    "organisation": ENTITY_CATEGORIES["loa3-orgid"],
    "foreign_person": ENTITY_CATEGORIES["eidas-naturalperson"],
}
# EC §4.2/§4.3: an SP wanting eIDAS MUST declare its service type, which the connector passes on
PUBLIC_SECTOR_SP = ENTITY_CATEGORIES["public-sector-sp"]
# Categories that make IdPs release personalIdentityNumber (pnr-01): never for an SP of organisation logins only (TAR §3.4).
PERSONAL_NUMBER_CATEGORIES = frozenset(
    ENTITY_CATEGORIES[name] for name in ("loa2-pnr", "loa3-pnr", "loa4-pnr", "uncertified-loa3-pnr")
)

# FriendlyName -> Name of attributes an SP may add as RequestedAttribute (ATTR §3)
ATTRIBUTES: dict[str, str] = {
    "sn": "urn:oid:2.5.4.4",
    "givenName": "urn:oid:2.5.4.42",
    "displayName": "urn:oid:2.16.840.1.113730.3.1.241",
    "personalIdentityNumber": "urn:oid:1.2.752.29.4.13",
    "dateOfBirth": "urn:oid:1.3.6.1.5.5.7.9.1",
    "mail": "urn:oid:0.9.2342.19200300.100.1.3",
    "mobile": "urn:oid:0.9.2342.19200300.100.1.41",
    "telephoneNumber": "urn:oid:2.5.4.20",
    "o": "urn:oid:2.5.4.10",
    "ou": "urn:oid:2.5.4.11",
    "organizationIdentifier": "urn:oid:2.5.4.97",
    "orgAffiliation": "urn:oid:1.2.752.201.3.1",
    "transactionIdentifier": "urn:oid:1.2.752.201.3.2",
    "authContextParams": "urn:oid:1.2.752.201.3.3",
    "userSignature": "urn:oid:1.2.752.201.3.11",
    "authServerSignature": "urn:oid:1.2.752.201.3.13",
    "previousPersonalIdentityNumber": "urn:oid:1.2.752.201.3.15",
    # the eIDAS natural person attribute set (ATTR §2.5, §3.1; Registry §3.2)
    "c": "urn:oid:2.5.4.6",
    "countryOfCitizenship": "urn:oid:1.3.6.1.5.5.7.9.4",
    "prid": "urn:oid:1.2.752.201.3.4",
    "pridPersistence": "urn:oid:1.2.752.201.3.5",
    "personalIdentityNumberBinding": "urn:oid:1.2.752.201.3.6",
    "eidasPersonIdentifier": "urn:oid:1.2.752.201.3.7",
    "mappedPersonalIdentityNumber": "urn:oid:1.2.752.201.3.16",
}
ATTRIBUTE_FRIENDLY_NAMES = {uri: name for name, uri in ATTRIBUTES.items()}


def short_name(uri: str) -> str:
    """The short name of a registered category or LoA URI, else the URI itself (for tables)."""
    for name, known in ENTITY_CATEGORIES.items():
        if known == uri:
            return name
    for prefix in ("http://id.elegnamnden.se/loa/1.0/", "http://id.swedenconnect.se/loa/1.0/"):
        if uri.startswith(prefix):
            return uri[len(prefix) :]
    return uri
