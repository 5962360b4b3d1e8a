# SPDX-License-Identifier: Apache-2.0
"""The in-process primitives of ekn_saml.xmlsecurity: keys, verification, decryption, schema.

Real signatures and encryption throughout (tests/saml_factory.py), and the
real Swedish eID response in tests/data/swedish-eid/.
"""

from __future__ import annotations

import pathlib
import subprocess
import tempfile

import pytest
import xmlsec
from lxml import etree

from ekn_saml import xml_schema, xmlsecurity
from ekn_saml.errors import ErrorCode, SamlError
from ekn_saml.xmlsecurity import NS, PrivateKey, PublicKey, check_schema, decrypt_element, parse_xml, verify_enveloped

from acs_helpers import response_spec
from saml_factory import A, ResponseSpec, custom_sign

SWEDISH = pathlib.Path(__file__).parents[1] / "data" / "swedish-eid"


def _code(call, *args, **kwargs) -> ErrorCode:
    with pytest.raises(SamlError) as caught:
        call(*args, **kwargs)
    return caught.value.code


@pytest.fixture(scope="module")
def swedish_signer() -> PublicKey:
    return PublicKey.from_pem((SWEDISH / "signer.crt").read_bytes())


def _built(factory, spec: ResponseSpec) -> etree._Element:
    # Parsed again, as a message arrives: lxml's find() cannot see the nodes
    # xmlsec creates in memory until the tree has been serialised and parsed.
    return parse_xml(etree.tostring(factory.build(spec)))


@pytest.fixture
def sp_decryption_keys(key_dir):
    return [
        PrivateKey.from_file(f"{key_dir}/sp-encryption.key"),
        PrivateKey.from_file(f"{key_dir}/sp-encryption-old.key"),
    ]


# ------------------------------------------------------------ the real Swedish eID response


def test_real_swedish_response_verifies(swedish_signer):
    root = parse_xml((SWEDISH / "signed-response.xml").read_bytes())
    verify_enveloped(root, [swedish_signer], schema=True)


def test_real_swedish_response_with_a_bad_digest_is_refused(swedish_signer):
    root = parse_xml((SWEDISH / "signed-baddigest-response.xml").read_bytes())
    assert _code(verify_enveloped, root, [swedish_signer]) == ErrorCode.SIGNATURE_INVALID


def test_real_swedish_response_is_refused_with_another_key(swedish_signer, idp_keys):
    root = parse_xml((SWEDISH / "signed-response.xml").read_bytes())
    assert _code(verify_enveloped, root, [idp_keys[1]]) == ErrorCode.SIGNATURE_INVALID


def test_rollover_second_metadata_key_verifies(swedish_signer, idp_keys):
    root = parse_xml((SWEDISH / "signed-response.xml").read_bytes())
    verify_enveloped(root, [idp_keys[1], swedish_signer])


# ------------------------------------------------------------ keys


def test_pem_and_metadata_forms_of_a_certificate_verify_alike(response_factory, idp_keys):
    root = _built(response_factory, response_spec())
    from_metadata = PublicKey.from_base64_der(idp_keys[1].base64)
    assert from_metadata.sha256_fingerprint == idp_keys[1].sha256_fingerprint
    verify_enveloped(root, [from_metadata])


def test_no_trusted_key_is_its_own_code(response_factory):
    root = _built(response_factory, response_spec())
    assert _code(verify_enveloped, root, []) == ErrorCode.NO_TRUSTED_KEY


# ------------------------------------------------------------ signatures


def test_signed_response_verifies(response_factory, idp_keys):
    verify_enveloped(_built(response_factory, response_spec()), [idp_keys[1]], schema=True)


def test_signed_info_is_verified_with_the_signatures_own_algorithm(response_factory, idp_keys):
    """A signature the profile accepted is verified with exactly the algorithm it names, nothing else."""
    import dataclasses

    root = _built(response_factory, response_spec())
    parts = xmlsecurity.signature_parts(root, root.find("ds:Signature", NS))
    assert xmlsecurity.verify_signed_info(parts, [idp_keys[1]]) is idp_keys[1]
    told_otherwise = dataclasses.replace(parts, algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha512")
    with pytest.raises(SamlError) as caught:
        xmlsecurity.verify_signed_info(told_otherwise, [idp_keys[1]])
    assert caught.value.code == ErrorCode.SIGNATURE_INVALID


def test_attackers_certificate_in_keyinfo_is_never_used(response_factory, idp_keys, attacker_keys):
    key, cert = attacker_keys
    root = _built(
        response_factory,
        response_spec(sign_response=False, post_process=lambda r: custom_sign(r, key, key_info_cert=cert)),
    )
    assert _code(verify_enveloped, root, [idp_keys[1]]) == ErrorCode.SIGNATURE_INVALID


def test_external_reference_is_refused(response_factory, idp_keys):
    def point_away(r):
        r.find("ds:Signature/ds:SignedInfo/ds:Reference", NS).set("URI", "http://attacker.example/doc.xml")

    root = _built(response_factory, response_spec(post_process=point_away))
    assert _code(verify_enveloped, root, [idp_keys[1]]) == ErrorCode.SIGNATURE_PROFILE_VIOLATION


def test_retrieval_method_in_keyinfo_is_refused(response_factory, idp_keys):
    def retrieve(r):
        key_info = etree.SubElement(r.find("ds:Signature", NS), "{{{}}}KeyInfo".format(NS["ds"]))
        etree.SubElement(key_info, "{{{}}}RetrievalMethod".format(NS["ds"]), URI="http://attacker.example/key")

    root = _built(response_factory, response_spec(post_process=retrieve))
    assert _code(verify_enveloped, root, [idp_keys[1]]) == ErrorCode.SIGNATURE_KEYINFO_FORBIDDEN


# ------------------------------------------------------------ schema


def test_schema_accepts_a_valid_response(response_factory):
    check_schema(_built(response_factory, response_spec()))


def test_schema_refuses_an_unknown_attribute(response_factory):
    root = _built(response_factory, response_spec(mutate_response=lambda r: r.set("Extra", "x")))
    assert _code(check_schema, root) == ErrorCode.SCHEMA_INVALID


def test_schema_checks_an_element_as_its_own_root(response_factory):
    """A decrypted assertion is checked on its own, against the assertion schema."""
    root = _built(response_factory, response_spec(encrypt=False))
    assertion = root.find("saml:Assertion", NS)
    check_schema(assertion)
    etree.SubElement(assertion, A + "Unknown")
    assert _code(check_schema, assertion) == ErrorCode.SCHEMA_INVALID


def test_signed_but_schema_invalid_element_is_refused_before_the_cryptography(response_factory, idp_keys):
    root = _built(response_factory, response_spec(mutate_response=lambda r: r.set("Extra", "x")))
    verify_enveloped(root, [idp_keys[1]])  # the signature itself is good
    assert _code(verify_enveloped, root, [idp_keys[1]], schema=True) == ErrorCode.SCHEMA_INVALID


def test_schema_is_compiled_once():
    assert xmlsecurity.saml_schema() is xmlsecurity.saml_schema()


def test_schema_imports_never_reach_the_network(tmp_path):
    resolver = xml_schema._LocalSchemas(xml_schema.schema_directory())
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(resolver)
    xsd = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t">'
        '<xs:import namespace="urn:x" schemaLocation="http://attacker.example/evil.xsd"/></xs:schema>'
    )
    document = etree.fromstring(xsd.encode(), parser, base_url=str(tmp_path / "t.xsd"))
    with pytest.raises(etree.XMLSchemaParseError):
        etree.XMLSchema(document.getroottree())


def test_real_swedish_response_passes_the_schema():
    check_schema(parse_xml((SWEDISH / "signed-response.xml").read_bytes()))


# ------------------------------------------------------------ the safe parse


@pytest.mark.parametrize("attribute", ['p:ID="_b"', 'p:Id="_b"', 'p:ID = "_b"', "p:ID\n='_b'"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_namespaced_id_attribute_is_refused(attribute, encoding):
    # utf-16: the bytes cannot be searched for it, so the full check must run
    xml = f'<?xml version="1.0" encoding="{encoding}"?><a ID="_a"><b xmlns:p="urn:x" {attribute}/></a>'
    assert _code(parse_xml, xml.encode(encoding)) == ErrorCode.XML_DUPLICATE_ID


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("names", [("ID", "ID"), ("ID", "Id"), ("Id", "Id")])
def test_an_id_value_twice_is_refused(encoding, names):
    xml = f'<?xml version="1.0" encoding="{encoding}"?><a {names[0]}="_a"><b {names[1]}="_a"/></a>'
    assert _code(parse_xml, xml.encode(encoding)) == ErrorCode.XML_DUPLICATE_ID


def test_text_that_looks_like_a_namespaced_id_is_not_refused():
    root = parse_xml(b'<a ID="_a"><b>see p:ID="x" in the text</b><c ID="_c"/></a>')
    assert root.get("ID") == "_a"


@pytest.mark.parametrize(
    "document",
    [
        b'<!DOCTYPE r [<!ENTITY a "b">]><r/>',
        b'\xef\xbb\xbf<?xml version="1.0"?>\n<?pi x?><!-- a comment -->\n<!DOCTYPE r><r/>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "b">]><r/>'.encode("utf-16"),
        "<!DOCTYPE r><r/>".encode("utf-16-le"),
        "<!DOCTYPE r><r/>".encode("utf-16-be"),
    ],
    ids=["plain", "after-prolog", "utf-16-bom", "utf-16-le", "utf-16-be"],
)
def test_a_dtd_is_refused_before_the_parser_reads_it(monkeypatch, document):
    def parser_reached(*args, **kwargs):
        raise AssertionError("a DTD reached libxml2")

    monkeypatch.setattr(xmlsecurity.etree, "fromstring", parser_reached)
    assert _code(parse_xml, document) == ErrorCode.XML_DTD_FORBIDDEN


def test_doctype_text_inside_a_comment_is_not_a_dtd():
    assert parse_xml(b"<!-- <!DOCTYPE r> --><r/>").tag == "r"


def test_doctype_after_the_root_element_is_malformed():
    assert _code(parse_xml, b"<r/><!DOCTYPE r>") == ErrorCode.XML_MALFORMED


def test_an_undeclared_entity_reference_cannot_be_parsed():
    # parse_xml looks for no entity node: without a DTD libxml2 refuses any reference
    assert _code(parse_xml, b"<a>&ext;</a>") == ErrorCode.XML_MALFORMED


@pytest.mark.parametrize("declaration", ['xmlns:p="relative"', 'xmlns="relative"', 'xmlns=""'])
def test_relative_namespace_declaration_is_refused(declaration):
    assert _code(parse_xml, f"<a><b {declaration}/></a>".encode()) == ErrorCode.XML_NAMESPACE_INVALID


# ------------------------------------------------------------ decryption


def test_decrypts_with_the_second_of_several_keys(response_factory, key_dir, sp_decryption_keys):
    old_cert = PublicKey.from_pem(pathlib.Path(f"{key_dir}/sp-encryption-old.crt").read_bytes())
    response_factory.sp_encryption_cert = old_cert
    root = _built(response_factory, response_spec())
    assertion = decrypt_element(root.find("saml:EncryptedAssertion", NS), sp_decryption_keys)
    assert assertion.tag == A + "Assertion"


@pytest.mark.parametrize("algorithm", ["aes128-gcm", "aes256-gcm", "aes128-cbc", "aes256-cbc"])
def test_decrypted_assertion_keeps_its_signature(response_factory, sp_decryption_keys, idp_keys, algorithm):
    root = _built(response_factory, response_spec(data_encryption=algorithm))
    assertion = decrypt_element(root.find("saml:EncryptedAssertion", NS), sp_decryption_keys)
    verify_enveloped(assertion, [idp_keys[1]], schema=True)


def test_tampered_ciphertext_is_refused(response_factory, sp_decryption_keys):
    def flip(r):
        value = r.find("saml:EncryptedAssertion/xenc:EncryptedData/xenc:CipherData/xenc:CipherValue", NS)
        text = value.text.strip()
        value.text = text[:40] + ("A" if text[40] != "A" else "B") + text[41:]

    root = _built(response_factory, response_spec(sign_response=False, post_process=flip))
    assert (
        _code(decrypt_element, root.find("saml:EncryptedAssertion", NS), sp_decryption_keys)
        == ErrorCode.DECRYPTION_FAILED
    )


def _cipher_data_referring_to(path: str, target: str):
    def refer(r):
        cipher_data = r.find(path, NS)
        for child in list(cipher_data):
            cipher_data.remove(child)
        etree.SubElement(cipher_data, "{{{}}}CipherReference".format(NS["xenc"]), URI=target)

    return refer


@pytest.mark.parametrize(
    "path",
    [
        "saml:EncryptedAssertion/xenc:EncryptedData/xenc:CipherData",
        "saml:EncryptedAssertion//xenc:EncryptedKey/xenc:CipherData",
    ],
    ids=["EncryptedData", "EncryptedKey"],
)
def test_cipher_reference_is_refused_before_any_decryption(tmp_path, response_factory, sp_decryption_keys, path):
    # Without the rule xmlsec opens the named file (seen with strace) and the
    # answer would be DECRYPTION_FAILED: the code shows it was refused first.
    target = tmp_path / "cipher.bin"
    target.write_bytes(b"\0" * 64)
    root = _built(
        response_factory,
        response_spec(sign_response=False, post_process=_cipher_data_referring_to(path, target.as_uri())),
    )
    code = _code(decrypt_element, root.find("saml:EncryptedAssertion", NS), sp_decryption_keys)
    assert code == ErrorCode.ENCRYPTION_PROFILE_VIOLATION


def test_foreign_element_beside_encrypted_data_is_refused(response_factory, sp_decryption_keys):
    def smuggle(r):
        etree.SubElement(r.find("saml:EncryptedAssertion", NS), A + "Assertion", ID="_smuggled")

    root = _built(response_factory, response_spec(sign_response=False, post_process=smuggle))
    code = _code(decrypt_element, root.find("saml:EncryptedAssertion", NS), sp_decryption_keys)
    assert code == ErrorCode.ENCRYPTION_PROFILE_VIOLATION


def test_two_encrypted_data_are_refused(response_factory, sp_decryption_keys):
    def two(r):
        container = r.find("saml:EncryptedAssertion", NS)
        container.append(etree.fromstring(etree.tostring(container.find("xenc:EncryptedData", NS))))

    root = _built(response_factory, response_spec(sign_response=False, post_process=two))
    code = _code(decrypt_element, root.find("saml:EncryptedAssertion", NS), sp_decryption_keys)
    assert code == ErrorCode.ENCRYPTION_PROFILE_VIOLATION


def test_in_process_work_starts_no_process_and_writes_no_file(
    monkeypatch, response_factory, sp_decryption_keys, idp_keys
):
    root = _built(response_factory, response_spec())

    def forbidden(*args, **kwargs):
        raise AssertionError("no subprocess or temporary file on the hot path")

    monkeypatch.setattr(subprocess, "Popen", forbidden)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", forbidden)
    monkeypatch.setattr(tempfile, "mkstemp", forbidden)
    verify_enveloped(root, [idp_keys[1]], schema=True)
    assertion = decrypt_element(root.find("saml:EncryptedAssertion", NS), sp_decryption_keys)
    verify_enveloped(assertion, [idp_keys[1]], schema=True)


def test_xmlsec_is_the_one_python_xmlsec():
    assert xmlsecurity.xmlsec is xmlsec


def test_certificate_with_a_bad_version_field_is_a_value_error(idp_keys):
    """Found by the metadata fuzzer: cryptography's InvalidVersion is not a ValueError."""
    import base64

    import pytest

    from ekn_saml.xmlsecurity import PublicKey

    der = bytearray(idp_keys[1].der)
    der[der.index(bytes([0xA0, 0x03, 0x02, 0x01, 0x02])) + 4] = 0x0A  # version v3 -> "v11"
    with pytest.raises(ValueError):
        PublicKey.from_base64_der(base64.b64encode(bytes(der)).decode())


# ------------------------------------------------------------ child lookups


_LOOKUP_DOC = b'<a xmlns="urn:x" xmlns:y="urn:y"><b><c/><c>2</c><y:c/></b><b><c>3</c></b><y:b><c/></y:b><!-- c --></a>'


@pytest.mark.parametrize("tag", ["{urn:x}b", "{urn:y}b", "{urn:x}c", "{urn:x}none", "b"])
def test_children_and_child_find_what_findall_and_find_find(tag):
    root = etree.fromstring(_LOOKUP_DOC)
    assert xmlsecurity.children(root, tag) == root.findall(tag)
    assert xmlsecurity.child(root, tag) is root.find(tag)


@pytest.mark.parametrize(
    "tags", [("{urn:x}b", "{urn:x}c"), ("{urn:y}b", "{urn:x}c"), ("{urn:x}b", "{urn:y}c"), ("{urn:x}b", "{urn:x}none")]
)
def test_children_at_finds_what_a_findall_path_finds(tags):
    root = etree.fromstring(_LOOKUP_DOC)
    assert xmlsecurity.children_at(root, *tags) == root.findall("/".join(tags))


def test_every_data_encryption_name_has_one_algorithm_and_one_transform():
    # the settings name them without importing xmlsec (their problems show before it loads)
    from ekn_saml.settings import DATA_ENCRYPTIONS

    names = set(xmlsecurity.DATA_ENCRYPTION_NAMES.values())
    assert names == set(DATA_ENCRYPTIONS) == set(xmlsecurity._ENCRYPTION_TRANSFORMS)
    assert len(names) == len(xmlsecurity.DATA_ENCRYPTION_ALGORITHMS)


# ------------------------------------------------------------ bounded work: SignedInfo before any digest


class _CountingCrypto(xmlsecurity.XmlCrypto):
    """The in-process engine, counting the digests it is asked to make."""

    def __init__(self) -> None:
        self.digests = 0

    def verify(self, element, parts, key):
        self.digests += 1
        super().verify(element, parts, key)


def test_a_forged_signature_value_costs_no_digest(response_factory, idp_keys):
    """The SignatureValue over SignedInfo is checked first: a signer we do not trust never gets a digest made."""
    root = _built(response_factory, response_spec())
    value = root.find("ds:Signature/ds:SignatureValue", NS)
    value.text = value.text[8:] + value.text[:8]
    crypto = _CountingCrypto()
    assert _code(verify_enveloped, root, [idp_keys[1]], crypto) == ErrorCode.SIGNATURE_INVALID
    assert crypto.digests == 0


def test_every_key_is_tried_on_signed_info_and_one_digest_is_made(
    response_factory, idp_keys, attacker_keys, sp_encryption
):
    """IdP key rollover: several metadata keys cost one SignedInfo check each, and the one that verifies one digest."""
    crypto = _CountingCrypto()
    verify_enveloped(
        _built(response_factory, response_spec()), [attacker_keys[1], sp_encryption[1], idp_keys[1]], crypto
    )
    assert crypto.digests == 1


def test_a_changed_body_under_a_valid_signed_info_fails_the_digest(response_factory, idp_keys):
    root = _built(response_factory, response_spec())
    root.set("Destination", "https://evil.example/saml/acs")
    crypto = _CountingCrypto()
    assert _code(verify_enveloped, root, [idp_keys[1]], crypto) == ErrorCode.SIGNATURE_INVALID
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
    assert _code(verify_enveloped, assertion, [idp_keys[1]]) == ErrorCode.SIGNATURE_INVALID


def test_a_long_prefix_list_is_refused_before_canonicalisation(response_factory, idp_keys):
    """SignedInfo is canonicalised before any key has verified it: its PrefixList is capped."""
    spec = response_spec(sign_response=False)
    root = response_factory.build(spec)
    prefixes = [f"p{i}" for i in range(xmlsecurity.MAX_INCLUSIVE_PREFIXES + 1)]
    _sign_with_prefixes(root, idp_keys[0], info_prefixes=prefixes)
    assert (
        _code(verify_enveloped, parse_xml(etree.tostring(root)), [idp_keys[1]]) == ErrorCode.SIGNATURE_PROFILE_VIOLATION
    )


def test_a_prefix_list_at_the_cap_verifies(response_factory, idp_keys):
    root = response_factory.build(response_spec(sign_response=False))
    _sign_with_prefixes(root, idp_keys[0], info_prefixes=[f"p{i}" for i in range(xmlsecurity.MAX_INCLUSIVE_PREFIXES)])
    verify_enveloped(parse_xml(etree.tostring(root)), [idp_keys[1]])


def test_inclusive_namespaces_with_content_is_refused(response_factory, idp_keys):
    root = response_factory.build(response_spec(sign_response=False))
    _sign_with_prefixes(root, idp_keys[0], info_prefixes=["ds"])
    inclusive = root.find("ds:Signature/ds:SignedInfo/ds:CanonicalizationMethod", NS)[0]
    etree.SubElement(inclusive, "{urn:x}extra")
    assert (
        _code(verify_enveloped, parse_xml(etree.tostring(root)), [idp_keys[1]]) == ErrorCode.SIGNATURE_PROFILE_VIOLATION
    )


# ------------------------------------------------------------ what failures say in the log


def test_a_parse_failure_names_the_kind_of_error_not_the_text():
    """libxml2's message quotes the document; the detail says what and where only."""
    with pytest.raises(SamlError) as caught:
        parse_xml(b"<r><value>198001012387</valu></r>")
    assert caught.value.code == ErrorCode.XML_MALFORMED
    assert "ERR_TAG_NAME_MISMATCH" in caught.value.detail and "198001012387" not in caught.value.detail


def test_a_schema_failure_names_the_element_not_the_value(response_factory):
    """A personal identity number in a badly typed attribute once reached a warning this way."""
    root = response_factory.build(response_spec(sign_response=False, sign_assertion=False, encrypt=False))
    root.find("saml:Assertion", NS).set("IssueInstant", "198001012387")
    with pytest.raises(SamlError) as caught:
        check_schema(root)
    assert caught.value.code == ErrorCode.SCHEMA_INVALID
    assert "Assertion" in caught.value.detail and "198001012387" not in caught.value.detail
