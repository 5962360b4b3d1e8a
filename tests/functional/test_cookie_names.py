# SPDX-License-Identifier: Apache-2.0
"""The session and browser-binding cookies carry ``__Host-`` when Secure (ekn_saml.cookies).

Browsers keep a ``__Host-`` cookie only with Secure, Path=/ and no Domain, so a
sibling subdomain cannot plant one (cookie tossing).  The same cookie under
its plain name, which a subdomain *can* set, must then mean nothing.
"""

from __future__ import annotations

from ekn_saml.demo import main
from ekn_saml.errors import ErrorCode

from dev_app import BINDING_COOKIE, SESSION_COOKIE, browser, idp_page, log_in, make_testapp


def set_cookies(response) -> dict[str, str]:
    """Set-Cookie headers by cookie name: the attributes after the value, lower-cased."""
    found = {}
    for header in response.headers.getall("Set-Cookie"):
        name, _, rest = header.partition("=")
        found[name] = rest.partition(";")[2].lower()
    return found


def test_login_start_sets_the_binding_cookie_under_its_host_only_name(testapp):
    attributes = set_cookies(testapp.get("/login/bankid"))[BINDING_COOKIE]
    assert "secure" in attributes and "path=/" in attributes and "domain" not in attributes


def test_login_sets_the_session_cookie_under_its_host_only_name(testapp):
    attributes = set_cookies(log_in(testapp))[SESSION_COOKIE]
    assert "secure" in attributes and "path=/" in attributes and "domain" not in attributes


def test_the_session_id_under_the_plain_name_is_not_a_session(dev_settings):
    app = main({}, **dev_settings)
    victim = browser(app)
    log_in(victim)
    session_id = {c.name: c.value for c in victim.cookiejar}[SESSION_COOKIE]
    tossed = browser(app)
    tossed.set_cookie("ekn_session", session_id)  # what a sibling subdomain can set
    assert tossed.get("/mina-sidor").status_int == 302


def test_the_binding_cookie_under_the_plain_name_binds_nothing(testapp):
    page = idp_page(testapp, "bankid")
    token = {c.name: c.value for c in testapp.cookiejar}[BINDING_COOKIE]
    testapp.cookiejar.clear()
    testapp.set_cookie("ekn_saml_req", token)  # what a sibling subdomain can set
    form = page.forms[0]
    form["persona"] = "karin"
    acs = form.submit().forms[0].submit(expect_errors=True)
    assert acs.status_int == 400 and ErrorCode.REQUEST_BROWSER_MISMATCH.value in acs.text


def test_without_secure_the_cookies_keep_their_plain_names(dev_settings):
    # plain-http development: browsers refuse __Host- without Secure
    client = make_testapp({**dev_settings, "ekn_saml.session.cookie_secure": "false"})
    assert "ekn_saml_req" in set_cookies(client.get("/login/bankid"))
    assert "ekn_session" in set_cookies(log_in(client))


def test_logout_deletes_the_session_cookie_with_secure(testapp):
    page = log_in(testapp).follow()
    form = next(f for f in page.forms.values() if f.action.endswith("/logout"))
    # a browser ignores a deletion of a __Host- cookie that lacks Secure
    assert "secure" in set_cookies(form.submit())[SESSION_COOKIE]
