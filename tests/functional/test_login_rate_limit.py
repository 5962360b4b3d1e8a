# SPDX-License-Identifier: Apache-2.0
"""Too many login starts from one client address: HTTP 429, Retry-After, a page of its own.

Each login start costs a signed AuthnRequest and a stored request, so one
client address gets ``security.login_start_limit`` of them per window
(here 2 per 60 s).  The client is ``REMOTE_ADDR``, never X-Forwarded-For.
"""

from __future__ import annotations

import json
import logging

import pytest

from ekn_saml.demo import main
from ekn_saml.errors import ErrorCode, ErrorFamily

from dev_app import BINDING_COOKIE, browser

LIMIT = 2
WINDOW = 60


@pytest.fixture
def app(dev_settings):
    return main(
        {},
        **{
            **dev_settings,
            "ekn_saml.security.login_start_limit": str(LIMIT),
            "ekn_saml.security.login_start_window": str(WINDOW),
        },
    )


def over_the_limit(client, **kw):
    for _ in range(LIMIT):
        assert client.get("/login/bankid", **kw).status_int == 302
    return client.get("/login/bankid", expect_errors=True, **kw)


def error_code(page) -> str:
    return page.html.select_one(".error-ids li").get_text().split(":", 1)[1].strip()


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_start_over_the_limit_gets_429_with_its_code_and_retry_after(app, language):
    page = over_the_limit(browser(app), headers={"Accept-Language": language})
    assert page.status_int == 429 and page.headers["Retry-After"] == str(WINDOW)
    assert error_code(page) == ErrorCode.LOGIN_RATE_LIMITED.value
    assert page.html.html["lang"] == language
    assert page.html.select_one(f".error-page--{ErrorFamily.RATE_LIMITED.value} h1") is not None


def test_the_429_page_is_translated(app):
    headings = {
        language: over_the_limit(
            browser(app, REMOTE_ADDR=f"192.0.2.{n}"), headers={"Accept-Language": language}
        ).html.h1.get_text()
        for n, language in enumerate(("sv", "en"), 1)
    }
    assert headings["sv"] != headings["en"]


def test_the_429_page_sets_no_binding_cookie(app):
    page = over_the_limit(browser(app))
    assert not any(h.startswith(BINDING_COOKIE + "=") for h in page.headers.getall("Set-Cookie"))


def test_the_refused_start_is_a_failed_login_in_the_audit_trail(app, caplog):
    caplog.set_level(logging.INFO, logger="ekn_saml.audit")
    page = over_the_limit(browser(app, REMOTE_ADDR="198.51.100.9"))
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ekn_saml.audit"]
    assert (line["event"], line["code"], line["client"], line["method"]) == (
        "login_failure",
        ErrorCode.LOGIN_RATE_LIMITED.value,
        "198.51.100.9",
        "bankid",
    )
    assert line["reference"] in page.text


def test_another_client_address_is_not_limited(app):
    over_the_limit(browser(app, REMOTE_ADDR="192.0.2.1"))
    assert browser(app, REMOTE_ADDR="192.0.2.2").get("/login/bankid").status_int == 302


def test_x_forwarded_for_does_not_make_another_client(app):
    client = browser(app, REMOTE_ADDR="192.0.2.1")
    for n in range(LIMIT):
        client.get("/login/bankid", headers={"X-Forwarded-For": f"203.0.113.{n}"})
    page = client.get("/login/bankid", headers={"X-Forwarded-For": "203.0.113.99"}, expect_errors=True)
    assert page.status_int == 429


def test_the_chooser_is_not_counted(app):
    client = browser(app)
    for _ in range(LIMIT + 1):
        assert client.get("/login").status_int == 200
    assert client.get("/login/bankid").status_int == 302
