# SPDX-License-Identifier: Apache-2.0
"""The settings of SP metadata, federation metadata and the status endpoint (issue 4)."""

from __future__ import annotations

import pytest

from ekn_saml.metadata.categories import ENTITY_CATEGORIES

from settings_cases import minimal_raw, parse, problems_of


@pytest.fixture
def raw():
    return minimal_raw()


class TestSpMetadataSettings:
    def test_defaults_leave_optional_elements_out(self, raw):
        info = parse(raw).sp_metadata
        assert (info.display_name, info.logo_url, info.organization_name, info.technical_email) == ((), "", "", "")

    def test_default_categories_follow_the_methods_and_declare_a_public_sector_sp(self, raw):
        assert parse(raw).sp_metadata.entity_categories == (
            ENTITY_CATEGORIES["loa3-pnr"],
            ENTITY_CATEGORIES["loa3-orgid"],
            ENTITY_CATEGORIES["public-sector-sp"],
        )

    def test_contract_categories_are_added_to_the_default_ones(self, raw):
        raw["ekn_saml.sp.contract_categories"] = "prepaid-auth-2021 http://id.swedenconnect.se/contract/EKN/bankid"
        assert parse(raw).sp_metadata.entity_categories[-2:] == (
            ENTITY_CATEGORIES["prepaid-auth-2021"],
            "http://id.swedenconnect.se/contract/EKN/bankid",
        )

    def test_contract_categories_are_added_to_explicit_ones(self, raw):
        raw["ekn_saml.sp.entity_categories"] = "loa3-pnr"
        raw["ekn_saml.sp.contract_categories"] = "sweden-connect"
        assert parse(raw).sp_metadata.entity_categories == (
            ENTITY_CATEGORIES["loa3-pnr"],
            ENTITY_CATEGORIES["sweden-connect"],
        )

    def test_a_contract_category_must_be_a_contract(self, raw):
        raw["ekn_saml.sp.contract_categories"] = "public-sector-sp"
        assert any("is not a service contract category" in p for p in problems_of(raw))

    def test_transaction_identifier_is_requested_by_default_for_person_methods(self, raw):
        assert parse(raw).sp_metadata.requested_attributes == ("urn:oid:1.2.752.201.3.2",)

    def test_no_attribute_is_requested_by_default_for_organisation_methods_only(self, raw):
        raw["ekn_saml.methods"] = "expisoft"
        for name in ("mobilt_bankid", "bankid"):
            del raw[f"ekn_saml.method.{name}.idp"]
        assert parse(raw).sp_metadata.requested_attributes == ()

    def test_an_empty_requested_attributes_setting_requests_none(self, raw):
        raw["ekn_saml.sp.requested_attributes"] = ""
        assert parse(raw).sp_metadata.requested_attributes == ()

    def test_default_categories_add_coordination_number_when_accepted(self, raw):
        raw["ekn_saml.security.accept_coordination_number"] = "true"
        assert ENTITY_CATEGORIES["accepts-coordination-number"] in parse(raw).sp_metadata.entity_categories

    def test_short_names_and_uris_are_both_accepted(self, raw):
        raw["ekn_saml.sp.entity_categories"] = "loa3-pnr public-sector-sp http://id.swedenconnect.se/contract/EKN/x"
        assert parse(raw).sp_metadata.entity_categories == (
            ENTITY_CATEGORIES["loa3-pnr"],
            ENTITY_CATEGORIES["public-sector-sp"],
            "http://id.swedenconnect.se/contract/EKN/x",
        )

    def test_unknown_category_name_is_a_problem(self, raw):
        raw["ekn_saml.sp.entity_categories"] = "loa3-pnrr"
        assert any("loa3-pnrr" in p for p in problems_of(raw))

    def test_coordination_number_category_needs_the_security_setting(self, raw):
        raw["ekn_saml.sp.entity_categories"] = "loa3-pnr accepts-coordination-number"
        assert any("accept_coordination_number" in p for p in problems_of(raw))

    def test_coordination_number_category_with_the_security_setting(self, raw):
        raw["ekn_saml.sp.entity_categories"] = "loa3-pnr accepts-coordination-number"
        raw["ekn_saml.security.accept_coordination_number"] = "true"
        assert ENTITY_CATEGORIES["accepts-coordination-number"] in parse(raw).sp_metadata.entity_categories

    # "²" is a digit to str.isdigit() and no number to int(): a startup crash before the ASCII check
    @pytest.mark.parametrize(
        "number", ["2021002099", "202100-2098", "20210020", "abcdefghij", "２０２１００２０９８", "202100209²"]
    )
    def test_bad_organisation_number_is_a_problem(self, raw, number):
        raw["ekn_saml.sp.organization.number"] = number
        assert any("sp.organization.number" in p for p in problems_of(raw))

    def test_valid_organisation_number(self, raw):
        raw["ekn_saml.sp.organization.number"] = "2021002098"
        assert parse(raw).sp_metadata.organization_number == "2021002098"

    @pytest.mark.parametrize("email", ["support", "a@b", "a b@example.se", "https://x@example.se"])
    def test_bad_email_is_a_problem(self, raw, email):
        raw["ekn_saml.sp.contact.support.email"] = email
        assert any("sp.contact.support.email" in p for p in problems_of(raw))

    def test_mailto_prefix_is_dropped(self, raw):
        raw["ekn_saml.sp.contact.technical.email"] = "mailto:drift@ekn.se"
        assert parse(raw).sp_metadata.technical_email == "drift@ekn.se"

    @pytest.mark.parametrize("key", ["sp.logo_url", "sp.organization.url"])
    def test_non_http_url_is_a_problem(self, raw, key):
        raw[f"ekn_saml.{key}"] = "javascript:alert(1)"
        assert any(key in p for p in problems_of(raw))

    def test_english_falls_back_to_swedish(self, raw):
        raw["ekn_saml.sp.display_name.sv"] = "EKN Online"
        assert parse(raw).sp_metadata.display_name == (("sv", "EKN Online"), ("en", "EKN Online"))

    def test_requested_attributes_by_friendly_name_or_oid(self, raw):
        raw["ekn_saml.sp.requested_attributes"] = "mail urn:oid:1.2.752.201.3.2"
        assert parse(raw).sp_metadata.requested_attributes == (
            "urn:oid:0.9.2342.19200300.100.1.3",
            "urn:oid:1.2.752.201.3.2",
        )

    def test_unknown_requested_attribute_is_a_problem(self, raw):
        raw["ekn_saml.sp.requested_attributes"] = "shoeSize"
        assert any("shoeSize" in p for p in problems_of(raw))

    def test_missing_next_signing_cert_is_a_problem(self, raw):
        raw["ekn_saml.sp.next_signing_cert"] = "/missing/next.crt"
        assert any("sp.next_signing_cert" in p for p in problems_of(raw))


class TestFederationSettings:
    def test_no_federation_by_default(self, raw):
        assert parse(raw).federation.enabled is False

    def test_https_source_with_cert(self, raw):
        raw["ekn_saml.federation.metadata_url"] = "https://md.swedenconnect.se/role/idp.xml"
        raw["ekn_saml.federation.signing_cert"] = "/k/sc.crt"
        federation = parse(raw).federation
        assert federation.enabled and federation.signing_certs == ("/k/sc.crt",)
        assert federation.backing_file.endswith("federation-metadata.xml")

    def test_signing_cert_is_required(self, raw):
        raw["ekn_saml.federation.metadata_url"] = "https://md.swedenconnect.se/role/idp.xml"
        assert any("federation.signing_cert is required" in p for p in problems_of(raw))

    def test_plain_http_is_a_problem(self, raw):
        raw["ekn_saml.federation.metadata_url"] = "http://md.swedenconnect.se/role/idp.xml"
        raw["ekn_saml.federation.signing_cert"] = "/k/sc.crt"
        assert any("must be https" in p for p in problems_of(raw))

    def test_loopback_http_only_when_testing(self, raw):
        raw["ekn_saml.federation.metadata_url"] = "http://127.0.0.1:8000/md.xml"
        raw["ekn_saml.federation.signing_cert"] = "/k/sc.crt"
        assert any("must be https" in p for p in problems_of(raw))
        raw["ekn_saml.testing"] = "true"
        assert parse(raw).federation.allow_loopback_http is True

    def test_a_missing_source_file_is_not_a_problem(self, raw):
        # the backing file covers it at startup, as for an unreachable URL
        raw["ekn_saml.federation.metadata_url"] = "/missing/md.xml"
        raw["ekn_saml.federation.signing_cert"] = "/k/sc.crt"
        assert parse(raw).federation.metadata_url == "/missing/md.xml"

    def test_min_refresh_above_max_refresh_is_a_problem(self, raw):
        raw["ekn_saml.federation.min_refresh"] = "7200"
        raw["ekn_saml.federation.max_refresh"] = "3600"
        assert any("min_refresh" in p for p in problems_of(raw))

    def test_validity_cap_is_a_month_by_default(self, raw):
        assert parse(raw).federation.max_validity_days == 31

    def test_validity_cap_can_be_raised(self, raw):
        raw["ekn_saml.federation.max_validity_days"] = "366"
        assert parse(raw).federation.max_validity_days == 366

    @pytest.mark.parametrize("value", ["0", "367", "a month"])
    def test_validity_cap_out_of_range_is_a_problem(self, raw, value):
        raw["ekn_saml.federation.max_validity_days"] = value
        assert any("federation.max_validity_days" in p for p in problems_of(raw))


class TestStatusSettings:
    def test_loopback_by_default(self, raw):
        assert parse(raw).status_allowed_addresses == ("127.0.0.1", "::1")

    def test_networks_are_accepted(self, raw):
        raw["ekn_saml.status.allowed_addresses"] = "10.1.0.0/16 2001:db8::/32"
        assert parse(raw).status_allowed_addresses == ("10.1.0.0/16", "2001:db8::/32")

    def test_garbage_address_is_a_problem(self, raw):
        raw["ekn_saml.status.allowed_addresses"] = "localhost"
        assert any("status.allowed_addresses" in p for p in problems_of(raw))
