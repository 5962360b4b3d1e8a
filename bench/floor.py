# SPDX-License-Identifier: Apache-2.0
"""(c) The floor: the least work any ACS must do with these responses, and nothing more.

Parse (lxml, one safe parser), verify the Response signature, decrypt the
session key (RSA-OAEP) and the assertion (AES-GCM), verify the assertion
signature, read the attribute values.  Keys are loaded once, in the fastest
form xmlsec takes them (a bare public key; the private key), as a careful
implementation would.  No profile, schema, time, audience, replay or
request checks, no identity mapping: those are what an SP adds on top, and
what ``acs_ratio_to_floor`` measures.
"""

from __future__ import annotations

import base64

import xmlsec
from lxml import etree

_DS = "{http://www.w3.org/2000/09/xmldsig#}"
_XENC = "{http://www.w3.org/2001/04/xmlenc#}"
_SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"
_SIGNATURE = _DS + "Signature"
_ENCRYPTED_DATA = f"{_SAML}EncryptedAssertion/{_XENC}EncryptedData"
_ENCRYPTED_KEY = f"{_DS}KeyInfo/{_XENC}EncryptedKey"
_ATTRIBUTES = f"{_SAML}AttributeStatement/{_SAML}Attribute"


class Floor:
    """``floor(saml_response) -> {attribute name: [values]}``; raises xmlsec.Error on a bad message."""

    def __init__(self, idp_public_key: xmlsec.Key, sp_private_key: xmlsec.Key) -> None:
        self.idp = idp_public_key
        self.sp = sp_private_key
        self.parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

    def __call__(self, saml_response: str) -> dict[str, list[str]]:
        root = etree.fromstring(base64.b64decode(saml_response), self.parser)
        xmlsec.tree.add_ids(root, ["ID"])
        ctx = xmlsec.SignatureContext()
        ctx.key = self.idp
        ctx.verify(root.find(_SIGNATURE))
        encrypted = root.find(_ENCRYPTED_DATA)
        ctx = xmlsec.EncryptionContext()
        ctx.key = self.sp
        session_key = ctx.decrypt(encrypted.find(_ENCRYPTED_KEY))
        ctx = xmlsec.EncryptionContext()
        ctx.key = xmlsec.Key.from_binary_data(xmlsec.constants.KeyDataAes, session_key)
        assertion = ctx.decrypt(encrypted)
        xmlsec.tree.add_ids(assertion, ["ID"])
        ctx = xmlsec.SignatureContext()
        ctx.key = self.idp
        ctx.verify(assertion.find(_SIGNATURE))
        return {a.get("Name"): [v.text for v in a] for a in assertion.iterfind(_ATTRIBUTES)}
