# SPDX-License-Identifier: Apache-2.0
"""Builds really signed and encrypted SAML Responses for tests, with every field adjustable.

Independent of the development IdP (which runs on pysaml2): negative tests
need to change one thing at a time and still sign the result properly, so
the check under test is reached.  Uses ekn_saml.xmlsecurity for the crypto,
the same python-xmlsec primitives a real IdP library would call.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from ekn_saml.xmlsecurity import NS, PrivateKey, PublicKey, encrypt_element, sign_enveloped

P = "{{{}}}".format(NS["samlp"])
A = "{{{}}}".format(NS["saml"])
XSI = "{{{}}}".format(NS["xsi"])
SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"


def instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ResponseSpec:
    """Every field of a success Response; defaults make a valid one."""

    issuer: str
    in_response_to: str | None
    destination: str | None
    recipient: str
    audience: str
    loa: str
    attributes: dict[str, list[str]]
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    response_issue_instant: dt.datetime | None = None
    assertion_issue_instant: dt.datetime | None = None
    authn_instant: dt.datetime | None = None
    not_before: dt.datetime | None = None
    not_on_or_after: dt.datetime | None = None
    confirmation_not_on_or_after: dt.datetime | None = None
    confirmation_in_response_to: str | None = "same"
    assertion_issuer: str | None = None
    name_id: str = "a1b2c3d4e5f6"
    status: tuple[str, ...] = (SUCCESS,)
    sign_response: bool = True
    sign_assertion: bool = True
    encrypt: bool = True
    data_encryption: str = "aes256-gcm"
    assertion_id: str = field(default_factory=lambda: "_a" + secrets.token_hex(16))
    response_id: str = field(default_factory=lambda: "_r" + secrets.token_hex(16))
    # hooks: change the tree before signing (mutate_*) or after everything (post_process)
    mutate_assertion: Callable[[etree._Element], None] | None = None
    mutate_response: Callable[[etree._Element], None] | None = None
    post_process: Callable[[etree._Element], None] | None = None


def build_assertion(spec: ResponseSpec) -> etree._Element:
    now = spec.now
    a = etree.Element(A + "Assertion", nsmap={"saml": NS["saml"], "xsi": NS["xsi"], "xs": NS["xs"]})
    a.set("ID", spec.assertion_id)
    a.set("Version", "2.0")
    a.set("IssueInstant", instant(spec.assertion_issue_instant or now))
    etree.SubElement(a, A + "Issuer").text = spec.assertion_issuer or spec.issuer
    subject = etree.SubElement(a, A + "Subject")
    etree.SubElement(
        subject, A + "NameID", Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    ).text = spec.name_id
    sc = etree.SubElement(subject, A + "SubjectConfirmation", Method="urn:oasis:names:tc:SAML:2.0:cm:bearer")
    scd = etree.SubElement(sc, A + "SubjectConfirmationData")
    irt = spec.in_response_to if spec.confirmation_in_response_to == "same" else spec.confirmation_in_response_to
    if irt is not None:
        scd.set("InResponseTo", irt)
    scd.set("NotOnOrAfter", instant(spec.confirmation_not_on_or_after or now + dt.timedelta(minutes=5)))
    scd.set("Recipient", spec.recipient)
    scd.set("Address", "127.0.0.1")
    cond = etree.SubElement(a, A + "Conditions")
    cond.set("NotBefore", instant(spec.not_before or now - dt.timedelta(seconds=10)))
    cond.set("NotOnOrAfter", instant(spec.not_on_or_after or now + dt.timedelta(minutes=5)))
    etree.SubElement(etree.SubElement(cond, A + "AudienceRestriction"), A + "Audience").text = spec.audience
    authn = etree.SubElement(
        a,
        A + "AuthnStatement",
        AuthnInstant=instant(spec.authn_instant or now),
        SessionIndex="_s" + secrets.token_hex(8),
    )
    etree.SubElement(etree.SubElement(authn, A + "AuthnContext"), A + "AuthnContextClassRef").text = spec.loa
    statement = etree.SubElement(a, A + "AttributeStatement")
    for name, values in spec.attributes.items():
        attr = etree.SubElement(
            statement, A + "Attribute", Name=name, NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
        )
        for value in values:
            v = etree.SubElement(attr, A + "AttributeValue")
            v.set(XSI + "type", "xs:string")
            v.text = value
    return a


class ResponseFactory:
    """Signs with the IdP key, encrypts to the SP's encryption certificate."""

    def __init__(self, idp_key: PrivateKey, idp_cert: PublicKey, sp_encryption_cert: PublicKey) -> None:
        self.idp_key = idp_key
        self.idp_cert = idp_cert
        self.sp_encryption_cert = sp_encryption_cert

    def build(self, spec: ResponseSpec) -> etree._Element:
        r = etree.Element(P + "Response", nsmap={"samlp": NS["samlp"], "saml": NS["saml"]})
        r.set("ID", spec.response_id)
        r.set("Version", "2.0")
        r.set("IssueInstant", instant(spec.response_issue_instant or spec.now))
        if spec.destination is not None:
            r.set("Destination", spec.destination)
        if spec.in_response_to is not None:
            r.set("InResponseTo", spec.in_response_to)
        etree.SubElement(r, A + "Issuer").text = spec.issuer
        status = etree.SubElement(r, P + "Status")
        code = etree.SubElement(status, P + "StatusCode", Value=spec.status[0])
        for inner in spec.status[1:]:
            code = etree.SubElement(code, P + "StatusCode", Value=inner)
        if spec.status[0] == SUCCESS:
            assertion = build_assertion(spec)
            if spec.mutate_assertion:
                spec.mutate_assertion(assertion)
            if spec.sign_assertion:
                sign_enveloped(assertion, self.idp_key)
            if spec.encrypt:
                container = etree.SubElement(r, A + "EncryptedAssertion")
                container.append(assertion)
                encrypt_element(assertion, self.sp_encryption_cert, data_encryption=spec.data_encryption)
            else:
                r.append(assertion)
        if spec.mutate_response:
            spec.mutate_response(r)
        if spec.sign_response:
            sign_enveloped(r, self.idp_key)
        if spec.post_process:
            spec.post_process(r)
        return r

    def encoded(self, spec: ResponseSpec) -> str:
        return base64.b64encode(etree.tostring(self.build(spec))).decode()


def custom_sign(
    element: etree._Element,
    key: PrivateKey,
    *,
    sig_transform=None,
    digest_transform=None,
    reference_uri: str | None = None,
    transforms=None,
    second_reference_uri: str | None = None,
    key_info_cert: PublicKey | None = None,
    key_value: bool = False,
    c14n=None,
) -> etree._Element:
    """Sign ``element`` with full control, to build signatures that break one profile rule."""
    import xmlsec

    T = xmlsec.Transform
    signature = xmlsec.template.create(element, c14n or T.EXCL_C14N, sig_transform or T.RSA_SHA256, ns="ds")
    issuer = element.find("saml:Issuer", NS)
    if issuer is not None:
        issuer.addnext(signature)
    else:
        element.insert(0, signature)
    ref = xmlsec.template.add_reference(
        signature,
        digest_transform or T.SHA256,
        uri=reference_uri if reference_uri is not None else "#" + element.get("ID"),
    )
    for transform in transforms if transforms is not None else (T.ENVELOPED, T.EXCL_C14N):
        xmlsec.template.add_transform(ref, transform)
    if second_reference_uri is not None:
        ref2 = xmlsec.template.add_reference(signature, T.SHA256, uri=second_reference_uri)
        xmlsec.template.add_transform(ref2, T.EXCL_C14N)
    if key_info_cert is not None or key_value:
        key_info = xmlsec.template.ensure_key_info(signature)
        if key_value:
            xmlsec.template.add_key_value(key_info)
        if key_info_cert is not None:
            x509 = xmlsec.template.add_x509_data(key_info)
            etree.SubElement(x509, "{{{}}}X509Certificate".format(NS["ds"])).text = key_info_cert.base64
    xmlsec.tree.add_ids(element, ["ID"])
    ctx = xmlsec.SignatureContext()
    ctx.key = key.key
    ctx.sign(signature)
    return signature


def custom_encrypt(element: etree._Element, recipient: PublicKey, *, data_transform, key_transform) -> None:
    """Encrypt with any algorithms (to build messages using forbidden ones)."""
    import xmlsec

    parent = element.getparent()
    standalone = etree.tostring(element)
    enc_data = xmlsec.template.encrypted_data_create(
        parent, data_transform, type=xmlsec.EncryptionType.ELEMENT, ns="xenc"
    )
    xmlsec.template.encrypted_data_ensure_cipher_value(enc_data)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(enc_data, ns="ds")
    enc_key = xmlsec.template.add_encrypted_key(key_info, key_transform)
    xmlsec.template.encrypted_data_ensure_cipher_value(enc_key)
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_memory(recipient.der, xmlsec.KeyFormat.CERT_DER, None))
    ctx = xmlsec.EncryptionContext(manager)
    if data_transform == xmlsec.Transform.DES3:
        ctx.key = xmlsec.Key.generate(xmlsec.constants.KeyDataDes, 192, xmlsec.constants.KeyDataTypeSession)
    else:
        ctx.key = xmlsec.Key.generate(xmlsec.constants.KeyDataAes, 256, xmlsec.constants.KeyDataTypeSession)
    encrypted = ctx.encrypt_binary(enc_data, standalone)
    parent.replace(element, encrypted)


def reencrypting(recipient: PublicKey, *, data_transform, key_transform, issue_instant: str = "2026-01-01T00:00:00Z"):
    """A ``mutate_response`` that replaces the EncryptedAssertion's content by a stub assertion
    encrypted to ``recipient`` with the given (possibly forbidden) algorithms."""

    def mutate(response: etree._Element) -> None:
        container = response.find("{urn:oasis:names:tc:SAML:2.0:assertion}EncryptedAssertion")
        for child in list(container):
            container.remove(child)
        assertion = etree.SubElement(container, A + "Assertion", ID="_x1", Version="2.0", IssueInstant=issue_instant)
        custom_encrypt(assertion, recipient, data_transform=data_transform, key_transform=key_transform)

    return mutate
