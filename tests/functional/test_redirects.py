# SPDX-License-Identifier: Apache-2.0
"""Every ``Location`` the plugin sends is on ``ekn_saml.sp.public_base_url``, whatever the Host header says.

WebOb makes a relative ``Location`` absolute with the request's Host, which
the client chooses; each route that redirects is asked here with
``Host: evil.example``.  The cookies a step needs are sent as a header, since
a browser's cookie jar would not send them to evil.example.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from ekn_saml.demo import main
from ekn_saml.errors import ErrorCode

from dev_app import BINDING_COOKIE, SESSION_COOKIE, acs_form, browser, idp_page, log_in

BASE = "https://sp.example.test"  # the public base URL of the development settings
EVIL = {"HTTP_HOST": "evil.example"}


@pytest.fixture
def app(dev_settings):
    return main({}, **dev_settings)


def cookies_of(client, *names) -> dict[str, str]:
    jar = {c.name: c.value for c in client.cookiejar}
    return {"Cookie": "; ".join(f"{name}={jar[name]}" for name in names)}


def test_the_acs_redirect_to_next_is_on_the_public_base(app):
    client = browser(app)
    form = acs_form(client)
    acs = browser(app, **EVIL).post(
        "/saml/acs", params=dict(form.submit_fields()), headers=cookies_of(client, BINDING_COOKIE)
    )
    assert acs.status_int == 302 and acs.location == BASE + "/mina-sidor"


def test_the_login_expired_redirect_is_on_the_public_base(app):
    client = browser(app)
    form = acs_form(client)
    assert form.submit().status_int == 302  # the request is used: the same answer again is a request-state failure
    again = browser(app, **EVIL).post(
        "/saml/acs",
        params=dict(form.submit_fields()),
        headers={**cookies_of(client, BINDING_COOKIE), "Sec-Fetch-Site": "cross-site"},
        expect_errors=True,
    )
    assert again.status_int == 303
    assert again.location.startswith(BASE + f"/login-expired?code={ErrorCode.REQUEST_UNKNOWN.value}&ref=")


def test_the_login_start_redirect_goes_to_the_idp_of_the_settings(app):
    start = browser(app, **EVIL).get("/login/bankid")
    assert start.status_int == 302 and start.location.startswith(BASE + "/devidp/bankid/sso?")


def test_the_forbidden_views_redirect_to_the_chooser_is_on_the_public_base(app):
    redirect = browser(app, **EVIL).get("/mina-sidor?tab=2")
    assert redirect.status_int == 302 and redirect.location == BASE + "/login?next=" + quote(
        "/mina-sidor?tab=2", safe=""
    )


def _logout_token(client) -> str:
    page = log_in(client).follow()
    return page.html.find("form", class_="logout-form").find("input", attrs={"name": "csrf_token"})["value"]


def test_the_logout_redirect_is_on_the_public_base(app):
    client = browser(app)
    token = _logout_token(client)
    # the origin the plugin trusts is the public base's, whatever Host says
    headers = {**cookies_of(client, SESSION_COOKIE), "Origin": BASE}
    logout = browser(app, **EVIL).post("/logout", params={"csrf_token": token}, headers=headers)
    assert logout.status_int == 302 and logout.location == BASE + "/logged-out"


def test_logout_from_the_origin_the_host_header_names_is_refused(app):
    # Pyramid's own check would trust Origin == Host; the plugin's is pinned to the public base URL
    client = browser(app)
    token = _logout_token(client)
    headers = {**cookies_of(client, SESSION_COOKIE), "Origin": "https://evil.example"}
    refused = browser(app, **EVIL).post("/logout", params={"csrf_token": token}, headers=headers, expect_errors=True)
    assert refused.status_int == 400 and ErrorCode.CSRF_FAILED.value in refused.text


def test_a_static_directory_redirect_is_on_the_public_base(app):
    # Pyramid's static view adds the slash with request.path_url, made from Host
    redirect = browser(app, **EVIL).get("/ekn_saml_static/logos")
    assert redirect.status_int == 301 and redirect.location == BASE + "/ekn_saml_static/logos/"


def test_the_language_switch_redirect_is_on_the_public_base(app):
    switch = browser(app, **EVIL).get("/lang/en", params={"next": "/mina-sidor"})
    assert switch.status_int == 303 and switch.location == BASE + "/mina-sidor"


def test_the_language_switch_fallback_redirect_is_on_the_public_base(app):
    switch = browser(app, **EVIL).get("/lang/en", params={"next": "//evil.example/"})
    assert switch.status_int == 303 and switch.location == BASE + "/"


def test_the_demo_home_redirect_is_on_the_public_base(app):
    home = browser(app, **EVIL).get("/")
    assert home.status_int == 302 and home.location == BASE + "/mina-sidor"


def test_the_development_idps_answer_posts_to_the_acs_on_the_public_base(app):
    # the development IdP sends no Location: its answer is a form, whose action must not follow Host either
    client = browser(app)
    form = idp_page(client, "bankid").forms[0]
    form["persona"] = "karin"
    autopost = browser(app, **EVIL).post(form.action, params=dict(form.submit_fields()))
    assert autopost.forms[0].action == BASE + "/saml/acs"


def test_a_redirect_under_a_mount_prefix_keeps_the_script_name(app):
    redirect = browser(app, HTTP_HOST="evil.example", SCRIPT_NAME="/portal").get("/mina-sidor")
    assert redirect.location == BASE + "/portal/login?next=" + quote("/portal/mina-sidor", safe="")


def test_the_acs_redirect_has_no_body(app):
    """A 302 needs only its Location: no "302 Found" page is rendered at every login (issue 14)."""
    client = browser(app)
    acs = log_in(client)
    assert (acs.status_int, acs.body, acs.location) == (302, b"", BASE + "/mina-sidor")
