# SPDX-License-Identifier: Apache-2.0
"""Step-up for the same person (ekn_saml.step_up, require_step_up) through the demo's "Signera ansökan".

Every login and step-up runs through the development IdP (pysaml2): its
answers are really signed and encrypted, and its BankID IdPs ask for
psc:PrincipalSelection in their metadata while its Expisoft IdP does not.
"""

from __future__ import annotations

import base64

import pytest
from lxml import etree

from ekn_saml.errors import ErrorCode
from ekn_saml.identity import PERSONAL_IDENTITY_NUMBER
from ekn_saml.xml_schema import request_schema_problem

from dev_app import SESSION_COOKIE, log_in

SIGN = "/signera-ansokan"
PSC = {"psc": "http://id.swedenconnect.se/authn/1.0/principal-selection/ns"}


def to_idp_form(page):
    """The auto-post form of a POST-binding AuthnRequest on ``page``."""
    return next(f for f in page.forms.values() if "SAMLRequest" in f.fields)


def posted_request(page) -> etree._Element:
    return etree.fromstring(base64.b64decode(to_idp_form(page)["SAMLRequest"].value))


def step_up_at_idp(testapp):
    """GET the sign page without a recent step-up: the AuthnRequest page, and the IdP's persona page."""
    start = testapp.get(SIGN)
    assert start.status_int == 200  # a PrincipalSelection goes by POST: the auto-post page
    return start, to_idp_form(start).submit()


def answer_as(idp_page, persona):
    form = next(f for f in idp_page.forms.values() if "persona" in f.fields)
    form["persona"] = persona
    form["outcome"] = "success"
    autopost = form.submit()
    return next(f for f in autopost.forms.values() if "SAMLResponse" in f.fields).submit(expect_errors=True)


def test_step_up_of_the_same_person_opens_the_sign_page(testapp):
    log_in(testapp, "bankid", "karin")
    _start, idp_page = step_up_at_idp(testapp)
    acs = answer_as(idp_page, "karin")
    assert acs.status_int == 302 and acs.location.endswith(SIGN)
    page = acs.follow()
    assert page.status_int == 200
    assert page.html.find(attrs={"data-testid": "stepped-up-at"}) is not None


def test_the_sign_form_is_accepted_within_the_step_up_window(testapp):
    log_in(testapp, "bankid", "karin")
    _start, idp_page = step_up_at_idp(testapp)
    page = answer_as(idp_page, "karin").follow()
    signed = page.forms[next(k for k, f in page.forms.items() if "csrf_token" in f.fields and f.action == SIGN)]
    assert signed.submit().html.find(attrs={"data-testid": "signed"}) is not None


def test_step_up_request_forces_authentication(testapp):
    log_in(testapp, "bankid", "karin")
    start, _idp_page = step_up_at_idp(testapp)
    assert posted_request(start).get("ForceAuthn") == "true"


def test_step_up_answered_by_another_person_is_refused(testapp):
    log_in(testapp, "mobilt_bankid", "anna")
    _start, idp_page = step_up_at_idp(testapp)
    refused = answer_as(idp_page, "bertil")
    assert refused.status_int == 403
    assert ErrorCode.STEP_UP_SUBJECT_MISMATCH.value in refused.text


def test_step_up_answered_by_another_person_ends_the_session(testapp):
    log_in(testapp, "mobilt_bankid", "anna")
    _start, idp_page = step_up_at_idp(testapp)
    answer_as(idp_page, "bertil")
    again = testapp.get("/mina-sidor")
    assert again.status_int == 302 and "/login" in again.location


def test_step_up_answered_by_another_person_is_refused_without_the_session_cookie(testapp):
    # the IdP's POST is cross-site: a real browser sends no SameSite=Lax session cookie with it
    log_in(testapp, "mobilt_bankid", "anna")
    session = testapp.cookies[SESSION_COOKIE]
    _start, idp_page = step_up_at_idp(testapp)
    form = next(f for f in idp_page.forms.values() if "persona" in f.fields)
    form["persona"] = "bertil"
    acs = next(f for f in form.submit().forms.values() if "SAMLResponse" in f.fields)
    testapp.cookiejar.clear(domain="sp.example.test", path="/", name=SESSION_COOKIE)
    assert acs.submit(expect_errors=True).status_int == 403
    testapp.set_cookie(SESSION_COOKIE, session)  # the browser still has the old cookie
    assert testapp.get("/mina-sidor").status_int == 302


def test_the_idp_is_asked_for_the_logged_in_person(testapp):
    log_in(testapp, "bankid", "karin")
    start, _idp_page = step_up_at_idp(testapp)
    values = posted_request(start).xpath(
        "//psc:PrincipalSelection/psc:MatchValue[@Name=$name]/text()", namespaces=PSC, name=PERSONAL_IDENTITY_NUMBER
    )
    assert values == ["196506151239"]


def test_the_step_up_request_passes_the_principal_selection_schema(testapp):
    log_in(testapp, "bankid", "karin")
    start, _idp_page = step_up_at_idp(testapp)
    assert request_schema_problem(posted_request(start)) is None


def test_the_development_idp_preselects_the_person_asked_for(testapp):
    log_in(testapp, "bankid", "karin")
    _start, idp_page = step_up_at_idp(testapp)
    chosen = idp_page.html.find("input", attrs={"data-principal-selection": True})
    assert chosen is not None and chosen["value"] == "karin"


def test_no_principal_selection_goes_to_an_idp_that_does_not_ask(testapp):
    log_in(testapp, "expisoft", "eva")
    to_idp = testapp.get(SIGN)
    # without a PrincipalSelection the configured binding (Redirect) is kept
    assert to_idp.status_int == 302 and "/devidp/expisoft/" in to_idp.location
    assert "PrincipalSelection" not in testapp.get(to_idp.location).text


def test_organisation_step_up_of_the_same_identity_opens_the_sign_page(testapp):
    log_in(testapp, "expisoft", "eva")
    idp_page = testapp.get(testapp.get(SIGN).location)
    acs = answer_as(idp_page, "eva")
    assert acs.status_int == 302 and acs.location.endswith(SIGN)


def test_organisation_step_up_by_another_organisation_identity_is_refused(testapp):
    log_in(testapp, "expisoft", "eva")
    idp_page = testapp.get(testapp.get(SIGN).location)
    refused = answer_as(idp_page, "erik")
    assert refused.status_int == 403 and ErrorCode.STEP_UP_SUBJECT_MISMATCH.value in refused.text


def test_the_sign_page_needs_a_login_first(testapp):
    redirect = testapp.get(SIGN)
    assert redirect.status_int == 302 and "/login?next=" in redirect.location


def test_an_ordinary_login_is_no_step_up(testapp):
    log_in(testapp, "bankid", "karin")
    # logged in a moment ago, but not stepped up: the page starts a step-up
    assert "SAMLRequest" in testapp.get(SIGN).text


@pytest.mark.parametrize("method, persona", [("bankid", "karin"), ("mobilt_bankid", "anna")])
def test_step_up_goes_to_the_method_of_the_login(testapp, method, persona):
    log_in(testapp, method, persona)
    start, _idp_page = step_up_at_idp(testapp)
    slug = method.replace("_", "-")
    assert to_idp_form(start).action.endswith(f"/devidp/{slug}/sso")


def test_the_stored_step_up_request_holds_no_personal_identity_number(testapp, dev_settings):
    log_in(testapp, "bankid", "karin")
    step_up_at_idp(testapp)
    path = dev_settings["ekn_saml.store.url"].removeprefix("sqlite:///")
    with open(path, "rb") as fh:
        stored = fh.read()
    assert b"196506151239" not in stored and b"19650615" not in stored


def test_the_audit_line_of_a_step_up_says_so(testapp, caplog):
    import json
    import logging

    log_in(testapp, "bankid", "karin")
    _start, idp_page = step_up_at_idp(testapp)
    caplog.clear()  # the first login's line is not the step-up's
    with caplog.at_level(logging.INFO, logger="ekn_saml.audit"):
        answer_as(idp_page, "karin")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ekn_saml.audit"]
    (line,) = [line for line in lines if line["event"] == "login_success"]
    assert line["step_up"] is True
