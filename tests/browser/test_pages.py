# SPDX-License-Identifier: Apache-2.0
"""Every page in a real browser: nothing blocked by the CSP, usable on a phone and by keyboard.

Each test's ``watch`` fails it if any page logs a Content-Security-Policy
violation; the tests here visit the pages no login test reaches.
"""

from __future__ import annotations

import itertools

import pytest

from browser_flows import fail_at_idp, login, open_idp, start_until_refused

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}

# path -> a selector that only that page has
PAGES = {
    "/login": "a.method",
    "/help": "#help-support",
    "/logged-out": "main a.button",
    "/no/such/page": ".error-page",  # 404
    "/login/nosuch": ".error-page",  # unknown method
}


def assert_fits_width(page, label: str) -> None:
    """No horizontal scrolling: nothing is wider than the viewport."""
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{label}: page is {widths[0]}px wide in a {widths[1]}px viewport"


HEADER_PARTS = {
    "brand": ".site-header .brand",
    "languages": ".site-header .lang-switch",
    "logout": ".site-header .logout-form button",
}


def _overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def assert_header_balanced(page, label: str) -> None:
    """The logged-in header: no part over another, "Logga ut" on one line, inside the viewport, at the right edge."""
    boxes = {name: page.locator(selector).bounding_box() for name, selector in HEADER_PARTS.items()}
    for first, second in itertools.combinations(boxes, 2):
        assert not _overlap(boxes[first], boxes[second]), f"{label}: {first} and {second} overlap: {boxes}"
    logout = boxes["logout"]
    assert logout["x"] >= 0 and logout["x"] + logout["width"] <= page.viewport_size["width"], (
        f"{label}: logout leaves the viewport"
    )
    text_lines = page.locator(HEADER_PARTS["logout"]).evaluate(
        "b => { const r = document.createRange(); r.selectNodeContents(b);"
        " return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; }"
    )
    assert text_lines == 1, f"{label}: the logout button's text takes {text_lines} lines"
    # balanced: the controls end where the header's content ends, not wherever the wrap left them
    content_right = page.locator(".site-header__inner").evaluate(
        "e => e.getBoundingClientRect().right - parseFloat(getComputedStyle(e).paddingRight)"
    )
    for name in ("languages", "logout"):
        right = boxes[name]["x"] + boxes[name]["width"]
        assert abs(right - content_right) <= 1, (
            f"{label}: {name} ends at {right}px, the header's content at {content_right}px"
        )


def test_pages_load_their_styles_and_logos_under_the_csp(page, live_server):
    for path, selector in PAGES.items():
        page.goto(live_server.url(path))
        page.locator(selector).first.wait_for()
        # a stylesheet the CSP blocked would be in the list with no rules
        assert page.evaluate(
            "[...document.styleSheets].some(s => s.href && s.href.endsWith('/ekn_saml.css') && s.cssRules.length > 0)"
        ), path
    page.goto(live_server.url("/login"))
    logos = page.locator("img.method__logo")
    assert logos.count() == 4  # eidas too (development)
    for i in range(4):
        assert logos.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")


def test_pages_fit_a_phone_screen(new_page, live_server, shot):
    page = new_page(**PHONE)
    for path, selector in PAGES.items():
        page.goto(live_server.url(path))
        page.locator(selector).first.wait_for()
        assert_fits_width(page, path)
        shot(page, path.strip("/").replace("/", "-"))


def test_login_pages_fit_a_phone_screen(new_page, live_server, shot):
    page = new_page(**PHONE)
    open_idp(page, live_server, "expisoft")
    assert_fits_width(page, "development IdP")
    shot(page, "idp")
    login(page, live_server, "expisoft", "eva", start_path="/login")
    assert_fits_width(page, "mina sidor")
    assert_header_balanced(page, "mina sidor")


def test_logged_in_header_stays_balanced_on_the_narrowest_phone(new_page, live_server):
    # 320 CSS px: the width content must reflow to without loss (WCAG 1.4.10)
    page = new_page(**{**PHONE, "viewport": {"width": 320, "height": 640}})
    login(page, live_server, "bankid", "karin")
    assert_fits_width(page, "mina sidor")
    assert_header_balanced(page, "mina sidor")


def test_fraud_warning_fits_a_phone_screen(new_page, live_server):
    page = new_page(**PHONE)
    fail_at_idp(page, live_server, "mobilt_bankid", "anna", "fraud")
    assert_fits_width(page, "fraud warning")


def test_rate_limited_page_fits_a_phone_screen(new_page, rate_limited_server):
    page = new_page(**PHONE)
    start_until_refused(page, rate_limited_server)
    assert_fits_width(page, "too many login starts")


def test_keyboard_user_skips_to_the_methods_and_starts_a_login(page, live_server, shot):
    page.goto(live_server.url("/login"))
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    assert skip.evaluate("e => e === document.activeElement")
    box = skip.bounding_box()
    assert box["y"] >= 0, "the focused skip link is off-screen"
    shot(page, "skip-link")
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'main'")
    page.keyboard.press("Tab")
    first = page.locator("a.method").first
    assert first.evaluate("e => e === document.activeElement")
    assert first.evaluate("e => getComputedStyle(e).outlineStyle") != "none", "no visible focus on the method card"
    shot(page, "method-focused")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.idp}/devidp/**")
