# SPDX-License-Identifier: Apache-2.0
"""The SP metadata: schema-valid, and carrying everything DP §2 and the federation rules ask for."""

from __future__ import annotations

import datetime as dt

import pytest

from ekn_saml.credentials import load_credentials
from ekn_saml.errors import ErrorCode, ResponseValidationError
from ekn_saml.metadata.categories import ENTITY_CATEGORIES
from ekn_saml.metadata.schema import schema_errors
from ekn_saml.metadata.sp import MDORGEXT, sp_metadata_bytes
from ekn_saml.settings import parse_settings
from ekn_saml.timeutil import parse_instant, utcnow
from ekn_saml.xmlsecurity import (
    DATA_ENCRYPTION_ALGORITHMS,
    KEY_TRANSPORT_ALGORITHMS,
    NS,
    PublicKey,
    parse_xml,
    verify_enveloped,
)

from testbed import ACS_URL, SP_ENTITY_ID

FULL = {
    "ekn_saml.sp.display_name.sv": "EKN Online",
    "ekn_saml.sp.display_name.en": "EKN Online (English)",
    "ekn_saml.sp.description.sv": "Exportkreditnämndens kundportal",
    "ekn_saml.sp.description.en": "The customer portal of the Swedish Export Credit Agency",
    "ekn_saml.sp.logo_url": "https://sp.example.test/logo.svg",
    "ekn_saml.sp.organization.name": "Exportkreditnämnden",
    "ekn_saml.sp.organization.display_name": "EKN",
    "ekn_saml.sp.organization.url": "https://www.ekn.se/",
    "ekn_saml.sp.organization.number": "2021002098",
    "ekn_saml.sp.contact.technical.email": "drift@ekn.se",
    "ekn_saml.sp.contact.support.email": "kundservice@ekn.se",
    "ekn_saml.sp.entity_categories": "loa3-pnr public-sector-sp sweden-connect",
    "ekn_saml.sp.requested_attributes": "transactionIdentifier",
}


def settings_and_creds(raw):
    settings = parse_settings(raw)
    creds, problems = load_credentials(
        settings.signing_key, settings.signing_cert, settings.encryption_keys, settings.encryption_cert
    )
    assert not problems
    return settings, creds


@pytest.fixture
def full(app_settings):
    return settings_and_creds({**app_settings, **FULL})


@pytest.fixture
def root(full):
    return parse_xml(sp_metadata_bytes(*full))


def x(el, path):
    return el.xpath(path, namespaces={**NS, "mdorgext": MDORGEXT})


class TestContents:
    def test_validates_against_the_metadata_schema(self, root):
        assert schema_errors(root) == []

    def test_entity_id_and_signed_requests(self, root):
        assert root.get("entityID") == SP_ENTITY_ID
        assert x(root, "md:SPSSODescriptor/@AuthnRequestsSigned") == ["true"]

    def test_separate_signing_and_encryption_keys(self, root, full):
        _, creds = full
        assert x(root, "md:SPSSODescriptor/md:KeyDescriptor/@use") == ["signing", "encryption"]
        published = x(root, "md:SPSSODescriptor/md:KeyDescriptor[@use='encryption']//ds:X509Certificate/text()")
        assert published == [creds.encryption_cert.base64]

    def test_encryption_methods_with_sha256_oaep_digest(self, root):
        methods = x(root, "md:SPSSODescriptor/md:KeyDescriptor[@use='encryption']/md:EncryptionMethod/@Algorithm")
        assert "http://www.w3.org/2009/xmlenc11#aes256-gcm" in methods
        assert "http://www.w3.org/2001/04/xmlenc#aes128-cbc" in methods
        oaep = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
        assert x(root, f"//md:EncryptionMethod[@Algorithm='{oaep}']/ds:DigestMethod/@Algorithm") == [
            "http://www.w3.org/2001/04/xmlenc#sha256"
        ]

    def test_declares_exactly_the_key_transports_the_acs_accepts(self, root):
        # DP §8: an algorithm outside the profile's table may be accepted only if declared here
        declared = x(root, "md:SPSSODescriptor/md:KeyDescriptor[@use='encryption']/md:EncryptionMethod/@Algorithm")
        key_transports = {a for a in declared if a not in DATA_ENCRYPTION_ALGORITHMS}
        assert key_transports == KEY_TRANSPORT_ALGORITHMS == {"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"}

    def test_http_post_acs(self, root):
        acs = x(root, "md:SPSSODescriptor/md:AssertionConsumerService")
        assert [(a.get("Binding"), a.get("Location")) for a in acs] == [
            ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", ACS_URL)
        ]

    def test_ui_info_in_swedish_and_english(self, root):
        ui = x(root, "md:SPSSODescriptor/md:Extensions/mdui:UIInfo")[0]
        assert x(ui, "mdui:DisplayName/@xml:lang") == ["sv", "en"]
        assert x(ui, "mdui:Description/@xml:lang") == ["sv", "en"]
        assert x(ui, "mdui:Logo/text()") == ["https://sp.example.test/logo.svg"]

    def test_organization_with_organisation_number(self, root):
        assert x(root, "md:Organization/md:Extensions/mdorgext:OrganizationNumber/text()") == ["2021002098"]
        assert x(root, "md:Organization/md:OrganizationName[@xml:lang='sv']/text()") == ["Exportkreditnämnden"]
        assert x(root, "md:Organization/md:OrganizationDisplayName[@xml:lang='sv']/text()") == ["EKN"]

    def test_technical_and_support_contacts(self, root):
        contacts = {c.get("contactType"): x(c, "md:EmailAddress/text()") for c in x(root, "md:ContactPerson")}
        assert contacts == {"technical": ["mailto:drift@ekn.se"], "support": ["mailto:kundservice@ekn.se"]}

    def test_entity_categories_in_one_attribute(self, root):
        values = x(
            root,
            "md:Extensions/mdattr:EntityAttributes/saml:Attribute[@Name='http://macedir.org/entity-category']/saml:AttributeValue/text()",
        )
        assert values == [ENTITY_CATEGORIES[n] for n in ("loa3-pnr", "public-sector-sp", "sweden-connect")]

    def test_requested_attributes_are_optional_and_not_required(self, root):
        requested = x(root, "md:SPSSODescriptor/md:AttributeConsumingService/md:RequestedAttribute")
        assert [(r.get("Name"), r.get("isRequired")) for r in requested] == [("urn:oid:1.2.752.201.3.2", "false")]

    def test_no_attribute_consuming_service_without_requested_attributes(self, app_settings):
        root = parse_xml(sp_metadata_bytes(*settings_and_creds(app_settings)))
        assert x(root, "//md:AttributeConsumingService") == []

    def test_coordination_number_category_only_when_accepted(self, app_settings):
        plain = parse_xml(sp_metadata_bytes(*settings_and_creds(app_settings)))
        accepting = parse_xml(
            sp_metadata_bytes(
                *settings_and_creds({**app_settings, "ekn_saml.security.accept_coordination_number": "true"})
            )
        )
        uri = ENTITY_CATEGORIES["accepts-coordination-number"]
        assert uri not in x(plain, "//saml:AttributeValue/text()")
        assert uri in x(accepting, "//saml:AttributeValue/text()")

    def test_minimal_settings_give_schema_valid_metadata(self, app_settings):
        assert schema_errors(parse_xml(sp_metadata_bytes(*settings_and_creds(app_settings)))) == []

    def test_accepted_algorithms_are_declared(self, root):
        assert "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" in x(
            root, "md:Extensions/alg:SigningMethod/@Algorithm"
        )
        assert "http://www.w3.org/2000/09/xmldsig#sha1" not in x(root, "md:Extensions/alg:DigestMethod/@Algorithm")


class TestRollover:
    def test_next_signing_key_is_published_beside_the_current_one(self, app_settings, key_dir):
        settings, creds = settings_and_creds(
            {**app_settings, "ekn_saml.sp.next_signing_cert": f"{key_dir}/idp-next.crt"}
        )
        root = parse_xml(sp_metadata_bytes(settings, creds))
        with open(f"{key_dir}/idp-next.crt", "rb") as fh:
            following = PublicKey.from_pem(fh.read())
        signing = x(root, "md:SPSSODescriptor/md:KeyDescriptor[@use='signing']//ds:X509Certificate/text()")
        assert signing == [creds.signing_cert.base64, following.base64]

    def test_only_the_newest_encryption_key_is_published(self, root):
        # the old decryption key stays in ekn_saml.sp.encryption_keys but is not advertised (DP §2.1.1.2)
        assert len(x(root, "md:SPSSODescriptor/md:KeyDescriptor[@use='encryption']")) == 1


class TestSigned:
    def test_signed_metadata_verifies_with_the_signing_cert(self, full):
        settings, creds = full
        root = parse_xml(sp_metadata_bytes(settings, creds, sign=True))
        verify_enveloped(root, [creds.signing_cert])
        assert schema_errors(root) == []

    def test_metadata_signed_with_an_ec_key_uses_ecdsa_sha256_and_verifies(self, app_settings, tmp_path):
        from ekn_saml.keygen import write_key_pair
        from ekn_saml.xmlsecurity import ECDSA_SHA256, NS

        key, cert = write_key_pair(str(tmp_path), "sp-ec-signing", "test", key_type="ec")
        settings, creds = settings_and_creds(
            {**app_settings, **FULL, "ekn_saml.sp.signing_key": key, "ekn_saml.sp.signing_cert": cert}
        )
        root = parse_xml(sp_metadata_bytes(settings, creds, sign=True))
        verify_enveloped(root, [creds.signing_cert])
        assert root.find("ds:Signature/ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm") == ECDSA_SHA256

    def test_signed_metadata_has_valid_until(self, full):
        settings, creds = full
        now = utcnow().replace(microsecond=0)
        root = parse_xml(sp_metadata_bytes(settings, creds, sign=True, now=now))
        assert parse_instant(root.get("validUntil")) == now + dt.timedelta(days=settings.sp_metadata.valid_days)

    def test_unsigned_metadata_has_no_valid_until(self, root):
        assert root.get("validUntil") is None and x(root, "ds:Signature") == []

    def test_signature_breaks_if_anything_changes(self, full):
        settings, creds = full
        data = sp_metadata_bytes(settings, creds, sign=True).replace(b"drift@ekn.se", b"evil@example.test")
        with pytest.raises(ResponseValidationError) as info:
            verify_enveloped(parse_xml(data), [creds.signing_cert])
        assert info.value.code == ErrorCode.SIGNATURE_INVALID
