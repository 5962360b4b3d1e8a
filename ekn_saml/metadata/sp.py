# SPDX-License-Identifier: Apache-2.0
"""The SP metadata we publish (Swedish eID DP §2)."""
from __future__ import annotations

from lxml import etree

from ..credentials import SpCredentials
from ..settings import SamlSettings
from ..xmlsecurity import NS, SHA256

_E = {k: "{%s}" % v for k, v in NS.items()}
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
# What we can decrypt, in order of preference (DP §8.3, §8.4).
ENCRYPTION_METHODS = (
    "http://www.w3.org/2009/xmlenc11#aes256-gcm",
    "http://www.w3.org/2009/xmlenc11#aes128-gcm",
    "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
)
RSA_OAEP_MGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
NAMEID_FORMATS = (
    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
)


def _key_descriptor(parent, use: str, cert_b64: str) -> etree._Element:
    kd = etree.SubElement(parent, _E["md"] + "KeyDescriptor", use=use)
    ki = etree.SubElement(kd, _E["ds"] + "KeyInfo")
    x509 = etree.SubElement(ki, _E["ds"] + "X509Data")
    etree.SubElement(x509, _E["ds"] + "X509Certificate").text = cert_b64
    return kd


def build_sp_metadata(settings: SamlSettings, credentials: SpCredentials) -> etree._Element:
    """An unsigned EntityDescriptor for this SP.

    Separate signing and encryption KeyDescriptors, the encryption methods we
    accept, and the exact HTTP-POST ACS URL.  Does **not** sign it.
    """
    nsmap = {"md": NS["md"], "ds": NS["ds"]}
    entity = etree.Element(_E["md"] + "EntityDescriptor", nsmap=nsmap, entityID=settings.entity_id)
    sp = etree.SubElement(
        entity,
        _E["md"] + "SPSSODescriptor",
        AuthnRequestsSigned="true",
        WantAssertionsSigned="false",
        protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol",
    )
    _key_descriptor(sp, "signing", credentials.signing_cert.base64)
    enc = _key_descriptor(sp, "encryption", credentials.encryption_cert.base64)
    for algorithm in ENCRYPTION_METHODS:
        etree.SubElement(enc, _E["md"] + "EncryptionMethod", Algorithm=algorithm)
    oaep = etree.SubElement(enc, _E["md"] + "EncryptionMethod", Algorithm=RSA_OAEP_MGF1P)
    etree.SubElement(oaep, _E["ds"] + "DigestMethod", Algorithm=SHA256)
    for name_format in NAMEID_FORMATS:
        etree.SubElement(sp, _E["md"] + "NameIDFormat").text = name_format
    etree.SubElement(
        sp,
        _E["md"] + "AssertionConsumerService",
        Binding=BINDING_POST,
        Location=settings.acs_url,
        index="0",
        isDefault="true",
    )
    return entity


def sp_metadata_bytes(settings: SamlSettings, credentials: SpCredentials) -> bytes:
    return etree.tostring(build_sp_metadata(settings, credentials), xml_declaration=True, encoding="UTF-8", pretty_print=True)
