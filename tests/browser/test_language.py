# SPDX-License-Identifier: Apache-2.0
"""Swedish first, English on request: Accept-Language and the visible switch."""

from __future__ import annotations

import pytest

from browser_flows import login

pytestmark = pytest.mark.browser


def html_lang(page) -> str:
    return page.locator("html").get_attribute("lang")


def switch_to(page, name: str) -> None:
    """Click the header's language link and wait for the page to come back in that language."""
    code = page.locator(".lang-switch a", has_text=name).get_attribute("hreflang")
    page.locator(".lang-switch a", has_text=name).click()
    page.wait_for_function("code => document.documentElement.lang === code", arg=code)


def test_swedish_browser_gets_swedish_pages(page, live_server):
    page.goto(live_server.url("/login"))
    assert html_lang(page) == "sv"
    assert page.locator("h1").inner_text() == "Logga in på EKN Online"


def test_english_browser_gets_english_pages(new_page, live_server):
    page = new_page(locale="en-GB")
    page.goto(live_server.url("/login"))
    assert html_lang(page) == "en"
    assert page.locator("h1").inner_text() == "Log in to EKN Online"


def test_switch_changes_the_language_of_the_same_page(page, live_server):
    page.goto(live_server.url("/help"))
    switch_to(page, "English")
    assert page.url == live_server.url("/help")
    assert page.locator("h1").inner_text() == "Help with logging in"
    assert page.locator(".lang-switch a[aria-current]").inner_text() == "English"


def test_chosen_language_is_remembered_across_pages_and_the_login(page, live_server):
    page.goto(live_server.url("/login"))
    switch_to(page, "English")
    page.locator("main").get_by_role("link", name="Help with logging in and how to get an e-ID").click()
    page.wait_for_url(live_server.url("/help"))
    assert html_lang(page) == "en"
    login(page, live_server, "bankid", "karin")  # through the IdP, another site
    assert html_lang(page) == "en"
    assert page.get_by_test_id("method").inner_text() == "BankID on file or card"


def test_switch_back_to_swedish_overrides_an_english_browser(new_page, live_server):
    page = new_page(locale="en-GB")
    page.goto(live_server.url("/login"))
    switch_to(page, "Svenska")
    page.goto(live_server.url("/help"))
    assert html_lang(page) == "sv"
    assert page.locator("h1").inner_text() == "Hjälp med inloggning"
