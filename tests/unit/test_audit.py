# SPDX-License-Identifier: Apache-2.0
"""The audit trail (ekn_saml.audit): one JSON line per login success, failure, logout, CSRF refusal and metadata refresh.

Logins here are real (a signed and encrypted response from tests/saml_factory.py
posted to the app's ACS), so each test also checks the wiring in the views.
That no log line of the whole run holds a full personal identity number is
checked by tests/privacy_guard.py over every test.
"""

from __future__ import annotations

import json
import logging
import re

import pytest
import webtest

from ekn_saml import audit
from ekn_saml.demo import main
from ekn_saml.errors import MetadataError
from ekn_saml.interfaces import ISamlServiceProvider

from acs_helpers import PNR, begin, spec_for
from testbed import BANKID_IDP, SP_ENTITY_ID

ENVIRON = {"wsgi.url_scheme": "https", "HTTP_HOST": "sp.example.test", "REMOTE_ADDR": "198.51.100.7"}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def app(app_settings):
    return main({}, **app_settings)


@pytest.fixture
def lines(caplog):
    """The audit lines written so far, parsed."""
    caplog.set_level(logging.INFO, logger="ekn_saml.audit")

    def read():
        return [json.loads(r.getMessage()) for r in caplog.records if r.name == "ekn_saml.audit"]

    return read


def _post_login(app, factory, *, method="bankid", headers=None, **overrides):
    sp = app.registry.getUtility(ISamlServiceProvider)
    login = begin(sp, method)
    client = webtest.TestApp(app, extra_environ=ENVIRON)
    form = {"SAMLResponse": factory.encoded(spec_for(login, **overrides)), "RelayState": login.relay_state}
    response = client.post(
        "/saml/acs",
        params=form,
        headers={"Cookie": f"{sp.browser_cookie_name}={login.browser_token}", **(headers or {})},
        expect_errors=True,
    )
    return client, response


def test_login_success_is_one_line_with_method_idp_loa_and_ids(app, response_factory, lines):
    _post_login(app, response_factory)
    (line,) = lines()
    assert line["event"] == "login_success"
    assert (line["method"], line["idp"], line["loa"]) == (
        "bankid",
        BANKID_IDP,
        "http://id.swedenconnect.se/loa/1.0/uncertified-loa3",
    )
    assert line["assertion_id"].startswith("_a") and line["transaction_id"] == "tx-123"


def test_login_success_shows_the_personal_number_masked(app, response_factory, lines):
    _post_login(app, response_factory)
    (line,) = lines()
    assert line["identity"] == {"kind": "person", "name_id": "a1b2c3d4e5f6", "personal_number": "19800101-XXXX"}
    assert PNR not in json.dumps(line)


def test_organisation_login_shows_the_organisation(app, response_factory, lines):
    _post_login(app, response_factory, method="expisoft")
    (line,) = lines()
    assert line["identity"]["org_number"] == "5560000001" and line["identity"]["org_unique_id"] == "stbj1006"


def test_time_is_utc_with_milliseconds(app, response_factory, lines):
    _post_login(app, response_factory)
    assert TIME.match(lines()[0]["time"])


def test_client_is_remote_addr_not_x_forwarded_for(app, response_factory, lines):
    _post_login(app, response_factory, headers={"X-Forwarded-For": "203.0.113.66"})
    assert lines()[0]["client"] == "198.51.100.7"


def test_login_failure_has_the_code_and_reference_the_user_saw(app, response_factory, lines):
    _client, page = _post_login(app, response_factory, audience="https://other-sp.example/sp")
    (line,) = lines()
    assert (line["event"], line["code"]) == ("login_failure", "EKN-ADR-004")
    assert line["reference"] in page.text


def test_login_failure_names_the_method_and_idp_once_known(app, response_factory, lines):
    _post_login(app, response_factory, audience="https://other-sp.example/sp")
    (line,) = lines()
    assert (line["method"], line["idp"]) == ("bankid", BANKID_IDP)


def test_failure_with_a_bad_signature_names_the_idp_it_claims(app, attacker_keys, sp_encryption, lines):
    from saml_factory import ResponseFactory

    forger = ResponseFactory(attacker_keys[0], attacker_keys[1], sp_encryption[1])
    _post_login(app, forger)
    (line,) = lines()
    assert (line["code"], line["idp"]) == ("EKN-SIG-002", BANKID_IDP)
    assert "method" not in line  # the request is not looked up before the signature holds


def test_failure_before_any_issuer_has_neither_method_nor_idp(app, lines):
    webtest.TestApp(app, extra_environ=ENVIRON).post(
        "/saml/acs", params={"SAMLResponse": "not*base64"}, expect_errors=True
    )
    (line,) = lines()
    assert line["code"] == "EKN-IN-003" and "method" not in line and "idp" not in line


def test_failure_at_login_start_names_the_method_and_its_idp(app, lines):
    webtest.TestApp(app, extra_environ=ENVIRON).get(
        "/login/bankid", params={"next": "//evil.example"}, expect_errors=True
    )
    (line,) = lines()
    assert (line["code"], line["method"], line["idp"]) == ("EKN-WEB-002", "bankid", BANKID_IDP)


def test_request_strings_are_clipped(app, lines):
    webtest.TestApp(app, extra_environ=ENVIRON).get("/login/" + "a" * 5000, expect_errors=True)
    (line,) = lines()
    assert line["code"] == "EKN-WEB-001" and len(line["method"]) == audit.MAX_FIELD


def test_logout_line_has_the_masked_identity(app, response_factory, lines):
    client, _ = _post_login(app, response_factory)
    page = client.get("/mina-sidor")
    page.forms[next(k for k, f in page.forms.items() if f.action.endswith("/logout"))].submit(
        headers={"Origin": "https://sp.example.test"}
    )
    line = lines()[-1]
    assert (line["event"], line["method"], line["idp"]) == ("logout", "bankid", BANKID_IDP)
    assert line["identity"]["personal_number"] == "19800101-XXXX"


def _logout_form(client):
    page = client.get("/mina-sidor")
    return page.forms[next(k for k, f in page.forms.items() if f.action.endswith("/logout"))]


def test_csrf_failure_is_one_line_with_code_reference_and_client(app, response_factory, lines):
    client, _ = _post_login(app, response_factory)
    page = client.post("/logout", headers={"Origin": "https://sp.example.test"}, expect_errors=True)  # no token
    line = lines()[-1]
    assert (line["event"], line["code"], line["route"], line["client"]) == (
        "csrf_failure",
        "EKN-WEB-003",
        "saml.logout",
        "198.51.100.7",
    )
    assert line["reference"] in page.text


def test_csrf_failure_shows_the_logged_in_identity_masked(app, response_factory, lines):
    client, _ = _post_login(app, response_factory)
    client.post("/logout", headers={"Origin": "https://sp.example.test"}, expect_errors=True)
    line = lines()[-1]
    assert (line["event"], line["identity"]["personal_number"]) == ("csrf_failure", "19800101-XXXX")
    assert PNR not in json.dumps(line)


def test_csrf_failure_says_the_token_failed(app, response_factory, lines):
    client, _ = _post_login(app, response_factory)
    form = _logout_form(client)
    form["csrf_token"] = "forged"
    form.submit(headers={"Origin": "https://sp.example.test"}, expect_errors=True)
    assert lines()[-1]["reason"] == "token"


def test_csrf_failure_says_the_origin_failed(app, response_factory, lines):
    client, _ = _post_login(app, response_factory)
    _logout_form(client).submit(headers={"Origin": "https://evil.example"}, expect_errors=True)  # the real token
    assert (lines()[-1]["event"], lines()[-1]["reason"]) == ("csrf_failure", "origin")


def test_anonymous_csrf_failure_has_no_identity(app, lines):
    webtest.TestApp(app, extra_environ=ENVIRON).post("/logout", expect_errors=True)
    (line,) = lines()
    assert line["event"] == "csrf_failure" and "identity" not in line


def test_metadata_refresh_success(lines):
    audit.metadata_refreshed("https://md.example.test/feed", idps=12, valid_until="2026-12-05T00:00:00Z")
    (line,) = lines()
    assert (line["event"], line["outcome"], line["idps"], line["source"]) == (
        "metadata_refresh",
        "success",
        12,
        "https://md.example.test/feed",
    )


def test_metadata_refresh_failure_has_code_and_reference(lines):
    error = MetadataError("signature does not verify")
    audit.metadata_refreshed("https://md.example.test/feed", error=error)
    (line,) = lines()
    assert (line["outcome"], line["code"], line["reference"]) == ("failure", "EKN-OPS-002", error.reference)


def test_a_value_cannot_break_the_line(caplog):
    caplog.set_level(logging.INFO, logger="ekn_saml.audit")
    audit.emit("login_failure", method='x\n{"event":"login_success"}\r')
    (record,) = [r for r in caplog.records if r.name == "ekn_saml.audit"]
    assert "\n" not in record.getMessage() and "\r" not in record.getMessage()
    assert json.loads(record.getMessage())["event"] == "login_failure"


def test_the_structured_record_rides_along(caplog):
    caplog.set_level(logging.INFO, logger="ekn_saml.audit")
    written = audit.emit("logout", client="192.0.2.1")
    (record,) = [r for r in caplog.records if r.name == "ekn_saml.audit"]
    assert record.ekn_audit == written


def test_entity_id_of_the_sp_is_not_mistaken_for_an_idp(app, response_factory, lines):
    _post_login(app, response_factory, issuer=SP_ENTITY_ID)
    (line,) = lines()
    assert line["code"] == "EKN-REQ-004" and "idp" not in line
