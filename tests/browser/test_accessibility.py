# SPDX-License-Identifier: Apache-2.0
"""axe-core on every page and state, in Swedish and English, at 1280 and 390 px: no WCAG 2.0/2.1 A or AA violation.

One test per page or state.  Each language gets a browser context of its own
(its Accept-Language); each width is the same page resized, so a state that
takes a login to reach is reached once per language.  A test collects every
violation of its page before it fails, so one run shows them all.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ekn_saml.errors import ErrorCode, new_reference
from ekn_saml.server_keys import ServerKeys
from ekn_saml.testing import SERVER_KEYS_FILE
from ekn_saml.views.errors import error_page_token

from browser_flows import (
    answer_at_idp,
    check_widths,
    fail_at_idp,
    login,
    open_idp,
    start_until_refused,
    url_re,
    violations,
)

pytestmark = pytest.mark.browser

LOCALES = {"sv": "sv-SE", "en": "en-GB"}


def check_every_language(new_page, reach: Callable, label: str) -> None:
    """``reach(page)`` brings a fresh page to the state; axe runs in each language at each width."""
    found: list[str] = []
    for lang, locale in LOCALES.items():
        page = new_page(locale=locale)
        reach(page)
        assert page.locator("html").get_attribute("lang") == lang, f"{label}: not in {lang}"
        check_widths(page, f"{label} [{lang}]", found)
    assert not found, "axe-core found WCAG A/AA violations:\n" + "\n".join(found)


def goto(server, path: str) -> Callable:
    return lambda page: page.goto(server.url(path))


@pytest.mark.parametrize(
    "path",
    ["/login", "/help", "/logged-out", "/no/such/page", "/login/nosuch"],
    ids=["chooser", "help", "logged-out", "not-found", "bad-request"],
)
def test_page_has_no_violations(new_page, live_server, path):
    check_every_language(new_page, goto(live_server, path), path)


# Every error family and refusal, shown by its signed /login-error link (as the
# language switch leads there): the pages the flows below do not reach.
SIGNED_PAGES = {
    "invalid-response": ErrorCode.SIGNATURE_INVALID,
    "request-state": ErrorCode.REQUEST_UNKNOWN,
    "idp-error": ErrorCode.IDP_AUTHN_FAILED,
    "unavailable": ErrorCode.STORE_UNAVAILABLE,
    "configuration": ErrorCode.CONFIGURATION_INVALID,
    "csrf": ErrorCode.CSRF_FAILED,
    "refused-organisation": ErrorCode.SCOPE_NOT_AUTHORISED,
    "refused-loa": ErrorCode.IDP_NO_AUTHN_CONTEXT,
    "refused-method-unavailable": ErrorCode.METHOD_UNAVAILABLE,
}


@pytest.mark.parametrize("code", SIGNED_PAGES.values(), ids=SIGNED_PAGES.keys())
def test_error_page_has_no_violations(new_page, live_server, code):
    keys = ServerKeys.from_file(str(live_server.keys_dir / SERVER_KEYS_FILE))
    token = error_page_token(keys, code.value, new_reference())

    def reach(page):
        page.goto(live_server.url("/login-error?page=") + token)
        page.locator(f".error-page[data-code='{code.value}']").wait_for()

    check_every_language(new_page, reach, code.value)


def test_cancelled_page_has_no_violations(new_page, live_server):
    check_every_language(
        new_page, lambda page: fail_at_idp(page, live_server, "bankid", "karin", "cancel"), "cancelled"
    )


def test_fraud_page_has_no_violations(new_page, live_server):
    check_every_language(
        new_page, lambda page: fail_at_idp(page, live_server, "mobilt_bankid", "anna", "fraud"), "fraud"
    )


def test_coordination_number_refusal_has_no_violations(new_page, live_server):
    def reach(page):
        open_idp(page, live_server, "bankid")
        answer_at_idp(page, "sam")
        page.locator(".error-page[data-refusal='coordination_number']").wait_for()

    check_every_language(new_page, reach, "refused-coordination-number")


def test_still_logged_in_page_has_no_violations(new_page, live_server):
    def reach(page):
        login(page, live_server, "bankid", "karin")
        page.go_back()
        page.wait_for_url(url_re(live_server.idp, "/devidp/bankid/sso", query=True))
        answer_at_idp(page, "karin")
        page.get_by_test_id("continue").wait_for()

    check_every_language(new_page, reach, "still-logged-in")


def test_rate_limited_page_has_no_violations(new_page, rate_limited_server):
    check_every_language(new_page, lambda page: start_until_refused(page, rate_limited_server), "429")


@pytest.mark.parametrize("method, persona", [("bankid", "karin"), ("expisoft", "eva")], ids=["person", "organisation"])
def test_mina_sidor_has_no_violations(new_page, live_server, method, persona):
    check_every_language(new_page, lambda page: login(page, live_server, method, persona), "mina sidor")


def test_logged_in_help_and_chooser_have_no_violations(new_page, live_server):
    found: list[str] = []
    for lang, locale in LOCALES.items():
        page = new_page(locale=locale)
        login(page, live_server, "mobilt_bankid", "anna")
        for path in ("/help", "/login"):
            page.goto(live_server.url(path))
            page.get_by_test_id("logged-in-note").wait_for()
            check_widths(page, f"{path} logged in [{lang}]", found)
    assert not found, "axe-core found WCAG A/AA violations:\n" + "\n".join(found)


def test_development_idp_page_has_no_violations(new_page, live_server):
    check_every_language(new_page, lambda page: open_idp(page, live_server, "expisoft"), "development IdP")


def test_continue_page_without_javascript_has_no_violations(new_page, live_server):
    """The auto-post page as a browser without script shows it: a sentence and a Continue button.

    axe needs script, so the page keeps it, but the auto-submitting file is
    not delivered: what is left is the page a browser without script shows.
    """

    def reach(page):
        page.route("**/autosubmit.js", lambda route: route.abort())
        open_idp(page, live_server, "bankid")
        answer_at_idp(page, "karin")
        page.wait_for_url(url_re(live_server.idp, "/devidp/bankid/respond"))
        page.locator("form.autopost button[type=submit]").wait_for()

    check_every_language(new_page, reach, "continue page")


def test_the_check_finds_a_violation_when_there_is_one(page, live_server):
    """The harness is live: an image without a text alternative, added to the chooser, is reported."""
    page.goto(live_server.url("/login"))
    page.evaluate("document.querySelector('main').appendChild(document.createElement('img')).src = '/x.png'")
    assert any(v.startswith("image-alt ") for v in violations(page))


# --- the pages of step-up, several organisations and foreign e-IDs (issues #16, #17) ---


def _step_up(page, live_server, method: str, persona: str, answer: str) -> None:
    """Logged in as ``persona``: open the demo's sign page and answer its step-up as ``answer``."""
    login(page, live_server, method, persona)
    page.goto(live_server.url("/signera-ansokan"))
    page.wait_for_url(url_re(live_server.idp, f"/devidp/{method.replace('_', '-')}/sso"))
    answer_at_idp(page, answer)


def test_sign_page_after_step_up_has_no_violations(new_page, live_server):
    def reach(page):
        _step_up(page, live_server, "bankid", "karin", "karin")
        page.get_by_test_id("sign").wait_for()

    check_every_language(new_page, reach, "sign page")


def test_step_up_by_another_person_page_has_no_violations(new_page, live_server):
    def reach(page):
        _step_up(page, live_server, "mobilt_bankid", "anna", "bertil")
        page.locator(f".error-page[data-code='{ErrorCode.STEP_UP_SUBJECT_MISMATCH.value}']").wait_for()

    check_every_language(new_page, reach, "step-up mismatch")


def test_choose_organisation_page_has_no_violations(new_page, live_server):
    def reach(page):
        open_idp(page, live_server, "expisoft")
        answer_at_idp(page, "olga")
        page.get_by_test_id("choose").wait_for()

    check_every_language(new_page, reach, "choose organisation")


def test_mina_sidor_of_a_foreign_e_id_has_no_violations(new_page, live_server):
    check_every_language(new_page, lambda page: login(page, live_server, "eidas", "ola"), "mina sidor, eIDAS")
