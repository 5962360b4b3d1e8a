# SPDX-License-Identifier: Apache-2.0
"""Sessions through whole logins: server-side timeouts, id rotation, ending sessions, SLO index.

A small host app (the demo, with every host-wide part of the plugin, plus a
few host views) is driven by WebTest.  Time is moved with the session
factory's clock (``registry.getUtility(ISamlSessionFactory).clock``), never by sleeping; the SQLite
store's own TTLs run on the real clock, so an expiry seen here is the
factory's server-side check, not the store forgetting.
"""

from __future__ import annotations

import pytest
from pyramid.config import Configurator

import ekn_saml
from ekn_saml.demo import Root
from ekn_saml.interfaces import ISamlServiceProvider, ISamlSessionFactory
from ekn_saml.server_keys import ServerKeys
from ekn_saml.session import SAML_INDEX, SESSIONS, SUBJECT_INDEX, _store_key, saml_index_key, subject_index_key

from dev_app import BINDING_COOKIE, SESSION_COOKIE, acs_form, browser, log_in

IDLE = 600
ABSOLUTE = 1800


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --- host views: what a portal built on the plugin might do ---------------------
def cart(request):
    """Pre-login session data, e.g. a half-filled application form."""
    if "item" in request.params:
        request.session["cart"] = request.params["item"]
    return {"cart": request.session.get("cart")}


def whoami(request):
    identity = request.identity
    return {
        "subject": identity.subject if identity else None,
        "csrf": request.session.get_csrf_token(),
        # what a LogoutRequest would name (the store holds them sealed)
        "saml": [identity.idp, identity.name_id, identity.session_index] if identity else None,
    }


def log_out_everywhere(request):
    """ "Log me out on every device": ends all sessions of the current identity."""
    return {"ended": ekn_saml.end_sessions(request, request.identity.subject)}


def host_app(settings):
    with Configurator(settings=settings, root_factory=Root) as config:
        config.include("ekn_saml")
        # the plugin's session is the app's request.session, its policy the app's
        config.include("ekn_saml.host_wide")
        config.add_route("demo.home", "/")
        config.add_route("demo.mina_sidor", "/mina-sidor")
        config.add_route("demo.sign", "/signera-ansokan")  # the demo's step-up page
        config.scan("ekn_saml.demo")
        for name, view, permission in (
            ("cart", cart, None),
            ("whoami", whoami, None),
            ("everywhere", log_out_everywhere, "view"),
        ):
            config.add_route(f"host.{name}", f"/host/{name}")
            config.add_view(view, route_name=f"host.{name}", renderer="json", permission=permission)
        return config.make_wsgi_app()


@pytest.fixture
def app(dev_settings):
    settings = dict(dev_settings)
    settings["ekn_saml.session.idle_timeout"] = str(IDLE)
    settings["ekn_saml.session.absolute_timeout"] = str(ABSOLUTE)
    app = host_app(settings)
    app.registry.getUtility(ISamlSessionFactory).clock = Clock()
    return app


@pytest.fixture
def clock(app) -> Clock:
    return app.registry.getUtility(ISamlSessionFactory).clock


@pytest.fixture
def store(app):
    return app.registry.getUtility(ISamlSessionFactory).store


def session_cookie(client) -> str | None:
    return {c.name: c.value for c in client.cookiejar}.get(SESSION_COOKIE)


def logged_in(client) -> bool:
    page = client.get("/mina-sidor")
    assert page.status_int in (200, 302)
    return page.status_int == 200


# --- timeouts ------------------------------------------------------------------
def test_idle_timeout_ends_the_session_on_the_server(app, clock, store):
    client = browser(app)
    log_in(client)
    cookie = session_cookie(client)
    clock.advance(IDLE + 1)
    assert not logged_in(client)
    assert store.get(SESSIONS, _store_key(cookie)) is None


def test_an_idle_expired_cookie_sent_again_is_still_refused(app, clock):
    client = browser(app)
    log_in(client)
    cookie = session_cookie(client)
    clock.advance(IDLE + 1)
    logged_in(client)
    replayed = browser(app)
    replayed.set_cookie(SESSION_COOKIE, cookie)
    assert not logged_in(replayed)


def test_activity_within_the_idle_timeout_keeps_the_session(app, clock):
    client = browser(app)
    log_in(client)
    for _ in range(3):  # 3 x 540 s > IDLE since login, but never IDLE without a request
        clock.advance(IDLE - 60)
        assert logged_in(client)


def test_absolute_timeout_ends_an_active_session(app, clock):
    client = browser(app)
    log_in(client)
    while clock.now + 300 < 1_900_000_000.0 + ABSOLUTE:
        clock.advance(300)
        assert logged_in(client)
    clock.advance(301)
    assert not logged_in(client)


# --- rotation --------------------------------------------------------------------
def test_login_rotates_the_session_id_and_keeps_the_data(app):
    client = browser(app)
    assert client.get("/host/cart", params={"item": "application-42"}).json == {"cart": "application-42"}
    before = session_cookie(client)
    assert before
    log_in(client)
    after = session_cookie(client)
    assert after and after != before
    assert client.get("/host/cart").json == {"cart": "application-42"}


def test_the_pre_login_session_id_is_dead_after_login(app, store):
    client = browser(app)
    client.get("/host/cart", params={"item": "x"})
    before = session_cookie(client)
    log_in(client)
    assert store.get(SESSIONS, _store_key(before)) is None
    fixated = browser(app)
    fixated.set_cookie(SESSION_COOKIE, before)
    assert not logged_in(fixated)
    assert fixated.get("/host/cart").json == {"cart": None}


def test_a_planted_session_cookie_is_never_adopted(app):
    client = browser(app)
    client.set_cookie(SESSION_COOKIE, "attacker-chosen-session-id")
    log_in(client)
    assert session_cookie(client) not in (None, "attacker-chosen-session-id")


def test_login_issues_a_new_csrf_token(app):
    client = browser(app)
    before = client.get("/host/whoami").json["csrf"]
    client.get("/host/cart", params={"item": "x"})  # make the pre-login session (and its token) stored
    log_in(client)
    assert client.get("/host/whoami").json["csrf"] != before


# --- ending every session of one identity -------------------------------------------
def test_end_sessions_of_ends_every_session_of_one_identity_only(app):
    karin_phone, karin_laptop, anna = browser(app), browser(app), browser(app)
    log_in(karin_phone, "bankid", "karin")
    log_in(karin_laptop, "bankid", "karin")
    log_in(anna, "mobilt_bankid", "anna")
    subject = karin_phone.get("/host/whoami").json["subject"]
    assert karin_laptop.get("/host/whoami").json["subject"] == subject
    assert app.registry.getUtility(ISamlSessionFactory).end_sessions_of(subject) == 2
    assert not logged_in(karin_phone)
    assert not logged_in(karin_laptop)
    assert logged_in(anna)


def test_end_sessions_from_a_host_view_ends_the_current_session_too(app, store):
    phone, laptop = browser(app), browser(app)
    log_in(phone)
    log_in(laptop)
    subject = phone.get("/host/whoami").json["subject"]
    assert laptop.get("/host/everywhere").json == {"ended": 2}
    assert not logged_in(laptop)  # not written back by the request that ended it
    assert not logged_in(phone)
    assert (
        store.index_members(
            SUBJECT_INDEX, subject_index_key(app.registry.getUtility(ISamlServiceProvider).server_keys, subject)
        )
        == []
    )


# --- the index a future Single Logout uses ----------------------------------------
def test_login_indexes_the_session_by_idp_name_id_and_session_index(app, store):
    client = browser(app)
    log_in(client)
    key = _store_key(session_cookie(client))
    idp, name_id, session_index = client.get("/host/whoami").json["saml"]
    assert idp and name_id and session_index
    keys = app.registry.getUtility(ISamlServiceProvider).server_keys
    assert store.index_members(SAML_INDEX, saml_index_key(keys, idp, name_id, session_index)) == [key]
    assert store.index_members(SAML_INDEX, saml_index_key(keys, idp, name_id)) == [key]


def test_end_saml_sessions_reaches_a_logged_in_browser(app):
    client = browser(app)
    log_in(client)
    idp, name_id, session_index = client.get("/host/whoami").json["saml"]
    sessions = app.registry.getUtility(ISamlSessionFactory)
    assert sessions.end_saml_sessions(idp, name_id, session_index) == 1
    assert not logged_in(client)


# --- sealed sessions and server key rollover ----------------------------------------
def test_the_session_factory_seals_with_the_apps_server_keys(app):
    """One ServerKeys for the whole app (ekn_saml.server_keys): what the SP and the sessions use."""
    assert (
        app.registry.getUtility(ISamlSessionFactory).server_keys
        is app.registry.getUtility(ISamlServiceProvider).server_keys
    )


def test_a_session_whose_server_key_was_removed_is_logged_out_not_an_error(app, store):
    client = browser(app)
    log_in(client)
    key = _store_key(session_cookie(client))
    app.registry.getUtility(
        ISamlSessionFactory
    ).server_keys = ServerKeys.ephemeral()  # as after removing a key too early
    page = client.get("/mina-sidor")
    assert page.status_int == 302 and "/login" in page.location
    assert store.get(SESSIONS, key) is None
    log_in(client)  # and a new login works at once
    assert logged_in(client)


def test_no_store_key_carries_a_personal_number(dev_settings):
    """Index keys are visible as key names (Redis), so a subject is hashed before it is one."""
    import sqlite3

    from dev_app import make_testapp

    testapp = make_testapp(dev_settings)
    page = testapp.get("/login/bankid").follow()
    form = page.forms[0]
    form["persona"] = "karin"
    form.submit().forms[0].submit()
    path = dev_settings["ekn_saml.store.url"][len("sqlite:///") :]
    with sqlite3.connect(path) as db:
        keys = [row[0] for row in db.execute("SELECT ikey FROM idx UNION SELECT key FROM kv")]
    assert keys and not any("196506151239" in key for key in keys)


# --- a new login ends the browser's previous session ----------------------------------
def log_in_cross_site(client, method, persona):
    """A login whose ACS POST carries no session cookie, as the IdP's cross-site POST does (SameSite=Lax)."""
    form = acs_form(client, method, persona)  # the login start, a same-site GET, carries it
    cross_site = browser(client.app)
    cross_site.set_cookie(BINDING_COOKIE, {c.name: c.value for c in client.cookiejar}[BINDING_COOKIE])
    acs = cross_site.post(form.action, params=dict(form.submit_fields()))
    assert acs.status_int == 302
    return cross_site


def test_a_cross_site_login_ends_the_previous_users_session(app, store):
    client = browser(app)
    log_in(client, "bankid", "karin")
    karin_cookie = session_cookie(client)
    log_in_cross_site(client, "mobilt_bankid", "anna")
    assert store.get(SESSIONS, _store_key(karin_cookie)) is None
    old = browser(app)
    old.set_cookie(SESSION_COOKIE, karin_cookie)
    assert not logged_in(old)


def test_a_cross_site_login_as_the_same_user_ends_the_previous_session_too(app, store):
    client = browser(app)
    log_in(client, "bankid", "karin")
    before = session_cookie(client)
    log_in_cross_site(client, "bankid", "karin")
    assert store.get(SESSIONS, _store_key(before)) is None


def test_the_new_session_of_a_cross_site_login_works(app):
    client = browser(app)
    log_in(client, "bankid", "karin")
    after = log_in_cross_site(client, "mobilt_bankid", "anna")
    page = after.get("/mina-sidor")
    assert page.html.find(attrs={"data-testid": "display-name"}).get_text(strip=True) == "Anna Andersson"


def test_a_login_as_another_user_keeps_nothing_of_the_previous_users_session(app):
    client = browser(app)
    log_in(client, "bankid", "karin")
    client.get("/host/cart", params={"item": "karins-application"})
    log_in(client, "mobilt_bankid", "anna")  # same-site: the ACS request carries Karin's session cookie
    assert client.get("/host/cart").json == {"cart": None}
