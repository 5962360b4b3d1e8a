# SPDX-License-Identifier: Apache-2.0
"""The bench's world: 3072-bit test keys, a trusted IdP, and Swedish-eID-style responses.

Every implementation measured gets the same generated responses: a signed
``samlp:Response`` whose one ``EncryptedAssertion`` holds a signed assertion,
encrypted with AES-256-GCM under a key transported with RSA-OAEP (rsa-oaep-mgf1p,
the profile's default SHA-1 OAEP digest, as the real Swedish fixture uses).
The attributes are those the Sweden Connect BankID IdP releases
(personalIdentityNumber, names, transactionIdentifier, authContextParams,
authServerSignature), which puts a response at about 12 KB.

Keys are made here, at bench time, and kept under ``var/bench/`` (ignored by
git); they are test keys (the certificate names say so).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
from dataclasses import dataclass

from lxml import etree

from ekn_saml.keygen import write_key_pair
from ekn_saml.server_keys import write_key_file
from ekn_saml.xmlsecurity import NS, PrivateKey, PublicKey, encrypt_element, sign_enveloped

SP_BASE = "https://sp.bench.test"
SP_ENTITY_ID = SP_BASE + "/sp"
ACS_URL = SP_BASE + "/saml/acs"
IDP_ENTITY_ID = "https://idp.bench.test/bankid"
IDP_SSO_URL = "https://idp.bench.test/bankid/sso"
UNCERTIFIED_LOA3 = "http://id.swedenconnect.se/loa/1.0/uncertified-loa3"
PNR = "198001012387"  # made up, valid check digit

PERSONAL_IDENTITY_NUMBER = "urn:oid:1.2.752.29.4.13"
KEY_BITS = 3072
_P = "{{{}}}".format(NS["samlp"])
_A = "{{{}}}".format(NS["saml"])
_DS = "{{{}}}".format(NS["ds"])
_XSI = "{{{}}}".format(NS["xsi"])


def _instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class BenchKeys:
    directory: str
    idp_key: PrivateKey
    idp_cert: PublicKey
    sp_signing_key_file: str
    sp_signing_cert_file: str
    sp_encryption_key_file: str
    sp_encryption_cert_file: str
    sp_encryption_cert: PublicKey
    idp_metadata_file: str
    idp_cert_file: str
    server_keys_file: str  # ekn_saml.server_keys


# A second IdP with six signing keys in metadata (bench/bench_forged.py): a forged
# Response naming it makes the SP try every key.
MULTIKEY_IDP_ENTITY_ID = "https://idp.bench.test/multikey"
MULTIKEY_KEYS = 6


def _idp_entity(entity_id: str, certs: list[PublicKey]) -> str:
    keys = "".join(
        f'<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert.base64}'
        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        for cert in certs
    )
    return f"""
  <md:EntityDescriptor entityID="{entity_id}">
    <md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
      {keys}
      <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{IDP_SSO_URL}"/>
      <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{IDP_SSO_URL}"/>
    </md:IDPSSODescriptor>
  </md:EntityDescriptor>"""


def idp_metadata_xml(cert: PublicKey) -> str:
    # the multi-key IdP's keys: any certificates do, since nothing it sends is really signed
    return (
        f'<md:EntitiesDescriptor xmlns:md="{NS["md"]}" xmlns:ds="{NS["ds"]}">'
        + _idp_entity(IDP_ENTITY_ID, [cert])
        + _idp_entity(MULTIKEY_IDP_ENTITY_ID, [cert] * MULTIKEY_KEYS)
        + "\n</md:EntitiesDescriptor>\n"
    )


def bench_keys(directory: str = os.path.join("var", "bench", "keys")) -> BenchKeys:
    """Make (once) and load the bench's 3072-bit TEST keys and the IdP metadata file."""
    directory = os.path.abspath(directory)
    paths = {}
    for stem in ("idp", "sp-signing", "sp-encryption"):
        paths[stem] = write_key_pair(directory, "bench-" + stem, f"ekn_saml bench {stem} (TEST ONLY)", bits=KEY_BITS)
    with open(paths["idp"][1], "rb") as fh:
        idp_cert = PublicKey.from_pem(fh.read())
    with open(paths["sp-encryption"][1], "rb") as fh:
        sp_encryption_cert = PublicKey.from_pem(fh.read())
    metadata_file = os.path.join(directory, "idp-metadata.xml")
    with open(metadata_file, "w") as fh:
        fh.write(idp_metadata_xml(idp_cert))
    server_keys_file = os.path.join(directory, "bench-server-keys.key")
    if not os.path.exists(server_keys_file):
        write_key_file(server_keys_file)
    return BenchKeys(
        directory=directory,
        idp_key=PrivateKey.from_file(paths["idp"][0]),
        idp_cert=idp_cert,
        sp_signing_key_file=paths["sp-signing"][0],
        sp_signing_cert_file=paths["sp-signing"][1],
        sp_encryption_key_file=paths["sp-encryption"][0],
        sp_encryption_cert_file=paths["sp-encryption"][1],
        sp_encryption_cert=sp_encryption_cert,
        idp_metadata_file=metadata_file,
        idp_cert_file=paths["idp"][1],
        server_keys_file=server_keys_file,
    )


def sp_settings(keys: BenchKeys, store_url: str = "memory://", base: str = SP_BASE) -> dict[str, str]:
    """``ekn_saml.*`` settings of the SP under test (the demo app's, with the bench IdP)."""
    return {
        "ekn_saml.testing": "true" if store_url.startswith("memory") else "false",
        # the HTTP-login bench serves plain http on loopback with a SQLite store (testing off):
        # an http ACS is allowed only in development (DP §6.1)
        "ekn_saml.development": "true" if base.startswith("http://") else "false",
        "ekn_saml.sp.entity_id": SP_ENTITY_ID,
        "ekn_saml.sp.public_base_url": base,
        "ekn_saml.sp.signing_key": keys.sp_signing_key_file,
        "ekn_saml.sp.signing_cert": keys.sp_signing_cert_file,
        "ekn_saml.sp.encryption_keys": keys.sp_encryption_key_file,
        "ekn_saml.sp.encryption_cert": keys.sp_encryption_cert_file,
        "ekn_saml.idp.metadata_files": keys.idp_metadata_file,
        "ekn_saml.methods": "bankid",
        "ekn_saml.method.bankid.idp": IDP_ENTITY_ID,
        "ekn_saml.store.url": store_url,
        "ekn_saml.landing_path": "/mina-sidor",
        "ekn_saml.server_keys": keys.server_keys_file,
        # every bench login comes from 127.0.0.1, far faster than a client may start them
        "ekn_saml.security.login_start_limit": "0",
    }


def _attributes(rng_hex) -> dict[str, str]:
    # What the Sweden Connect BankID IdP releases after an authentication.
    # authServerSignature is BankID's base64 OCSP response (here ~1.2 KB).
    return {
        PERSONAL_IDENTITY_NUMBER: PNR,
        "urn:oid:2.16.840.1.113730.3.1.241": "Anna Andersson",
        "urn:oid:2.5.4.42": "Anna",
        "urn:oid:2.5.4.4": "Andersson",
        "urn:oid:1.2.752.201.3.2": rng_hex(16),
        "urn:oid:1.2.752.201.3.3": "bankidNotBefore=2026-11-01;bankidUserAgentAddress=192.0.2.10;bankidUhi="
        + rng_hex(20),
        "urn:oid:1.2.752.201.3.13": base64.b64encode(secrets.token_bytes(900)).decode(),
    }


def _with_cert(signature: etree._Element, cert: PublicKey) -> None:
    # Swedish IdPs put their certificate in KeyInfo; the SP must ignore it.
    key_info = etree.SubElement(signature, _DS + "KeyInfo")
    etree.SubElement(etree.SubElement(key_info, _DS + "X509Data"), _DS + "X509Certificate").text = cert.base64


def build_response(
    keys: BenchKeys,
    request_id: str,
    *,
    acs_url: str = ACS_URL,
    sp_entity_id: str = SP_ENTITY_ID,
    now: dt.datetime | None = None,
    lifetime: int = 300,
) -> bytes:
    """One Swedish-eID-style response answering ``request_id`` (XML bytes), valid for ``lifetime`` s."""
    now = now or dt.datetime.now(dt.UTC)
    later = _instant(now + dt.timedelta(seconds=lifetime))
    r = etree.Element(_P + "Response", nsmap={"saml2p": NS["samlp"]})
    r.set("Destination", acs_url)
    r.set("ID", "_" + secrets.token_hex(16))
    r.set("InResponseTo", request_id)
    r.set("IssueInstant", _instant(now))
    r.set("Version", "2.0")
    etree.SubElement(r, _A + "Issuer", nsmap={"saml2": NS["saml"]}).text = IDP_ENTITY_ID
    status = etree.SubElement(r, _P + "Status")
    etree.SubElement(status, _P + "StatusCode", Value="urn:oasis:names:tc:SAML:2.0:status:Success")

    a = etree.Element(_A + "Assertion", nsmap={"saml2": NS["saml"], "xsd": NS["xs"], "xsi": NS["xsi"]})
    a.set("ID", "_" + secrets.token_hex(16))
    a.set("IssueInstant", _instant(now))
    a.set("Version", "2.0")
    etree.SubElement(a, _A + "Issuer").text = IDP_ENTITY_ID
    subject = etree.SubElement(a, _A + "Subject")
    etree.SubElement(
        subject,
        _A + "NameID",
        Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        NameQualifier=IDP_ENTITY_ID,
        SPNameQualifier=sp_entity_id,
    ).text = secrets.token_hex(16)
    confirmation = etree.SubElement(subject, _A + "SubjectConfirmation", Method="urn:oasis:names:tc:SAML:2.0:cm:bearer")
    etree.SubElement(
        confirmation,
        _A + "SubjectConfirmationData",
        Address="192.0.2.10",
        InResponseTo=request_id,
        NotOnOrAfter=later,
        Recipient=acs_url,
    )
    conditions = etree.SubElement(
        a, _A + "Conditions", NotBefore=_instant(now - dt.timedelta(seconds=5)), NotOnOrAfter=later
    )
    etree.SubElement(etree.SubElement(conditions, _A + "AudienceRestriction"), _A + "Audience").text = sp_entity_id
    authn = etree.SubElement(
        a, _A + "AuthnStatement", AuthnInstant=_instant(now), SessionIndex="_" + secrets.token_hex(16)
    )
    etree.SubElement(etree.SubElement(authn, _A + "AuthnContext"), _A + "AuthnContextClassRef").text = UNCERTIFIED_LOA3
    statement = etree.SubElement(a, _A + "AttributeStatement")
    for name, value in _attributes(secrets.token_hex).items():
        attribute = etree.SubElement(
            statement, _A + "Attribute", Name=name, NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
        )
        v = etree.SubElement(attribute, _A + "AttributeValue")
        v.set(_XSI + "type", "xsd:string")
        v.text = value
    _with_cert(sign_enveloped(a, keys.idp_key), keys.idp_cert)
    # KeyInfo is outside SignedInfo, so adding it after signing keeps the signature valid.
    # The container binds the assertion's own prefix: moving a signed element
    # under another prefix for its namespace would change its canonical form.
    container = etree.SubElement(r, _A + "EncryptedAssertion", nsmap={"saml2": NS["saml"]})
    container.append(a)
    encrypt_element(a, keys.sp_encryption_cert, data_encryption="aes256-gcm", oaep_digest=None)
    _with_cert(sign_enveloped(r, keys.idp_key), keys.idp_cert)
    return etree.tostring(r, xml_declaration=True, encoding="UTF-8")


def new_request_id() -> str:
    return "_" + secrets.token_hex(20)
