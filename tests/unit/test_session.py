# SPDX-License-Identifier: Apache-2.0
"""Server-side sessions (ekn_saml/session.py) on the memory store: indexes, timeouts, no resurrection.

The whole login path is in tests/functional/test_sessions.py; here each
StoreSession rule is checked alone, with a fake clock and no HTTP.
"""
from __future__ import annotations

from pyramid.response import Response
from pyramid.testing import DummyRequest

from ekn_saml.security import IDENTITY_KEY, SUBJECT_KEY
from ekn_saml.session import (
    SAML_INDEX,
    SESSIONS,
    SUBJECT_INDEX,
    subject_index_key,
    StoreSessionFactory,
    _store_key,
    saml_index_key,
)
from ekn_saml.storage.memory import MemoryStateStore

IDP = "https://idp.example.test/bankid"
NAME_ID = "persistent-name-id-1"
SUBJECT = "pnr:196506151239"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def make_factory(**kw) -> StoreSessionFactory:
    return StoreSessionFactory(MemoryStateStore(warn=False), idle_timeout=600, absolute_timeout=3600, clock=Clock(), **kw)


def request_with(cookie: str | None = None) -> DummyRequest:
    request = DummyRequest()
    if cookie:
        request.cookies["ekn_session"] = cookie
    return request


def save(factory, session, request) -> str | None:
    """Save ``session``; the cookie value set (None if none was set)."""
    response = Response()
    session.save(request, response)
    for header in response.headers.getall("Set-Cookie"):
        name, _, rest = header.partition("=")
        if name == "ekn_session":
            return rest.split(";", 1)[0] or None
    return None


def log_in(factory, session_index: str = "_si1") -> str:
    request = request_with()
    session = factory(request)
    session.rotate()
    session[IDENTITY_KEY] = {"idp": IDP, "name_id": NAME_ID, "session_index": session_index}
    session[SUBJECT_KEY] = SUBJECT
    return save(factory, session, request)


def test_login_writes_the_subject_and_saml_indexes():
    factory = make_factory()
    key = _store_key(log_in(factory, "_si1"))
    store = factory.store
    assert store.index_members(SUBJECT_INDEX, subject_index_key(SUBJECT)) == [key]
    assert store.index_members(SAML_INDEX, saml_index_key(IDP, NAME_ID)) == [key]
    assert store.index_members(SAML_INDEX, saml_index_key(IDP, NAME_ID, "_si1")) == [key]


def test_saml_index_keys_do_not_alias():
    assert saml_index_key(IDP, NAME_ID) != saml_index_key(IDP, NAME_ID, "")
    assert saml_index_key("a", "b:c") != saml_index_key("a:b", "c")


def test_end_saml_sessions_with_a_session_index_ends_only_that_one():
    factory = make_factory()
    first, second = log_in(factory, "_si1"), log_in(factory, "_si2")
    assert factory.end_saml_sessions(IDP, NAME_ID, "_si1") == 1
    assert factory.store.get(SESSIONS, _store_key(first)) is None
    assert factory.store.get(SESSIONS, _store_key(second)) is not None


def test_end_saml_sessions_without_a_session_index_ends_every_one_of_the_name_id():
    factory = make_factory()
    cookies = [log_in(factory, "_si1"), log_in(factory, "_si2")]
    assert factory.end_saml_sessions(IDP, NAME_ID) == 2
    assert all(factory.store.get(SESSIONS, _store_key(c)) is None for c in cookies)


def test_logout_takes_the_session_out_of_every_index():
    factory = make_factory()
    cookie = log_in(factory)
    request = request_with(cookie)
    session = factory(request)
    session.invalidate()
    save(factory, session, request)
    assert factory.store.index_members(SUBJECT_INDEX, subject_index_key(SUBJECT)) == []
    assert factory.store.index_members(SAML_INDEX, saml_index_key(IDP, NAME_ID)) == []
    assert factory.store.index_members(SAML_INDEX, saml_index_key(IDP, NAME_ID, "_si1")) == []


def test_rotation_moves_the_index_entries_to_the_new_id():
    factory = make_factory()
    old = log_in(factory)
    request = request_with(old)
    session = factory(request)
    session.rotate()
    new = save(factory, session, request)
    assert new and new != old
    assert factory.store.index_members(SUBJECT_INDEX, subject_index_key(SUBJECT)) == [_store_key(new)]
    assert factory.store.get(SESSIONS, _store_key(old)) is None


def test_rotation_issues_a_new_csrf_token():
    factory = make_factory()
    session = factory(request_with())
    before = session.get_csrf_token()
    session.rotate()
    assert session.get_csrf_token() != before


def test_a_session_ended_during_a_request_is_not_written_back():
    factory = make_factory()
    cookie = log_in(factory)
    request = request_with(cookie)
    session = factory(request)  # loaded by a request still running ...
    factory.end_sessions_of(SUBJECT)  # ... when it is ended elsewhere
    session["late_write"] = True
    response = Response()
    session.save(request, response)
    assert factory.store.get(SESSIONS, _store_key(cookie)) is None
    assert any(h.startswith("ekn_session=;") for h in response.headers.getall("Set-Cookie"))


def test_idle_timeout_is_checked_against_the_factory_clock():
    factory = make_factory()
    cookie = log_in(factory)
    factory.clock.now += 601
    session = factory(request_with(cookie))
    assert session.new and SUBJECT_KEY not in session
    assert factory.store.get(SESSIONS, _store_key(cookie)) is None


def test_absolute_timeout_is_checked_against_the_factory_clock():
    factory = make_factory()
    cookie = log_in(factory)
    for _ in range(6):  # active every 9 minutes, up to 54 minutes: the idle timeout never fires
        factory.clock.now += 540
        request = request_with(cookie)
        session = factory(request)
        assert not session.new
        save(factory, session, request)  # the touch that refreshes the idle timer
    factory.clock.now += 540  # 63 minutes after login
    assert factory(request_with(cookie)).new
