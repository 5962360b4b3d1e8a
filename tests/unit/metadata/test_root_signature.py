# SPDX-License-Identifier: Apache-2.0
"""The whole-document signature check of federation metadata (ekn_saml.metadata.root_signature).

It computes the reference digest itself instead of asking python-xmlsec to,
so every accepted shape is also checked against python-xmlsec's full
verification (``xmlsec_verifies``), and a real third-party signature (the
Swedish eID test IdP's Response, signed by Shibboleth) must verify too.
"""

from __future__ import annotations

import base64
import datetime as dt
import pathlib

import pytest
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lxml import etree

from ekn_saml.errors import ErrorCode, SamlError
from ekn_saml.metadata.root_signature import verify_root_signature
from ekn_saml.xmlsecurity import DIGEST_ALGORITHMS, DS, NS, PrivateKey, PublicKey, algorithms, parse_xml, sign_bytes

from metadata_factory import aggregate, federation_idp, sign_root, xmlsec_verifies
from testbed import BANKID_IDP, EXPISOFT_IDP

SWEDISH = pathlib.Path(__file__).parents[2] / "data" / "swedish-eid"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"


def _code(root, keys) -> ErrorCode:
    with pytest.raises(SamlError) as caught:
        verify_root_signature(root, keys)
    return caught.value.code


def resign_signed_info(
    root: etree._Element, key: PrivateKey, algorithm: str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
) -> None:
    """Sign SignedInfo again as it now stands: the signer's key vouches for whatever SignedInfo says."""
    signed_info = root.find(f"{DS}Signature/{DS}SignedInfo")
    canonical = etree.tostring(signed_info, method="c14n", exclusive=True)
    root.find(f"{DS}Signature/{DS}SignatureValue").text = base64.b64encode(
        sign_bytes(canonical, key, algorithm)
    ).decode()


@pytest.fixture(scope="module")
def document(idp_keys) -> bytes:
    """A small aggregate, pretty-printed, so that the signature sits among text nodes."""
    root = etree.fromstring(
        aggregate(federation_idp(BANKID_IDP, idp_keys[1]), federation_idp(EXPISOFT_IDP, idp_keys[1]))
    )
    root.set("validUntil", "2099-01-01T00:00:00Z")
    etree.indent(root)
    return etree.tostring(root)


@pytest.fixture(scope="module")
def ec_signer(tmp_path_factory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ekn_saml test EC metadata signer (TEST ONLY)")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    path = tmp_path_factory.mktemp("ec") / "ec-test.key"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return PrivateKey.from_file(str(path)), PublicKey.from_pem(cert.public_bytes(serialization.Encoding.PEM))


# ---------------------------------------------------------------- shapes that verify, as python-xmlsec says too

SHAPES = {
    "ds prefix, first child": {},
    "ds as the default namespace": {"ns": None},
    "inclusive namespaces in the digest and in SignedInfo": {
        "digest_prefixes": ["mdui", "shibmd", "#default"],
        "signed_info_prefixes": ["ds"],
    },
    "sha512 and rsa-sha512": {"digest": xmlsec.Transform.SHA512, "signature_method": xmlsec.Transform.RSA_SHA512},
    "sha384": {"digest": xmlsec.Transform.SHA384},
    "after the first entity, with a tail": {"position": 1, "tail": "\n  "},
    "first child, with a tail": {"tail": "\n \t "},
}


@pytest.mark.parametrize("shape", SHAPES)
def test_signature_in_the_profile_verifies_as_xmlsec_says(shape, document, fed_signer):
    data = sign_root(document, fed_signer[0], **SHAPES[shape])
    assert xmlsec_verifies(data, fed_signer[1])
    verify_root_signature(parse_xml(data, whole_document_signed=True), [fed_signer[1]])


def test_comment_and_processing_instruction_before_the_root_are_not_signed(document, fed_signer):
    # the Reference is the root element: what stands around it is not part of it
    data = b'<?xml version="1.0"?>\n<!-- about -->\n<?pi x?>\n' + sign_root(document, fed_signer[0]) + b"\n<?after y?>"
    assert xmlsec_verifies(data, fed_signer[1])
    verify_root_signature(parse_xml(data, whole_document_signed=True), [fed_signer[1]])


def test_ecdsa_signature_verifies(document, ec_signer):
    data = sign_root(document, ec_signer[0], signature_method=xmlsec.Transform.ECDSA_SHA256)
    assert xmlsec_verifies(data, ec_signer[1])
    verify_root_signature(parse_xml(data, whole_document_signed=True), [ec_signer[1]])


def test_real_third_party_signature_verifies():
    # Shibboleth IdP of the Swedish eID test federation, 2018: a prolog comment,
    # line breaks inside SignedInfo, the Signature after Issuer with a tail
    signer = PublicKey.from_pem((SWEDISH / "signer.crt").read_bytes())
    verify_root_signature(parse_xml((SWEDISH / "signed-response.xml").read_bytes()), [signer])


def test_real_third_party_signature_with_a_broken_digest_is_refused():
    signer = PublicKey.from_pem((SWEDISH / "signer.crt").read_bytes())
    root = parse_xml((SWEDISH / "signed-baddigest-response.xml").read_bytes())
    assert _code(root, [signer]) == ErrorCode.SIGNATURE_INVALID


def test_rollover_any_pinned_key_verifies(document, fed_signer, attacker_keys):
    data = sign_root(document, fed_signer[0])
    verify_root_signature(parse_xml(data), [attacker_keys[1], fed_signer[1]])


def test_the_tree_is_unchanged_after_a_verification(document, fed_signer):
    data = sign_root(document, fed_signer[0], position=1, tail="\n  ")
    root = parse_xml(data)
    verify_root_signature(root, [fed_signer[1]])
    assert etree.tostring(root) == data


def test_the_tree_is_unchanged_after_a_digest_failure(document, fed_signer):
    data = sign_root(document, fed_signer[0], position=1, tail="\n  ").replace(b"https://", b"https://evil.", 1)
    root = parse_xml(data)
    assert _code(root, [fed_signer[1]]) == ErrorCode.SIGNATURE_INVALID
    assert etree.tostring(root) == data


def test_every_allowed_digest_has_a_hash():
    assert set(algorithms.DIGEST_HASHES) == DIGEST_ALGORITHMS


# ---------------------------------------------------------------- refused


def test_change_after_signing_is_refused_by_the_digest(document, fed_signer):
    data = sign_root(document, fed_signer[0]).replace(b"https://", b"https://evil.", 1)
    assert not xmlsec_verifies(data, fed_signer[1])
    assert _code(parse_xml(data), [fed_signer[1]]) == ErrorCode.SIGNATURE_INVALID


def test_change_of_the_signatures_tail_is_refused(document, fed_signer):
    # the enveloped-signature transform removes the element, not the text after it
    root = parse_xml(sign_root(document, fed_signer[0], tail="\n  "))
    root.find(DS + "Signature").tail = "\n    "
    assert not xmlsec_verifies(etree.tostring(root), fed_signer[1])
    assert _code(root, [fed_signer[1]]) == ErrorCode.SIGNATURE_INVALID


def test_signature_by_another_key_is_refused(document, fed_signer, attacker_keys):
    root = parse_xml(sign_root(document, attacker_keys[0]))
    assert _code(root, [fed_signer[1]]) == ErrorCode.SIGNATURE_INVALID


def test_no_pinned_key_is_refused(document, fed_signer):
    assert _code(parse_xml(sign_root(document, fed_signer[0])), []) == ErrorCode.NO_TRUSTED_KEY


def test_unsigned_document_is_refused(document, fed_signer):
    assert _code(parse_xml(document), [fed_signer[1]]) == ErrorCode.RESPONSE_NOT_SIGNED


def test_signed_info_whose_digest_value_is_not_base64_is_refused(document, fed_signer):
    root = parse_xml(sign_root(document, fed_signer[0]))
    root.find(f"{DS}Signature/{DS}SignedInfo/{DS}Reference/{DS}DigestValue").text = "not*base64"
    resign_signed_info(root, fed_signer[0])
    assert _code(root, [fed_signer[1]]) == ErrorCode.SIGNATURE_INVALID


def test_comment_inside_signed_info_is_refused_though_xmlsec_accepts_it(document, fed_signer):
    # exc-c14n without comments drops it: what is read and what is signed could differ
    root = parse_xml(sign_root(document, fed_signer[0]))
    digest_value = root.find(f"{DS}Signature/{DS}SignedInfo/{DS}Reference/{DS}DigestValue")
    text = digest_value.text
    digest_value.text = text[:10]
    comment = etree.Comment("x")
    comment.tail = text[10:]
    digest_value.append(comment)
    assert xmlsec_verifies(etree.tostring(root), fed_signer[1])
    assert _code(root, [fed_signer[1]]) == ErrorCode.SIGNATURE_PROFILE_VIOLATION


def test_processing_instruction_inside_signature_is_refused(document, fed_signer):
    root = parse_xml(sign_root(document, fed_signer[0]))
    root.find(DS + "Signature").append(etree.ProcessingInstruction("x"))
    assert _code(root, [fed_signer[1]]) == ErrorCode.SIGNATURE_PROFILE_VIOLATION


def test_enveloped_transform_alone_is_refused_though_xmlsec_accepts_it(document, fed_signer):
    # xmlsec then digests inclusive C14N 1.0, outside the profile
    data = sign_root(document, fed_signer[0], transforms=(xmlsec.Transform.ENVELOPED,))
    assert xmlsec_verifies(data, fed_signer[1])
    assert _code(parse_xml(data), [fed_signer[1]]) == ErrorCode.SIGNATURE_PROFILE_VIOLATION


def test_transforms_in_the_other_order_are_refused(document, fed_signer):
    root = parse_xml(sign_root(document, fed_signer[0]))
    transforms = root.find(f"{DS}Signature/{DS}SignedInfo/{DS}Reference/{DS}Transforms")
    transforms.append(transforms[0])  # enveloped last
    resign_signed_info(root, fed_signer[0])
    assert _code(root, [fed_signer[1]]) == ErrorCode.SIGNATURE_PROFILE_VIOLATION


def test_enveloped_transform_with_content_is_refused(document, fed_signer):
    root = parse_xml(sign_root(document, fed_signer[0]))
    etree.SubElement(
        root.find(f"{DS}Signature/{DS}SignedInfo/{DS}Reference/{DS}Transforms")[0], DS + "XPath"
    ).text = "1"
    resign_signed_info(root, fed_signer[0])
    assert _code(root, [fed_signer[1]]) == ErrorCode.SIGNATURE_PROFILE_VIOLATION


@pytest.mark.parametrize("where", ["digest", "signed info"])
def test_anything_but_inclusive_namespaces_in_a_c14n_method_is_refused(where, document, fed_signer):
    root = parse_xml(sign_root(document, fed_signer[0], digest_prefixes=["md"], signed_info_prefixes=["ds"]))
    signed_info = root.find(f"{DS}Signature/{DS}SignedInfo")
    method = (
        signed_info.find(f"{DS}Reference/{DS}Transforms")[1]
        if where == "digest"
        else signed_info.find(DS + "CanonicalizationMethod")
    )
    etree.SubElement(method, DS + "XPath").text = "1"
    resign_signed_info(root, fed_signer[0])
    assert _code(root, [fed_signer[1]]) == ErrorCode.SIGNATURE_PROFILE_VIOLATION


def test_signature_value_before_signed_info_is_refused(document, fed_signer):
    # found by the differential fuzzer: read by name, it verified; python-xmlsec refuses it
    root = parse_xml(sign_root(document, fed_signer[0]))
    signature = root.find(DS + "Signature")
    signature.insert(0, signature.find(DS + "SignatureValue"))
    assert not xmlsec_verifies(etree.tostring(root), fed_signer[1])
    assert _code(root, [fed_signer[1]]) == ErrorCode.SIGNATURE_PROFILE_VIOLATION


def test_key_info_before_signature_value_is_refused(document, fed_signer):
    root = parse_xml(sign_root(document, fed_signer[0]))
    signature = root.find(DS + "Signature")
    etree.SubElement(signature, DS + "KeyInfo")
    signature.insert(1, signature[2])
    assert _code(root, [fed_signer[1]]) == ErrorCode.SIGNATURE_PROFILE_VIOLATION


def test_signature_method_with_a_child_element_is_refused(document, fed_signer):
    root = parse_xml(sign_root(document, fed_signer[0]))
    method = root.find(f"{DS}Signature/{DS}SignedInfo/{DS}SignatureMethod")
    etree.SubElement(method, DS + "HMACOutputLength").text = "8"
    resign_signed_info(root, fed_signer[0])
    assert _code(root, [fed_signer[1]]) == ErrorCode.SIGNATURE_PROFILE_VIOLATION


def test_second_signature_value_is_refused(document, fed_signer):
    root = parse_xml(sign_root(document, fed_signer[0]))
    value = root.find(f"{DS}Signature/{DS}SignatureValue")
    value.addnext(etree.fromstring(etree.tostring(value)))
    assert _code(root, [fed_signer[1]]) == ErrorCode.SIGNATURE_PROFILE_VIOLATION


def test_relative_namespace_inside_the_signature_is_refused(document, fed_signer):
    # the digest's canonicalisation does not walk the Signature, so it is checked apart
    data = sign_root(document, fed_signer[0]).replace(
        b"<ds:SignatureValue>", b'<ds:SignatureValue xmlns:p="relative">', 1
    )
    assert _code(parse_xml(data, whole_document_signed=True), [fed_signer[1]]) == ErrorCode.XML_NAMESPACE_INVALID


def test_relative_namespace_elsewhere_is_refused_by_the_canonicalisation(document, fed_signer):
    data = sign_root(document, fed_signer[0]).replace(b"<md:Extensions>", b'<md:Extensions xmlns:p="relative">', 1)
    assert _code(parse_xml(data, whole_document_signed=True), [fed_signer[1]]) == ErrorCode.SIGNATURE_INVALID


def test_signature_deeper_than_the_root_is_not_the_roots(document, fed_signer):
    root = parse_xml(sign_root(document, fed_signer[0]))
    root[1].append(root.find(DS + "Signature"))
    assert _code(root, [fed_signer[1]]) == ErrorCode.RESPONSE_NOT_SIGNED


def test_wrapped_copy_with_the_roots_id_cannot_take_the_signature(document, fed_signer):
    original = parse_xml(sign_root(document, fed_signer[0]))
    evil = etree.Element(original.tag, ID=original.get("ID"), validUntil="2099-01-01T00:00:00Z", nsmap=original.nsmap)
    evil.append(original.find(DS + "Signature"))
    etree.SubElement(evil, "{{{}}}Extensions".format(NS["md"])).append(original)
    assert _code(evil, [fed_signer[1]]) == ErrorCode.SIGNATURE_INVALID
