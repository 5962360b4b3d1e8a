# SPDX-License-Identifier: Apache-2.0
"""Session expiry in the demo: the warning's values, "stay logged in", and the session-end cookie."""

from __future__ import annotations

import pytest

from ekn_saml.errors import ErrorCode

from dev_app import SESSION_COOKIE, log_in

END_COOKIE = "__Host-ekn_session_end"


def stay_form(page):
    return next(f for f in page.forms.values() if f.action == "/session/extend")


def test_a_logged_in_page_has_the_warning_with_the_idle_timeout_left(testapp):
    page = log_in(testapp).follow()
    box = page.html.select_one("#session-expiry")
    assert 1790 <= int(box["data-seconds-left"]) <= 1800
    assert box["data-warn-before"] == "120"


def test_stay_logged_in_comes_back_to_the_page(testapp):
    page = log_in(testapp).follow()
    back = stay_form(page).submit()
    assert back.status_int == 303 and back.location == "https://sp.example.test/mina-sidor"
    assert back.follow().html.select_one('[data-testid="display-name"]') is not None


def test_stay_logged_in_writes_the_session(testapp):
    page = log_in(testapp).follow()
    back = stay_form(page).submit()
    # the session was saved (its idle timer restarted), so its cookies are set again
    assert any(h.startswith(SESSION_COOKIE + "=") for h in back.headers.getall("Set-Cookie"))
    assert any(h.startswith(END_COOKIE + "=") for h in back.headers.getall("Set-Cookie"))


def test_stay_logged_in_needs_the_token(testapp):
    log_in(testapp)
    refused = testapp.post("/session/extend", {"next": "/mina-sidor"}, expect_errors=True)
    assert refused.status_int == 400
    assert refused.html.select_one(".error-page")["data-code"] == ErrorCode.CSRF_FAILED.value


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_stay_logged_in_goes_nowhere_else(testapp, target):
    page = log_in(testapp).follow()
    form = stay_form(page)
    form["next"] = target
    assert form.submit().location == "https://sp.example.test/mina-sidor"  # the landing path


def test_the_session_end_cookie_holds_no_personal_data(testapp):
    acs = log_in(testapp)
    [header] = [h for h in acs.headers.getall("Set-Cookie") if h.startswith(END_COOKIE + "=")]
    value = header.split(";", 1)[0].split("=", 1)[1]
    assert "196506151239" not in value and "Karin" not in value
    assert "httponly" in header.lower() and "secure" in header.lower()


def test_logout_deletes_the_session_end_cookie(testapp):
    page = log_in(testapp).follow()
    logout = next(f for f in page.forms.values() if f.action.endswith("/logout")).submit()
    assert any(h.startswith(END_COOKIE + "=;") for h in logout.headers.getall("Set-Cookie"))


def test_the_chooser_has_no_timeout_note_after_a_logout(testapp):
    page = log_in(testapp).follow()
    next(f for f in page.forms.values() if f.action.endswith("/logout")).submit()
    assert testapp.get("/login").html.select('[data-testid="timed-out"]') == []


def test_an_anonymous_page_has_no_warning(testapp):
    assert testapp.get("/help").html.select("#session-expiry") == []
