# SPDX-License-Identifier: Apache-2.0
"""The session's end as a user meets it: a warning before, a button that extends it, a message after.

On a server whose sessions end after 20 s without activity (the warning
comes 10 s before), so each test waits seconds, not minutes.
"""

from __future__ import annotations

import pytest

from browser_flows import SHORT_IDLE_TIMEOUT, check_widths, login, url_re

pytestmark = pytest.mark.browser

LOCALES = {"sv": "sv-SE", "en": "en-GB"}


def seconds_left(page) -> int:
    return int(page.locator("#session-expiry").get_attribute("data-seconds-left"))


def test_the_warning_comes_before_the_end_and_stay_logged_in_extends_the_session(page, short_session_server, shot):
    login(page, short_session_server, "bankid", "karin")
    warning = page.locator("[data-session-warning]")
    assert warning.is_hidden()
    warning.wait_for(state="visible", timeout=15_000)
    # announced: the live region, present from the start, now holds the warning
    assert page.locator("[data-session-live]").inner_text().strip()
    found: list[str] = []
    check_widths(page, "expiry warning [sv]", found)
    assert not found, "axe-core found WCAG A/AA violations:\n" + "\n".join(found)
    shot(page, "warning")
    warn_before = int(page.locator("#session-expiry").get_attribute("data-warn-before"))
    page.get_by_test_id("stay-logged-in").first.click()
    page.wait_for_url(short_session_server.url("/mina-sidor"))
    # at most warn_before seconds were left when the warning came; the server
    # restarted the idle timer, so the new page has nearly the whole timeout again
    assert seconds_left(page) >= SHORT_IDLE_TIMEOUT - 3 > warn_before
    assert page.locator("[data-session-warning]").is_hidden()
    assert page.get_by_test_id("display-name").inner_text() == "Karin Karlsson"


def test_after_the_idle_timeout_the_chooser_says_why(new_page, short_session_server, shot):
    # one browser per language, logged in one after the other: their timeouts run at once
    pages = {lang: new_page(locale=locale) for lang, locale in LOCALES.items()}
    for page in pages.values():
        login(page, short_session_server, "bankid", "karin")
    found: list[str] = []
    for lang, page in pages.items():
        # nobody touches the page: at the end it goes to the chooser by itself
        page.wait_for_url(url_re(short_session_server.sp, "/login", query=True), timeout=40_000)
        assert page.get_by_test_id("timed-out").get_attribute("data-timeout") == "idle"
        assert page.locator("html").get_attribute("lang") == lang
        check_widths(page, f"timed out [{lang}]", found)
        shot(page, f"timed-out-{lang}")
    assert not found, "axe-core found WCAG A/AA violations:\n" + "\n".join(found)
    # told once: the next visit to the chooser is a plain one
    pages["sv"].reload()
    assert pages["sv"].get_by_test_id("timed-out").count() == 0


def test_without_javascript_the_page_says_when_the_session_ends(new_page, short_session_server, shot):
    page = new_page(java_script_enabled=False)
    page.goto(short_session_server.url("/login"))
    page.locator("a.method[data-method='bankid']").click()
    page.get_by_test_id("outcome-success").check()
    page.locator("#devidp-submit").click()
    page.locator("form.autopost button[type=submit]").click()
    page.wait_for_url(short_session_server.url("/mina-sidor"))
    note = page.get_by_test_id("session-end-note")
    assert note.is_visible() and "svensk tid" in note.inner_text()
    shot(page, "no-script-note")
    note.get_by_test_id("stay-logged-in").click()
    page.wait_for_url(short_session_server.url("/mina-sidor"))
    assert page.get_by_test_id("display-name").is_visible()


def test_the_warning_in_english_has_no_violations(new_page, short_session_server):
    page = new_page(locale=LOCALES["en"])
    login(page, short_session_server, "bankid", "karin")
    page.locator("[data-session-warning]").wait_for(state="visible", timeout=15_000)
    assert page.locator("html").get_attribute("lang") == "en"
    found: list[str] = []
    check_widths(page, "expiry warning [en]", found)
    assert not found, "axe-core found WCAG A/AA violations:\n" + "\n".join(found)
