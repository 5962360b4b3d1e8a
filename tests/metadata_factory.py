# SPDX-License-Identifier: Apache-2.0
"""Signed federation aggregates for tests: the real sveleg fixture or our test IdPs, signed at test time.

Every document is really signed with python-xmlsec (ekn_saml.xmlsecurity), so
the check under test is the one that rejects it, never a missing signature.
"""

from __future__ import annotations

import datetime as dt
import os

import xmlsec
from lxml import etree

from ekn_saml.timeutil import format_instant, utcnow
from ekn_saml.xml_limits import METADATA_LIMITS
from ekn_saml.xmlsecurity import DS, NS, PrivateKey, PublicKey, parse_xml, sign_enveloped

DATA = os.path.join(os.path.dirname(__file__), "data", "metadata")
SVELEG_IDP = "https://idp.svelegtest.se/idp"
SVELEG_MOBILE_IDP = "https://midp.svelegtest.se/idp"
MDRPI = "urn:oasis:names:tc:SAML:metadata:rpi"


def fixture_bytes(name: str) -> bytes:
    with open(os.path.join(DATA, name), "rb") as fh:
        return fh.read()


def signed(
    xml: bytes,
    key: PrivateKey,
    cert: PublicKey | None = None,
    *,
    valid_until: dt.datetime | None = None,
    cache_duration: str | None = None,
    created: dt.datetime | str | None = None,
    mutate=None,
) -> bytes:
    """``xml`` with a fresh validUntil (default: in two days) and an enveloped signature over its root.

    ``created`` adds ``md:Extensions/mdrpi:PublicationInfo`` with that
    creationInstant to the root (a string is used as it is).
    ``mutate(root)`` runs before signing, to change one thing and still sign properly.
    """
    # lxml's own parser: the factory signs what a test hands it, also what parse_xml would refuse
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    root.set("validUntil", format_instant(valid_until or utcnow() + dt.timedelta(days=2)))
    if cache_duration is not None:
        root.set("cacheDuration", cache_duration)
    if created is not None:
        add_publication_info(root, created if isinstance(created, str) else format_instant(created))
    if not root.get("ID"):
        root.set("ID", "_aggregate")
    if mutate is not None:
        mutate(root)
    sign_enveloped(root, key, cert)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def add_publication_info(root: etree._Element, creation_instant: str | None) -> etree._Element:
    """Add an ``mdrpi:PublicationInfo`` (with ``creationInstant`` unless ``None``) to the root's md:Extensions."""
    md = "{{{}}}".format(NS["md"])
    extensions = root.find(md + "Extensions")
    if extensions is None:
        extensions = etree.Element(md + "Extensions")
        root.insert(0, extensions)  # first: the schema puts Extensions before the entities
    info = etree.SubElement(extensions, f"{{{MDRPI}}}PublicationInfo", publisher="https://md.example.test")
    if creation_instant is not None:
        info.set("creationInstant", creation_instant)
    return info


def strip_signature(xml: bytes) -> bytes:
    root = parse_xml(xml, limits=METADATA_LIMITS)  # an aggregate is no message: the message caps do not apply
    root.remove(root.find("ds:Signature", NS))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def aggregate(*entities: str) -> bytes:
    """An EntitiesDescriptor around EntityDescriptor strings (e.g. from testbed.idp_entity)."""
    return (
        f'<md:EntitiesDescriptor xmlns:md="{NS["md"]}" xmlns:ds="{NS["ds"]}" xmlns:shibmd="{NS["shibmd"]}" '
        f'xmlns:mdui="{NS["mdui"]}" ID="_fed">{"".join(entities)}</md:EntitiesDescriptor>'
    ).encode()


def write(path, data: bytes) -> str:
    with open(path, "wb") as fh:
        fh.write(data)
    return str(path)


def federation_idp(
    entity_id: str,
    cert: PublicKey,
    *,
    scopes=(),
    categories=("http://id.elegnamnden.se/ec/1.0/loa3-pnr",),
    loas=("http://id.elegnamnden.se/loa/1.0/loa3",),
    name: str = "Test IdP",
    sso: str = "https://idp.example.test/sso",
    signing_b64: str | None = None,
    extra_attrs: str = "",
) -> str:
    """A schema-valid IdP EntityDescriptor as Swedish federations publish them (categories, LoAs, mdui, scopes)."""
    values = lambda uris: "".join(f"<saml:AttributeValue>{u}</saml:AttributeValue>" for u in uris)  # noqa: E731
    scope_xml = "".join(f'<shibmd:Scope regexp="false">{s}</shibmd:Scope>' for s in scopes)
    b64 = signing_b64 if signing_b64 is not None else cert.base64
    return f"""
  <md:EntityDescriptor entityID="{entity_id}"{extra_attrs}>
    <md:Extensions><mdattr:EntityAttributes xmlns:mdattr="{NS["mdattr"]}" xmlns:saml="{NS["saml"]}">
      <saml:Attribute Name="http://macedir.org/entity-category" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">{values(categories)}</saml:Attribute>
      <saml:Attribute Name="urn:oasis:names:tc:SAML:attribute:assurance-certification" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">{values(loas)}</saml:Attribute>
    </mdattr:EntityAttributes></md:Extensions>
    <md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
      <md:Extensions>{scope_xml}<mdui:UIInfo><mdui:DisplayName xml:lang="sv">{name}</mdui:DisplayName><mdui:DisplayName xml:lang="en">{name} (en)</mdui:DisplayName></mdui:UIInfo></md:Extensions>
      <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
      <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert.base64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
      <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{sso}"/>
      <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{sso}"/>
    </md:IDPSSODescriptor>
  </md:EntityDescriptor>"""


def bankid_and_expisoft(cert: PublicKey, *, sso: str = "https://idp.example.test/sso", suffix: str = "") -> bytes:
    """An unsigned aggregate of the testbed's BankID and Expisoft IdPs (Expisoft with its scope and loa3-orgid)."""
    from testbed import BANKID_IDP, EXPISOFT_IDP, EXPISOFT_SCOPE

    return aggregate(
        federation_idp(BANKID_IDP, cert, name="BankID" + suffix, sso=sso),
        federation_idp(
            EXPISOFT_IDP,
            cert,
            scopes=(EXPISOFT_SCOPE,),
            name="Expisoft" + suffix,
            sso=sso,
            categories=("http://id.swedenconnect.se/ec/1.0/loa3-orgid",),
        ),
    )


def xmlsec_verifies(data: bytes, key: PublicKey) -> bool:
    """python-xmlsec's own verification of the root signature (ID lookup, node-set c14n)."""
    root = etree.fromstring(data)
    xmlsec.tree.add_ids(root, ["ID"])
    ctx = xmlsec.SignatureContext()
    ctx.key = key.key
    try:
        ctx.verify(root.find(DS + "Signature"))
        return True
    except xmlsec.Error:
        return False


def sign_root(
    xml: bytes,
    key: PrivateKey,
    *,
    ns: str | None = "ds",
    signature_method=xmlsec.Transform.RSA_SHA256,
    digest=xmlsec.Transform.SHA256,
    transforms=(xmlsec.Transform.ENVELOPED, xmlsec.Transform.EXCL_C14N),
    digest_prefixes: list[str] | None = None,
    signed_info_prefixes: list[str] | None = None,
    position: int = 0,
    tail: str | None = None,
) -> bytes:
    """``xml`` with an enveloped signature over its root, made by python-xmlsec, in the shape asked for."""
    root = etree.fromstring(xml)
    signature = xmlsec.template.create(root, xmlsec.Transform.EXCL_C14N, signature_method, ns=ns)
    root.insert(position, signature)
    signature.tail = tail
    reference = xmlsec.template.add_reference(signature, digest, uri="#" + root.get("ID"))
    for transform in transforms:
        node = xmlsec.template.add_transform(reference, transform)
    if digest_prefixes is not None:
        xmlsec.template.transform_add_c14n_inclusive_namespaces(node, digest_prefixes)
    if signed_info_prefixes is not None:
        method = signature.find(f"{DS}SignedInfo/{DS}CanonicalizationMethod")
        xmlsec.template.transform_add_c14n_inclusive_namespaces(method, signed_info_prefixes)
    xmlsec.tree.add_ids(root, ["ID"])
    ctx = xmlsec.SignatureContext()
    ctx.key = key.key
    ctx.sign(signature)
    return etree.tostring(root)
