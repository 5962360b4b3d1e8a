# SPDX-License-Identifier: Apache-2.0
"""``ekn_saml.user_message.*`` and ``method.<name>.secure_authenticator_binding``, checked at startup."""

from __future__ import annotations

import pytest

from ekn_saml.metadata.categories import SECURE_AUTHENTICATOR_BINDING
from ekn_saml.settings import parse_settings

from settings_cases import minimal_raw, problems_of


@pytest.fixture
def raw():
    return minimal_raw()


def parse(raw):
    return parse_settings(raw, file_exists=lambda p: True)


def test_user_message_has_a_swedish_and_an_english_default(raw):
    assert parse(raw).user_message == (("sv", "Logga in på EKN Online"), ("en", "Log in to EKN Online"))


def test_an_empty_language_is_left_out(raw):
    raw["ekn_saml.user_message.en"] = ""
    assert parse(raw).user_message == (("sv", "Logga in på EKN Online"),)


def test_line_breaks_are_allowed(raw):
    raw["ekn_saml.user_message.sv"] = "Logga in på EKN Online.\nLogga inte in om någon har bett dig."
    assert dict(parse(raw).user_message)["sv"].count("\n") == 1


def test_a_message_over_the_cap_is_refused(raw):
    raw["ekn_saml.user_message.sv"] = "x" * 201
    assert any(p.startswith("ekn_saml.user_message.sv is 201 characters long") for p in problems_of(raw))


@pytest.mark.parametrize("text", ["Hej\x1b[2J", "Hej\u202edlrow", "Hej\tdu"])
def test_control_and_bidi_characters_are_refused(raw, text):
    raw["ekn_saml.user_message.en"] = text
    assert any("control or bidirectional-override" in p for p in problems_of(raw))


@pytest.mark.parametrize("text", ["Logga in, 198001012387", "Org 5560000001"])
def test_identity_like_numbers_are_refused(raw, text):
    raw["ekn_saml.user_message.sv"] = text
    assert any("run of 10 or more digits" in p for p in problems_of(raw))


def test_secure_authenticator_binding_is_off_by_default(raw):
    assert not any(m.secure_authenticator_binding for m in parse(raw).methods)


def test_secure_authenticator_binding_is_declared_by_the_methods_sp_profile(raw):
    raw["ekn_saml.method.bankid.secure_authenticator_binding"] = "true"
    assert SECURE_AUTHENTICATOR_BINDING in parse(raw).sp_metadata.entity_categories


def test_explicit_entity_categories_must_include_secure_authenticator_binding(raw):
    raw["ekn_saml.method.bankid.secure_authenticator_binding"] = "true"
    raw["ekn_saml.sp.entity_categories"] = "loa3-pnr loa3-orgid"
    assert any("must include secure-authenticator-binding" in p for p in problems_of(raw))


def test_secure_authenticator_binding_must_be_a_boolean(raw):
    raw["ekn_saml.method.bankid.secure_authenticator_binding"] = "sometimes"
    assert any("secure_authenticator_binding must be true or false" in p for p in problems_of(raw))
