# SPDX-License-Identifier: Apache-2.0
"""Settings of several SP profiles (ekn_saml.sp_profiles, TAR §3.4): each rule has a test that fails without it."""

from __future__ import annotations

import pytest

from ekn_saml.metadata.categories import ENTITY_CATEGORIES

from settings_cases import minimal_raw, parse, problems_of

P = "ekn_saml.sp_profile.orgid."


@pytest.fixture
def single():
    """An ini of one SP, as every ini was before profiles."""
    return {
        **minimal_raw(),
        "ekn_saml.sp.display_name.sv": "EKN Online",
        "ekn_saml.sp.organization.name": "Exportkreditnämnden",
        "ekn_saml.sp.organization.url": "https://www.ekn.se/",
    }


@pytest.fixture
def raw(single):
    """Two SPs: the default one for the BankID methods, "orgid" (own keys) for Expisoft."""
    return {
        **single,
        "ekn_saml.sp_profiles": "orgid",
        P + "entity_id": "https://sp.example.test/sp/orgid",
        P + "signing_key": "/k/o-s.key",
        P + "signing_cert": "/k/o-s.crt",
        P + "encryption_keys": "/k/o-e.key",
        P + "encryption_cert": "/k/o-e.crt",
        "ekn_saml.method.expisoft.sp_profile": "orgid",
    }


def the_problem(raw, *words):
    """The one problem that mentions every word (there must be exactly one)."""
    found = [p for p in problems_of(raw) if all(w in p for w in words)]
    assert len(found) == 1, problems_of(raw)
    return found[0]


# ------------------------------------------------------------ what the profiles are


def test_without_profiles_there_is_the_default_profile_only(single):
    settings = parse(single)
    [profile] = settings.sp_profiles
    assert (profile.name, profile.entity_id, profile.acs_url) == ("default", settings.entity_id, settings.acs_url)
    assert {m.sp_profile for m in settings.methods} == {"default"}


def test_a_further_profile_has_its_own_entity_id_keys_and_acs(raw):
    orgid = parse(raw).sp_profile("orgid")
    assert (orgid.entity_id, orgid.acs_url) == (
        "https://sp.example.test/sp/orgid",
        "https://sp.example.test/saml/acs/orgid",
    )
    assert (orgid.signing_key, orgid.encryption_keys) == ("/k/o-s.key", ("/k/o-e.key",))


def test_a_method_names_its_profile(raw):
    settings = parse(raw)
    assert [m.name for m in settings.methods_of("orgid")] == ["expisoft"]
    assert [m.name for m in settings.methods_of("default")] == ["mobilt_bankid", "bankid"]


def test_unset_keys_inherit_the_default_profile(raw):
    for key in ("signing_key", "signing_cert", "encryption_keys", "encryption_cert"):
        del raw[P + key]
    settings = parse(raw)
    default, orgid = settings.default_sp_profile, settings.sp_profile("orgid")
    assert (orgid.signing_key, orgid.encryption_keys) == (default.signing_key, default.encryption_keys)
    assert orgid.metadata.display_name == default.metadata.display_name
    assert orgid.metadata.organization_name == "Exportkreditnämnden"


def test_a_profile_may_have_its_own_display_name(raw):
    raw[P + "display_name.sv"] = "EKN Online för organisationer"
    assert parse(raw).sp_profile("orgid").metadata.display_name == (
        ("sv", "EKN Online för organisationer"),
        ("en", "EKN Online för organisationer"),
    )


PUBLIC = ENTITY_CATEGORIES["public-sector-sp"]


def test_categories_default_to_what_each_profiles_methods_need(raw):
    settings = parse(raw)
    assert settings.default_sp_profile.metadata.entity_categories == (ENTITY_CATEGORIES["loa3-pnr"], PUBLIC)
    assert settings.sp_profile("orgid").metadata.entity_categories == (ENTITY_CATEGORIES["loa3-orgid"], PUBLIC)


def test_categories_are_not_inherited(raw):
    raw["ekn_saml.sp.entity_categories"] = "loa3-pnr private-sector-sp"
    assert parse(raw).sp_profile("orgid").metadata.entity_categories == (ENTITY_CATEGORIES["loa3-orgid"], PUBLIC)


def test_contract_categories_are_inherited(raw):
    raw["ekn_saml.sp.contract_categories"] = "prepaid-auth-2021"
    assert ENTITY_CATEGORIES["prepaid-auth-2021"] in parse(raw).sp_profile("orgid").metadata.entity_categories


def test_a_profile_sets_its_own_contract_categories(raw):
    raw["ekn_saml.sp.contract_categories"] = "sweden-connect"
    raw["ekn_saml.sp_profile.orgid.contract_categories"] = "prepaid-auth-2021"
    categories = parse(raw).sp_profile("orgid").metadata.entity_categories
    assert (
        ENTITY_CATEGORIES["prepaid-auth-2021"] in categories and ENTITY_CATEGORIES["sweden-connect"] not in categories
    )


def test_an_own_signing_key_does_not_inherit_the_next_signing_cert(raw):
    raw["ekn_saml.sp.next_signing_cert"] = "/k/next.crt"
    assert parse(raw).sp_profile("orgid").metadata.next_signing_cert == ""


def test_an_inherited_signing_key_inherits_the_next_signing_cert(raw):
    raw["ekn_saml.sp.next_signing_cert"] = "/k/next.crt"
    del raw[P + "signing_key"], raw[P + "signing_cert"]
    assert parse(raw).sp_profile("orgid").metadata.next_signing_cert == "/k/next.crt"


# ------------------------------------------------------------ rules


def test_method_naming_an_unknown_profile_is_a_problem(raw):
    raw["ekn_saml.method.expisoft.sp_profile"] = "orgi"
    the_problem(raw, "ekn_saml.method.expisoft.sp_profile", "'orgi'")


def test_profile_keys_for_a_profile_not_listed_are_refused(raw):
    raw["ekn_saml.sp_profile.other.entity_id"] = "https://sp.example.test/sp/other"
    the_problem(raw, "ekn_saml.sp_profile.other.entity_id", "not in ekn_saml.sp_profiles")


def test_unknown_profile_key_is_refused(raw):
    raw[P + "entityid"] = "https://sp.example.test/x"
    assert f"unknown setting {P}entityid" in problems_of(raw)


def test_shared_keys_cannot_be_set_per_profile(raw):
    raw[P + "organization.name"] = "Another"
    assert f"unknown setting {P}organization.name" in problems_of(raw)


@pytest.mark.parametrize("name", ["Orgid", "org-id", "1orgid"])
def test_bad_profile_name_is_a_problem(raw, name):
    raw["ekn_saml.sp_profiles"] = f"orgid {name}"
    the_problem(raw, "ekn_saml.sp_profiles", repr(name), "not a valid profile name")


def test_default_is_not_a_further_profile_name(raw):
    raw["ekn_saml.sp_profiles"] = "orgid default"
    the_problem(raw, "ekn_saml.sp_profiles", "'default'", "sp.*")


def test_profile_listed_twice_is_a_problem(raw):
    raw["ekn_saml.sp_profiles"] = "orgid orgid"
    the_problem(raw, "ekn_saml.sp_profiles", "listed twice")


def test_profile_needs_an_entity_id(raw):
    del raw[P + "entity_id"]
    assert f"{P}entity_id is required" in problems_of(raw)


def test_profile_entity_id_must_be_an_absolute_uri(raw):
    raw[P + "entity_id"] = "orgid"
    the_problem(raw, f"{P}entity_id", "absolute URI")


def test_profile_entity_id_equal_to_the_defaults_is_a_problem(raw):
    raw[P + "entity_id"] = raw["ekn_saml.sp.entity_id"]
    the_problem(raw, f"{P}entity_id", "also the entityID of SP profile 'default'")


def test_two_further_profiles_with_one_entity_id_are_a_problem(raw):
    raw["ekn_saml.sp_profiles"] = "orgid orgid2"
    raw["ekn_saml.sp_profile.orgid2.entity_id"] = raw[P + "entity_id"]
    raw["ekn_saml.method.mobilt_bankid.sp_profile"] = "orgid2"
    the_problem(raw, "ekn_saml.sp_profile.orgid2.entity_id", "also the entityID of SP profile 'orgid'")


def test_profile_no_method_uses_is_a_problem(raw):
    del raw["ekn_saml.method.expisoft.sp_profile"]
    the_problem(raw, "SP profile 'orgid' is used by no login method")


def test_default_profile_no_method_uses_is_a_problem(raw):
    for method in ("mobilt_bankid", "bankid"):
        raw[f"ekn_saml.method.{method}.sp_profile"] = "orgid"
    the_problem(raw, "SP profile 'default' is used by no login method")


def test_pnr_category_on_a_profile_of_organisation_methods_only_is_a_problem(raw):
    raw[P + "entity_categories"] = "loa3-orgid loa3-pnr public-sector-sp"
    the_problem(raw, f"{P}entity_categories", "organisation logins only", ENTITY_CATEGORIES["loa3-pnr"])


@pytest.mark.parametrize("category", ["loa4-pnr", "uncertified-loa3-pnr"])
def test_every_pnr_category_counts(raw, category):
    raw[P + "entity_categories"] = f"loa3-orgid {category}"
    the_problem(raw, f"{P}entity_categories", "organisation logins only")


def test_pnr_category_on_a_profile_with_a_person_method_is_allowed(raw):
    raw["ekn_saml.method.bankid.sp_profile"] = "orgid"
    raw[P + "entity_categories"] = "loa3-pnr loa3-orgid"
    assert ENTITY_CATEGORIES["loa3-pnr"] in parse(raw).sp_profile("orgid").metadata.entity_categories


def test_the_default_profile_follows_the_same_pnr_rule(raw):
    """An organisation-only default profile may not ask for personal identity numbers either."""
    for method in ("mobilt_bankid", "bankid"):
        raw[f"ekn_saml.method.{method}.sp_profile"] = "orgid"
    raw["ekn_saml.method.expisoft.sp_profile"] = "default"
    raw["ekn_saml.sp.entity_categories"] = "loa3-pnr loa3-orgid"
    the_problem(raw, "ekn_saml.sp.entity_categories", "organisation logins only")


@pytest.mark.parametrize("key", ["signing_key", "signing_cert", "encryption_cert"])
def test_missing_key_file_of_a_profile_is_a_problem(raw, key):
    raw[P + key] = "/missing/file.pem"
    assert f"{P}{key}: file not found: /missing/file.pem" in problems_of(raw)


def test_missing_decryption_key_of_a_profile_is_a_problem(raw):
    raw[P + "encryption_keys"] = "/k/o-e.key /missing/old.key"
    assert f"{P}encryption_keys: file not found: /missing/old.key" in problems_of(raw)


def test_missing_next_signing_cert_of_a_profile_is_a_problem(raw):
    raw[P + "next_signing_cert"] = "/missing/next.crt"
    assert f"{P}next_signing_cert: file not found: /missing/next.crt" in problems_of(raw)


@pytest.mark.parametrize("key", ["signing_key", "signing_cert", "encryption_keys", "encryption_cert"])
def test_a_key_and_its_certificate_are_set_together(raw, key):
    del raw[P + key]
    the_problem(raw, f"{P}{key}", "must be set together")


def test_profile_categories_are_checked_as_the_defaults(raw):
    raw[P + "entity_categories"] = "loa3-orgidd"
    the_problem(raw, f"{P}entity_categories", "'loa3-orgidd'")


def test_profile_requested_attributes_are_checked_as_the_defaults(raw):
    raw[P + "requested_attributes"] = "shoeSize"
    the_problem(raw, f"{P}requested_attributes", "'shoeSize'")


def test_every_profile_problem_is_reported_at_once(raw):
    del raw[P + "entity_id"]
    raw[P + "signing_key"] = "/missing/s.key"
    raw["ekn_saml.method.bankid.sp_profile"] = "nosuch"
    assert len(problems_of(raw)) == 3
