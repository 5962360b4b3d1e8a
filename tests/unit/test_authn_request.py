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


# --- Extensions: umsg:UserMessage (UMSG 2) and psc:PrincipalSelection (PSC 2.1) ---------------

UMSG_NS = {"umsg": "http://id.swedenconnect.se/authn/1.0/user-message/ns"}
PSC_NS = {"psc": "http://id.swedenconnect.se/authn/1.0/principal-selection/ns"}
PNR = "urn:oid:1.2.752.29.4.13"


def _with_extensions(*extensions):
    from ekn_saml.authn_request import build_authn_request

    return build_authn_request(
        request_id=new_id(),
        issuer="https://sp.example.test/sp",
        destination="https://idp.example.test/sso",
        acs_url="https://sp.example.test/saml/acs",
        loa=LOAS,
        force_authn=True,
        extensions=extensions,
    )


def test_no_extensions_element_without_extensions(request_xml):
    assert request_xml.find("samlp:Extensions", NS) is None


def test_user_message_is_base64_of_utf8_per_language():
    from ekn_saml.authn_request import user_message

    element = user_message([("sv", "Logga in på EKN Online")])
    message = element.find("umsg:Message", UMSG_NS)
    assert message.get("{http://www.w3.org/XML/1998/namespace}lang") == "sv"
    assert base64.b64decode(message.text).decode("utf-8") == "Logga in på EKN Online"


def test_user_message_is_declared_plain_text():
    from ekn_saml.authn_request import user_message

    assert user_message([("en", "Log in")]).get("mimeType") == "text/plain"


def test_principal_selection_carries_each_match_value():
    from ekn_saml.authn_request import principal_selection

    element = principal_selection([(PNR, "198001012387")])
    assert [(m.get("Name"), m.text) for m in element.findall("psc:MatchValue", PSC_NS)] == [(PNR, "198001012387")]


@pytest.mark.parametrize("builder", ["user_message", "principal_selection"])
def test_an_empty_extension_is_refused(builder):
    import ekn_saml.authn_request as module

    with pytest.raises(ValueError):
        getattr(module, builder)([])


def test_request_with_both_extensions_passes_the_published_schemas():
    from ekn_saml.authn_request import principal_selection, user_message
    from ekn_saml.xml_schema import request_schema_problem

    request = _with_extensions(
        user_message([("sv", "Hej"), ("en", "Hi")]), principal_selection([(PNR, "198001012387")])
    )
    assert request_schema_problem(request) is None


def test_the_schema_refuses_a_user_message_without_language():
    from ekn_saml.authn_request import user_message
    from ekn_saml.xml_schema import request_schema_problem

    element = user_message([("sv", "Hej")])
    del element.find("umsg:Message", UMSG_NS).attrib["{http://www.w3.org/XML/1998/namespace}lang"]
    assert "SCHEMAV" in request_schema_problem(_with_extensions(element))


def test_the_schema_refuses_a_match_value_without_name():
    from ekn_saml.authn_request import principal_selection
    from ekn_saml.xml_schema import request_schema_problem

    element = principal_selection([(PNR, "198001012387")])
    del element.find("psc:MatchValue", PSC_NS).attrib["Name"]
    assert "SCHEMAV" in request_schema_problem(_with_extensions(element))


def test_the_schema_problem_quotes_no_value():
    from ekn_saml.authn_request import principal_selection
    from ekn_saml.xml_schema import request_schema_problem

    element = principal_selection([(PNR, "198001012387")])
    element.find("psc:MatchValue", PSC_NS).set("{urn:x}y", "z")
    etree.SubElement(element, "{urn:x}Unexpected").text = "198001012387"
    problem = request_schema_problem(_with_extensions(element))
    assert problem is not None and "198001012387" not in problem


def test_the_signature_comes_before_the_extensions(key_dir):
    from ekn_saml.authn_request import user_message

    key, cert = _sp_signing_pair(key_dir)
    request = _with_extensions(user_message([("sv", "Hej")]))
    signed = parse_xml(base64.b64decode(post_fields(request, "r", key)["SAMLRequest"]))
    assert [etree.QName(child).localname for child in signed][:3] == ["Issuer", "Signature", "Extensions"]
    verify_enveloped(signed, [cert])


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
