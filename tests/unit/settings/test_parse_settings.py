# SPDX-License-Identifier: Apache-2.0
"""Settings are parsed once; every problem is reported together; unknown keys stop startup."""

from __future__ import annotations

import pathlib

import pytest

from ekn_saml.settings import KEYS, REQUIRED, parse_settings

from settings_cases import minimal_raw, problems_of


@pytest.fixture
def raw():
    return minimal_raw()


def parse(raw):
    return parse_settings(raw, file_exists=lambda p: True)


def test_valid_settings_parse_with_safe_defaults(raw):
    s = parse(raw)
    assert (s.force_authn, s.require_encrypted_assertion, s.accept_coordination_number) == (True, True, False)
    assert s.clock_skew <= 60 and s.devidp.enabled is False
    assert s.acs_url == "https://sp.example.test/saml/acs"


def test_login_starts_are_limited_by_default(raw):
    s = parse(raw)
    assert (s.login_start_limit, s.login_start_window) == (60, 60)


def test_bankid_requests_both_loa3_and_uncertified_loa3_by_default(raw):
    assert parse(raw).method("bankid").loa == (
        "http://id.elegnamnden.se/loa/1.0/loa3",
        "http://id.swedenconnect.se/loa/1.0/uncertified-loa3",
    )


def test_expisoft_is_an_organisation_profile(raw):
    assert parse(raw).method("expisoft").profile == "organisation"


def test_unknown_key_is_refused(raw):
    raw["ekn_saml.security.clock_skw"] = "30"
    assert "unknown setting ekn_saml.security.clock_skw" in problems_of(raw)


def test_every_problem_is_reported_at_once(raw):
    raw["ekn_saml.security.clock_skew"] = "600"
    raw["ekn_saml.authn_request.binding"] = "soap"
    raw["ekn_saml.sp.signing_key"] = "/missing/key"
    del raw["ekn_saml.sp.entity_id"]
    assert len(problems_of(raw)) == 4


@pytest.mark.parametrize(
    "key, value",
    [
        ("security.clock_skew", "61"),
        ("security.clock_skew", "abc"),
        ("authn_request.force_authn", "maybe"),
        ("sp.public_base_url", "https://sp.example.test/path"),
        ("sp.public_base_url", "ftp://sp.example.test"),
        ("sp.entity_id", "not a uri"),
        ("landing_path", "//evil.example"),
        ("logged_out_path", "https://evil.example/"),
        ("method.bankid.profile", "robot"),
        ("method.bankid.loa", "loa3"),
        ("store.url", "postgres://x"),
        ("session.idle_timeout", "9"),
        ("devidp.data_encryption", "tripledes-cbc"),
        ("security.max_xml_nodes", "50"),
        ("security.max_xml_attributes", "2000"),
        ("security.max_xml_depth", "1000"),
        ("security.max_xml_namespaces", "2"),
        # the __Host- prefix follows from cookie_secure; a configured one would be doubled
        ("session.cookie_name", "__Host-ekn_session"),
        ("session.cookie_name", "__Secure-ekn_session"),
        ("security.login_start_limit", "-1"),
        ("security.login_start_limit", "many"),
        ("security.login_start_window", "0"),
        ("security.login_start_window", "3601"),
    ],
)
def test_bad_value_is_refused(raw, key, value):
    raw["ekn_saml." + key] = value
    assert any(key in problem for problem in problems_of(raw)), key


def test_http_public_base_url_is_refused_outside_development(raw):
    # DP §6.1: the ACS must be TLS-protected
    raw["ekn_saml.sp.public_base_url"] = "http://sp.example.test"
    assert any("sp.public_base_url must be https" in p for p in problems_of(raw))


def test_http_public_base_url_is_refused_for_a_further_sp_profile_too(raw):
    # the profiles share the base: their ACS URLs would be http as well
    raw.update(
        {
            "ekn_saml.sp.public_base_url": "http://sp.example.test",
            "ekn_saml.sp_profiles": "orgid",
            "ekn_saml.sp_profile.orgid.entity_id": "https://sp.example.test/sp/orgid",
            "ekn_saml.method.expisoft.sp_profile": "orgid",
        }
    )
    assert any("sp.public_base_url must be https" in p for p in problems_of(raw))


@pytest.mark.parametrize(
    "development",
    [
        {"ekn_saml.development": "true"},
        {"ekn_saml.testing": "true"},
        {"ekn_saml.devidp.enabled": "true", "ekn_saml.devidp.key": "/k/idp.key", "ekn_saml.devidp.cert": "/k/idp.crt"},
    ],
    ids=["development", "testing", "devidp"],
)
def test_http_public_base_url_is_allowed_in_development(raw, development):
    raw["ekn_saml.sp.public_base_url"] = "http://localhost:6543"
    raw.update(development)
    assert parse(raw).acs_url == "http://localhost:6543/saml/acs"


def test_idle_timeout_may_not_exceed_absolute_timeout(raw):
    raw["ekn_saml.session.idle_timeout"] = "7200"
    raw["ekn_saml.session.absolute_timeout"] = "3600"
    assert any("idle_timeout" in p for p in problems_of(raw))


def test_method_needs_an_idp(raw):
    del raw["ekn_saml.method.bankid.idp"]
    assert "ekn_saml.method.bankid.idp is required" in problems_of(raw)


def test_settings_for_a_method_not_listed_are_refused(raw):
    raw["ekn_saml.methods"] = "bankid"
    assert any("mobilt_bankid" in p and "not in" in p for p in problems_of(raw))


def test_custom_method_needs_a_label(raw):
    raw["ekn_saml.methods"] = "bankid freja"
    raw["ekn_saml.method.freja.idp"] = "https://idp.example.test/f"
    raw["ekn_saml.method.freja.profile"] = "person"
    for name in ("mobilt_bankid", "expisoft"):
        del raw[f"ekn_saml.method.{name}.idp"]
    assert "ekn_saml.method.freja.label is required for a method that is not built in" in problems_of(raw)


def test_development_idp_needs_its_keys(raw):
    raw["ekn_saml.devidp.enabled"] = "true"
    problems = problems_of(raw)
    assert any("devidp.key" in p for p in problems) and any("devidp.cert" in p for p in problems)


def test_missing_key_file_is_reported(raw):
    raw["ekn_saml.sp.encryption_keys"] = "/k/e.key /missing/old.key"
    assert "ekn_saml.sp.encryption_keys: file not found: /missing/old.key" in problems_of(raw)


README = pathlib.Path(__file__).parents[3] / "README.md"


def test_every_documented_key_is_in_the_readme():
    readme = README.read_text(encoding="utf-8")
    missing = [key for key in KEYS if f"`ekn_saml.{key}`" not in readme]
    assert not missing, f"README.md lacks settings: {missing}"


def _readme_row(key: str) -> str:
    default, text = KEYS[key]
    shown = "**required**" if default is REQUIRED else "(empty)" if default == "" else f"`{default}`"
    return f"| `ekn_saml.{key}` | {shown} | {text} |"


def test_the_readme_says_of_every_key_what_keys_says():
    """The configuration table's row of each key has the table's default and text, word for word."""
    rows = set(README.read_text(encoding="utf-8").splitlines())
    differing = [key for key in KEYS if _readme_row(key) not in rows]
    assert not differing, f"README.md's rows differ from KEYS for: {differing}"


def test_the_xml_caps_reach_the_acs_policy(raw):
    """Each ekn_saml.security.max_xml_* setting is the cap the ACS parses a Response under."""
    from ekn_saml.xml_limits import XmlLimits

    raw.update(
        {
            "ekn_saml.security.max_xml_nodes": "500",
            "ekn_saml.security.max_xml_attributes": "16",
            "ekn_saml.security.max_xml_depth": "20",
            "ekn_saml.security.max_xml_namespaces": "30",
        }
    )
    assert parse(raw).xml_limits == XmlLimits(max_nodes=500, max_attributes=16, max_depth=20, max_namespaces=30)
