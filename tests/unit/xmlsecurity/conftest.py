# SPDX-License-Identifier: Apache-2.0
"""Keys of the XML security tests: the real Swedish signer, and the SP's decryption keys (rollover set)."""

from __future__ import annotations

import pytest

from ekn_saml.xmlsecurity import PrivateKey, PublicKey

from xml_cases import SWEDISH


@pytest.fixture(scope="module")
def swedish_signer() -> PublicKey:
    return PublicKey.from_pem((SWEDISH / "signer.crt").read_bytes())


@pytest.fixture
def sp_decryption_keys(key_dir):
    return [
        PrivateKey.from_file(f"{key_dir}/sp-encryption.key"),
        PrivateKey.from_file(f"{key_dir}/sp-encryption-old.key"),
    ]
