# SPDX-License-Identifier: Apache-2.0
"""Whole logins in Chromium: chooser -> development IdP (another site) -> ACS -> "Mina sidor"."""

from __future__ import annotations

import pytest

from browser_flows import answer_at_idp, login, open_idp, url_re

pytestmark = pytest.mark.browser

# the levels of assurance as the Swedish page words them
UNCERTIFIED_LOA3 = "Tillitsnivå 3, ej granskad"
LOA3_NONRESIDENT = "Tillitsnivå 3, utan svenskt personnummer"


@pytest.mark.parametrize(
    "method, persona, shown, absent",
    [
        pytest.param(
            "mobilt_bankid",
            "anna",
            {
                "display-name": "Anna Andersson",
                "method": "Mobilt BankID",
                "loa": UNCERTIFIED_LOA3,
                "personal-number": "19800101-XXXX",
            },
            ("org-number", "org-name"),
            id="mobilt_bankid",
        ),
        pytest.param(
            "bankid",
            "karin",
            {
                "display-name": "Karin Karlsson",
                "method": "BankID på fil eller kort",
                "loa": UNCERTIFIED_LOA3,
                "personal-number": "19650615-XXXX",
            },
            ("org-number", "org-name"),
            id="bankid",
        ),
        pytest.param(
            "expisoft",
            "eva",
            {
                "display-name": "Eva Exportsson",
                "method": "Expisoft e-tjänstelegitimation",
                "loa": LOA3_NONRESIDENT,
                "org-name": "Exportbolaget Test AB",
                "org-number": "5560000001",
            },
            ("personal-number",),
            id="expisoft",
        ),
    ],
)
def test_each_method_logs_in_and_shows_the_mapped_identity(page, live_server, method, persona, shown, absent):
    login(page, live_server, method, persona)
    for testid, text in shown.items():
        assert page.get_by_test_id(testid).inner_text().strip() == text, testid
    for testid in absent:
        assert page.get_by_test_id(testid).count() == 0, testid


def test_mina_sidor_names_the_idp_and_the_time_in_swedish_time(page, live_server):
    login(page, live_server, "bankid", "karin")
    assert page.get_by_test_id("idp").inner_text() == "Utvecklings-IdP (bankid)"
    shown = page.get_by_test_id("authn-instant").inner_text()
    assert shown.endswith((" CET", " CEST")), shown


def test_idp_answer_is_a_cross_site_post_that_carries_the_browser_cookie(page, live_server):
    acs_posts = []
    page.on("request", lambda r: acs_posts.append(r) if r.url == live_server.url("/saml/acs") else None)
    login(page, live_server, "bankid", "karin")
    [post] = acs_posts
    headers = post.all_headers()
    assert post.method == "POST"
    assert headers["sec-fetch-site"] == "cross-site"  # 127.0.0.1 -> localhost
    assert "__Host-ekn_saml_req=" in headers.get("cookie", "")
    [cookie] = [c for c in page.context.cookies() if c["name"] == "__Host-ekn_saml_req"]
    assert (cookie["sameSite"], cookie["secure"], cookie["httpOnly"], cookie["path"]) == ("None", True, True, "/")


def test_the_browser_keeps_both_cookies_under_their_host_only_names(page, live_server):
    # The browser itself enforces __Host- (Secure, Path=/, no Domain): that it
    # kept the cookies under these names is what makes them unplantable from a subdomain.
    login(page, live_server, "bankid", "karin")
    cookies = {c["name"]: c for c in page.context.cookies()}
    for name in ("__Host-ekn_session", "__Host-ekn_saml_req"):
        assert (cookies[name]["secure"], cookies[name]["path"], cookies[name]["domain"]) == (True, "/", "localhost"), (
            name
        )
    assert not {"ekn_session", "ekn_saml_req"} & set(cookies)


def test_deep_link_returns_there_after_login(page, live_server):
    page.goto(live_server.url("/mina-sidor?tab=x"))
    page.wait_for_url(url_re(live_server.sp, "/login?next=%2Fmina-sidor%3Ftab%3Dx"))
    login(page, live_server, "bankid", "karin", start_path=None, landing="/mina-sidor?tab=x")
    assert page.get_by_test_id("display-name").inner_text() == "Karin Karlsson"


def test_auto_post_page_submits_itself_under_a_csp_without_inline_script(page, live_server):
    open_idp(page, live_server, "mobilt_bankid")
    with page.expect_response(
        lambda r: r.url.startswith(live_server.idp + "/devidp/") and r.url.endswith("/respond")
    ) as info:
        answer_at_idp(page, "anna")
    page.wait_for_url(live_server.url("/mina-sidor"))  # nobody pressed the button
    directives = dict(d.strip().split(" ", 1) for d in info.value.headers["content-security-policy"].split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert live_server.sp in directives["form-action"].split()


def test_auto_post_form_works_without_javascript(new_page, live_server, shot):
    page = new_page(java_script_enabled=False)
    open_idp(page, live_server, "bankid")
    answer_at_idp(page, "karin")
    page.wait_for_url(url_re(live_server.idp, "/devidp/bankid/respond"))
    assert page.locator("script:not([src])").count() == 0
    shot(page, "auto-post-page")
    page.locator("form.autopost button[type=submit]").click()
    page.wait_for_url(live_server.url("/mina-sidor"))
    assert page.get_by_test_id("display-name").inner_text() == "Karin Karlsson"
