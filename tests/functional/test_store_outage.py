# SPDX-License-Identifier: Apache-2.0
"""A store outage at any step of a login gives the 503 page (EKN-OPS-001): never a 500,
never a half-made session, never an accepted replay.

Most tests put a :class:`FaultyStore` in front of the SQLite store, which
fails chosen operations with ``StoreUnavailableError`` exactly as a backend
does, so each step can be hit precisely (including the session save in the
session tween).  The last test uses a real ``redis-server`` of its own, kills
it, and logs in again after restarting it, with the same app object.
"""

from __future__ import annotations

import time
import uuid

import pytest

from ekn_saml.demo import main
from ekn_saml.errors import ErrorCode, StoreUnavailableError
from ekn_saml.interfaces import ISamlServiceProvider, ISamlSessionFactory
from ekn_saml.response import REQUESTS
from ekn_saml.session import SESSIONS
from ekn_saml.storage.base import StateStore

from dev_app import SESSION_COOKIE, acs_form, browser, log_in

OPS = ErrorCode.STORE_UNAVAILABLE.value


class FaultyStore(StateStore):
    """Delegates to ``inner``; fails every operation while ``down``, or those ``fail_when`` picks.

    ``fail_when(op, namespace, index)`` gets the operation name, its
    namespace and the number of operations since :meth:`count_from_here`.
    ``calls`` records (op, namespace) of every call.
    """

    def __init__(self, inner: StateStore) -> None:
        self.inner = inner
        self.down = False
        self.fail_when = None
        self.calls: list[tuple[str, str]] = []

    def count_from_here(self) -> None:
        self.calls = []

    def _gate(self, op: str, namespace: str) -> None:
        index = len(self.calls)
        self.calls.append((op, namespace))
        if self.down or (self.fail_when is not None and self.fail_when(op, namespace, index)):
            raise StoreUnavailableError(f"injected: {op} {namespace}")

    def put(self, namespace, key, value, ttl):
        self._gate("put", namespace)
        return self.inner.put(namespace, key, value, ttl)

    def add(self, namespace, key, value, ttl):
        self._gate("add", namespace)
        return self.inner.add(namespace, key, value, ttl)

    def get(self, namespace, key):
        self._gate("get", namespace)
        return self.inner.get(namespace, key)

    def take(self, namespace, key):
        self._gate("take", namespace)
        return self.inner.take(namespace, key)

    def delete(self, namespace, key):
        self._gate("delete", namespace)
        return self.inner.delete(namespace, key)

    def increment(self, namespace, key, ttl):
        self._gate("increment", namespace)
        return self.inner.increment(namespace, key, ttl)

    def index_add(self, namespace, index_key, member, ttl):
        self._gate("index_add", namespace)
        return self.inner.index_add(namespace, index_key, member, ttl)

    def index_members(self, namespace, index_key):
        self._gate("index_members", namespace)
        return self.inner.index_members(namespace, index_key)

    def index_discard(self, namespace, index_key, member):
        self._gate("index_discard", namespace)
        return self.inner.index_discard(namespace, index_key, member)

    def ping(self):
        self._gate("ping", "")
        return self.inner.ping()


@pytest.fixture
def app(dev_settings):
    app = main({}, **dev_settings)
    faulty = FaultyStore(app.registry.getUtility(ISamlServiceProvider).store)
    # every user of the store: the SP (requests, replay cache, development IdP) and the sessions
    app.registry.getUtility(ISamlServiceProvider).store = faulty
    app.registry.getUtility(ISamlSessionFactory).store = faulty
    return app


@pytest.fixture
def store(app) -> FaultyStore:
    return app.registry.getUtility(ISamlServiceProvider).store


def assert_503(response) -> None:
    assert response.status_int == 503
    assert OPS in response.text
    assert response.html.find(class_="error-page--unavailable") is not None
    assert "Content-Security-Policy" in response.headers  # the 503 page went through the header tween


def cookie_names(response) -> set[str]:
    return {h.split("=", 1)[0] for h in response.headers.getall("Set-Cookie")}


def logged_in(client) -> bool:
    page = client.get("/mina-sidor")
    assert page.status_int in (200, 302)
    return page.status_int == 200


# --- chooser and login start ------------------------------------------------------
def test_the_chooser_needs_no_store_before_login(app, store):
    store.down = True
    assert browser(app).get("/login").status_int == 200


def test_login_start_with_the_store_down_gives_503_and_sets_no_cookie(app, store):
    client = browser(app)
    store.down = True
    page = client.get("/login/bankid", expect_errors=True)
    assert_503(page)
    assert cookie_names(page) == set()


def test_login_start_works_when_the_store_is_back(app, store):
    client = browser(app)
    store.down = True
    client.get("/login/bankid", expect_errors=True)
    store.down = False
    log_in(client)


def test_chooser_of_a_logged_in_user_with_the_store_down_gives_503(app, store):
    client = browser(app)
    log_in(client)
    store.down = True
    assert_503(client.get("/login", expect_errors=True))


# --- ACS ---------------------------------------------------------------------------
def test_acs_with_the_store_down_gives_503_and_no_session(app, store):
    client = browser(app)
    form = acs_form(client)
    store.down = True
    page = form.submit(expect_errors=True)
    assert_503(page)
    assert SESSION_COOKIE not in cookie_names(page)
    store.down = False
    assert not logged_in(client)


def _successful_acs_calls(app, store) -> list[tuple[str, str]]:
    form = acs_form(browser(app))
    store.count_from_here()
    assert form.submit().status_int == 302
    return list(store.calls)


def test_acs_failing_at_any_store_call_never_half_logs_in_nor_accepts_a_replay(app, store):
    calls = _successful_acs_calls(app, store)
    assert ("add", "replay") in calls and ("put", SESSIONS) in calls
    for failing in range(len(calls)):
        client = browser(app)
        form = acs_form(client)
        store.count_from_here()
        store.fail_when = lambda op, ns, index, failing=failing: index == failing
        first = form.submit(expect_errors=True)
        store.fail_when = None
        assert_503(first)
        assert SESSION_COOKIE not in cookie_names(first), calls[failing]
        assert not logged_in(client), calls[failing]
        # The same response again, now that the store answers: accepted at
        # most once, and only if the failed attempt consumed nothing.
        outcomes = [form.submit(expect_errors=True) for _ in range(2)]
        logins = [r for r in outcomes if r.status_int == 302]
        assert len(logins) <= 1, calls[failing]
        for refused in (r for r in outcomes if r.status_int != 302):
            assert ErrorCode.REQUEST_UNKNOWN.value in refused.text, calls[failing]
            # 400, or the calm 200 "you are still logged in" page after the one accepted attempt
            still_in = refused.html.select('[data-testid="continue"]') != []
            assert refused.status_int == (200 if still_in and logins else 400), calls[failing]
        if failing > calls.index(("take", REQUESTS)):
            assert not logins, f"{calls[failing]}: the request was already used, a second try must be refused"


def test_store_error_while_saving_the_session_at_login_gives_the_503_page(app, store):
    client = browser(app)
    form = acs_form(client)
    store.fail_when = lambda op, ns, index: op == "put" and ns == SESSIONS
    page = form.submit(expect_errors=True)  # raised in the session tween, after the view returned
    assert_503(page)
    assert page.html.find(class_="logout-form") is None  # the login that could not be saved is not shown
    store.fail_when = None
    assert not logged_in(client)


# --- a logged-in page ------------------------------------------------------------------
def test_logged_in_page_with_the_store_down_gives_503_and_the_session_survives(app, store):
    client = browser(app)
    log_in(client)
    store.down = True
    page = client.get("/mina-sidor", expect_errors=True)
    assert_503(page)
    assert page.html.find(attrs={"data-testid": "display-name"}) is None
    assert cookie_names(page) == set()
    store.down = False
    assert logged_in(client)


def test_store_error_while_refreshing_the_idle_timer_gives_the_503_page(app, store):
    client = browser(app)
    log_in(client)
    sessions = app.registry.getUtility(ISamlSessionFactory)
    sessions.clock = lambda: time.time() + 120  # old enough for the touch that refreshes the idle timer
    store.fail_when = lambda op, ns, index: op == "put" and ns == SESSIONS
    assert_503(client.get("/mina-sidor", expect_errors=True))
    store.fail_when = None
    assert logged_in(client)


# --- logout ------------------------------------------------------------------------------
def _logout_form(page):
    return next(f for f in page.forms.values() if f.action.endswith("/logout"))


def test_logout_with_the_store_down_gives_503_and_leaves_the_session_whole(app, store):
    client = browser(app)
    form = _logout_form(log_in(client).follow())
    store.down = True
    page = form.submit(expect_errors=True)
    assert_503(page)
    assert cookie_names(page) == set()
    store.down = False
    assert logged_in(client)
    assert form.submit().location.endswith("/logged-out")
    assert not logged_in(client)


def test_store_error_while_deleting_the_session_at_logout_gives_503(app, store):
    client = browser(app)
    form = _logout_form(log_in(client).follow())
    store.fail_when = lambda op, ns, index: op == "delete" and ns == SESSIONS
    page = form.submit(expect_errors=True)
    assert_503(page)
    assert cookie_names(page) == set()  # the cookie stays until the session is really gone
    store.fail_when = None
    assert logged_in(client)


# --- a real Redis, killed and restarted ------------------------------------------------------
def test_logins_work_again_when_redis_comes_back_without_a_restart(dev_settings, own_redis):
    settings = dict(dev_settings)
    settings["ekn_saml.store.url"] = f"redis://127.0.0.1:{own_redis.port}/0"
    settings["ekn_saml.store.key_prefix"] = f"ekn-test-outage:{uuid.uuid4().hex}:"
    client = browser(main({}, **settings))

    logout_form = _logout_form(log_in(client).follow())
    pending_acs = acs_form(browser(client.app))  # a login under way when Redis dies
    own_redis.kill()

    assert_503(client.get("/mina-sidor", expect_errors=True))
    assert_503(client.get("/login", expect_errors=True))
    assert_503(client.get("/login/bankid", expect_errors=True))
    assert_503(pending_acs.submit(expect_errors=True))
    assert_503(logout_form.submit(expect_errors=True))

    own_redis.start()  # same port, empty: this Redis keeps nothing across restarts
    assert not logged_in(client)
    refused = pending_acs.submit(expect_errors=True)  # its outstanding request died with the server
    assert refused.status_int == 400 and ErrorCode.REQUEST_UNKNOWN.value in refused.text
    log_in(client)
    assert logged_in(client)
