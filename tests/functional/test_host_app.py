# SPDX-License-Identifier: Apache-2.0
"""ekn_saml in an existing portal (tests/host_app): the portal keeps its own, the plugin keeps its pages.

The portal has its own signed-cookie session, security policy, 404 and
exception views, locale negotiator and CSRF check, and includes ekn_saml
(and its development IdP) without any of the plugin's host-wide parts.
Every login is a real one through the development IdP (tests/dev_app.py).
"""

from __future__ import annotations

import base64

import pytest
import webtest
from pyramid.scripting import prepare
from pyramid.security import remember

import ekn_saml
from ekn_saml.errors import ErrorCode
from ekn_saml.interfaces import ISamlServiceProvider

from dev_app import ENVIRON, acs_form
from host_app import SESSION_COOKIE, main
from testbed import person_identity

BASE = "https://sp.example.test"
PERSONS = {"anna": "198001012387", "karin": "196506151239"}  # the development IdP's, as it sends them
LOGINS = [
    pytest.param("mobilt_bankid", "anna", "Anna Andersson", "mobilt_bankid", "19800101-XXXX", id="mobilt_bankid"),
    pytest.param("bankid", "karin", "Karin Karlsson", "bankid", "19650615-XXXX", id="bankid"),
    pytest.param("expisoft", "eva", "Eva Exportsson", "expisoft", "5560000001", id="expisoft"),
]


@pytest.fixture
def portal(dev_settings):
    settings = {
        **dev_settings,
        "ekn_saml.landing_path": "/portal/konto",
        "ekn_saml.logged_out_path": "/",
        "portal.session_secret": "portal test secret (TEST ONLY) " * 2,
    }
    return main({}, **settings)


@pytest.fixture
def client(portal):
    return webtest.TestApp(portal, extra_environ=ENVIRON)


def log_in(client, method="bankid", persona="karin"):
    """A whole login through the development IdP; the account page it lands on."""
    acs = acs_form(client, method, persona).submit()
    assert acs.status_int == 302 and acs.location == BASE + "/portal/konto"
    return acs.follow()


def shown(page, name: str) -> str:
    """The text of the element with data-testid ``name``."""
    return page.html.select_one(f'[data-testid="{name}"]').get_text()


def portal_session(client) -> bytes:
    """The portal's cookie session as it travels: its signed, base64-encoded JSON."""
    value = next(c.value for c in client.cookiejar if c.name == SESSION_COOKIE)
    return base64.urlsafe_b64decode(value.strip('"') + "==")


# --- the portal's own stays the portal's ----------------------------------------------------


def test_the_portals_404_page_answers_for_its_routes(client):
    page = client.get("/no-such-page", status=404)
    assert shown(page, "portal-404")


def test_the_portals_exception_view_answers_for_its_routes(client):
    page = client.get("/portal/broken", status=500)
    assert shown(page, "portal-500")


def test_the_portals_pages_get_no_headers_of_the_plugin(client):
    assert "Content-Security-Policy" not in client.get("/").headers


def test_the_portals_session_keeps_working_across_a_login(client):
    client.get("/")
    client.get("/")
    assert shown(log_in(client), "visits") == "3"


def test_no_personal_identity_number_is_in_the_portals_cookie(client):
    client.get("/")
    log_in(client, "bankid", "karin")
    client.get("/portal/konto")
    session = portal_session(client)
    # read as the portal wrote it (its visit counter is there), and no number in it
    assert b"portal.visits" in session and PERSONS["karin"].encode() not in session


def test_no_cookie_holds_a_personal_identity_number(client):
    log_in(client, "mobilt_bankid", "anna")
    assert all(PERSONS["anna"] not in c.value for c in client.cookiejar)


def test_the_portals_language_decides_the_plugins_pages(client):
    # the portal's negotiator says English by default; ekn_saml's would say Swedish
    assert client.get("/login").html.html["lang"] == "en"


def test_the_plugins_language_switch_works_under_the_portals_negotiator(client):
    client.get("/lang/sv")
    assert client.get("/login").html.html["lang"] == "sv"


def test_the_portals_csrf_check_guards_its_own_forms(client):
    log_in(client)
    client.post("/portal/end-sessions", status=400)  # no token: Pyramid's BadCSRFToken, the portal's page
    assert client.get("/portal/konto").status_int == 200


# --- logins through the portal's own policy -------------------------------------------------


@pytest.mark.parametrize(("method", "persona", "name", "_method", "_number"), LOGINS)
def test_each_method_logs_in_to_the_portal(client, method, persona, name, _method, _number):
    assert shown(log_in(client, method, persona), "display-name") == name


@pytest.mark.parametrize(("method", "persona", "_name", "shown_method", "number"), LOGINS)
def test_identity_of_gives_the_saml_identity_in_the_portals_view(client, method, persona, _name, shown_method, number):
    page = log_in(client, method, persona)
    assert (shown(page, "method"), shown(page, "number")) == (shown_method, number)


def test_an_anonymous_visitor_is_sent_to_the_plugins_chooser(client):
    redirect = client.get("/portal/konto?tab=2")
    assert redirect.status_int == 302 and redirect.location == BASE + "/login?next=%2Fportal%2Fkonto%3Ftab%3D2"


def _staff_login(client, name="sven"):
    form = client.get("/").forms[0]
    form["name"] = name
    return form.submit()


def test_the_portals_staff_login_is_the_portals_own(client):
    _staff_login(client)
    # logged in by the portal's policy, but not a customer: the portal's 403 page, not a SAML login
    assert shown(client.get("/portal/konto", status=403), "portal-403")


def test_the_portals_staff_login_needs_the_portals_csrf_token(client):
    client.post("/portal/staff-login", params={"name": "mallory"}, status=400)
    assert client.get("/portal/konto").status_int == 302  # still nobody


def test_the_portal_policy_remembers_a_saml_identity_in_the_plugins_state(portal):
    env = prepare(registry=portal.registry)
    try:
        request = env["request"]
        remember(request, None, identity=person_identity())
        assert (ekn_saml.identity_of(request), request.session.get("portal.staff")) == (person_identity(), None)
    finally:
        env["closer"]()


# --- the plugin's pages keep their codes, headers and forms ---------------------------------


def test_the_plugins_error_page_keeps_its_code(client):
    page = client.get("/login/nosuch", status=400)
    assert ErrorCode.UNKNOWN_METHOD.value in page.text


def test_the_plugins_pages_keep_their_security_headers(client):
    assert "frame-ancestors 'none'" in client.get("/login").headers["Content-Security-Policy"]


def test_an_undecodable_url_on_the_plugins_route_gets_its_page(client):
    page = client.get("/login?next=%ff", status=400)
    assert ErrorCode.REQUEST_ENCODING_INVALID.value in page.text


def test_an_unexpected_error_on_the_plugins_route_gets_its_page(client, portal):
    def broken_start(*args, **kwargs):
        raise RuntimeError("a bug in the plugin")

    portal.registry.getUtility(ISamlServiceProvider).start_login = broken_start  # fault injection
    page = client.get("/login/bankid", status=500)
    assert "EKN-500" in page.text and not page.html.select('[data-testid="portal-500"]')


def test_the_plugins_logout_refuses_a_post_without_its_token(client):
    log_in(client)
    page = client.post("/logout", headers={"Origin": BASE}, status=400)
    assert ErrorCode.CSRF_FAILED.value in page.text


def test_the_plugins_logout_works_beside_the_portals_csrf_check(client):
    page = log_in(client)
    logout = next(f for f in page.forms.values() if f.action == "/logout").submit()
    assert logout.status_int == 302 and logout.location == BASE + "/"


def test_after_the_plugins_logout_the_portal_page_wants_a_login_again(client):
    page = log_in(client)
    next(f for f in page.forms.values() if f.action == "/logout").submit()
    assert client.get("/portal/konto").status_int == 302


def test_ending_every_session_from_the_portal_logs_out(client):
    page = log_in(client)
    ended = next(f for f in page.forms.values() if f.action == "/portal/end-sessions").submit()
    assert (shown(ended, "ended"), client.get("/portal/konto").status_int) == ("1", 302)
