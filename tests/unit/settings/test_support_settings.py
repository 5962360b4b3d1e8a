# SPDX-License-Identifier: Apache-2.0
"""ekn_saml.support.*: EKN's customer service as the pages show it, checked at startup."""

from __future__ import annotations

import pytest

from ekn_saml.settings import parse_settings

from settings_cases import minimal_raw, problems_of


@pytest.fixture
def raw():
    return minimal_raw()


def parse(raw):
    return parse_settings(raw, file_exists=lambda p: True)


def test_the_support_email_defaults_to_the_metadata_support_contact(raw):
    raw["ekn_saml.sp.contact.support.email"] = "kundservice@ekn.example"
    assert parse(raw).support.email == "kundservice@ekn.example"


def test_a_support_email_of_its_own_wins_over_the_metadata_one(raw):
    raw["ekn_saml.sp.contact.support.email"] = "saml@ekn.example"
    raw["ekn_saml.support.email"] = "mailto:kundservice@ekn.example"
    assert parse(raw).support.email == "kundservice@ekn.example"


def test_nothing_configured_means_no_contact(raw):
    assert parse(raw).support.configured is False


def test_english_falls_back_to_swedish(raw):
    raw["ekn_saml.support.opening_hours.sv"] = "vardagar 9–16"
    raw["ekn_saml.support.form_url.sv"] = "https://ekn.example/kontakt"
    support = parse(raw).support
    assert (support.hours_in("en"), support.form_in("en")) == ("vardagar 9–16", "https://ekn.example/kontakt")


def test_each_language_has_its_own_hours_and_form(raw):
    raw["ekn_saml.support.opening_hours.sv"] = "vardagar 9–16"
    raw["ekn_saml.support.opening_hours.en"] = "weekdays 9–16"
    raw["ekn_saml.support.form_url.sv"] = "https://ekn.example/kontakt"
    raw["ekn_saml.support.form_url.en"] = "https://ekn.example/en/contact"
    support = parse(raw).support
    assert support.hours_in("en") == "weekdays 9–16"
    assert support.form_in("sv") == "https://ekn.example/kontakt"
    assert support.form_in("en") == "https://ekn.example/en/contact"


@pytest.mark.parametrize(
    "key, value",
    [
        ("support.email", "not-an-address"),
        ("support.phone", "call us"),
        ("support.phone", "<b>08</b>"),
        ("support.form_url.sv", "http://ekn.example/kontakt"),
        ("support.form_url.en", "javascript:alert(1)"),
        ("support.form_url.sv", "https://"),
    ],
)
def test_a_bad_value_is_a_startup_problem(raw, key, value):
    raw[f"ekn_saml.{key}"] = value
    assert any(f"ekn_saml.{key}" in problem for problem in problems_of(raw))


def test_every_support_problem_is_reported_together(raw):
    raw["ekn_saml.support.email"] = "nope"
    raw["ekn_saml.support.phone"] = "nope"
    raw["ekn_saml.support.form_url.sv"] = "ftp://ekn.example/"
    problems = [p for p in problems_of(raw) if "support." in p]
    assert len(problems) == 3


def test_a_phone_number_with_country_code_is_accepted(raw):
    raw["ekn_saml.support.phone"] = "+46 8-788 00 00"
    assert parse(raw).support.phone == "+46 8-788 00 00"
