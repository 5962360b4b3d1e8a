# SPDX-License-Identifier: Apache-2.0
"""The AuthnRequest is what the Swedish DP §5.3 asks for, and its Redirect signature verifies."""

from __future__ import annotations

import base64
import zlib
from urllib.parse import parse_qsl, urlsplit

import pytest
from lxml import etree

from ekn_saml.authn_request import build_authn_request, new_id, post_fields, redirect_url
from ekn_saml.xmlsecurity import (
    ECDSA_SHA256,
    NS,
    RSA_SHA256,
    PrivateKey,
    PublicKey,
    parse_xml,
    verify_bytes,
    verify_enveloped,
)

LOAS = ("http://id.elegnamnden.se/loa/1.0/loa3", "http://id.swedenconnect.se/loa/1.0/uncertified-loa3")


def _sp_signing_pair(key_dir):
    import os

    with open(os.path.join(key_dir, "sp-signing.crt"), "rb") as fh:
        cert = PublicKey.from_pem(fh.read())
    return PrivateKey.from_file(os.path.join(key_dir, "sp-signing.key")), cert


@pytest.fixture
def request_xml():
    return build_authn_request(
        request_id=new_id(),
        issuer="https://sp.example.test/sp",
        destination="https://idp.example.test/sso",
        acs_url="https://sp.example.test/saml/acs",
        loa=LOAS,
        force_authn=False,
    )


def test_destination_is_set(request_xml):
    assert request_xml.get("Destination") == "https://idp.example.test/sso"


def test_force_authn_is_explicit_even_when_false(request_xml):
    assert request_xml.get("ForceAuthn") == "false"


def test_every_loa_is_requested_with_comparison_exact(request_xml):
    context = request_xml.find("samlp:RequestedAuthnContext", NS)
    assert context.get("Comparison") == "exact"
    assert tuple(r.text for r in context.findall("saml:AuthnContextClassRef", NS)) == LOAS


def test_acs_url_and_post_binding_are_requested(request_xml):
    assert request_xml.get("AssertionConsumerServiceURL") == "https://sp.example.test/saml/acs"
    assert request_xml.get("ProtocolBinding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"


def test_ids_are_unique_and_not_starting_with_a_digit():
    ids = {new_id() for _ in range(100)}
    assert len(ids) == 100 and all(i[0] == "_" for i in ids)


def test_redirect_url_carries_a_verifiable_rsa_sha256_signature(request_xml, key_dir):
    key, cert = _sp_signing_pair(key_dir)
    url = redirect_url("https://idp.example.test/sso", request_xml, "relay123", key)
    query = urlsplit(url).query
    signed, _, _signature = query.rpartition("&Signature=")
    params = dict(parse_qsl(query))
    assert params["SigAlg"] == RSA_SHA256
    assert verify_bytes(signed.encode(), base64.b64decode(params["Signature"]), [cert], RSA_SHA256)
    inflated = zlib.decompress(base64.b64decode(params["SAMLRequest"]), -15)
    assert etree.fromstring(inflated).get("ID") == request_xml.get("ID")


def test_post_binding_request_has_an_enveloped_signature(request_xml, key_dir):
    key, cert = _sp_signing_pair(key_dir)
    fields = post_fields(request_xml, "relay123", key)
    verify_enveloped(parse_xml(base64.b64decode(fields["SAMLRequest"])), [cert])


@pytest.fixture(scope="module")
def ec_signing_pair(tmp_path_factory):
    from ekn_saml.keygen import write_key_pair

    key_path, cert_path = write_key_pair(str(tmp_path_factory.mktemp("ec")), "sp-ec-signing", "test", key_type="ec")
    with open(cert_path, "rb") as fh:
        return PrivateKey.from_file(key_path), PublicKey.from_pem(fh.read())


def test_redirect_url_with_an_ec_key_carries_a_verifiable_ecdsa_sha256_signature(request_xml, ec_signing_pair):
    key, cert = ec_signing_pair
    query = urlsplit(redirect_url("https://idp.example.test/sso", request_xml, "relay123", key, ECDSA_SHA256)).query
    signed, _, _signature = query.rpartition("&Signature=")
    params = dict(parse_qsl(query))
    assert params["SigAlg"] == ECDSA_SHA256
    assert verify_bytes(signed.encode(), base64.b64decode(params["Signature"]), [cert], ECDSA_SHA256)


def test_post_binding_request_with_an_ec_key_is_signed_with_ecdsa_sha256(request_xml, ec_signing_pair):
    key, cert = ec_signing_pair
    fields = post_fields(request_xml, "relay123", key, ECDSA_SHA256)
    root = parse_xml(base64.b64decode(fields["SAMLRequest"]))
    verify_enveloped(root, [cert])
    assert root.find("ds:Signature/ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm") == ECDSA_SHA256


def test_base64_is_quoted_exactly_as_urlencode_quotes_it():
    import os
    from urllib.parse import urlencode

    from ekn_saml.authn_request import _quote_base64

    values = [base64.b64encode(os.urandom(n)).decode() for n in range(0, 300, 7)] + ["+/=" * 5]
    assert [_quote_base64(v) for v in values] == [urlencode([("k", v)])[2:] for v in values]
