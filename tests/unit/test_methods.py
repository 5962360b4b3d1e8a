# SPDX-License-Identifier: Apache-2.0
"""ekn_saml.methods: one entry per built-in login method, and every part of the SP that reads it."""

from __future__ import annotations

import gettext
import importlib.resources
import pathlib

import pytest

from ekn_saml.constants import EIDAS_NF_HIGH, EIDAS_NF_SUB, LOA3, UNCERTIFIED_LOA3
from ekn_saml.devidp import DEV_IDPS
from ekn_saml.devidp.personas import personas_for
from ekn_saml.metadata.categories import PROFILE_CATEGORY
from ekn_saml.methods import BUILT_IN_METHODS, DEFAULT_METHODS, PROFILES, built_in
from ekn_saml.settings import KNOWN_METHODS
from ekn_saml.testing import ORGID_METHODS

PACKAGE = pathlib.Path(__file__).parents[2] / "ekn_saml"
METHODS = sorted(BUILT_IN_METHODS)


def _asset(spec: str) -> pathlib.Path:
    package, _, path = spec.partition(":")
    return pathlib.Path(str(importlib.resources.files(package))) / path


def test_the_four_methods_of_ekn_online_are_built_in():
    assert METHODS == ["bankid", "eidas", "expisoft", "mobilt_bankid"]


def test_eidas_is_off_unless_configured():
    """An operator must join the eIDAS connector first: not in the default ekn_saml.methods."""
    assert DEFAULT_METHODS == ("mobilt_bankid", "bankid", "expisoft")


def test_eidas_asks_for_the_notified_substantial_and_high_levels():
    assert built_in("eidas").loa == (EIDAS_NF_SUB, EIDAS_NF_HIGH)


@pytest.mark.parametrize("name", METHODS)
def test_each_method_has_its_help_section(name):
    assert _asset(BUILT_IN_METHODS[name].help_template).is_file()


@pytest.mark.parametrize("name", METHODS)
def test_each_method_has_its_logo(name):
    assert _asset(BUILT_IN_METHODS[name].logo).is_file()


@pytest.mark.parametrize("name", METHODS)
def test_each_methods_texts_are_in_swedish(name):
    with (PACKAGE / "locale/sv/LC_MESSAGES/ekn_saml.mo").open("rb") as fh:
        catalogue = gettext.GNUTranslations(fh)
    method = BUILT_IN_METHODS[name]
    for text in (method.label, method.description, method.support_label):
        assert catalogue.gettext(str(text)) != str(text), f"{name}: {text!r} is not translated"


@pytest.mark.parametrize("name", METHODS)
def test_each_method_has_a_profile_and_its_support_on_https(name):
    method = BUILT_IN_METHODS[name]
    assert method.profile in PROFILES and method.support_url.startswith("https://")


def test_the_settings_defaults_are_the_registrys():
    assert {name: (m["profile"], m["loa"]) for name, m in KNOWN_METHODS.items()} == {
        name: (m.profile, m.loa) for name, m in BUILT_IN_METHODS.items()
    }


def test_bankid_asks_for_uncertified_loa3_too():
    """BankID IdPs often issue only uncertified-loa3 (swedish-eid.md §7)."""
    assert {LOA3, UNCERTIFIED_LOA3} <= set(built_in("bankid").loa) and UNCERTIFIED_LOA3 in built_in("mobilt_bankid").loa


def test_a_method_not_built_in_has_no_entry():
    assert built_in("freja") is None


@pytest.mark.parametrize("name", METHODS)
def test_the_development_idp_of_each_method_declares_its_profiles_category(name):
    method = BUILT_IN_METHODS[name]
    assert DEV_IDPS[method.dev_slug][0] == name
    assert PROFILE_CATEGORY[method.profile] in DEV_IDPS[method.dev_slug][1]


@pytest.mark.parametrize("name", METHODS)
def test_the_development_idp_has_personas_for_each_method(name):
    assert personas_for(name)


def test_the_organisation_methods_go_out_as_the_orgid_profile_in_the_demo():
    assert tuple(n for n, m in BUILT_IN_METHODS.items() if m.profile == "organisation") == ORGID_METHODS
