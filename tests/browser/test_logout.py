# SPDX-License-Identifier: Apache-2.0
"""Logout from the page header."""

from __future__ import annotations

import pytest

from browser_flows import login, url_re

pytestmark = pytest.mark.browser


def test_logout_button_ends_the_session(page, live_server):
    login(page, live_server, "mobilt_bankid", "anna")
    page.locator("header form.logout-form button").click()
    page.wait_for_url(live_server.url("/logged-out"))
    assert page.locator("header form.logout-form").count() == 0
    page.goto(live_server.url("/mina-sidor"))
    page.wait_for_url(url_re(live_server.sp, "/login?next=%2Fmina-sidor"))


def test_logout_removes_the_session_cookie_from_the_browser(page, live_server):
    # a __Host- cookie is deleted only by a Set-Cookie with Secure; one without is ignored
    login(page, live_server, "mobilt_bankid", "anna")
    assert "__Host-ekn_session" in {c["name"] for c in page.context.cookies()}
    page.locator("header form.logout-form button").click()
    page.wait_for_url(live_server.url("/logged-out"))
    assert "__Host-ekn_session" not in {c["name"] for c in page.context.cookies()}
