# SPDX-License-Identifier: Apache-2.0
"""Logins that do not end logged in: the IdP's error statuses and stale resubmissions."""

from __future__ import annotations

import html

import pytest

from ekn_saml.errors import ErrorCode

from browser_flows import answer_at_idp, fail_at_idp, login, open_idp, start_until_refused, url_re

pytestmark = pytest.mark.browser


def error_code(page) -> str:
    """The error code of the page (its data-code marker)."""
    return page.locator(".error-page").get_attribute("data-code")


def shown_code(page) -> str:
    """The error code as the page shows it to quote to support (the first item of .error-ids)."""
    return page.locator(".error-ids li").first.inner_text().split(":", 1)[1].strip()


def test_cancel_at_the_idp_shows_a_calm_page_with_a_way_back(page, live_server, shot):
    with page.expect_response(lambda r: r.url == live_server.url("/saml/acs")) as acs:
        fail_at_idp(page, live_server, "bankid", "karin", "cancel")
    assert acs.value.status == 200
    assert page.locator(".error-page--cancelled h1").is_visible()
    assert error_code(page) == ErrorCode.IDP_CANCELLED.value
    assert page.locator(".error-ids").count() == 0  # no error box for a deliberate cancel
    shot(page, "cancelled")
    page.get_by_test_id("retry").click()  # "Logga in"
    page.wait_for_url(live_server.url("/login"))
    assert page.locator("a.method").count() == 4  # the development app lists eidas too


@pytest.mark.parametrize(
    "outcome, code",
    [("fraud", ErrorCode.IDP_FRAUD), ("possibleFraud", ErrorCode.IDP_POSSIBLE_FRAUD)],
    ids=["fraud", "possibleFraud"],
)
def test_fraud_at_the_idp_shows_the_warning_page(page, live_server, outcome, code):
    fail_at_idp(page, live_server, "mobilt_bankid", "anna", outcome)
    assert page.locator(".error-page--fraud [role=alert] h1").is_visible()
    assert shown_code(page) == code.value


def resubmit_after_login(page, live_server):
    """Log in, go back to the IdP's page and answer it again; returns the ACS's response."""
    login(page, live_server, "bankid", "karin")
    # The auto-post page replaced itself in the history: back is the IdP's
    # page, which still holds the used AuthnRequest; answering it again posts
    # a response to a request the SP has already consumed.
    page.go_back()
    page.wait_for_url(url_re(live_server.idp, "/devidp/bankid/sso", query=True))
    with page.expect_response(lambda r: r.url == live_server.url("/saml/acs")) as acs:
        answer_at_idp(page, "karin")
    page.locator(".error-page").wait_for()
    return acs.value


def test_back_button_to_the_idp_after_login_gives_a_calm_page(page, live_server):
    acs = resubmit_after_login(page, live_server)
    # that cross-site POST carried no session cookie: the page comes after a redirect, whose GET does
    assert acs.status == 303
    assert page.locator(".error-page--request_state h1").is_visible()
    assert error_code(page) == ErrorCode.REQUEST_UNKNOWN.value


def test_back_button_to_the_idp_after_login_leads_back_to_the_landing_page(page, live_server, shot):
    resubmit_after_login(page, live_server)
    shot(page, "still-logged-in")
    page.get_by_test_id("continue").click()
    page.wait_for_url(live_server.url("/mina-sidor"))
    assert page.get_by_test_id("display-name").inner_text() == "Karin Karlsson"


def test_replayed_idp_post_gives_a_clear_page(page, live_server):
    # Expisoft logins go through the demo's second SP profile, "orgid", and its own ACS
    orgid_acs = live_server.url("/saml/acs/orgid")
    acs_posts = []
    page.on("request", lambda r: acs_posts.append(r) if r.url == orgid_acs else None)
    login(page, live_server, "expisoft", "eva")
    fields = acs_posts[0].post_data_json
    # The same form the IdP's page held, posted again from a page of another
    # site (the browser's cookies go with it, as they did the first time).
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items()
    )
    page.set_content(f'<form method="post" action="{orgid_acs}">{inputs}<button>again</button></form>')
    with page.expect_response(lambda r: r.url == orgid_acs) as acs:
        page.get_by_role("button", name="again").click()
    page.locator(".error-page").wait_for()
    # still logged in from the first time: the calm page
    assert acs.value.status == 200
    assert error_code(page) == ErrorCode.REQUEST_UNKNOWN.value


def test_too_many_login_starts_get_the_429_page(page, rate_limited_server, shot):
    response = start_until_refused(page, rate_limited_server)
    assert response.headers["retry-after"] == "3600"  # the server's window
    assert page.locator(".error-page--rate_limited h1").is_visible()
    assert shown_code(page) == ErrorCode.LOGIN_RATE_LIMITED.value
    shot(page, "rate-limited")
    page.locator(".error-page a.button").click()  # "Försök igen": the chooser, which is not limited
    page.wait_for_url(rate_limited_server.url("/login"))


@pytest.mark.parametrize(
    "method, persona, refusal",
    [("bankid", "sam", "coordination_number"), ("expisoft", "mallory", "organisation")],
)
def test_a_refusal_says_why_and_offers_another_method(page, live_server, shot, method, persona, refusal):
    open_idp(page, live_server, method)
    answer_at_idp(page, persona)
    page.locator(f".error-page[data-refusal='{refusal}']").wait_for()
    assert page.get_by_test_id("retry").count() == 0
    # who support is, beside the code and the reference
    email = page.locator(".error-ids").get_by_test_id("support-email")
    assert email.is_visible() and email.get_attribute("href") == "mailto:kundservice@example.se"
    shot(page, refusal)
    page.get_by_test_id("other-method").click()
    page.wait_for_url(live_server.url("/login"))


def test_switching_language_on_an_error_page_keeps_code_and_reference(page, live_server, shot):
    open_idp(page, live_server, "bankid")
    answer_at_idp(page, "sam")
    page.locator(".error-page").wait_for()
    before = (error_code(page), page.locator(".error-page").get_attribute("data-reference"))
    page.locator(".lang-switch a[hreflang='en']").click()
    page.wait_for_function("document.documentElement.lang === 'en'")
    after = (error_code(page), page.locator(".error-page").get_attribute("data-reference"))
    assert after == before
    assert f"Reference: {before[1]}" in page.locator(".error-ids").inner_text()
    shot(page, "in-english")


def test_the_404_page_leads_to_the_chooser_and_its_reference_is_logged(page, live_server, shot):
    response = page.goto(live_server.url("/no/such/page"))
    assert response.status == 404
    reference = page.locator(".error-page").get_attribute("data-reference")
    assert f"ref={reference}" in live_server.log.read_text(encoding="utf-8")
    shot(page, "not-found")
    page.get_by_test_id("home").click()
    page.wait_for_url(live_server.url("/login"))
