# SPDX-License-Identifier: Apache-2.0
"""Server-side sessions (ekn_saml/session.py) on the memory store: indexes, timeouts, no resurrection,
keyed index keys and sealed records, across a server key rollover.

The whole login path is in tests/functional/test_sessions.py; here each
StoreSession rule is checked alone, with a fake clock and no HTTP.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets

import pytest
from pyramid.response import Response
from pyramid.testing import DummyRequest

from ekn_saml.errors import ErrorCode
from ekn_saml.server_keys import ServerKey, ServerKeys
from ekn_saml.session import (
    IDENTITY_KEY,
    SAML_INDEX,
    SESSIONS,
    SUBJECT_INDEX,
    SUBJECT_KEY,
    StoreSessionFactory,
    _store_key,
    saml_index_key,
    subject_index_key,
)
from ekn_saml.storage.memory import MemoryStateStore

IDP = "https://idp.example.test/bankid"
NAME_ID = "persistent-name-id-1"
SUBJECT = "pnr:196506151239"
COOKIE = "__Host-ekn_session"  # make_factory's cookies are Secure, so the name has the prefix (ekn_saml.cookies)

OLD = ServerKey("k-old", secrets.token_bytes(32))
NEW = ServerKey("k-new", secrets.token_bytes(32))


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def make_factory(*keys: ServerKey, **kw) -> StoreSessionFactory:
    """A factory on a fresh memory store, with the server keys given (newest first; default: one key)."""
    return StoreSessionFactory(
        MemoryStateStore(warn=False),
        server_keys=ServerKeys(keys or (OLD,)),
        **{"idle_timeout": 600, "absolute_timeout": 3600, "clock": Clock(), **kw},
    )


def roll_over(factory) -> None:
    """What a restart after ``ekn-saml keygen --rotate`` gives: NEW first, OLD still readable."""
    factory.server_keys = ServerKeys([NEW, OLD])


def logged_in_with(factory, cookie) -> bool:
    """Whether a request with ``cookie`` gets the logged-in session (its record opened)."""
    return factory(request_with(cookie)).get(SUBJECT_KEY) == SUBJECT


def request_with(cookie: str | None = None) -> DummyRequest:
    request = DummyRequest()
    if cookie:
        request.cookies[COOKIE] = cookie
    return request


def save(factory, session, request) -> str | None:
    """Save ``session``; the cookie value set (None if none was set)."""
    response = Response()
    session.save(request, response)
    for header in response.headers.getall("Set-Cookie"):
        name, _, rest = header.partition("=")
        if name == COOKIE:
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
    store, keys = factory.store, factory.server_keys
    assert store.index_members(SUBJECT_INDEX, subject_index_key(keys, SUBJECT)) == [key]
    assert store.index_members(SAML_INDEX, saml_index_key(keys, IDP, NAME_ID)) == [key]
    assert store.index_members(SAML_INDEX, saml_index_key(keys, IDP, NAME_ID, "_si1")) == [key]


def test_saml_index_keys_do_not_alias():
    keys = ServerKeys([OLD])
    assert saml_index_key(keys, IDP, NAME_ID) != saml_index_key(keys, IDP, NAME_ID, "")
    assert saml_index_key(keys, "a", "b:c") != saml_index_key(keys, "a:b", "c")


# --- index keys are keyed: not reversible by trying every personal identity number ---------
def test_no_index_is_written_under_an_unkeyed_hash():
    factory = make_factory()
    log_in(factory, "_si1")
    unkeyed_subject = hashlib.sha256(SUBJECT.encode()).hexdigest()
    unkeyed_saml = [
        hashlib.sha256(json.dumps(p).encode()).hexdigest() for p in ([IDP, NAME_ID], [IDP, NAME_ID, "_si1"])
    ]
    assert subject_index_key(factory.server_keys, SUBJECT) != unkeyed_subject
    assert factory.store.index_members(SUBJECT_INDEX, unkeyed_subject) == []
    assert all(factory.store.index_members(SAML_INDEX, k) == [] for k in unkeyed_saml)


def test_another_server_key_gives_other_index_keys():
    old, new = ServerKeys([OLD]), ServerKeys([NEW])
    assert subject_index_key(old, SUBJECT) != subject_index_key(new, SUBJECT)
    assert saml_index_key(old, IDP, NAME_ID, "_si1") != saml_index_key(new, IDP, NAME_ID, "_si1")


def test_the_subject_and_saml_indexes_use_keys_of_their_own():
    keys = ServerKeys([OLD])
    assert subject_index_key(keys, json.dumps([IDP, NAME_ID])) != saml_index_key(keys, IDP, NAME_ID)


def test_a_session_indexed_under_an_older_key_is_ended_after_a_rollover():
    factory = make_factory(OLD)
    cookie = log_in(factory)
    roll_over(factory)
    assert factory.end_sessions_of(SUBJECT) == 1
    assert factory.store.get(SESSIONS, _store_key(cookie)) is None


def test_a_saml_indexed_session_under_an_older_key_is_ended_after_a_rollover():
    factory = make_factory(OLD)
    cookie = log_in(factory, "_si1")
    roll_over(factory)
    assert factory.end_saml_sessions(IDP, NAME_ID, "_si1") == 1
    assert factory.store.get(SESSIONS, _store_key(cookie)) is None


def test_logout_after_a_rollover_removes_the_index_entries_of_the_older_key():
    factory = make_factory(OLD)
    cookie = log_in(factory)
    roll_over(factory)
    request = request_with(cookie)
    session = factory(request)
    session.invalidate()
    save(factory, session, request)
    old = ServerKeys([OLD])
    assert factory.store.index_members(SUBJECT_INDEX, subject_index_key(old, SUBJECT)) == []
    assert factory.store.index_members(SAML_INDEX, saml_index_key(old, IDP, NAME_ID)) == []


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
    keys = factory.server_keys
    assert factory.store.index_members(SUBJECT_INDEX, subject_index_key(keys, SUBJECT)) == []
    assert factory.store.index_members(SAML_INDEX, saml_index_key(keys, IDP, NAME_ID)) == []
    assert factory.store.index_members(SAML_INDEX, saml_index_key(keys, IDP, NAME_ID, "_si1")) == []


def test_rotation_moves_the_index_entries_to_the_new_id():
    factory = make_factory()
    old = log_in(factory)
    request = request_with(old)
    session = factory(request)
    session.rotate()
    new = save(factory, session, request)
    assert new and new != old
    assert factory.store.index_members(SUBJECT_INDEX, subject_index_key(factory.server_keys, SUBJECT)) == [
        _store_key(new)
    ]
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
    assert any(h.startswith(COOKIE + "=;") for h in response.headers.getall("Set-Cookie"))


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


# --- the record is sealed: nothing of the session's data is in clear in the store --------------
def test_the_stored_record_holds_only_the_sealed_data_and_its_timestamps():
    factory = make_factory()
    record = factory.store.get(SESSIONS, _store_key(log_in(factory)))
    assert sorted(record) == ["accessed", "created", "sealed"]
    raw = json.dumps(record)
    for clear in ("196506151239", NAME_ID, IDP, "_csrft_", SUBJECT_KEY):
        assert clear not in raw


def test_a_session_sealed_with_an_older_key_is_sealed_again_with_the_newest_at_its_next_request():
    factory = make_factory(OLD)
    cookie = log_in(factory)
    roll_over(factory)
    request = request_with(cookie)
    session = factory(request)  # unchanged, and well within the touch interval
    assert session[SUBJECT_KEY] == SUBJECT
    save(factory, session, request)
    sealed = factory.store.get(SESSIONS, _store_key(cookie))["sealed"]
    assert factory.server_keys.is_sealed_with_newest(sealed)


def test_a_session_sealed_again_after_a_rollover_survives_the_removal_of_the_older_key():
    """Sealed and indexed again under the newest key: the old key can go after the absolute timeout."""
    factory = make_factory(OLD)
    cookie = log_in(factory)
    roll_over(factory)
    request = request_with(cookie)
    save(factory, factory(request), request)
    factory.server_keys = ServerKeys([NEW])
    assert logged_in_with(factory, cookie)
    assert factory.end_sessions_of(SUBJECT) == 1


def test_a_session_sealed_with_the_newest_key_is_not_written_when_unchanged():
    factory = make_factory()
    cookie = log_in(factory)
    before = factory.store.get(SESSIONS, _store_key(cookie))["sealed"]
    request = request_with(cookie)
    save(factory, factory(request), request)
    assert factory.store.get(SESSIONS, _store_key(cookie))["sealed"] == before


def _ended_unread(factory, cookie, caplog) -> None:
    """The session at ``cookie`` was not opened: a new session, the record deleted, EKN-OPS-004 logged."""
    with caplog.at_level(logging.WARNING, logger="ekn_saml"):
        session = factory(request_with(cookie))
    assert session.new and SUBJECT_KEY not in session
    assert factory.store.get(SESSIONS, _store_key(cookie)) is None
    assert [r.levelno for r in caplog.records if ErrorCode.SESSION_UNREADABLE.value in r.getMessage()] == [
        logging.WARNING
    ]


def test_a_session_sealed_with_a_removed_key_is_ended(caplog):
    factory = make_factory(OLD)
    cookie = log_in(factory)
    factory.server_keys = ServerKeys([NEW])  # the old key removed before its sessions were sealed again
    _ended_unread(factory, cookie, caplog)


def test_a_record_moved_under_another_session_key_does_not_open(caplog):
    factory = make_factory()
    victim, attacker = log_in(factory), secrets.token_urlsafe(32)
    record = factory.store.get(SESSIONS, _store_key(victim))
    factory.store.put(SESSIONS, _store_key(attacker), record, 600)
    _ended_unread(factory, attacker, caplog)
    assert logged_in_with(factory, victim)  # the original is untouched


def test_an_altered_record_does_not_open(caplog):
    factory = make_factory()
    cookie = log_in(factory)
    record = factory.store.get(SESSIONS, _store_key(cookie))
    body = record["sealed"]
    record["sealed"] = body[:-6] + ("A" if body[-6] != "A" else "B") + body[-5:]
    factory.store.put(SESSIONS, _store_key(cookie), record, 600)
    _ended_unread(factory, cookie, caplog)


@pytest.mark.parametrize("field", ["created", "accessed"])
def test_a_record_whose_timestamps_were_edited_does_not_open(field, caplog):
    """Whoever can write the store cannot stretch a session's timeouts."""
    factory = make_factory()
    cookie = log_in(factory)
    record = factory.store.get(SESSIONS, _store_key(cookie))
    record[field] += 1
    factory.store.put(SESSIONS, _store_key(cookie), record, 600)
    _ended_unread(factory, cookie, caplog)


def test_a_record_in_clear_is_not_trusted(caplog):
    """As an older version wrote them, or someone who can write the store but has no key."""
    factory = make_factory()
    cookie = secrets.token_urlsafe(32)
    now = factory.clock()
    planted = {"data": {SUBJECT_KEY: SUBJECT}, "created": now, "accessed": now}
    factory.store.put(SESSIONS, _store_key(cookie), planted, 600)
    _ended_unread(factory, cookie, caplog)


# --- when a session ends, and the session-end cookie that says why -------------------------------

from ekn_saml.session import ABSOLUTE, IDLE  # noqa: E402


def end_cookie_of(factory, response) -> str | None:
    name = factory.session_end_cookie_name
    for header in response.headers.getall("Set-Cookie"):
        key, _, rest = header.partition("=")
        if key == name:
            return rest.split(";", 1)[0] or None
    return None


def logged_in_browser(factory) -> dict[str, str]:
    """Log in; the browser's cookies: the session and the session-end cookie."""
    request = request_with()
    session = factory(request)
    session.rotate()
    session[SUBJECT_KEY] = SUBJECT
    response = Response()
    session.save(request, response)
    cookies = {}
    for header in response.headers.getall("Set-Cookie"):
        key, _, rest = header.partition("=")
        cookies[key] = rest.split(";", 1)[0]
    return cookies


def browser_request(cookies: dict[str, str]) -> DummyRequest:
    request = DummyRequest()
    request.cookies.update(cookies)
    return request


def test_a_fresh_session_ends_by_its_idle_timeout():
    factory = make_factory()
    cookies = logged_in_browser(factory)
    session = factory(browser_request(cookies))
    assert session.ends() == (factory.clock.now + 600, IDLE)


def test_a_session_near_its_absolute_timeout_ends_by_it():
    factory = make_factory(idle_timeout=3000)
    cookies = logged_in_browser(factory)
    login_time = factory.clock.now
    factory.clock.now += 1000  # this request restarts the idle timer: 3000 s more would pass the hour
    session = factory(browser_request(cookies))
    assert session.ends() == (login_time + 3600, ABSOLUTE)


def test_the_session_end_cookie_names_no_person_and_is_signed():
    factory = make_factory()
    value = logged_in_browser(factory)[factory.session_end_cookie_name]
    assert SUBJECT not in value
    deadlines, _, _ = value.partition(".")
    assert deadlines == f"{int(factory.clock.now + 600)}-{int(factory.clock.now + 3600)}"


def test_after_the_idle_timeout_the_browser_is_told_it_was_idle():
    factory = make_factory()
    cookies = logged_in_browser(factory)
    assert factory.ended_by(browser_request(cookies)) is None  # still running
    factory.clock.now += 601
    assert factory.ended_by(browser_request(cookies)) == IDLE


def test_after_the_absolute_timeout_the_browser_is_told_so():
    factory = make_factory(idle_timeout=3600)  # idle as long as absolute: the absolute one ends it
    cookies = logged_in_browser(factory)
    factory.clock.now += 3601
    assert factory.ended_by(browser_request(cookies)) == ABSOLUTE


def test_an_altered_session_end_cookie_tells_nothing():
    factory = make_factory()
    cookies = logged_in_browser(factory)
    name = factory.session_end_cookie_name
    _, _, signature = cookies[name].partition(".")
    cookies[name] = "1-1." + signature
    factory.clock.now += 601
    assert factory.ended_by(browser_request(cookies)) is None


def test_logout_deletes_the_session_end_cookie():
    factory = make_factory()
    cookies = logged_in_browser(factory)
    request = browser_request(cookies)
    session = factory(request)
    session.invalidate()
    response = Response()
    session.save(request, response)
    assert end_cookie_of(factory, response) is None
    assert any(h.startswith(factory.session_end_cookie_name + "=;") for h in response.headers.getall("Set-Cookie"))
