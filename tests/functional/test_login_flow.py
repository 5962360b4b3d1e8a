# SPDX-License-Identifier: Apache-2.0
"""Whole logins through the development IdP (pysaml2), with real signatures and encryption."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from ekn_saml.errors import ErrorCode
from ekn_saml.safe_url import MAX_NEXT_PATH

from dev_app import SESSION_COOKIE, answer, idp_page


def login(testapp, method, persona, next_path=None):
    return answer(testapp, idp_page(testapp, method, next_path), persona)


@pytest.mark.parametrize(
    "method, persona, name",
    [
        ("mobilt_bankid", "anna", "Anna Andersson"),
        ("mobilt_bankid", "bertil", "Bertil Berg"),
        ("bankid", "karin", "Karin Karlsson"),
        ("expisoft", "eva", "Eva Exportsson"),
        ("expisoft", "erik", "Erik Ekonom"),
    ],
)
def test_each_method_logs_in_and_lands_on_mina_sidor(testapp, method, persona, name):
    acs = login(testapp, method, persona)
    assert acs.status_int == 302 and acs.location.endswith("/mina-sidor")
    page = acs.follow()
    assert page.status_int == 200
    assert page.html.find(attrs={"data-testid": "display-name"}).get_text(strip=True) == name


def test_expisoft_page_shows_the_organisation(testapp):
    page = login(testapp, "expisoft", "eva").follow()
    assert page.html.find(attrs={"data-testid": "org-number"}).get_text(strip=True) == "5560000001"


def test_person_page_shows_only_a_masked_personal_number(testapp):
    page = login(testapp, "bankid", "karin").follow()
    assert "196506151239" not in page.text
    assert page.html.find(attrs={"data-testid": "personal-number"}).get_text(strip=True) == "19650615-XXXX"


def test_no_cookie_carries_the_personal_number(testapp):
    login(testapp, "bankid", "karin").follow()
    for cookie in testapp.cookiejar:
        assert "196506151239" not in (cookie.value or "")
        assert "1965061" not in (cookie.value or "")


def test_deep_link_returns_there_after_login(testapp):
    redirect = testapp.get("/mina-sidor?tab=arenden")
    assert redirect.status_int == 302 and "/login?next=" in redirect.location
    chooser = redirect.follow()
    start = chooser.html.find("a", href=lambda h: h and h.startswith("/login/bankid"))["href"]
    page = testapp.get(start).follow()
    acs = answer(testapp, page, "karin")
    assert acs.location.endswith("/mina-sidor?tab=arenden")


def test_cancel_at_the_idp_gives_the_calm_cancelled_page(testapp):
    page = answer(testapp, idp_page(testapp, "bankid"), "karin", outcome="cancel")
    # a deliberate cancel is no error: HTTP 200 and no error box
    assert page.status_int == 200 and page.html.select(".error-ids") == []
    assert page.html.select_one(".error-page")["data-code"] == ErrorCode.IDP_CANCELLED.value


@pytest.mark.parametrize(
    "outcome, code", [("fraud", ErrorCode.IDP_FRAUD), ("possibleFraud", ErrorCode.IDP_POSSIBLE_FRAUD)]
)
def test_fraud_gives_the_warning_page(testapp, outcome, code):
    page = answer(testapp, idp_page(testapp, "mobilt_bankid"), "anna", outcome=outcome)
    assert code.value in page.text
    assert page.html.find(class_="error-page--fraud") is not None


def logged_in_resubmission(testapp):
    """Log in, then the ACS form again (back button to the IdP's auto-post page): returns that form."""
    page = idp_page(testapp, "bankid")
    form = page.forms[0]
    form["persona"] = "karin"
    acs_form = form.submit().forms[0]
    assert acs_form.submit().status_int == 302
    return acs_form


def test_back_button_resubmission_while_logged_in_is_a_calm_page(testapp):
    again = logged_in_resubmission(testapp).submit(expect_errors=True)
    # harmless: the earlier login stands, so HTTP 200 and no error box
    assert again.status_int == 200 and again.html.select(".error-ids") == []
    assert again.html.select_one(".error-page")["data-code"] == ErrorCode.REQUEST_UNKNOWN.value


def links(page) -> dict[str, str]:
    """The error page's way-on links by data-testid: "continue" (into the service), "retry" (a new login)."""
    return {
        a["data-testid"]: a["href"]
        for a in page.html.select(".error-page a[data-testid]")
        if not a.find_parent(class_="support-contact")  # EKN's customer service is no way on
    }


def test_resubmission_while_logged_in_leads_back_to_the_landing_page(testapp):
    again = logged_in_resubmission(testapp).submit(expect_errors=True)
    assert ErrorCode.REQUEST_UNKNOWN.value in again.text
    assert links(again) == {"continue": "/mina-sidor", "retry": "/login"}
    assert "button" in again.html.select_one('a[data-testid="continue"]')["class"]


def test_resubmission_after_logout_offers_only_a_new_login(testapp):
    acs_form = logged_in_resubmission(testapp)
    logout = next(f for f in testapp.get("/mina-sidor").forms.values() if f.action.endswith("/logout"))
    logout.submit()
    again = acs_form.submit(expect_errors=True)
    assert again.status_int == 400 and ErrorCode.REQUEST_UNKNOWN.value in again.text
    assert links(again) == {"retry": "/login"}


def test_cross_site_resubmission_shows_its_page_after_a_redirect(testapp):
    # A browser sends no SameSite=Lax session cookie with the IdP's cross-site
    # POST; the redirect's GET is a top-level navigation that carries it.
    again = logged_in_resubmission(testapp).submit(headers={"Sec-Fetch-Site": "cross-site"}, expect_errors=True)
    assert again.status_int == 303
    location = urlsplit(again.location)
    assert location.path == "/login-expired" and parse_qs(location.query)["code"] == [ErrorCode.REQUEST_UNKNOWN.value]
    page = again.follow(expect_errors=True)
    assert page.status_int == 200 and ErrorCode.REQUEST_UNKNOWN.value in page.text
    assert links(page)["continue"] == "/mina-sidor"


def test_cross_site_resubmission_page_has_the_reference_of_the_log(testapp, caplog):
    again = logged_in_resubmission(testapp).submit(headers={"Sec-Fetch-Site": "cross-site"}, expect_errors=True)
    (reference,) = parse_qs(urlsplit(again.location).query)["ref"]
    assert any(r.name == "ekn_saml" and f"ref={reference}" in r.getMessage() for r in caplog.records)
    assert reference in again.follow(expect_errors=True).text


@pytest.mark.parametrize(
    "query",
    [
        {"code": ErrorCode.SIGNATURE_INVALID.value, "ref": "0123456789"},  # not a request-state code
        {"code": "EKN-REQ-999", "ref": "0123456789"},
        {"code": ErrorCode.REQUEST_UNKNOWN.value, "ref": "<b>x</b>"},
        {"code": ErrorCode.REQUEST_UNKNOWN.value},
        {},
    ],
)
def test_login_expired_page_shows_only_a_request_state_code_and_a_reference(testapp, query):
    page = testapp.get("/login-expired", params=query, expect_errors=True)
    assert page.status_int == 404 and "EKN-WEB-404" in page.text


def test_coordination_number_persona_is_refused_by_default(testapp):
    page = login(testapp, "bankid", "sam")
    assert ErrorCode.COORDINATION_NUMBER_NOT_ACCEPTED.value in page.text


def test_organisation_outside_the_idp_scope_is_refused(testapp):
    page = login(testapp, "expisoft", "mallory")
    assert ErrorCode.SCOPE_NOT_AUTHORISED.value in page.text


def test_session_id_is_rotated_at_login(testapp):
    testapp.get("/login")
    testapp.get("/lang/en?next=/login")  # any session write before login
    before = {c.name: c.value for c in testapp.cookiejar}
    login(testapp, "bankid", "karin")
    after = {c.name: c.value for c in testapp.cookiejar}
    assert after[SESSION_COOKIE] and after[SESSION_COOKIE] != before.get(SESSION_COOKIE)


def test_logout_needs_the_csrf_token(testapp):
    login(testapp, "bankid", "karin").follow()
    refused = testapp.post("/logout", expect_errors=True)
    assert refused.status_int == 400 and ErrorCode.CSRF_FAILED.value in refused.text
    assert testapp.get("/mina-sidor").status_int == 200


def test_logout_ends_the_session(testapp):
    page = login(testapp, "bankid", "karin").follow()
    form = next(f for f in page.forms.values() if f.action.endswith("/logout"))
    assert form.submit().location.endswith("/logged-out")
    assert testapp.get("/mina-sidor").status_int == 302


def test_unknown_method_gives_a_bad_request_page(testapp):
    page = testapp.get("/login/nosuch", expect_errors=True)
    assert page.status_int == 400 and ErrorCode.UNKNOWN_METHOD.value in page.text


@pytest.mark.parametrize(
    "target", ["//evil.example", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_unsafe_next_is_refused_at_login_start(testapp, target):
    page = testapp.get("/login/bankid", params={"next": target}, expect_errors=True)
    assert page.status_int == 400 and ErrorCode.UNSAFE_REDIRECT.value in page.text


def test_an_over_long_next_is_refused_at_login_start(testapp):
    page = testapp.get("/login/bankid", params={"next": "/" + "a" * MAX_NEXT_PATH}, expect_errors=True)
    assert page.status_int == 400 and ErrorCode.UNSAFE_REDIRECT.value in page.text


def test_a_next_of_the_longest_length_is_taken_at_login_start(testapp):
    assert testapp.get("/login/bankid", params={"next": "/" + "a" * (MAX_NEXT_PATH - 1)}).status_int == 302


def test_the_chooser_drops_an_over_long_next(testapp):
    chooser = testapp.get("/login", params={"next": "/" + "a" * MAX_NEXT_PATH})
    assert chooser.html.find("a", href=lambda h: h and h.startswith("/login/bankid"))["href"] == "/login/bankid"


def test_the_chooser_keeps_a_next_of_the_longest_length(testapp):
    chooser = testapp.get("/login", params={"next": "/" + "a" * (MAX_NEXT_PATH - 1)})
    assert "next=" in chooser.html.find("a", href=lambda h: h and h.startswith("/login/bankid"))["href"]


def test_sp_metadata_is_served(testapp):
    response = testapp.get("/saml/metadata")
    assert response.content_type == "application/samlmetadata+xml"
    assert b'entityID="https://sp.example.test/sp"' in response.body


def test_help_page_is_served(testapp):
    assert testapp.get("/help").status_int == 200


def test_unknown_page_gives_a_friendly_404(testapp):
    page = testapp.get("/no/such/page", expect_errors=True)
    assert page.status_int == 404 and "EKN-WEB-404" in page.text


def test_post_binding_authn_request_logs_in(dev_settings):
    """With authn_request.binding = post the signed request goes in an auto-submitted form."""
    from dev_app import make_testapp

    testapp = make_testapp({**dev_settings, "ekn_saml.authn_request.binding": "post"})
    form_page = testapp.get("/login/bankid")
    assert form_page.status_int == 200 and form_page.forms[0].action.endswith("/devidp/bankid/sso")
    acs = answer(testapp, form_page.forms[0].submit(), "karin")
    assert acs.status_int == 302 and acs.location.endswith("/mina-sidor")


def test_logins_started_in_two_tabs_can_both_finish(testapp):
    first = idp_page(testapp, "bankid")
    second = idp_page(testapp, "mobilt_bankid")
    assert answer(testapp, first, "karin").status_int == 302
    assert answer(testapp, second, "anna").status_int == 302
