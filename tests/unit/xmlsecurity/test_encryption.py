# SPDX-License-Identifier: Apache-2.0
"""Encrypted assertions (ekn_saml.xmlsecurity.encryption): any of our keys, the wrapper's shape checked first."""

from __future__ import annotations

import pathlib

import pytest
from lxml import etree

from ekn_saml.errors import ErrorCode
from ekn_saml.xmlsecurity import NS, PublicKey, decrypt_element, verify_enveloped

from acs_helpers import response_spec
from saml_factory import A
from xml_cases import built, code_of


def test_decrypts_with_the_second_of_several_keys(response_factory, key_dir, sp_decryption_keys):
    old_cert = PublicKey.from_pem(pathlib.Path(f"{key_dir}/sp-encryption-old.crt").read_bytes())
    response_factory.sp_encryption_cert = old_cert
    root = built(response_factory, response_spec())
    assertion = decrypt_element(root.find("saml:EncryptedAssertion", NS), sp_decryption_keys)
    assert assertion.tag == A + "Assertion"


@pytest.mark.parametrize("algorithm", ["aes128-gcm", "aes256-gcm", "aes128-cbc", "aes256-cbc"])
def test_decrypted_assertion_keeps_its_signature(response_factory, sp_decryption_keys, idp_keys, algorithm):
    root = built(response_factory, response_spec(data_encryption=algorithm))
    assertion = decrypt_element(root.find("saml:EncryptedAssertion", NS), sp_decryption_keys)
    verify_enveloped(assertion, [idp_keys[1]], schema=True)


def test_tampered_ciphertext_is_refused(response_factory, sp_decryption_keys):
    def flip(r):
        value = r.find("saml:EncryptedAssertion/xenc:EncryptedData/xenc:CipherData/xenc:CipherValue", NS)
        text = value.text.strip()
        value.text = text[:40] + ("A" if text[40] != "A" else "B") + text[41:]

    root = built(response_factory, response_spec(sign_response=False, post_process=flip))
    assert (
        code_of(decrypt_element, root.find("saml:EncryptedAssertion", NS), sp_decryption_keys)
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
    root = built(
        response_factory,
        response_spec(sign_response=False, post_process=_cipher_data_referring_to(path, target.as_uri())),
    )
    code = code_of(decrypt_element, root.find("saml:EncryptedAssertion", NS), sp_decryption_keys)
    assert code == ErrorCode.ENCRYPTION_PROFILE_VIOLATION


def test_foreign_element_beside_encrypted_data_is_refused(response_factory, sp_decryption_keys):
    def smuggle(r):
        etree.SubElement(r.find("saml:EncryptedAssertion", NS), A + "Assertion", ID="_smuggled")

    root = built(response_factory, response_spec(sign_response=False, post_process=smuggle))
    code = code_of(decrypt_element, root.find("saml:EncryptedAssertion", NS), sp_decryption_keys)
    assert code == ErrorCode.ENCRYPTION_PROFILE_VIOLATION


def test_two_encrypted_data_are_refused(response_factory, sp_decryption_keys):
    def two(r):
        container = r.find("saml:EncryptedAssertion", NS)
        container.append(etree.fromstring(etree.tostring(container.find("xenc:EncryptedData", NS))))

    root = built(response_factory, response_spec(sign_response=False, post_process=two))
    code = code_of(decrypt_element, root.find("saml:EncryptedAssertion", NS), sp_decryption_keys)
    assert code == ErrorCode.ENCRYPTION_PROFILE_VIOLATION
