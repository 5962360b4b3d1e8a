# SPDX-License-Identifier: Apache-2.0
"""What the error pages show, and that every reference on them is in the log and the audit trail."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from ekn_saml.errors import ErrorCode, Refusal
from ekn_saml.interfaces import ISamlServiceProvider

from dev_app import answer, idp_page


def page_marker(page) -> dict[str, str]:
    """The error page's stable markers: code, reference, refusal, permanent."""
    element = page.html.select_one(".error-page")
    return {name: element.get(f"data-{name}") for name in ("code", "reference", "refusal", "permanent")}


def audit_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "ekn_saml.audit"]


def logged_with(caplog, reference: str) -> bool:
    return any(r.name == "ekn_saml" and f"ref={reference}" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "method, persona, code, refusal",
    [
        ("bankid", "sam", ErrorCode.COORDINATION_NUMBER_NOT_ACCEPTED, Refusal.COORDINATION_NUMBER),
        ("expisoft", "mallory", ErrorCode.SCOPE_NOT_AUTHORISED, Refusal.ORGANISATION),
    ],
)
def test_a_permanent_refusal_gets_its_own_page_without_try_again(testapp, method, persona, code, refusal):
    page = answer(testapp, idp_page(testapp, method), persona)
    assert page.status_int == 400
    marker = page_marker(page)
    assert (marker["code"], marker["refusal"], marker["permanent"]) == (code.value, refusal.value, "true")
    assert page.html.select('[data-testid="retry"]') == []
    assert page.html.select_one('[data-testid="other-method"]')["href"] == "/login"


def test_a_method_whose_idp_left_the_federation_gets_the_unavailable_page(testapp, monkeypatch, caplog):
    registry = testapp.app.registry.getUtility(ISamlServiceProvider).registry
    gone = testapp.app.registry.getUtility(ISamlServiceProvider).settings.method("bankid").idp_entity_id
    real_get = registry.get
    monkeypatch.setattr(registry, "get", lambda entity_id: None if entity_id == gone else real_get(entity_id))
    with caplog.at_level(logging.INFO, logger="ekn_saml"):
        page = testapp.get("/login/bankid", expect_errors=True)
    assert page.status_int == 503
    marker = page_marker(page)
    assert (marker["code"], marker["refusal"]) == (ErrorCode.METHOD_UNAVAILABLE.value, Refusal.METHOD_UNAVAILABLE.value)
    assert [(a["event"], a["method"]) for a in audit_lines(caplog)] == [("login_failure", "bankid")]


def test_a_transient_failure_keeps_try_again(testapp):
    page = answer(testapp, idp_page(testapp, "bankid"), "karin", outcome="authn_failed")
    assert page_marker(page)["permanent"] == "false"
    assert page.html.select_one('[data-testid="retry"]')["href"] == "/login"


def test_the_404_page_says_page_not_found_with_a_way_on(testapp):
    page = testapp.get("/no/such/page", expect_errors=True)
    assert page.status_int == 404
    assert page.html.select_one(".error-page--not_found") is not None
    assert page.html.select_one('[data-testid="home"]')["href"] == "/login"


def test_the_404_reference_is_in_the_log_and_the_audit_trail(testapp, caplog):
    with caplog.at_level(logging.INFO, logger="ekn_saml"):
        page = testapp.get("/no/such/page", expect_errors=True)
    reference = page_marker(page)["reference"]
    assert reference in page.html.select_one(".error-ids").get_text()
    assert logged_with(caplog, reference)
    assert [(a["event"], a["code"], a["reference"]) for a in audit_lines(caplog)] == [
        ("error_page", "EKN-WEB-404", reference)
    ]


def test_a_failed_login_reference_is_in_the_log_and_the_audit_trail(testapp, caplog):
    with caplog.at_level(logging.INFO, logger="ekn_saml"):
        page = answer(testapp, idp_page(testapp, "bankid"), "sam")
    reference = page_marker(page)["reference"]
    assert logged_with(caplog, reference)
    assert reference in [a.get("reference") for a in audit_lines(caplog) if a["event"] == "login_failure"]


def test_the_favicon_is_served_and_cacheable(testapp):
    icon = testapp.get("/favicon.ico")
    assert icon.content_type == "image/svg+xml" and icon.body.startswith(b"<svg")
    assert icon.cache_control.max_age >= 3600


def lang_link(page, code: str) -> str:
    href = page.html.select_one(f'nav.lang-switch a[hreflang="{code}"]')["href"]
    return parse_qs(urlsplit(href).query)["next"][0]


def test_the_language_switch_of_an_error_page_keeps_code_and_reference(testapp):
    page = answer(testapp, idp_page(testapp, "bankid"), "sam")
    before = page_marker(page)
    again = testapp.get("/lang/en", params={"next": lang_link(page, "en")}).follow(expect_errors=True)
    assert again.html.html["lang"] == "en"
    assert page_marker(again) == before


def test_the_language_switch_link_names_no_personal_data(testapp):
    page = answer(testapp, idp_page(testapp, "bankid"), "sam")
    link = lang_link(page, "en")
    assert "199003652386" not in link and "Samordnad" not in link
    assert set(parse_qs(urlsplit(link).query)) == {"page"}


def test_the_404_page_in_the_other_language_is_still_a_404(testapp):
    page = testapp.get("/no/such/page", expect_errors=True)
    again = testapp.get(lang_link(page, "en"), expect_errors=True)
    assert again.status_int == 404 and page_marker(again) == page_marker(page)


@pytest.mark.parametrize(
    "query",
    [{}, {"page": "EKN-IDP-002~0123456789"}, {"page": "EKN-IDP-002~0123456789.k.forged"}],
    ids=["none", "unsigned", "forged"],
)
def test_an_error_page_link_that_is_not_signed_is_a_404(testapp, query):
    page = testapp.get("/login-error", params=query, expect_errors=True)
    assert page.status_int == 404 and page_marker(page)["code"] == "EKN-WEB-404"
