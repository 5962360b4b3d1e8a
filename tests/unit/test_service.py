# SPDX-License-Identifier: Apache-2.0
"""ServiceProvider (ekn_saml.service) rules that are not ACS checks: the browser binding.

Logins are real: a signed AuthnRequest stored by ``start_login`` and a
signed, encrypted response from tests/saml_factory.py.
"""
from __future__ import annotations

import pytest

from acs_helpers import assert_rejected, begin, finish
from ekn_saml.demo import main
from ekn_saml.errors import ErrorCode
from ekn_saml.server_keys import ServerKeys
from ekn_saml.service import BROWSER_BINDING_PURPOSE


@pytest.fixture
def sp(app_settings):
    return main({}, **app_settings).registry.ekn_saml


@pytest.fixture
def login(sp):
    return begin(sp, "bankid")


def unsigned(cookie: str) -> str:
    """The random token inside a signed binding cookie (``token.<key id>.<MAC>``)."""
    return cookie.split(".", 1)[0]


# --- the browser binding ---------------------------------------------------------


def test_a_binding_the_sp_signed_is_reused(sp):
    issued = sp.browser_binding(None)
    assert sp.browser_binding(issued.cookie) == issued


def test_an_unsigned_value_is_not_adopted(sp):
    binding = sp.browser_binding("planted-by-a-subdomain")
    assert binding.token != "planted-by-a-subdomain"
    assert sp.server_keys.unsign(BROWSER_BINDING_PURPOSE, binding.cookie) == binding.token


def test_a_value_signed_with_another_key_is_not_adopted(sp):
    forged = ServerKeys.ephemeral().sign(BROWSER_BINDING_PURPOSE, "chosen-by-the-attacker")
    assert sp.browser_binding(forged).token != "chosen-by-the-attacker"


def test_the_acs_refuses_the_right_token_without_the_sps_signature(sp, response_factory, login):
    assert_rejected(ErrorCode.REQUEST_BROWSER_MISMATCH, sp, response_factory, login, token=unsigned(login.browser_token))


def test_an_unsigned_token_at_the_acs_does_not_burn_the_request(sp, response_factory, login):
    assert_rejected(ErrorCode.REQUEST_BROWSER_MISMATCH, sp, response_factory, login, token=unsigned(login.browser_token))
    assert finish(sp, response_factory, login)[0].kind == "person"
