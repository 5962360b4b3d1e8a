# SPDX-License-Identifier: Apache-2.0
"""What a user does in the browser: choose a method, answer at the development IdP, log in.

Every step ends with an explicit wait for the URL it must reach, so a test
never races the auto-submitting form or a redirect.

And what an accessibility audit does: axe-core on the page as it is now,
WCAG 2.0 and 2.1 at levels A and AA (:func:`violations`).  axe-core comes
bundled in the ``axe-playwright-python`` wheel (setup.py's test extra), so
it runs offline; Playwright's ``evaluate`` runs it without an inline script,
so the pages' Content-Security-Policy stays as strict as in production.
"""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe

SHORT_IDLE_TIMEOUT = 20  # seconds: the short_session_server's idle timeout (the warning comes at half of it)

# method name in the settings -> slug in the development IdP's URLs
DEV_IDP_SLUGS = {"mobilt_bankid": "mobilt-bankid", "bankid": "bankid", "expisoft": "expisoft", "eidas": "eidas"}


def url_re(base: str, path: str, *, query: bool = False) -> re.Pattern:
    """``base + path`` exactly, optionally followed by a query string."""
    return re.compile(re.escape(base + path) + (r"(\?.*)?$" if query else "$"))


def open_idp(page, server, method: str, start_path: str = "/login") -> None:
    """From the chooser (at ``start_path``) click ``method``'s card: land on the development IdP."""
    if start_path is not None:
        page.goto(server.url(start_path))
    page.locator(f"a.method[data-method='{method}']").click()
    page.wait_for_url(url_re(server.idp, f"/devidp/{DEV_IDP_SLUGS[method]}/sso", query=True))


def answer_at_idp(page, persona: str | None = None, outcome: str = "success") -> None:
    """Pick a test person and an outcome on the development IdP's page and submit."""
    if persona:
        page.get_by_test_id(f"persona-{persona}").check()
    page.get_by_test_id(f"outcome-{outcome}").check()
    page.locator("#devidp-submit").click()


def login(page, server, method: str, persona: str, *, start_path: str = "/login", landing: str = "/mina-sidor") -> None:
    """A whole login; returns on the landing page (the auto-post form submits by itself)."""
    open_idp(page, server, method, start_path)
    answer_at_idp(page, persona)
    page.wait_for_url(server.url(landing))


def start_until_refused(page, server, method: str = "bankid", tries: int = 3):
    """Start logins at ``server`` (whose login-start limit is tiny) until one gets the 429 page; its response."""
    for _ in range(tries):
        response = page.goto(server.url(f"/login/{method}"))
        if response.status == 429:
            return response
    raise AssertionError(f"no 429 after {tries} login starts")


def fail_at_idp(page, server, method: str, persona: str, outcome: str) -> None:
    """A login the IdP answers with an error status; returns on the ACS's error page."""
    open_idp(page, server, method)
    answer_at_idp(page, persona, outcome)
    page.wait_for_url(server.url("/saml/acs"))
    page.locator(".error-page").wait_for()


# --- accessibility ---

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = (1280, 390)
_AXE = Axe()


def violations(page) -> list[str]:
    """Each axe violation on ``page``: ``rule (impact): the failing elements``."""
    results = _AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    return [
        f"{v['id']} ({v['impact']}): " + "; ".join(" ".join(node["target"]) for node in v["nodes"])
        for v in results.response["violations"]
    ]


def check_widths(page, label: str, found: list[str]) -> None:
    """Run axe at every width of :data:`WIDTHS` (the page is not reloaded); add what it finds to ``found``."""
    height = page.viewport_size["height"] if page.viewport_size else 900
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        found.extend(f"{label} @{width}px: {v}" for v in violations(page))
