# SPDX-License-Identifier: Apache-2.0
"""ServiceProvider (ekn_saml.service) rules that are not ACS checks: the browser binding, the login-start limit.

Logins are real: a signed AuthnRequest stored by ``start_login`` and a
signed, encrypted response from tests/saml_factory.py.
"""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from ekn_saml.demo import main
from ekn_saml.errors import ErrorCode, LoginRateLimitedError
from ekn_saml.interfaces import ISamlServiceProvider
from ekn_saml.response import REQUESTS
from ekn_saml.server_keys import ServerKeys
from ekn_saml.service import BROWSER_BINDING_PURPOSE, ServiceProvider
from ekn_saml.xmlsecurity import IN_PROCESS

from acs_helpers import assert_rejected, begin, finish


@pytest.fixture
def sp(app_settings):
    return main({}, **app_settings).registry.getUtility(ISamlServiceProvider)


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
    assert_rejected(
        ErrorCode.REQUEST_BROWSER_MISMATCH, sp, response_factory, login, token=unsigned(login.browser_token)
    )


def test_an_unsigned_token_at_the_acs_does_not_burn_the_request(sp, response_factory, login):
    assert_rejected(
        ErrorCode.REQUEST_BROWSER_MISMATCH, sp, response_factory, login, token=unsigned(login.browser_token)
    )
    assert finish(sp, response_factory, login)[0].kind == "person"


# --- the login-start rate limit -----------------------------------------------------


def limited_sp(app_settings, limit: int, window: int = 60):
    settings = {
        **app_settings,
        "ekn_saml.security.login_start_limit": str(limit),
        "ekn_saml.security.login_start_window": str(window),
    }
    return main({}, **settings).registry.getUtility(ISamlServiceProvider)


def start(sp, client="192.0.2.1"):
    return sp.start_login("bankid", None, sp.browser_binding(None).token, client_address=client)


def test_starts_up_to_the_limit_are_served(app_settings):
    sp = limited_sp(app_settings, 3)
    assert [start(sp).binding for _ in range(3)] == ["redirect"] * 3


def test_the_start_over_the_limit_is_refused_with_its_code(app_settings):
    sp = limited_sp(app_settings, 3)
    for _ in range(3):
        start(sp)
    with pytest.raises(LoginRateLimitedError) as refused:
        start(sp)
    assert refused.value.code is ErrorCode.LOGIN_RATE_LIMITED and refused.value.http_status == 429


def test_the_refusal_says_when_to_try_again(app_settings):
    sp = limited_sp(app_settings, 1, window=90)
    start(sp)
    with pytest.raises(LoginRateLimitedError) as refused:
        start(sp)
    assert refused.value.retry_after == 90


def test_each_client_address_has_its_own_limit(app_settings):
    sp = limited_sp(app_settings, 1)
    start(sp, "192.0.2.1")
    assert start(sp, "192.0.2.2").binding == "redirect"


def test_a_limit_of_zero_turns_the_limit_off(app_settings):
    sp = limited_sp(app_settings, 0)
    assert [start(sp).binding for _ in range(5)] == ["redirect"] * 5


def test_a_refused_start_stores_no_request(app_settings, tmp_path):
    # the limit is checked before the AuthnRequest is built, signed or stored
    store = tmp_path / "state.sqlite"
    sp = limited_sp({**app_settings, "ekn_saml.store.url": f"sqlite:///{store}"}, 2)
    for _ in range(2):
        start(sp)
    with pytest.raises(LoginRateLimitedError):
        start(sp)
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT count(*) FROM kv WHERE ns = ?", (REQUESTS,)).fetchone() == (2,)


def test_the_store_holds_no_client_address(app_settings, tmp_path):
    store = tmp_path / "state.sqlite"
    sp = limited_sp({**app_settings, "ekn_saml.store.url": f"sqlite:///{store}"}, 2)
    start(sp, "198.51.100.23")
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT key, value FROM kv").fetchall()
    assert rows and not any("198.51.100.23" in key + value for key, value in rows)


# --- the stored outstanding request ---------------------------------------------------


def test_a_plain_login_start_stores_only_what_the_checks_need(sp):
    # no request ID (the key), no ACS URL (the profile's), no next path (landing_path), no defaults
    login = begin(sp, "bankid")
    assert set(sp.store.get(REQUESTS, login.request_id)) == {
        "method",
        "idp_entity_id",
        "loa",
        "issued_at",
        "browser",
        "relay_state",
    }


def test_a_start_without_next_returns_to_the_landing_path(sp, response_factory):
    login = begin(sp, "bankid")
    assert finish(sp, response_factory, login)[1] == "/mina-sidor"  # the test settings' landing_path


def test_the_crypto_engine_must_be_the_one_the_settings_name(sp):
    """The wiring builds the engine ekn_saml.crypto_backend names; another one is refused, never used silently."""
    settings = dataclasses.replace(sp.settings, crypto_backend="xmlsec1")
    with pytest.raises(ValueError):
        ServiceProvider(settings, sp.credentials, sp.registry, sp.store, crypto=IN_PROCESS)
