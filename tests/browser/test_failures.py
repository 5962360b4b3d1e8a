# SPDX-License-Identifier: Apache-2.0
"""Logins that do not end logged in: the IdP's error statuses and stale resubmissions."""

from __future__ import annotations

import html

import pytest

from ekn_saml.errors import ErrorCode

from browser_flows import answer_at_idp, fail_at_idp, login, start_until_refused, url_re

pytestmark = pytest.mark.browser


def error_code(page) -> str:
    """The error code as the page shows it to quote to support (the first item of .error-ids)."""
    return page.locator(".error-ids li").first.inner_text().split(":", 1)[1].strip()


def test_cancel_at_the_idp_shows_the_cancelled_page_with_try_again(page, live_server, shot):
    fail_at_idp(page, live_server, "bankid", "karin", "cancel")
    assert page.locator(".error-page--cancelled h1").is_visible()
    assert error_code(page) == ErrorCode.IDP_CANCELLED.value
    shot(page, "cancelled")
    page.locator(".error-page a.button").click()  # "Försök igen"
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
    assert error_code(page) == code.value


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


def test_back_button_to_the_idp_after_login_gives_a_clear_page(page, live_server):
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
    assert acs.value.status == 400
    assert error_code(page) == ErrorCode.REQUEST_UNKNOWN.value


def test_too_many_login_starts_get_the_429_page(page, rate_limited_server, shot):
    response = start_until_refused(page, rate_limited_server)
    assert response.headers["retry-after"] == "3600"  # the server's window
    assert page.locator(".error-page--rate_limited h1").is_visible()
    assert error_code(page) == ErrorCode.LOGIN_RATE_LIMITED.value
    shot(page, "rate-limited")
    page.locator(".error-page a.button").click()  # "Försök igen": the chooser, which is not limited
    page.wait_for_url(rate_limited_server.url("/login"))
