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
# an IdP with six signing keys in metadata, none of which signs anything in the tests: a
# forged response naming it makes the SP try every key (tests/attacks, the cost-* cases)
MULTIKEY_IDP = "https://idp.example.test/multikey"
EXPISOFT_SCOPE = "5560000001"
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
UNCERTIFIED_LOA3 = "http://id.swedenconnect.se/loa/1.0/uncertified-loa3"
LOA3_NONRESIDENT = "http://id.swedenconnect.se/loa/1.0/loa3-nonresident"


def idp_entity(
    entity_id: str, cert: PublicKey, *, scopes=(), sso="https://idp.example.test/sso", extra_certs=()
) -> str:
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


def federation_sp_settings(key_dir: str, idp_metadata_file: str, *, store_url: str) -> dict[str, str]:
    """Settings of the SP that trusts the test federation (the three test IdPs above)."""
    import os

    k = lambda name: os.path.join(key_dir, name)  # noqa: E731
    return {
        "ekn_saml.testing": "true",  # allows the memory store without a warning
        "ekn_saml.sp.entity_id": SP_ENTITY_ID,
        "ekn_saml.sp.public_base_url": SP_BASE,
        "ekn_saml.sp.signing_key": k("sp-signing.key"),
        "ekn_saml.sp.signing_cert": k("sp-signing.crt"),
        "ekn_saml.sp.encryption_keys": f"{k('sp-encryption.key')}\n{k('sp-encryption-old.key')}",
        "ekn_saml.sp.encryption_cert": k("sp-encryption.crt"),
        "ekn_saml.idp.metadata_files": idp_metadata_file,
        "ekn_saml.methods": "mobilt_bankid bankid expisoft",
        "ekn_saml.method.mobilt_bankid.idp": BANKID_IDP,
        "ekn_saml.method.bankid.idp": BANKID_IDP,
        "ekn_saml.method.expisoft.idp": EXPISOFT_IDP,
        "ekn_saml.store.url": store_url,
        "ekn_saml.landing_path": "/mina-sidor",
        "ekn_saml.server_keys": k("server-keys.key"),
    }


def person_identity(number: str | None = "198001012387", **fields):
    """A logged-in person as the SP maps one (BankID, loa3); ``fields`` override or add (an organisation's)."""
    import datetime as dt

    from ekn_saml.identity import Identity

    values = {
        "kind": "person",
        "method": "bankid",
        "idp": BANKID_IDP,
        "loa": LOA3,
        "authn_instant": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "name_id": "n-1",
        "name_id_format": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        "session_index": "s-1",
        "transaction_id": None,
        "display_name": "Anna Andersson",
        "personal_number": number,
    }
    return Identity(**{**values, **fields})
