# SPDX-License-Identifier: Apache-2.0
"""A store that cannot be reached raises ``StoreUnavailableError`` -- and nothing else.

Also: a Redis server that goes away and comes back on the same port is used
again by the *same* store object, without rebuilding it.
"""

from __future__ import annotations

import time

import pytest

from ekn_saml.errors import ErrorCode, StoreUnavailableError
from ekn_saml.storage import StoreWrite, store_from_url
from ekn_saml.storage.redis import RedisStateStore
from ekn_saml.storage.sqlite import SQLiteStateStore
from ekn_saml.testing import free_port

NS = "requests"

# Every public operation of the contract, as (name, call).
OPERATIONS = [
    ("put", lambda s: s.put(NS, "k", {"v": 1}, 60)),
    ("add", lambda s: s.add(NS, "k", {"v": 1}, 60)),
    ("get", lambda s: s.get(NS, "k")),
    ("take", lambda s: s.take(NS, "k")),
    ("delete", lambda s: s.delete(NS, "k")),
    ("increment", lambda s: s.increment(NS, "counter", 60)),
    ("index_add", lambda s: s.index_add(NS, "subject", "m", 60)),
    ("index_members", lambda s: s.index_members(NS, "subject")),
    ("index_discard", lambda s: s.index_discard(NS, "subject", "m")),
    ("ping", lambda s: s.ping()),
    ("write_batch", lambda s: s.write_batch([StoreWrite.put(NS, "k", {"v": 1}, 60), StoreWrite.delete(NS, "j")])),
]
OP_IDS = [name for name, _ in OPERATIONS]
OP_CALLS = [call for _, call in OPERATIONS]


def _assert_unavailable(store, call) -> StoreUnavailableError:
    """``call`` raises StoreUnavailableError; any other exception fails the test as is."""
    with pytest.raises(StoreUnavailableError) as info:
        call(store)
    assert info.value.code is ErrorCode.STORE_UNAVAILABLE
    assert info.value.http_status == 503
    return info.value


# --------------------------------------------------------------------------
# Redis: nothing listens
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dead_redis_store():
    store = store_from_url(f"redis://127.0.0.1:{free_port()}/0", key_prefix="ekn-test-dead:")
    yield store
    store.close()


def test_building_a_redis_store_for_a_dead_server_does_not_connect():
    store = store_from_url(f"redis://127.0.0.1:{free_port()}/0")
    assert isinstance(store, RedisStateStore)
    store.close()


@pytest.mark.parametrize("call", OP_CALLS, ids=OP_IDS)
def test_redis_with_nothing_listening_raises_store_unavailable(dead_redis_store, call):
    started = time.monotonic()
    error = _assert_unavailable(dead_redis_store, call)
    assert isinstance(error.__cause__, Exception)
    assert time.monotonic() - started < 5, "a refused connection must fail fast, not hang"


@pytest.mark.parametrize(
    "url",
    ["redis://ekn-no-such-host.invalid:6379/0", "unix:///nonexistent/ekn-redis.sock"],
    ids=["unknown-host", "missing-unix-socket"],
)
def test_redis_at_an_unreachable_address_raises_store_unavailable(url):
    store = store_from_url(url)
    try:
        _assert_unavailable(store, lambda s: s.take(NS, "k"))
    finally:
        store.close()


def test_invalid_ttl_is_a_value_error_even_when_redis_is_down(dead_redis_store):
    """A programming error is not an outage: it must not be reported as a 503."""
    with pytest.raises(ValueError):
        dead_redis_store.put(NS, "k", {"v": 1}, 0)


# --------------------------------------------------------------------------
# SQLite: a path that cannot hold a database
# --------------------------------------------------------------------------
def _directory_path(tmp_path):
    return str(tmp_path)


def _under_proc(tmp_path):
    return "/proc/ekn-saml-no-such-dir/state.sqlite"  # cannot be created, not even by root


def _under_a_regular_file(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    return str(blocker / "state.sqlite")


def _not_a_database(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not an SQLite database, just text" * 100)
    return str(junk)


BAD_SQLITE_PATHS = [_directory_path, _under_proc, _under_a_regular_file, _not_a_database]


@pytest.mark.parametrize("make_path", BAD_SQLITE_PATHS, ids=["directory", "proc", "under-file", "not-a-db"])
def test_building_a_sqlite_store_for_a_bad_path_does_not_raise(tmp_path, make_path):
    """The first operation reports the problem, so startup is not blocked (logins answer 503)."""
    store_from_url("sqlite://" + make_path(tmp_path))


@pytest.mark.parametrize("call", OP_CALLS, ids=OP_IDS)
@pytest.mark.parametrize("make_path", BAD_SQLITE_PATHS, ids=["directory", "proc", "under-file", "not-a-db"])
def test_sqlite_at_an_unusable_path_raises_store_unavailable(tmp_path, make_path, call):
    store = SQLiteStateStore(make_path(tmp_path))
    _assert_unavailable(store, call)
    _assert_unavailable(store, call)  # and again: no half-open state left behind


def test_sqlite_creates_a_missing_parent_directory_on_first_use(tmp_path):
    path = tmp_path / "a" / "b" / "state.sqlite"
    store = SQLiteStateStore(str(path))
    assert not path.parent.exists()
    store.put(NS, "k", {"v": 1}, 60)
    assert path.exists()
    store.close()


# --------------------------------------------------------------------------
# Redis: our own server, stopped and restarted under a live store
# --------------------------------------------------------------------------
@pytest.fixture
def live_store(own_redis):
    store = RedisStateStore.from_url(own_redis.url, key_prefix="ekn-test-restart:")
    yield store
    store.close()


@pytest.mark.slow
def test_the_same_redis_store_works_again_after_a_server_restart(own_redis, live_store):
    live_store.put(NS, "before", {"v": 1}, 60)
    assert live_store.get(NS, "before") == {"v": 1}

    own_redis.kill()
    for _, call in OPERATIONS:
        _assert_unavailable(live_store, call)

    own_redis.start()  # same port, empty (no persistence)
    assert live_store.get(NS, "before") is None
    live_store.put(NS, "after", {"v": 2}, 60)
    assert live_store.add(NS, "once", {"v": 3}, 60) is True
    assert live_store.add(NS, "once", {"v": 3}, 60) is False
    assert live_store.take(NS, "after") == {"v": 2}
    live_store.index_add(NS, "subject", "m", 60)
    assert live_store.index_members(NS, "subject") == ["m"]
    live_store.ping()


@pytest.mark.slow
def test_write_batch_loads_its_script_again_on_a_restarted_server(own_redis, live_store):
    """The batch script is cached by the server; a restarted one answers NOSCRIPT and the store loads it again."""
    live_store.write_batch([StoreWrite.put(NS, "before", {"v": 1}, 60)])
    own_redis.kill()
    own_redis.start()  # same port, empty script cache
    assert live_store.write_batch([StoreWrite.add(NS, "after", {"v": 2}, 60)]) == [True]
    assert live_store.get(NS, "after") == {"v": 2}


@pytest.mark.slow
def test_a_hung_redis_server_raises_store_unavailable_after_the_socket_timeout(own_redis, live_store):
    live_store.put(NS, "k", {"v": 1}, 60)
    own_redis.pause()
    try:
        started = time.monotonic()
        _assert_unavailable(live_store, lambda s: s.get(NS, "k"))
        assert time.monotonic() - started < 5, "a hung server must not hold a request for long"
    finally:
        own_redis.resume()
    assert live_store.get(NS, "k") == {"v": 1}  # the same object recovers once the server answers
