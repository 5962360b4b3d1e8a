# SPDX-License-Identifier: Apache-2.0
"""Keys (ekn_saml.xmlsecurity.keys): a certificate from metadata and from a PEM file are the same key."""

from __future__ import annotations

from ekn_saml.xmlsecurity import PublicKey, verify_enveloped

from acs_helpers import response_spec
from xml_cases import built


def test_pem_and_metadata_forms_of_a_certificate_verify_alike(response_factory, idp_keys):
    root = built(response_factory, response_spec())
    from_metadata = PublicKey.from_base64_der(idp_keys[1].base64)
    assert from_metadata.sha256_fingerprint == idp_keys[1].sha256_fingerprint
    verify_enveloped(root, [from_metadata])


def test_certificate_with_a_bad_version_field_is_a_value_error(idp_keys):
    """Found by the metadata fuzzer: cryptography's InvalidVersion is not a ValueError."""
    import base64

    import pytest

    from ekn_saml.xmlsecurity import PublicKey

    der = bytearray(idp_keys[1].der)
    der[der.index(bytes([0xA0, 0x03, 0x02, 0x01, 0x02])) + 4] = 0x0A  # version v3 -> "v11"
    with pytest.raises(ValueError):
        PublicKey.from_base64_der(base64.b64encode(bytes(der)).decode())
