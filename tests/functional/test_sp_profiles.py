# SPDX-License-Identifier: Apache-2.0
"""Two SP profiles in one app (TAR §3.4): the demo's default profile (BankID) and "orgid" (Expisoft).

Logins run through the development IdP (pysaml2) or, where one field must be
wrong, through responses signed with the development IdP's key and encrypted
by tests/saml_factory.py; every message is really signed and encrypted.
"""

from __future__ import annotations

import base64
import os
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree

from ekn_saml.errors import ErrorCode, SamlError
from ekn_saml.metadata.categories import ENTITY_CATEGORIES
from ekn_saml.metadata.schema import schema_errors
from ekn_saml.xmlsecurity import NS, PrivateKey, PublicKey, decrypt_element, parse_xml, verify_bytes

from acs_helpers import ORG_ATTRIBUTES, PERSON_ATTRIBUTES
from dev_app import acs_form, answer
from saml_factory import ResponseFactory, ResponseSpec
from testbed import LOA3_NONRESIDENT, UNCERTIFIED_LOA3

BASE = "https://sp.example.test"
DEFAULT = {"entity_id": f"{BASE}/sp", "acs": f"{BASE}/saml/acs", "keys": "sp"}
ORGID = {"entity_id": f"{BASE}/sp/orgid", "acs": f"{BASE}/saml/acs/orgid", "keys": "sp-orgid"}


def _cert(key_dir, stem) -> PublicKey:
    with open(os.path.join(key_dir, stem + ".crt"), "rb") as fh:
        return PublicKey.from_pem(fh.read())


def _key(key_dir, stem) -> PrivateKey:
    return PrivateKey.from_file(os.path.join(key_dir, stem + ".key"))


def authn_request_of(to_idp):
    """The AuthnRequest, RelayState and signed query of a Redirect-binding redirect."""
    query = urlsplit(to_idp.location).query
    fields = {k: v[0] for k, v in parse_qs(query).items()}
    xml = zlib.decompressobj(-15).decompress(base64.b64decode(fields["SAMLRequest"]))
    signed = query.rsplit("&Signature=", 1)[0]
    return etree.fromstring(xml), fields, signed


def decrypts_with(form, key: PrivateKey) -> bool:
    root = parse_xml(base64.b64decode(form["SAMLResponse"].value))
    try:
        decrypt_element(root.find("saml:EncryptedAssertion", NS), [key])
    except SamlError as exc:
        assert exc.code == ErrorCode.DECRYPTION_FAILED
        return False
    return True


def begin(testapp, method):
    """Start a login over HTTP; return (request ID, RelayState) of the AuthnRequest that went out."""
    request, fields, _ = authn_request_of(testapp.get(f"/login/{method}"))
    return request.get("ID"), fields["RelayState"]


def post_response(testapp, acs_path, factory, spec, relay_state):
    return testapp.post(
        acs_path, {"SAMLResponse": factory.encoded(spec), "RelayState": relay_state}, expect_errors=True
    )


@pytest.fixture
def idp_factory(key_dir):
    """Signs as the development IdPs (their key is the test session's idp.key); encrypts to ``encrypt_to``."""
    idp_key, idp_cert = _key(key_dir, "idp"), _cert(key_dir, "idp")
    return lambda encrypt_to: ResponseFactory(idp_key, idp_cert, _cert(key_dir, encrypt_to + "-encryption"))


def expisoft_spec(request_id, **overrides):
    values = dict(
        issuer=f"{BASE}/devidp/expisoft",
        in_response_to=request_id,
        destination=ORGID["acs"],
        recipient=ORGID["acs"],
        audience=ORGID["entity_id"],
        loa=LOA3_NONRESIDENT,
        attributes={k: list(v) for k, v in ORG_ATTRIBUTES.items()},
    )
    values.update(overrides)
    return ResponseSpec(**values)


# ------------------------------------------------------------ AuthnRequests


@pytest.mark.parametrize("method, profile", [("bankid", DEFAULT), ("mobilt_bankid", DEFAULT), ("expisoft", ORGID)])
def test_authn_request_carries_the_methods_profile_issuer_and_acs(testapp, method, profile):
    request, _, _ = authn_request_of(testapp.get(f"/login/{method}"))
    assert request.findtext("saml:Issuer", namespaces=NS) == profile["entity_id"]
    assert request.get("AssertionConsumerServiceURL") == profile["acs"]


@pytest.mark.parametrize("method, profile, other", [("bankid", DEFAULT, ORGID), ("expisoft", ORGID, DEFAULT)])
def test_authn_request_is_signed_with_its_profiles_key_only(testapp, key_dir, method, profile, other):
    _, fields, signed = authn_request_of(testapp.get(f"/login/{method}"))
    signature = base64.b64decode(fields["Signature"])
    assert verify_bytes(signed.encode(), signature, [_cert(key_dir, profile["keys"] + "-signing")], fields["SigAlg"])
    assert not verify_bytes(signed.encode(), signature, [_cert(key_dir, other["keys"] + "-signing")], fields["SigAlg"])


def test_post_binding_request_of_the_orgid_profile_logs_in(dev_settings):
    """HTTP-POST binding: the enveloped signature is the orgid key's, which the development IdP checks."""
    from dev_app import make_testapp

    testapp = make_testapp({**dev_settings, "ekn_saml.authn_request.binding": "post"})
    form_page = testapp.get("/login/expisoft")
    acs = answer(testapp, form_page.forms[0].submit(), "eva")
    assert acs.status_int == 302 and acs.location.endswith("/mina-sidor")


# ------------------------------------------------------------ both logins in one browser


def test_bankid_and_expisoft_log_in_through_their_own_profiles_in_one_browser(testapp):
    first = acs_form(testapp, "bankid", "karin").submit()
    assert first.status_int == 302
    assert first.follow().html.find(attrs={"data-testid": "display-name"}).get_text(strip=True) == "Karin Karlsson"
    # the same cookie jar: the same browser and session cookie; the second login replaces the first
    second = acs_form(testapp, "expisoft", "eva").submit()
    assert second.status_int == 302
    page = second.follow()
    assert page.html.find(attrs={"data-testid": "display-name"}).get_text(strip=True) == "Eva Exportsson"
    assert page.html.find(attrs={"data-testid": "org-number"}).get_text(strip=True) == "5560000001"


@pytest.mark.parametrize("method, persona, profile", [("bankid", "karin", DEFAULT), ("expisoft", "eva", ORGID)])
def test_development_idp_posts_to_the_profiles_acs(testapp, method, persona, profile):
    assert acs_form(testapp, method, persona).action == profile["acs"]


@pytest.mark.parametrize(
    "method, persona, profile, other", [("bankid", "karin", DEFAULT, ORGID), ("expisoft", "eva", ORGID, DEFAULT)]
)
def test_development_idp_encrypts_to_the_profiles_key_only(testapp, key_dir, method, persona, profile, other):
    form = acs_form(testapp, method, persona)
    assert decrypts_with(form, _key(key_dir, profile["keys"] + "-encryption"))
    assert not decrypts_with(form, _key(key_dir, other["keys"] + "-encryption"))


def test_login_records_the_profiles_entity_id(testapp, caplog):
    import json
    import logging

    caplog.set_level(logging.INFO, logger="ekn_saml.audit")
    acs_form(testapp, "bankid", "karin").submit()
    acs_form(testapp, "expisoft", "eva").submit()
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ekn_saml.audit"]
    assert [(line["method"], line["sp"]) for line in lines if line["event"] == "login_success"] == [
        ("bankid", DEFAULT["entity_id"]),
        ("expisoft", ORGID["entity_id"]),
    ]


# ------------------------------------------------------------ crossing profiles is refused


@pytest.mark.parametrize(
    "method, persona, wrong_acs", [("expisoft", "eva", "/saml/acs"), ("bankid", "karin", "/saml/acs/orgid")]
)
def test_response_posted_to_the_other_profiles_acs_is_refused(testapp, method, persona, wrong_acs):
    form = acs_form(testapp, method, persona)
    fields = {name: form[name].value for name in ("SAMLResponse", "RelayState")}
    page = testapp.post(wrong_acs, fields, expect_errors=True)
    assert page.status_int == 400
    assert ErrorCode.SP_PROFILE_MISMATCH.value in page.text


def test_refusal_at_the_wrong_acs_does_not_burn_the_login(testapp):
    form = acs_form(testapp, "expisoft", "eva")
    fields = {name: form[name].value for name in ("SAMLResponse", "RelayState")}
    assert testapp.post("/saml/acs", fields, expect_errors=True).status_int == 400
    finished = form.submit()  # the right ACS, /saml/acs/orgid
    assert finished.status_int == 302 and finished.location.endswith("/mina-sidor")


def test_assertion_encrypted_for_the_other_profiles_key_is_refused(testapp, idp_factory):
    request_id, relay_state = begin(testapp, "expisoft")
    page = post_response(testapp, "/saml/acs/orgid", idp_factory("sp"), expisoft_spec(request_id), relay_state)
    assert page.status_int == 400 and ErrorCode.DECRYPTION_FAILED.value in page.text


@pytest.mark.parametrize(
    "field, code",
    [
        ("audience", ErrorCode.AUDIENCE_MISMATCH),
        ("destination", ErrorCode.DESTINATION_MISMATCH),
        ("recipient", ErrorCode.RECIPIENT_MISMATCH),
    ],
)
def test_addressing_of_the_other_profile_is_refused(testapp, idp_factory, field, code):
    """Audience, Destination and Recipient are compared with the orgid profile's values, not the default's."""
    request_id, relay_state = begin(testapp, "expisoft")
    other = {"audience": DEFAULT["entity_id"], "destination": DEFAULT["acs"], "recipient": DEFAULT["acs"]}[field]
    page = post_response(
        testapp, "/saml/acs/orgid", idp_factory("sp-orgid"), expisoft_spec(request_id, **{field: other}), relay_state
    )
    assert page.status_int == 400 and code.value in page.text


def test_crafted_response_to_the_orgid_profile_is_accepted(testapp, idp_factory):
    """The control for the tests above: the same response, addressed and encrypted right, logs in."""
    request_id, relay_state = begin(testapp, "expisoft")
    page = post_response(testapp, "/saml/acs/orgid", idp_factory("sp-orgid"), expisoft_spec(request_id), relay_state)
    assert page.status_int == 302 and page.location.endswith("/mina-sidor")


def test_person_response_at_the_default_acs_still_needs_the_default_audience(testapp, idp_factory):
    request, fields, _ = authn_request_of(testapp.get("/login/bankid"))
    spec = ResponseSpec(
        issuer=f"{BASE}/devidp/bankid",
        in_response_to=request.get("ID"),
        destination=DEFAULT["acs"],
        recipient=DEFAULT["acs"],
        audience=ORGID["entity_id"],
        loa=UNCERTIFIED_LOA3,
        attributes={k: list(v) for k, v in PERSON_ATTRIBUTES.items()},
    )
    page = post_response(testapp, "/saml/acs", idp_factory("sp"), spec, fields["RelayState"])
    assert page.status_int == 400 and ErrorCode.AUDIENCE_MISMATCH.value in page.text


@pytest.mark.parametrize("path", ["/saml/acs/default", "/saml/acs/nosuch"])
def test_acs_of_an_unknown_profile_is_not_found(testapp, path):
    assert testapp.post(path, {"SAMLResponse": "x"}, expect_errors=True).status_int == 404


# ------------------------------------------------------------ metadata and status


def metadata(testapp, path):
    response = testapp.get(path)
    assert response.content_type == "application/samlmetadata+xml"
    return parse_xml(response.body)


def _x(root, path):
    return root.xpath(path, namespaces=NS)


@pytest.mark.parametrize("path", ["/saml/metadata", "/saml/metadata/orgid"])
def test_each_profiles_metadata_is_schema_valid(testapp, path):
    assert schema_errors(metadata(testapp, path)) == []


def test_the_two_metadata_documents_are_two_sps(testapp, key_dir):
    default, orgid = metadata(testapp, "/saml/metadata"), metadata(testapp, "/saml/metadata/orgid")
    for root, profile in ((default, DEFAULT), (orgid, ORGID)):
        assert root.get("entityID") == profile["entity_id"]
        assert _x(root, "md:SPSSODescriptor/md:AssertionConsumerService/@Location") == [profile["acs"]]
        for use in ("signing", "encryption"):
            published = _x(root, f"md:SPSSODescriptor/md:KeyDescriptor[@use='{use}']//ds:X509Certificate/text()")
            assert published == [_cert(key_dir, f"{profile['keys']}-{use}").base64]


def test_each_profile_declares_only_the_attribute_set_its_methods_need(testapp):
    path = "md:Extensions/mdattr:EntityAttributes/saml:Attribute/saml:AttributeValue/text()"
    # the default profile also serves the eidas method: its category, and the service type (EC §4.2)
    assert _x(metadata(testapp, "/saml/metadata"), path) == [
        ENTITY_CATEGORIES["loa3-pnr"],
        ENTITY_CATEGORIES["eidas-naturalperson"],
        ENTITY_CATEGORIES["public-sector-sp"],
    ]
    # every profile declares the service type (issue #16: public-sector-sp by default)
    assert _x(metadata(testapp, "/saml/metadata/orgid"), path) == [
        ENTITY_CATEGORIES["loa3-orgid"],
        ENTITY_CATEGORIES["public-sector-sp"],
    ]


@pytest.mark.parametrize("path", ["/saml/metadata/default", "/saml/metadata/nosuch"])
def test_metadata_of_an_unknown_profile_is_not_found(testapp, path):
    assert testapp.get(path, expect_errors=True).status_int == 404


def test_status_lists_every_profiles_certificates(testapp):
    report = testapp.get("/saml/status").json
    assert [(p["name"], p["entity_id"]) for p in report["sp_profiles"]] == [
        ("default", DEFAULT["entity_id"]),
        ("orgid", ORGID["entity_id"]),
    ]
    for profile in report["sp_profiles"]:
        assert (
            profile["certificates"]["signing"]["not_after"] and profile["certificates"]["encryption"]["days_left"] > 0
        )
    signing = {p["name"]: p["certificates"]["signing"]["sha256"] for p in report["sp_profiles"]}
    assert signing["default"] != signing["orgid"]
