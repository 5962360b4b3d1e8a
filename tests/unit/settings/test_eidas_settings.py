# SPDX-License-Identifier: Apache-2.0
"""The eidas method's settings: off unless listed, its categories, the accepted mapped-number bindings."""

from __future__ import annotations

from ekn_saml.eidas import BINDING_PROCESSES
from ekn_saml.metadata.categories import ENTITY_CATEGORIES

from settings_cases import minimal_raw, parse, problems_of

EIDAS = ENTITY_CATEGORIES["eidas-naturalperson"]
PUBLIC = ENTITY_CATEGORIES["public-sector-sp"]


def with_eidas(**extra: str) -> dict[str, str]:
    return {
        **minimal_raw(),
        "ekn_saml.methods": "mobilt_bankid bankid expisoft eidas",
        "ekn_saml.method.eidas.idp": "https://connector.example.test/eidas",
        **{"ekn_saml." + key.replace("__", "."): value for key, value in extra.items()},
    }


def test_eidas_is_not_a_default_method():
    assert "eidas" not in [m.name for m in parse(minimal_raw()).methods]


def test_a_listed_eidas_method_gives_foreign_persons():
    method = parse(with_eidas()).method("eidas")
    assert (method.profile, method.idp_entity_id) == ("foreign_person", "https://connector.example.test/eidas")


def test_by_default_the_metadata_declares_eidas_naturalperson_and_public_sector_sp():
    categories = parse(with_eidas()).sp_metadata.entity_categories
    assert {EIDAS, PUBLIC} <= set(categories)


def test_without_eidas_its_category_is_not_declared_by_default():
    # public-sector-sp is, for every SP profile (issue #16: EKN is a public-sector SP, TAR §3.5.2)
    categories = parse(minimal_raw()).sp_metadata.entity_categories
    assert EIDAS not in categories and PUBLIC in categories


def test_private_sector_sp_is_enough_when_set_explicitly():
    settings = parse(with_eidas(sp__entity_categories="loa3-pnr eidas-naturalperson private-sector-sp"))
    assert PUBLIC not in settings.sp_metadata.entity_categories


def test_explicit_categories_without_a_service_type_are_refused():
    """EC §4.2: an SP wanting eIDAS MUST declare its service type."""
    problems = problems_of(with_eidas(sp__entity_categories="loa3-pnr eidas-naturalperson"))
    assert any("public-sector-sp" in p and "eidas" in p for p in problems)


def test_explicit_categories_without_eidas_naturalperson_are_refused():
    """EC §2.2.1: the connector would never match the profile, so the method could never be used."""
    problems = problems_of(with_eidas(sp__entity_categories="loa3-pnr public-sector-sp"))
    assert any("eidas-naturalperson" in p and "eidas" in p for p in problems)


def test_no_binding_is_accepted_by_default():
    assert parse(with_eidas()).eidas_mapped_number_bindings == ()


def test_binding_short_names_become_the_registrys_uris():
    settings = parse(with_eidas(eidas__mapped_number_bindings="swedish-eid populationregister"))
    assert settings.eidas_mapped_number_bindings == (
        BINDING_PROCESSES["swedish-eid"],
        BINDING_PROCESSES["populationregister"],
    )


def test_a_binding_that_is_neither_known_nor_a_uri_is_refused():
    problems = problems_of(with_eidas(eidas__mapped_number_bindings="trust-me"))
    assert any("eidas.mapped_number_bindings" in p and "trust-me" in p for p in problems)


def test_countries_are_kept_upper_case_in_order():
    assert parse(with_eidas(eidas__countries="no DK no")).eidas_countries == ("NO", "DK")


def test_a_country_that_is_not_two_letters_is_refused():
    problems = problems_of(with_eidas(eidas__countries="NOR"))
    assert any("eidas.countries" in p and "NOR" in p for p in problems)


def test_an_eidas_only_profile_accepting_coordination_numbers_declares_it():
    """EC §2.2.1 note, §6.2: the connector maps to a samordningsnummer only for an SP declaring it."""
    raw = with_eidas(
        sp_profiles="foreign",
        sp_profile__foreign__entity_id="https://sp.example.test/foreign",
        method__eidas__sp_profile="foreign",
        security__accept_coordination_number="true",
    )
    [foreign] = [p for p in parse(raw).sp_profiles if p.name == "foreign"]
    assert ENTITY_CATEGORIES["accepts-coordination-number"] in foreign.metadata.entity_categories
