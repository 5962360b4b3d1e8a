# SPDX-License-Identifier: Apache-2.0
"""The language switch (/lang/{code}) in the whole app: bad input gets the plugin's own pages.

The switch itself (cookie, safe ``next``) is pinned in tests/unit/test_i18n.py;
here it is the answer to what it refuses, rendered by the plugin's exception views.
"""

from __future__ import annotations

import json

import pytest

from ekn_saml.errors import ErrorCode, ErrorFamily


def error_code(page) -> str:
    """The code the page shows to quote to support (the first item of .error-ids)."""
    return page.html.select_one(".error-ids li").get_text().split(":", 1)[1].strip()


def test_unsupported_language_gets_the_bad_request_page_with_its_code(testapp):
    page = testapp.get("/lang/de", params={"next": "/mina-sidor"}, expect_errors=True)
    assert page.status_int == 400 and page.content_type == "text/html"
    assert page.html.select_one(f".error-page--{ErrorFamily.BAD_REQUEST.value}") is not None
    assert error_code(page) == ErrorCode.UNKNOWN_LANGUAGE.value


@pytest.mark.parametrize("accept_language", ["en-GB,en;q=0.9", "sv-SE,sv;q=0.9"])
def test_unsupported_language_page_is_in_the_browsers_language(testapp, accept_language):
    page = testapp.get("/lang/de", headers={"Accept-Language": accept_language}, expect_errors=True)
    assert page.html.html["lang"] == accept_language[:2]


def test_unsupported_language_page_keeps_the_language_chosen_before(testapp):
    testapp.get("/lang/en")
    page = testapp.get("/lang/de", headers={"Accept-Language": "sv"}, expect_errors=True)
    assert page.html.html["lang"] == "en"


def test_unsupported_language_is_not_remembered(testapp):
    page = testapp.get("/lang/de", expect_errors=True)
    assert "ekn_lang" not in page.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", "/mina-sidor"])
def test_unsupported_language_does_not_redirect(testapp, target):
    page = testapp.get("/lang/de", params={"next": target}, expect_errors=True)
    assert page.status_int == 400 and "Location" not in page.headers


def test_unsupported_language_page_never_echoes_the_code(testapp):
    page = testapp.get("/lang/%3Cscript%3Ex", expect_errors=True)
    assert error_code(page) == ErrorCode.UNKNOWN_LANGUAGE.value
    assert "<script>x" not in page.text and page.html.select("main script") == []


def test_language_switch_with_a_next_that_is_not_utf8_gets_the_encoding_page(testapp):
    page = testapp.get("/lang/en?next=%ff", expect_errors=True)
    assert page.status_int == 400 and error_code(page) == ErrorCode.REQUEST_ENCODING_INVALID.value


def test_unsupported_language_is_no_login_failure_in_the_audit_trail(testapp, caplog):
    with caplog.at_level("INFO", logger="ekn_saml.audit"):
        testapp.get("/lang/de", expect_errors=True)
    events = [json.loads(r.getMessage())["event"] for r in caplog.records if r.name == "ekn_saml.audit"]
    assert events == ["error_page"]  # its reference is audited, as no failed login
    assert any(ErrorCode.UNKNOWN_LANGUAGE.value in r.getMessage() for r in caplog.records)  # still logged
