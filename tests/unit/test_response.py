# SPDX-License-Identifier: Apache-2.0
"""One test per ACS check (sp-checklist §1), each asserting its error code.

Every response here is really signed (RSA-SHA256) and encrypted (RSA-OAEP +
AES) by tests/saml_factory.py, so each test reaches the one check it is about.
"""

from __future__ import annotations

import base64
import datetime as dt

import pytest
import xmlsec
from lxml import etree

from ekn_saml.demo import main
from ekn_saml.errors import ErrorCode
from ekn_saml.identity import ORG_AFFILIATION, ORGANIZATION_IDENTIFIER, PERSONAL_IDENTITY_NUMBER
from ekn_saml.interfaces import ISamlServiceProvider
from ekn_saml.response import PREVIOUS_REQUESTS, REQUESTS
from ekn_saml.xmlsecurity import NS, XENC

from acs_helpers import PNR, assert_rejected, begin, finish, spec_for
from saml_factory import A, P, ResponseFactory, custom_sign, reencrypting
from testbed import ACS_URL, BANKID_IDP, EXPISOFT_IDP, EXPISOFT_SCOPE, LOA3, OTHER_IDP, idp_entity

T = xmlsec.Transform


@pytest.fixture
def sp(app_settings):
    return main({}, **app_settings).registry.getUtility(ISamlServiceProvider)


@pytest.fixture
def factory(response_factory):
    return response_factory


@pytest.fixture
def login(sp):
    return begin(sp, "bankid")


# ------------------------------------------------------------ happy paths


def test_bankid_login_gives_a_person(sp, factory, login):
    identity, next_path = finish(sp, factory, login)
    assert (identity.kind, identity.personal_number, identity.display_name) == ("person", PNR, "Anna Andersson")
    assert identity.date_of_birth == "1980-01-01"
    assert identity.transaction_id == "tx-123"
    assert next_path == "/mina-sidor"


def test_expisoft_login_gives_an_organisation_identity(sp, factory):
    login = begin(sp, "expisoft")
    identity, _ = finish(sp, factory, login)
    assert (identity.kind, identity.org_number, identity.org_unique_id) == ("organisation", "5560000001", "stbj1006")
    assert identity.personal_number is None
    assert "ekn:org:5560000001" in identity.principals


def test_next_path_is_returned_after_login(sp, factory):
    login = begin(sp, "bankid", next_path="/mina-sidor/arenden?id=7")
    assert finish(sp, factory, login)[1] == "/mina-sidor/arenden?id=7"


def test_assertion_encrypted_to_the_previous_key_is_accepted(sp, factory, login, key_dir):
    """Encryption-key rollover: the old key still decrypts."""
    import os

    from ekn_saml.xmlsecurity import PublicKey

    with open(os.path.join(key_dir, "sp-encryption-old.crt"), "rb") as fh:
        old = PublicKey.from_pem(fh.read())
    old_factory = ResponseFactory(factory.idp_key, factory.idp_cert, old)
    assert finish(sp, old_factory, login)[0].kind == "person"


def test_response_signed_with_the_idps_next_key_is_accepted(sp, factory, login, idp_next_keys):
    """IdP signing-key rollover: any signing certificate in its metadata verifies."""
    rolled = ResponseFactory(idp_next_keys[0], idp_next_keys[1], factory.sp_encryption_cert)
    assert finish(sp, rolled, login)[0].kind == "person"


@pytest.mark.parametrize("algorithm", ["aes128-gcm", "aes256-cbc", "aes128-cbc"])
def test_every_profile_data_encryption_is_accepted(sp, factory, login, algorithm):
    assert finish(sp, factory, login, spec_for(login, data_encryption=algorithm))[0].kind == "person"


def test_unsigned_assertion_inside_signed_response_is_accepted(sp, factory, login):
    """DP 6.1: the Response MUST be signed, the assertion MAY be."""
    assert finish(sp, factory, login, spec_for(login, sign_assertion=False))[0].kind == "person"


# ------------------------------------------------------------ 12: input


def test_missing_response(sp, factory, login):
    assert_rejected(ErrorCode.RESPONSE_MISSING, sp, factory, login, encoded="")


def test_oversized_response_is_refused_before_decoding(sp, factory, login):
    assert_rejected(ErrorCode.RESPONSE_TOO_LARGE, sp, factory, login, encoded="A" * (256 * 1024 + 4))


def test_non_base64_response(sp, factory, login):
    assert_rejected(ErrorCode.RESPONSE_NOT_BASE64, sp, factory, login, encoded="not*base64!")


def test_malformed_xml(sp, factory, login):
    assert_rejected(ErrorCode.XML_MALFORMED, sp, factory, login, encoded=base64.b64encode(b"<samlp:Response").decode())


def test_doctype_is_refused(sp, factory, login):
    xml = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'
    assert_rejected(ErrorCode.XML_DTD_FORBIDDEN, sp, factory, login, encoded=base64.b64encode(xml).decode())


def test_billion_laughs_is_refused(sp, factory, login):
    lol = b'<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;">]><l>&c;</l>'
    assert_rejected(ErrorCode.XML_DTD_FORBIDDEN, sp, factory, login, encoded=base64.b64encode(lol).decode())


def test_not_a_response(sp, factory, login):
    xml = f'<samlp:AuthnRequest xmlns:samlp="{NS["samlp"]}" ID="_x" Version="2.0"/>'.encode()
    assert_rejected(ErrorCode.NOT_A_RESPONSE, sp, factory, login, encoded=base64.b64encode(xml).decode())


def test_duplicate_ids_are_refused(sp, factory, login):
    def duplicate(r):
        extra = etree.SubElement(r, P + "Extensions")
        etree.SubElement(extra, A + "Assertion", ID=r.get("ID"))

    assert_rejected(ErrorCode.XML_DUPLICATE_ID, sp, factory, login, spec_for(login, post_process=duplicate))


def test_namespaced_id_attribute_pollution_is_refused(sp, factory, login):
    def pollute(r):
        r.set("{{{}}}ID".format(NS["samlp"]), "_other")

    assert_rejected(ErrorCode.XML_DUPLICATE_ID, sp, factory, login, spec_for(login, post_process=pollute))


def test_relative_namespace_uri_is_refused(sp, factory, login):
    xml = b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:x="relative/ns" ID="_a" Version="2.0"/>'
    assert_rejected(ErrorCode.XML_NAMESPACE_INVALID, sp, factory, login, encoded=base64.b64encode(xml).decode())


# ------------------------------------------------------------ 1, 2: signature


def test_unsigned_response_is_refused(sp, factory, login):
    assert_rejected(ErrorCode.RESPONSE_NOT_SIGNED, sp, factory, login, spec_for(login, sign_response=False))


def test_response_signed_by_another_key_is_refused(sp, login, attacker_keys, sp_encryption):
    forger = ResponseFactory(attacker_keys[0], attacker_keys[1], sp_encryption[1])
    assert_rejected(ErrorCode.SIGNATURE_INVALID, sp, forger, login)


def test_attackers_certificate_in_keyinfo_is_never_used(sp, login, attacker_keys, sp_encryption):
    key, cert = attacker_keys
    forger = ResponseFactory(key, cert, sp_encryption[1])
    spec = spec_for(login, sign_response=False, post_process=lambda r: custom_sign(r, key, key_info_cert=cert))
    assert_rejected(ErrorCode.SIGNATURE_INVALID, sp, forger, login, spec)


def test_keyvalue_in_keyinfo_is_refused(sp, factory, login):
    spec = spec_for(login, sign_response=False, post_process=lambda r: custom_sign(r, factory.idp_key, key_value=True))
    assert_rejected(ErrorCode.SIGNATURE_KEYINFO_FORBIDDEN, sp, factory, login, spec)


def test_content_changed_after_signing_is_refused(sp, factory, login):
    def tamper(r):
        r.set("Destination", ACS_URL + "?x")
        r.set("Destination", ACS_URL)  # same value: the change below is what breaks the digest
        r.find("samlp:Status/samlp:StatusCode", NS).set("Value", "urn:oasis:names:tc:SAML:2.0:status:Success ")

    assert_rejected(ErrorCode.SIGNATURE_INVALID, sp, factory, login, spec_for(login, post_process=tamper))


def test_reference_to_another_element_is_refused(sp, factory, login):
    spec = spec_for(
        login, sign_response=False, post_process=lambda r: custom_sign(r, factory.idp_key, reference_uri="")
    )
    assert_rejected(ErrorCode.SIGNATURE_PROFILE_VIOLATION, sp, factory, login, spec)


def test_two_references_are_refused(sp, factory, login):
    def sign(r):
        custom_sign(r, factory.idp_key, second_reference_uri="#" + r.get("ID"))

    assert_rejected(
        ErrorCode.SIGNATURE_PROFILE_VIOLATION,
        sp,
        factory,
        login,
        spec_for(login, sign_response=False, post_process=sign),
    )


def test_disallowed_transform_is_refused(sp, factory, login):
    def sign(r):
        custom_sign(r, factory.idp_key, transforms=(T.ENVELOPED, T.C14N))

    assert_rejected(
        ErrorCode.SIGNATURE_PROFILE_VIOLATION,
        sp,
        factory,
        login,
        spec_for(login, sign_response=False, post_process=sign),
    )


def test_ds_object_is_refused(sp, factory, login):
    def add_object(r):
        etree.SubElement(r.find("ds:Signature", NS), "{{{}}}Object".format(NS["ds"]))

    assert_rejected(ErrorCode.SIGNATURE_PROFILE_VIOLATION, sp, factory, login, spec_for(login, post_process=add_object))


def test_digest_of_empty_node_set_is_refused(sp, factory, login):
    def void(r):
        r.find(
            "ds:Signature/ds:SignedInfo/ds:Reference/ds:DigestValue", NS
        ).text = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

    assert_rejected(ErrorCode.SIGNATURE_PROFILE_VIOLATION, sp, factory, login, spec_for(login, post_process=void))


def test_sha1_signature_is_refused(sp, factory, login):
    spec = spec_for(
        login, sign_response=False, post_process=lambda r: custom_sign(r, factory.idp_key, sig_transform=T.RSA_SHA1)
    )
    assert_rejected(ErrorCode.SIGNATURE_ALGORITHM_FORBIDDEN, sp, factory, login, spec)


def test_sha1_reference_digest_is_refused(sp, factory, login):
    spec = spec_for(
        login, sign_response=False, post_process=lambda r: custom_sign(r, factory.idp_key, digest_transform=T.SHA1)
    )
    assert_rejected(ErrorCode.SIGNATURE_ALGORITHM_FORBIDDEN, sp, factory, login, spec)


def test_badly_signed_assertion_inside_good_response_is_refused(sp, factory, login, attacker_keys):
    spec = spec_for(login, sign_assertion=False, mutate_assertion=lambda a: custom_sign(a, attacker_keys[0]))
    assert_rejected(ErrorCode.SIGNATURE_INVALID, sp, factory, login, spec)


# ------------------------------------------------------------ 3, 11: encryption


def test_unencrypted_assertion_is_refused(sp, factory, login):
    assert_rejected(ErrorCode.ASSERTION_NOT_ENCRYPTED, sp, factory, login, spec_for(login, encrypt=False))


def test_assertion_encrypted_to_a_key_we_do_not_hold(sp, factory, login, attacker_keys):
    stranger = ResponseFactory(factory.idp_key, factory.idp_cert, attacker_keys[1])
    assert_rejected(ErrorCode.DECRYPTION_FAILED, sp, stranger, login)


def test_rsa_1_5_key_transport_is_refused(sp, factory, login):
    spec = spec_for(
        login,
        mutate_response=reencrypting(factory.sp_encryption_cert, data_transform=T.AES256, key_transform=T.RSA_PKCS1),
    )
    assert_rejected(ErrorCode.ENCRYPTION_ALGORITHM_FORBIDDEN, sp, factory, login, spec)


def test_triple_des_data_encryption_is_refused(sp, factory, login):
    spec = spec_for(
        login, mutate_response=reencrypting(factory.sp_encryption_cert, data_transform=T.DES3, key_transform=T.RSA_OAEP)
    )
    assert_rejected(ErrorCode.ENCRYPTION_ALGORITHM_FORBIDDEN, sp, factory, login, spec)


def test_xmlenc11_rsa_oaep_key_transport_is_refused(sp, factory, login):
    """DP §8: not in the profile's table and not declared in our metadata, so refused before decryption."""

    def transport_with_xmlenc11_rsa_oaep(response):
        # compared by .tag: lxml's tag matching misses nodes python-xmlsec's templates made
        (method,) = [
            el
            for el in response.iter()
            if el.tag == XENC + "EncryptionMethod" and el.getparent().tag == XENC + "EncryptedKey"
        ]
        # python-xmlsec 1.3 has no transform for it, but with its default mask generation
        # (MGF1 with SHA-1) and the DigestMethod kept, xmlenc11#rsa-oaep computes exactly
        # what rsa-oaep-mgf1p does: the key below is really transported with it
        method.set("Algorithm", "http://www.w3.org/2009/xmlenc11#rsa-oaep")

    spec = spec_for(login, mutate_response=transport_with_xmlenc11_rsa_oaep)
    assert_rejected(ErrorCode.ENCRYPTION_ALGORITHM_FORBIDDEN, sp, factory, login, spec)


def test_encrypted_attribute_is_refused(sp, factory, login):
    def add(a):
        etree.SubElement(a.find("saml:AttributeStatement", NS), A + "EncryptedAttribute")

    assert_rejected(ErrorCode.ENCRYPTED_ATTRIBUTE_FORBIDDEN, sp, factory, login, spec_for(login, mutate_assertion=add))


def test_encrypted_id_is_refused(sp, factory, login):
    def add(a):
        etree.SubElement(a.find("saml:Subject", NS), A + "EncryptedID")

    assert_rejected(ErrorCode.ENCRYPTED_ID_FORBIDDEN, sp, factory, login, spec_for(login, mutate_assertion=add))


# The schema check of both signed elements (pysaml2's CVE-2021-21238 defence),
# made once on the Response holding its decrypted assertion: each of these is
# validly signed and passes every specific check, so only that check refuses it.
def test_signed_response_breaking_the_schema_is_refused(sp, factory, login):
    spec = spec_for(login, mutate_response=lambda r: etree.SubElement(r, P + "Unexpected"))
    assert_rejected(ErrorCode.SCHEMA_INVALID, sp, factory, login, spec)


def test_signed_encrypted_assertion_breaking_the_schema_is_refused(sp, factory, login):
    spec = spec_for(login, mutate_assertion=lambda a: a.set("Unexpected", "1"))
    assert_rejected(ErrorCode.SCHEMA_INVALID, sp, factory, login, spec)


# ------------------------------------------------------------ 4, 13: request binding


def test_unsolicited_response_is_refused(sp, factory, login):
    assert_rejected(ErrorCode.UNSOLICITED_RESPONSE, sp, factory, login, spec_for(login, in_response_to=None))


def test_unknown_in_response_to_is_refused(sp, factory, login):
    assert_rejected(ErrorCode.REQUEST_UNKNOWN, sp, factory, login, spec_for(login, in_response_to="_never_sent"))


def test_response_posted_from_another_browser_is_refused(sp, factory, login):
    # another browser's binding, issued by the SP too: only the hash in the record tells them apart
    assert_rejected(ErrorCode.REQUEST_BROWSER_MISMATCH, sp, factory, login, token=sp.browser_binding(None).cookie)


def test_browser_mismatch_does_not_burn_the_real_users_request(sp, factory, login):
    assert_rejected(ErrorCode.REQUEST_BROWSER_MISMATCH, sp, factory, login, token=sp.browser_binding(None).cookie)
    assert finish(sp, factory, login)[0].kind == "person"


def test_response_from_another_idp_than_asked_is_refused(sp, factory, login):
    assert_rejected(ErrorCode.ISSUER_MISMATCH, sp, factory, login, spec_for(login, issuer=OTHER_IDP))


def test_response_from_unknown_issuer_is_refused(sp, factory, login):
    assert_rejected(ErrorCode.ISSUER_UNKNOWN, sp, factory, login, spec_for(login, issuer="https://evil.example/idp"))


def test_assertion_issuer_must_equal_response_issuer(sp, factory, login):
    assert_rejected(ErrorCode.ISSUER_MISMATCH, sp, factory, login, spec_for(login, assertion_issuer=OTHER_IDP))


def test_relay_state_must_match(sp, factory, login):
    assert_rejected(ErrorCode.RELAY_STATE_MISMATCH, sp, factory, login, relay_state="https://evil.example/")


def test_a_request_stored_by_the_previous_version_is_answered_and_consumed(sp, factory, login):
    # a rolling upgrade: the request went out from a node of the previous version, in its format and namespace
    record = sp.store.take(REQUESTS, login.request_id)
    previous = {
        **record,
        "request_id": login.request_id,
        "acs_url": ACS_URL,
        "force_authn": True,
        "next_path": "/mina-sidor",
    }
    sp.store.put(PREVIOUS_REQUESTS, login.request_id, previous, 60)
    assert finish(sp, factory, login)[0].kind == "person"
    assert sp.store.get(PREVIOUS_REQUESTS, login.request_id) is None


def test_request_is_consumed_on_first_use(sp, factory, login):
    spec = spec_for(login)
    encoded = factory.encoded(spec)
    finish(sp, factory, login, encoded=encoded)
    assert_rejected(ErrorCode.REQUEST_UNKNOWN, sp, factory, login, encoded=encoded)


def test_replayed_assertion_is_refused_even_with_a_live_request(sp, factory, login):
    """The replay cache holds even if the request record were restored (e.g. by another node)."""
    stored = sp.store.get(REQUESTS, login.request_id)
    encoded = factory.encoded(spec_for(login))
    finish(sp, factory, login, encoded=encoded)
    sp.store.put(REQUESTS, login.request_id, stored, 60)
    assert_rejected(ErrorCode.ASSERTION_REPLAYED, sp, factory, login, encoded=encoded)


# ------------------------------------------------------------ 5, 6: addressing


def test_missing_destination_is_refused(sp, factory, login):
    assert_rejected(ErrorCode.DESTINATION_MISSING, sp, factory, login, spec_for(login, destination=None))


@pytest.mark.parametrize(
    "destination",
    ["https://evil.example/saml/acs", "https://sp.example.test/saml/acs/", "http://sp.example.test/saml/acs", ""],
)
def test_wrong_destination_is_refused(sp, factory, login, destination):
    code = ErrorCode.DESTINATION_MISSING if destination == "" else ErrorCode.DESTINATION_MISMATCH
    assert_rejected(code, sp, factory, login, spec_for(login, destination=destination))


def test_wrong_recipient_is_refused(sp, factory, login):
    assert_rejected(
        ErrorCode.RECIPIENT_MISMATCH, sp, factory, login, spec_for(login, recipient="https://evil.example/acs")
    )


def test_wrong_audience_is_refused(sp, factory, login):
    assert_rejected(
        ErrorCode.AUDIENCE_MISMATCH, sp, factory, login, spec_for(login, audience="https://other-sp.example/sp")
    )


def test_subject_confirmation_for_another_request_is_refused(sp, factory, login):
    spec = spec_for(login, confirmation_in_response_to="_another_request")
    assert_rejected(ErrorCode.SUBJECT_CONFIRMATION_INVALID, sp, factory, login, spec)


# ------------------------------------------------------------ 6, 7: time


def _now():
    return dt.datetime.now(dt.UTC)


def test_conditions_not_before_in_the_future_is_refused(sp, factory, login):
    spec = spec_for(login, not_before=_now() + dt.timedelta(seconds=sp.settings.clock_skew + 5))
    assert_rejected(ErrorCode.NOT_YET_VALID, sp, factory, login, spec)


def test_not_before_just_inside_the_skew_is_accepted(sp, factory, login):
    spec = spec_for(login, not_before=_now() + dt.timedelta(seconds=sp.settings.clock_skew - 5))
    assert finish(sp, factory, login, spec)[0].kind == "person"


def test_conditions_not_on_or_after_passed_is_refused(sp, factory, login):
    spec = spec_for(login, not_on_or_after=_now() - dt.timedelta(seconds=sp.settings.clock_skew + 5))
    assert_rejected(ErrorCode.EXPIRED, sp, factory, login, spec)


def test_not_on_or_after_just_inside_the_skew_is_accepted(sp, factory, login):
    spec = spec_for(login, not_on_or_after=_now() - dt.timedelta(seconds=sp.settings.clock_skew - 5))
    assert finish(sp, factory, login, spec)[0].kind == "person"


def test_subject_confirmation_expired_is_refused(sp, factory, login):
    spec = spec_for(login, confirmation_not_on_or_after=_now() - dt.timedelta(seconds=sp.settings.clock_skew + 5))
    assert_rejected(ErrorCode.EXPIRED, sp, factory, login, spec)


def test_old_issue_instant_is_refused(sp, factory, login):
    old = _now() - dt.timedelta(seconds=sp.settings.max_response_age + sp.settings.clock_skew + 5)
    assert_rejected(ErrorCode.RESPONSE_TOO_OLD, sp, factory, login, spec_for(login, response_issue_instant=old))


def test_old_assertion_issue_instant_is_refused(sp, factory, login):
    old = _now() - dt.timedelta(seconds=sp.settings.max_response_age + sp.settings.clock_skew + 5)
    assert_rejected(ErrorCode.RESPONSE_TOO_OLD, sp, factory, login, spec_for(login, assertion_issue_instant=old))


def test_issue_instant_in_the_future_is_refused(sp, factory, login):
    future = _now() + dt.timedelta(seconds=sp.settings.clock_skew + 5)
    assert_rejected(
        ErrorCode.ISSUE_INSTANT_IN_FUTURE, sp, factory, login, spec_for(login, response_issue_instant=future)
    )


def test_authn_instant_before_a_force_authn_request_is_refused(sp, factory, login):
    spec = spec_for(login, authn_instant=_now() - dt.timedelta(minutes=10))
    assert_rejected(ErrorCode.AUTHN_INSTANT_TOO_OLD, sp, factory, login, spec)


# ------------------------------------------------------------ 7: statements and LoA


def test_loa_outside_the_requested_set_is_refused(sp, factory, login):
    spec = spec_for(login, loa="http://id.elegnamnden.se/loa/1.0/loa2")
    assert_rejected(ErrorCode.LOA_NOT_REQUESTED, sp, factory, login, spec)


def test_requested_certified_loa3_is_accepted(sp, factory, login):
    assert finish(sp, factory, login, spec_for(login, loa=LOA3))[0].loa == LOA3


def test_two_authn_statements_are_refused(sp, factory, login):
    def add(a):
        a.find("saml:AuthnStatement", NS).addnext(etree.fromstring(etree.tostring(a.find("saml:AuthnStatement", NS))))

    assert_rejected(ErrorCode.AUTHN_STATEMENT_COUNT, sp, factory, login, spec_for(login, mutate_assertion=add))


def test_missing_attribute_statement_is_refused(sp, factory, login):
    def drop(a):
        a.remove(a.find("saml:AttributeStatement", NS))

    assert_rejected(ErrorCode.ATTRIBUTE_STATEMENT_COUNT, sp, factory, login, spec_for(login, mutate_assertion=drop))


def test_two_assertions_are_refused(sp, factory, login):
    def duplicate(r):
        container = r.find("saml:EncryptedAssertion", NS)
        copy = etree.fromstring(etree.tostring(container))
        for el in copy.iter():
            if el.get("Id"):
                el.set("Id", el.get("Id") + "b")
        container.addnext(copy)

    assert_rejected(ErrorCode.ASSERTION_COUNT, sp, factory, login, spec_for(login, mutate_response=duplicate))


# ------------------------------------------------------------ 9: attributes and identity


def test_org_affiliation_outside_the_idps_scope_is_refused(sp, factory):
    login = begin(sp, "expisoft")
    spec = spec_for(login)
    spec.attributes[ORG_AFFILIATION] = ["x1@5560000019"]
    assert_rejected(ErrorCode.SCOPE_NOT_AUTHORISED, sp, factory, login, spec)


def test_org_affiliation_is_split_at_the_last_at_sign(sp, factory):
    login = begin(sp, "expisoft")
    spec = spec_for(login)
    spec.attributes[ORG_AFFILIATION] = ["anna@dept@5560000001"]
    assert finish(sp, factory, login, spec)[0].org_unique_id == "anna@dept"


def test_org_number_with_a_bad_check_digit_is_refused(sp, factory):
    login = begin(sp, "expisoft")
    spec = spec_for(login)
    spec.attributes[ORG_AFFILIATION] = ["x1@5560000002"]
    assert_rejected(ErrorCode.ORG_NUMBER_INVALID, sp, factory, login, spec)


AFFILIATION = f"stbj1006@{EXPISOFT_SCOPE}"


@pytest.mark.parametrize("position", [0, 1], ids=["first", "second"])
@pytest.mark.parametrize(
    "bad, code",
    [
        ("x1", ErrorCode.ATTRIBUTE_VALUE_MALFORMED),  # no '@'
        (f"@{EXPISOFT_SCOPE}", ErrorCode.ATTRIBUTE_VALUE_MALFORMED),  # no uid
        ("x1@5560000002", ErrorCode.ORG_NUMBER_INVALID),  # check digit
        ("x1@5560000019", ErrorCode.SCOPE_NOT_AUTHORISED),  # not a shibmd:Scope of the IdP
    ],
    ids=["no-at", "no-uid", "check-digit", "scope"],
)
def test_every_org_affiliation_value_is_checked(sp, factory, position, bad, code):
    login = begin(sp, "expisoft")
    spec = spec_for(login)
    values = [AFFILIATION]
    values.insert(position, bad)
    spec.attributes[ORG_AFFILIATION] = values
    assert_rejected(code, sp, factory, login, spec)


def test_single_org_affiliation_is_kept(sp, factory):
    login = begin(sp, "expisoft")
    assert finish(sp, factory, login)[0].org_affiliations == (("stbj1006", EXPISOFT_SCOPE),)


def test_organization_identifier_with_a_bad_check_digit_is_refused(sp, factory):
    login = begin(sp, "expisoft")
    spec = spec_for(login)
    spec.attributes[ORGANIZATION_IDENTIFIER] = ["5560000002"]
    assert_rejected(ErrorCode.ORG_NUMBER_INVALID, sp, factory, login, spec)


def test_organization_identifier_of_no_affiliation_is_refused(sp, factory):
    login = begin(sp, "expisoft")
    spec = spec_for(login)
    spec.attributes[ORGANIZATION_IDENTIFIER] = ["5560000019"]  # a valid number, but not the affiliation's
    assert_rejected(ErrorCode.ORG_IDENTIFIER_MISMATCH, sp, factory, login, spec)


SECOND_ORG = "5560000118"  # made up, valid check digit


@pytest.fixture
def two_org_sp(app_settings, idp_keys, tmp_path):
    """The SP trusting an Expisoft IdP whose shibmd:Scope names two organisations."""
    body = idp_entity(BANKID_IDP, idp_keys[1]) + idp_entity(
        EXPISOFT_IDP, idp_keys[1], scopes=(EXPISOFT_SCOPE, SECOND_ORG)
    )
    path = tmp_path / "idps.xml"
    path.write_text(
        f'<md:EntitiesDescriptor xmlns:md="{NS["md"]}" xmlns:ds="{NS["ds"]}" xmlns:shibmd="{NS["shibmd"]}">{body}</md:EntitiesDescriptor>'
    )
    return main({}, **{**app_settings, "ekn_saml.idp.metadata_files": str(path)}).registry.getUtility(
        ISamlServiceProvider
    )


def _two_organisations(login, organization_identifier=None):
    spec = spec_for(login)
    spec.attributes[ORG_AFFILIATION] = [AFFILIATION, f"karin@{SECOND_ORG}"]
    if organization_identifier is None:
        del spec.attributes[ORGANIZATION_IDENTIFIER]
    else:
        spec.attributes[ORGANIZATION_IDENTIFIER] = [organization_identifier]
    return spec


def test_with_several_organisations_organization_identifier_chooses_one(two_org_sp, factory):
    login = begin(two_org_sp, "expisoft")
    identity, _ = finish(two_org_sp, factory, login, _two_organisations(login, SECOND_ORG))
    assert (identity.org_number, identity.org_unique_id) == (SECOND_ORG, "karin")


def test_with_several_organisations_and_no_organization_identifier_the_first_is_chosen(two_org_sp, factory):
    login = begin(two_org_sp, "expisoft")
    identity, _ = finish(two_org_sp, factory, login, _two_organisations(login))
    assert (identity.org_number, identity.org_unique_id) == (EXPISOFT_SCOPE, "stbj1006")


def test_with_several_organisations_every_affiliation_is_kept(two_org_sp, factory):
    login = begin(two_org_sp, "expisoft")
    identity, _ = finish(two_org_sp, factory, login, _two_organisations(login, SECOND_ORG))
    assert identity.org_affiliations == (("stbj1006", EXPISOFT_SCOPE), ("karin", SECOND_ORG))


def test_with_several_organisations_only_the_chosen_one_is_a_principal(two_org_sp, factory):
    login = begin(two_org_sp, "expisoft")
    principals = finish(two_org_sp, factory, login, _two_organisations(login, SECOND_ORG))[0].principals
    assert [p for p in principals if p.startswith("ekn:org:")] == [f"ekn:org:{SECOND_ORG}"]


def test_personal_number_with_a_bad_check_digit_is_refused(sp, factory, login):
    spec = spec_for(login)
    spec.attributes[PERSONAL_IDENTITY_NUMBER] = ["198001012388"]
    assert_rejected(ErrorCode.PERSONAL_NUMBER_INVALID, sp, factory, login, spec)


def test_coordination_number_is_refused_by_default(sp, factory, login):
    spec = spec_for(login)
    spec.attributes[PERSONAL_IDENTITY_NUMBER] = ["199003652386"]
    assert_rejected(ErrorCode.COORDINATION_NUMBER_NOT_ACCEPTED, sp, factory, login, spec)


def test_coordination_number_is_accepted_when_configured(app_settings, factory):
    sp = main({}, **{**app_settings, "ekn_saml.security.accept_coordination_number": "true"}).registry.getUtility(
        ISamlServiceProvider
    )
    login = begin(sp, "bankid")
    spec = spec_for(login)
    spec.attributes[PERSONAL_IDENTITY_NUMBER] = ["199003652386"]
    assert finish(sp, factory, login, spec)[0].date_of_birth == "1990-03-05"


def test_missing_personal_number_is_refused_for_bankid(sp, factory, login):
    spec = spec_for(login)
    del spec.attributes[PERSONAL_IDENTITY_NUMBER]
    assert_rejected(ErrorCode.ATTRIBUTE_MISSING, sp, factory, login, spec)


def test_two_personal_numbers_are_refused(sp, factory, login):
    spec = spec_for(login)
    spec.attributes[PERSONAL_IDENTITY_NUMBER] = [PNR, "197512249819"]
    assert_rejected(ErrorCode.ATTRIBUTE_MULTI_VALUED, sp, factory, login, spec)


def test_comment_inside_a_value_is_refused_not_truncated(sp, factory, login):
    def inject(a):
        for attr in a.iter(A + "Attribute"):
            if attr.get("Name") == PERSONAL_IDENTITY_NUMBER:
                value = attr.find("saml:AttributeValue", NS)
                value.text = "19800101"
                value.append(etree.Comment(""))
                value[-1].tail = "2387"

    assert_rejected(ErrorCode.ATTRIBUTE_VALUE_MALFORMED, sp, factory, login, spec_for(login, mutate_assertion=inject))


# ------------------------------------------------------------ 10: IdP status


@pytest.mark.parametrize(
    "second_level, code",
    [
        ("http://id.elegnamnden.se/status/1.0/cancel", ErrorCode.IDP_CANCELLED),
        ("http://id.elegnamnden.se/status/1.0/fraud", ErrorCode.IDP_FRAUD),
        ("http://id.elegnamnden.se/status/1.0/possibleFraud", ErrorCode.IDP_POSSIBLE_FRAUD),
        ("urn:oasis:names:tc:SAML:2.0:status:AuthnFailed", ErrorCode.IDP_AUTHN_FAILED),
        ("urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext", ErrorCode.IDP_NO_AUTHN_CONTEXT),
        ("urn:oasis:names:tc:SAML:2.0:status:RequestDenied", ErrorCode.IDP_REQUEST_DENIED),
        ("urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal", ErrorCode.IDP_OTHER_ERROR),
    ],
)
def test_idp_status_maps_to_its_code(sp, factory, login, second_level, code):
    spec = spec_for(login, status=("urn:oasis:names:tc:SAML:2.0:status:Responder", second_level))
    assert_rejected(code, sp, factory, login, spec)


def test_unsigned_cancel_is_not_trusted(sp, factory, login):
    spec = spec_for(
        login,
        sign_response=False,
        status=("urn:oasis:names:tc:SAML:2.0:status:Responder", "http://id.elegnamnden.se/status/1.0/cancel"),
    )
    assert_rejected(ErrorCode.RESPONSE_NOT_SIGNED, sp, factory, login, spec)


# ------------------------------------------------------------ bounded work (ekn_saml.security.max_xml_*)


def test_the_acs_parses_under_the_configured_node_cap(app_settings, response_factory):
    """The setting, not only the default, bounds what a Response may hold."""
    sp = main({}, **{**app_settings, "ekn_saml.security.max_xml_nodes": "100"}).registry.getUtility(
        ISamlServiceProvider
    )
    login = begin(sp, "bankid")
    padded = spec_for(login, post_process=lambda r: r.find(P + "Status").extend(etree.Element("x") for _ in range(100)))
    assert_rejected(ErrorCode.XML_TOO_MANY_NODES, sp, response_factory, login, padded)


def test_under_the_node_cap_the_same_padding_reaches_the_signature(sp, factory, login):
    padded = spec_for(login, post_process=lambda r: r.find(P + "Status").extend(etree.Element("x") for _ in range(100)))
    assert_rejected(ErrorCode.SIGNATURE_INVALID, sp, factory, login, padded)
