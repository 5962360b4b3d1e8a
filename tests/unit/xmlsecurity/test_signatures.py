# SPDX-License-Identifier: Apache-2.0
"""Enveloped signatures (ekn_saml.xmlsecurity.signatures): the profile, the bounded order, keys from metadata only.

Real signatures throughout (tests/saml_factory.py), and the real Swedish eID
response in tests/data/swedish-eid/.
"""

from __future__ import annotations

import pytest
import xmlsec
from lxml import etree

from ekn_saml.errors import ErrorCode, SamlError
from ekn_saml.xmlsecurity import NS, XmlCrypto, parse_xml, verify_enveloped
from ekn_saml.xmlsecurity.signatures import MAX_INCLUSIVE_PREFIXES, signature_parts, verify_signed_info

from acs_helpers import response_spec
from saml_factory import custom_sign
from xml_cases import SWEDISH, built, code_of

# ------------------------------------------------------------ the real Swedish eID response


def test_real_swedish_response_verifies(swedish_signer):
    root = parse_xml((SWEDISH / "signed-response.xml").read_bytes())
    verify_enveloped(root, [swedish_signer], schema=True)


def test_real_swedish_response_with_a_bad_digest_is_refused(swedish_signer):
    root = parse_xml((SWEDISH / "signed-baddigest-response.xml").read_bytes())
    assert code_of(verify_enveloped, root, [swedish_signer]) == ErrorCode.SIGNATURE_INVALID


def test_real_swedish_response_is_refused_with_another_key(swedish_signer, idp_keys):
    root = parse_xml((SWEDISH / "signed-response.xml").read_bytes())
    assert code_of(verify_enveloped, root, [idp_keys[1]]) == ErrorCode.SIGNATURE_INVALID


def test_rollover_second_metadata_key_verifies(swedish_signer, idp_keys):
    root = parse_xml((SWEDISH / "signed-response.xml").read_bytes())
    verify_enveloped(root, [idp_keys[1], swedish_signer])


def test_no_trusted_key_is_its_owncode_of(response_factory):
    root = built(response_factory, response_spec())
    assert code_of(verify_enveloped, root, []) == ErrorCode.NO_TRUSTED_KEY


# ------------------------------------------------------------ signatures


def test_signed_response_verifies(response_factory, idp_keys):
    verify_enveloped(built(response_factory, response_spec()), [idp_keys[1]], schema=True)


def test_signed_info_is_verified_with_the_signatures_own_algorithm(response_factory, idp_keys):
    """A signature the profile accepted is verified with exactly the algorithm it names, nothing else."""
    import dataclasses

    root = built(response_factory, response_spec())
    parts = signature_parts(root, root.find("ds:Signature", NS))
    assert verify_signed_info(parts, [idp_keys[1]]) is idp_keys[1]
    told_otherwise = dataclasses.replace(parts, algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha512")
    with pytest.raises(SamlError) as caught:
        verify_signed_info(told_otherwise, [idp_keys[1]])
    assert caught.value.code == ErrorCode.SIGNATURE_INVALID


def test_attackers_certificate_in_keyinfo_is_never_used(response_factory, idp_keys, attacker_keys):
    key, cert = attacker_keys
    root = built(
        response_factory,
        response_spec(sign_response=False, post_process=lambda r: custom_sign(r, key, key_info_cert=cert)),
    )
    assert code_of(verify_enveloped, root, [idp_keys[1]]) == ErrorCode.SIGNATURE_INVALID


def test_external_reference_is_refused(response_factory, idp_keys):
    def point_away(r):
        r.find("ds:Signature/ds:SignedInfo/ds:Reference", NS).set("URI", "http://attacker.example/doc.xml")

    root = built(response_factory, response_spec(post_process=point_away))
    assert code_of(verify_enveloped, root, [idp_keys[1]]) == ErrorCode.SIGNATURE_PROFILE_VIOLATION


def test_retrieval_method_in_keyinfo_is_refused(response_factory, idp_keys):
    def retrieve(r):
        key_info = etree.SubElement(r.find("ds:Signature", NS), "{{{}}}KeyInfo".format(NS["ds"]))
        etree.SubElement(key_info, "{{{}}}RetrievalMethod".format(NS["ds"]), URI="http://attacker.example/key")

    root = built(response_factory, response_spec(post_process=retrieve))
    assert code_of(verify_enveloped, root, [idp_keys[1]]) == ErrorCode.SIGNATURE_KEYINFO_FORBIDDEN


def test_signed_but_schema_invalid_element_is_refused_before_the_cryptography(response_factory, idp_keys):
    root = built(response_factory, response_spec(mutate_response=lambda r: r.set("Extra", "x")))
    verify_enveloped(root, [idp_keys[1]])  # the signature itself is good
    assert code_of(verify_enveloped, root, [idp_keys[1]], schema=True) == ErrorCode.SCHEMA_INVALID


# ------------------------------------------------------------ bounded work: SignedInfo before any digest


class _CountingCrypto(XmlCrypto):
    """The in-process engine, counting the digests it is asked to make."""

    def __init__(self) -> None:
        self.digests = 0

    def verify(self, element, parts, key):
        self.digests += 1
        super().verify(element, parts, key)


def test_a_forged_signature_value_costs_no_digest(response_factory, idp_keys):
    """The SignatureValue over SignedInfo is checked first: a signer we do not trust never gets a digest made."""
    root = built(response_factory, response_spec())
    value = root.find("ds:Signature/ds:SignatureValue", NS)
    value.text = value.text[8:] + value.text[:8]
    crypto = _CountingCrypto()
    assert code_of(verify_enveloped, root, [idp_keys[1]], crypto) == ErrorCode.SIGNATURE_INVALID
    assert crypto.digests == 0


def test_every_key_is_tried_on_signed_info_and_one_digest_is_made(
    response_factory, idp_keys, attacker_keys, sp_encryption
):
    """IdP key rollover: several metadata keys cost one SignedInfo check each, and the one that verifies one digest."""
    crypto = _CountingCrypto()
    verify_enveloped(
        built(response_factory, response_spec()), [attacker_keys[1], sp_encryption[1], idp_keys[1]], crypto
    )
    assert crypto.digests == 1


def test_a_changed_body_under_a_valid_signed_info_fails_the_digest(response_factory, idp_keys):
    root = built(response_factory, response_spec())
    root.set("Destination", "https://evil.example/saml/acs")
    crypto = _CountingCrypto()
    assert code_of(verify_enveloped, root, [idp_keys[1]], crypto) == ErrorCode.SIGNATURE_INVALID
    assert crypto.digests == 1


def _sign_with_prefixes(element, key, *, digest_prefixes=None, info_prefixes=None):
    signature = xmlsec.template.create(element, xmlsec.Transform.EXCL_C14N, xmlsec.Transform.RSA_SHA256, ns="ds")
    element.find("saml:Issuer", NS).addnext(signature)
    reference = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri="#" + element.get("ID"))
    xmlsec.template.add_transform(reference, xmlsec.Transform.ENVELOPED)
    exclusive = xmlsec.template.add_transform(reference, xmlsec.Transform.EXCL_C14N)
    if digest_prefixes is not None:
        xmlsec.template.transform_add_c14n_inclusive_namespaces(exclusive, digest_prefixes)
    if info_prefixes is not None:
        method = signature.find("ds:SignedInfo/ds:CanonicalizationMethod", NS)
        xmlsec.template.transform_add_c14n_inclusive_namespaces(method, info_prefixes)
    xmlsec.tree.add_ids(element, ["ID"])
    ctx = xmlsec.SignatureContext()
    ctx.key = key.key
    ctx.sign(signature)


def _assertion_in_a_response_declaring(response_factory, prefix="ext"):
    """A plain assertion inside a Response that declares ``prefix``, which the assertion does not use."""
    spec = response_spec(sign_response=False, sign_assertion=False, encrypt=False)
    root = response_factory.build(spec)
    carrier = etree.Element(root.tag, nsmap={**root.nsmap, prefix: "urn:example:inherited"})
    for name, value in root.attrib.items():
        carrier.set(name, value)
    carrier.extend(list(root))
    return carrier


def test_an_inherited_namespace_named_by_inclusive_namespaces_is_part_of_the_digest(response_factory, idp_keys):
    """An element below the root: exc-c14n renders a PrefixList namespace declared above it, as xmlsec does."""
    root = _assertion_in_a_response_declaring(response_factory)
    assertion = root.find("saml:Assertion", NS)
    _sign_with_prefixes(assertion, idp_keys[0], digest_prefixes=["ext"], info_prefixes=["ext"])
    root = parse_xml(etree.tostring(root))
    assertion = root.find("saml:Assertion", NS)
    # python-xmlsec's own verification agrees with ours
    xmlsec.tree.add_ids(assertion, ["ID"])
    ctx = xmlsec.SignatureContext()
    ctx.key = idp_keys[1].key
    ctx.verify(assertion.find("ds:Signature", NS))
    verify_enveloped(assertion, [idp_keys[1]])


def test_an_inherited_namespace_changed_after_signing_breaks_the_digest(response_factory, idp_keys):
    root = _assertion_in_a_response_declaring(response_factory)
    assertion = root.find("saml:Assertion", NS)
    _sign_with_prefixes(assertion, idp_keys[0], digest_prefixes=["ext"])
    data = etree.tostring(root).replace(b"urn:example:inherited", b"urn:example:changed")
    assertion = parse_xml(data).find("saml:Assertion", NS)
    assert code_of(verify_enveloped, assertion, [idp_keys[1]]) == ErrorCode.SIGNATURE_INVALID


def test_a_long_prefix_list_is_refused_before_canonicalisation(response_factory, idp_keys):
    """SignedInfo is canonicalised before any key has verified it: its PrefixList is capped."""
    spec = response_spec(sign_response=False)
    root = response_factory.build(spec)
    prefixes = [f"p{i}" for i in range(MAX_INCLUSIVE_PREFIXES + 1)]
    _sign_with_prefixes(root, idp_keys[0], info_prefixes=prefixes)
    assert (
        code_of(verify_enveloped, parse_xml(etree.tostring(root)), [idp_keys[1]])
        == ErrorCode.SIGNATURE_PROFILE_VIOLATION
    )


def test_a_prefix_list_at_the_cap_verifies(response_factory, idp_keys):
    root = response_factory.build(response_spec(sign_response=False))
    _sign_with_prefixes(root, idp_keys[0], info_prefixes=[f"p{i}" for i in range(MAX_INCLUSIVE_PREFIXES)])
    verify_enveloped(parse_xml(etree.tostring(root)), [idp_keys[1]])


def test_inclusive_namespaces_with_content_is_refused(response_factory, idp_keys):
    root = response_factory.build(response_spec(sign_response=False))
    _sign_with_prefixes(root, idp_keys[0], info_prefixes=["ds"])
    inclusive = root.find("ds:Signature/ds:SignedInfo/ds:CanonicalizationMethod", NS)[0]
    etree.SubElement(inclusive, "{urn:x}extra")
    assert (
        code_of(verify_enveloped, parse_xml(etree.tostring(root)), [idp_keys[1]])
        == ErrorCode.SIGNATURE_PROFILE_VIOLATION
    )
