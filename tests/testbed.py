# SPDX-License-Identifier: Apache-2.0
"""Names and metadata of the test federation the unit tests use."""
from __future__ import annotations

from ekn_saml.xmlsecurity import PublicKey

SP_ENTITY_ID = "https://sp.example.test/sp"
SP_BASE = "https://sp.example.test"
ACS_URL = SP_BASE + "/saml/acs"
BANKID_IDP = "https://idp.example.test/bankid"
EXPISOFT_IDP = "https://idp.example.test/expisoft"
OTHER_IDP = "https://idp.example.test/other"
EXPISOFT_SCOPE = "5560000001"
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
UNCERTIFIED_LOA3 = "http://id.swedenconnect.se/loa/1.0/uncertified-loa3"
LOA3_NONRESIDENT = "http://id.swedenconnect.se/loa/1.0/loa3-nonresident"



def idp_entity(entity_id: str, cert: PublicKey, *, scopes=(), sso="https://idp.example.test/sso", extra_certs=()) -> str:
    extra_keys = "".join(
        f'<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{c.base64}'
        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        for c in extra_certs
    )
    scope_xml = "".join(f'<shibmd:Scope regexp="false">{s}</shibmd:Scope>' for s in scopes)
    return f"""
  <md:EntityDescriptor entityID="{entity_id}">
    <md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
      <md:Extensions>{scope_xml}</md:Extensions>
      <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert.base64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>{extra_keys}
      <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{sso}"/>
      <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{sso}"/>
    </md:IDPSSODescriptor>
  </md:EntityDescriptor>"""


