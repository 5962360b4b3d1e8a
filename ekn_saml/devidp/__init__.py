# SPDX-License-Identifier: Apache-2.0
"""The embedded development IdP: four IdPs (Mobilt BankID, BankID, Expisoft, an eIDAS connector) on pysaml2.

Included by ``config.include("ekn_saml")`` only when ``ekn_saml.devidp.enabled =
true`` (development.ini sets it); it is never on by default.  The SP does not know it is special: it trusts
the development IdPs through metadata generated here and parsed by the same
code as any federation metadata.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

from lxml import etree
from zope.interface import implementer

from ..identity import PERSONAL_IDENTITY_NUMBER
from ..interfaces import IDevelopmentIdp
from ..metadata.categories import PROFILE_CATEGORY, SECURE_AUTHENTICATOR_BINDING, SUPPORTS_USER_MESSAGE
from ..metadata.idp import BINDING_POST, BINDING_REDIRECT, ENTITY_CATEGORY, IdpInfo, parse_idp_metadata
from ..methods import BUILT_IN_METHODS, ORGANISATION, PERSON
from ..xmlsecurity import NS, PublicKey
from .personas import DEV_ORG_SCOPES

_PSC = "{http://id.swedenconnect.se/authn/1.0/principal-selection/ns}"


def _categories(profile: str) -> tuple[str, ...]:
    # The person (BankID) IdPs declare what the Sweden Connect BankID IdP does: secure-authenticator-binding,
    # and supports-user-message (BID 3.1).  The organisation IdP declares neither, so that the SP's "only to
    # IdPs that declare it" can be seen in development too.
    if profile == PERSON:
        return (PROFILE_CATEGORY[profile], SECURE_AUTHENTICATOR_BINDING, SUPPORTS_USER_MESSAGE)
    return (PROFILE_CATEGORY[profile],)


# slug -> (method, entity categories): one development IdP per built-in method that names
# one (ekn_saml.methods), declaring the service entity category of the method's profile
DEV_IDPS = {
    method.dev_slug: (method.name, _categories(method.profile))
    for method in BUILT_IN_METHODS.values()
    if method.dev_slug
}
# slug -> the attribute names it asks for in psc:RequestedPrincipalSelection (PSC 2.2): the personal
# identity number for the BankID ones, as the Sweden Connect BankID IdP does; none for Expisoft
DEV_PRINCIPAL_SELECTION = {
    slug: (PERSONAL_IDENTITY_NUMBER,)
    for slug, (name, _c) in DEV_IDPS.items()
    if BUILT_IN_METHODS[name].profile == PERSON
}
_E = {k: f"{{{v}}}" for k, v in NS.items()}


@dataclass(frozen=True)
class DevIdp:
    slug: str
    method: str
    entity_id: str
    sso_url: str


def dev_idps(entity_id_prefix: str, base_url: str) -> list[DevIdp]:
    return [
        DevIdp(slug, method, f"{entity_id_prefix}/{slug}", f"{base_url}/devidp/{slug}/sso")
        for slug, (method, _categories) in DEV_IDPS.items()
    ]


def dev_idp_metadata(idps: list[DevIdp], cert: PublicKey) -> bytes:
    """An EntitiesDescriptor for the development IdPs, as a federation would publish it."""
    root = etree.Element(
        _E["md"] + "EntitiesDescriptor", nsmap={k: NS[k] for k in ("md", "ds", "saml", "mdattr", "shibmd", "mdui")}
    )
    for idp in idps:
        entity = etree.SubElement(root, _E["md"] + "EntityDescriptor", entityID=idp.entity_id)
        ext = etree.SubElement(entity, _E["md"] + "Extensions")
        attrs = etree.SubElement(ext, _E["mdattr"] + "EntityAttributes")
        attr = etree.SubElement(
            attrs,
            _E["saml"] + "Attribute",
            Name=ENTITY_CATEGORY,
            NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
        )
        for category in DEV_IDPS[idp.slug][1]:
            etree.SubElement(attr, _E["saml"] + "AttributeValue").text = category
        desc = etree.SubElement(
            entity,
            _E["md"] + "IDPSSODescriptor",
            WantAuthnRequestsSigned="true",
            protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol",
        )
        dext = etree.SubElement(desc, _E["md"] + "Extensions")
        if BUILT_IN_METHODS[idp.method].profile == ORGANISATION:  # the organisations it may vouch for
            for scope in DEV_ORG_SCOPES:
                etree.SubElement(dext, _E["shibmd"] + "Scope", regexp="false").text = scope
        ui = etree.SubElement(dext, _E["mdui"] + "UIInfo")
        # in both languages of the pages, which show the IdP by this name
        for lang, text in (("sv", f"Utvecklings-IdP ({idp.slug})"), ("en", f"Development IdP ({idp.slug})")):
            name = etree.SubElement(ui, _E["mdui"] + "DisplayName")
            name.set("{http://www.w3.org/XML/1998/namespace}lang", lang)
            name.text = text
        if DEV_PRINCIPAL_SELECTION.get(idp.slug):
            requested = etree.SubElement(dext, _PSC + "RequestedPrincipalSelection", nsmap={"psc": _PSC[1:-1]})
            for attribute in DEV_PRINCIPAL_SELECTION[idp.slug]:
                etree.SubElement(requested, _PSC + "MatchValue", Name=attribute)
        kd = etree.SubElement(desc, _E["md"] + "KeyDescriptor", use="signing")
        x509 = etree.SubElement(etree.SubElement(kd, _E["ds"] + "KeyInfo"), _E["ds"] + "X509Data")
        etree.SubElement(x509, _E["ds"] + "X509Certificate").text = cert.base64
        for binding in (BINDING_REDIRECT, BINDING_POST):
            etree.SubElement(desc, _E["md"] + "SingleSignOnService", Binding=binding, Location=idp.sso_url)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@dataclass(frozen=True)
class DevelopmentTrust:
    """The development IdPs, their metadata document and its parsed records: what the SP trusts of them."""

    idps: list[DevIdp]
    metadata: bytes
    records: dict[str, IdpInfo]


def development_trust(entity_id_prefix: str, base_url: str, cert_path: str, *, now: dt.datetime) -> DevelopmentTrust:
    """The development IdPs at ``base_url``, trusted through their metadata as any federation's IdP is.

    The app's wiring and ``ekn-saml`` both trust them this way.  Raises
    OSError or ValueError for an unreadable certificate, MetadataError for
    metadata the parser refuses.
    """
    with open(cert_path, "rb") as fh:
        cert = PublicKey.from_pem(fh.read())
    idps = dev_idps(entity_id_prefix, base_url)
    metadata = dev_idp_metadata(idps, cert)
    # parsed by the same code as any federation's metadata
    return DevelopmentTrust(idps, metadata, parse_idp_metadata(metadata, source="development IdP", now=now))


@implementer(IDevelopmentIdp)
class DevelopmentIdp:
    """The development IdPs' pysaml2 engines (one per slug) and their metadata document."""

    def __init__(self, engines: dict, metadata: bytes) -> None:
        self._engines = dict(engines)
        self.metadata = metadata

    def engine(self, slug: str):
        """The engine of the development IdP ``slug``; KeyError for another slug (the routes admit only these)."""
        return self._engines[slug]


def includeme(config):
    """Routes and views of the development IdP; warns loudly, it is for development only.

    ``config.include("ekn_saml")`` includes it when ``ekn_saml.devidp.enabled``
    is true; its engines (:class:`DevelopmentIdp`) are built with the other
    services at commit (:mod:`ekn_saml.wiring`).
    """
    warnings.warn("ekn_saml development IdP is enabled: never do this in production", RuntimeWarning, stacklevel=2)
    slugs = "|".join(DEV_IDPS)  # an unknown slug is a 404
    config.add_route("devidp.sso", f"/devidp/{{slug:{slugs}}}/sso")
    config.add_route("devidp.respond", f"/devidp/{{slug:{slugs}}}/respond")
    config.add_route("devidp.metadata", "/devidp/metadata")
    config.scan(".views")
