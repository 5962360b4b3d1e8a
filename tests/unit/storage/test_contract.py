# SPDX-License-Identifier: Apache-2.0
"""The ``StateStore`` contract (see ``ekn_saml/storage/base.py``), once, for every backend.

Each test takes the ``backend`` fixture (memory, sqlite, redis; see conftest.py)
and checks one behaviour.  Time is moved with ``backend.advance`` (a fake clock
for memory and SQLite, shortened server-side TTLs for Redis); only
``test_entry_expires_on_the_real_clock`` really sleeps.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import threading
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ekn_saml.storage import StoreWrite, store_from_url
from ekn_saml.storage.memory import MemoryStateStore
from ekn_saml.storage.redis import RedisStateStore
from ekn_saml.storage.sqlite import SQLiteStateStore

NS = "requests"


# --------------------------------------------------------------------------
# racing helpers: N workers (threads or forked processes) meet at a barrier
# before each round, then all call ``op(worker, round)`` at once.
# --------------------------------------------------------------------------
THREADS = 8
PROCESSES = 4
THREAD_ROUNDS = 40
PROCESS_ROUNDS = 100


def _race_threads(op, workers: int, rounds: int) -> list[list]:
    barrier = threading.Barrier(workers, timeout=20)
    results = [[None] * workers for _ in range(rounds)]
    errors: list[str] = []

    def run(w: int) -> None:
        try:
            for r in range(rounds):
                barrier.wait()
                results[r][w] = op(w, r)
        except Exception as exc:
            errors.append(f"worker {w}: {exc!r}")
            barrier.abort()

    threads = [threading.Thread(target=run, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads), "a racing thread hung"
    return results


def _race_processes(op, workers: int, rounds: int) -> list[list]:
    """Forked processes: they inherit the store object built (and used) by the parent,
    as gunicorn workers do with ``--preload``."""
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(workers, timeout=20)
    out = ctx.Queue()

    def run(w: int) -> None:
        try:
            mine = []
            for r in range(rounds):
                barrier.wait()
                mine.append(op(w, r))
            out.put((w, mine, None))
        except BaseException as exc:
            barrier.abort()
            out.put((w, None, repr(exc)))

    procs = [ctx.Process(target=run, args=(w,), daemon=True) for w in range(workers)]
    for p in procs:
        p.start()
    try:
        got = [out.get(timeout=60) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
                p.join()
    errors = [f"process {w}: {err}" for w, _, err in got if err]
    assert not errors, errors
    results = [[None] * workers for _ in range(rounds)]
    for w, mine, _ in got:
        for r, value in enumerate(mine):
            results[r][w] = value
    return results


def _race(kind: str, op) -> list[list]:
    if kind == "threads":
        return _race_threads(op, THREADS, THREAD_ROUNDS)
    return _race_processes(op, PROCESSES, PROCESS_ROUNDS)


def _skip_processes_for_memory(backend, kind: str) -> None:
    if kind == "processes" and not backend.supports_processes:
        pytest.skip("the memory store is per process by design; processes cannot share it")


# --------------------------------------------------------------------------
# put / get
# --------------------------------------------------------------------------
def test_put_then_get_returns_the_value(store):
    store.put(NS, "k", {"a": 1, "b": ["x", None, True], "c": {"d": 1.5}}, 60)
    assert store.get(NS, "k") == {"a": 1, "b": ["x", None, True], "c": {"d": 1.5}}


def test_get_of_missing_key_is_none(store):
    assert store.get(NS, "never-written") is None


def test_get_does_not_consume(store):
    store.put(NS, "k", {"v": 1}, 60)
    assert store.get(NS, "k") == {"v": 1}
    assert store.get(NS, "k") == {"v": 1}


def test_put_replaces_value_and_ttl(backend, store):
    store.put(NS, "k", {"v": 1}, 10)
    backend.advance(8)
    store.put(NS, "k", {"v": 2}, 10)
    backend.advance(8)  # 16 s after the first put: alive only thanks to the second
    assert store.get(NS, "k") == {"v": 2}


def test_put_can_shorten_ttl(backend, store):
    store.put(NS, "k", {"v": 1}, 100)
    store.put(NS, "k", {"v": 2}, 5)
    backend.advance(6)
    assert store.get(NS, "k") is None


def test_value_is_a_copy_not_a_reference(store):
    value = {"list": [1]}
    store.put(NS, "k", value, 60)
    value["list"].append(2)
    got = store.get(NS, "k")
    got["list"].append(3)
    assert store.get(NS, "k") == {"list": [1]}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),  # lone surrogates are not valid UTF-8
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(namespace=names, key=names, value=st.dictionaries(st.text(max_size=10), json_values, max_size=5))
def test_any_key_and_json_value_round_trip(store, namespace, key, value):
    store.put(namespace, key, value, 60)
    assert store.get(namespace, key) == value
    assert store.take(namespace, key) == value
    assert store.get(namespace, key) is None


# --------------------------------------------------------------------------
# TTL
# --------------------------------------------------------------------------
def test_entry_lives_until_its_ttl(backend, store):
    store.put(NS, "k", {"v": 1}, 10)
    backend.advance(9)
    assert store.get(NS, "k") == {"v": 1}


def test_entry_expires_after_its_ttl(backend, store):
    store.put(NS, "k", {"v": 1}, 10)
    backend.advance(10.5)
    assert store.get(NS, "k") is None


@pytest.mark.slow
def test_entry_expires_on_the_real_clock(backend):
    """The one test that really sleeps: no fake clock, no TTL surgery."""
    store = backend.make(fake_clock=False)
    store.put(NS, "k", {"v": 1}, 1)
    store.add(NS, "added", {"v": 1}, 1)
    store.index_add(NS, "set", "m", 1)
    assert store.get(NS, "k") == {"v": 1}
    backend.sleep_for_real(1.15)
    assert store.get(NS, "k") is None
    assert store.take(NS, "added") is None
    assert store.index_members(NS, "set") == []


@pytest.mark.parametrize("ttl", [0, -1, 0.5, -3600])
@pytest.mark.parametrize("method", ["put", "add", "index_add", "increment"])
def test_ttl_below_one_second_raises_value_error_and_writes_nothing(store, method, ttl):
    with pytest.raises(ValueError):  # noqa: PT012 - the one call the parameter names
        if method == "index_add":
            store.index_add(NS, "k", "m", ttl)
        elif method == "increment":
            store.increment(NS, "k", ttl)
        else:
            getattr(store, method)(NS, "k", {"v": 1}, ttl)
    assert store.get(NS, "k") is None
    assert store.index_members(NS, "k") == []


def test_ttl_below_one_does_not_replace_an_existing_value(store):
    store.put(NS, "k", {"v": 1}, 60)
    with pytest.raises(ValueError):
        store.put(NS, "k", {"v": 2}, 0)
    assert store.get(NS, "k") == {"v": 1}


# --------------------------------------------------------------------------
# add (add if absent)
# --------------------------------------------------------------------------
def test_add_returns_true_then_false(store):
    assert store.add(NS, "k", {"v": 1}, 60) is True
    assert store.add(NS, "k", {"v": 2}, 60) is False


def test_failed_add_keeps_the_first_value(store):
    store.add(NS, "k", {"v": 1}, 60)
    store.add(NS, "k", {"v": 2}, 60)
    assert store.get(NS, "k") == {"v": 1}


def test_add_over_a_put_value_is_false(store):
    store.put(NS, "k", {"v": 1}, 60)
    assert store.add(NS, "k", {"v": 2}, 60) is False
    assert store.get(NS, "k") == {"v": 1}


def test_failed_add_does_not_extend_the_ttl(backend, store):
    store.add(NS, "k", {"v": 1}, 10)
    backend.advance(8)
    assert store.add(NS, "k", {"v": 2}, 10) is False
    backend.advance(3)
    assert store.get(NS, "k") is None


def test_add_succeeds_again_after_expiry(backend, store):
    assert store.add(NS, "k", {"v": 1}, 10) is True
    backend.advance(11)
    assert store.add(NS, "k", {"v": 2}, 10) is True
    assert store.get(NS, "k") == {"v": 2}


def test_add_after_delete_succeeds(store):
    store.add(NS, "k", {"v": 1}, 60)
    store.delete(NS, "k")
    assert store.add(NS, "k", {"v": 2}, 60) is True


@pytest.mark.parametrize("kind", ["threads", pytest.param("processes", marks=pytest.mark.slow)])
def test_add_is_atomic_under_concurrency(backend, store, kind):
    _skip_processes_for_memory(backend, kind)
    store.ping()  # the parent uses the store before the workers start (and fork)

    def op(worker, rnd):
        return store.add(NS, f"race-{rnd}", {"worker": worker}, 60)

    results = _race(kind, op)
    for rnd, outcome in enumerate(results):
        winners = [w for w, won in enumerate(outcome) if won]
        assert len(winners) == 1, f"round {rnd}: add returned True for workers {winners}"
        assert store.get(NS, f"race-{rnd}") == {"worker": winners[0]}


# --------------------------------------------------------------------------
# take (get and delete)
# --------------------------------------------------------------------------
def test_take_returns_the_value_once(store):
    store.put(NS, "k", {"v": 1}, 60)
    assert store.take(NS, "k") == {"v": 1}
    assert store.take(NS, "k") is None


def test_take_removes_the_entry(store):
    store.put(NS, "k", {"v": 1}, 60)
    store.take(NS, "k")
    assert store.get(NS, "k") is None


def test_take_of_missing_key_is_none(store):
    assert store.take(NS, "never-written") is None


def test_take_of_expired_entry_is_none(backend, store):
    store.put(NS, "k", {"v": 1}, 10)
    backend.advance(11)
    assert store.take(NS, "k") is None


@pytest.mark.parametrize("kind", ["threads", pytest.param("processes", marks=pytest.mark.slow)])
def test_take_is_atomic_under_concurrency(backend, store, kind):
    _skip_processes_for_memory(backend, kind)
    rounds = THREAD_ROUNDS if kind == "threads" else PROCESS_ROUNDS
    for rnd in range(rounds):
        store.put(NS, f"race-{rnd}", {"round": rnd}, 60)

    def op(worker, rnd):
        return store.take(NS, f"race-{rnd}")

    results = _race(kind, op)
    for rnd, outcome in enumerate(results):
        got = [value for value in outcome if value is not None]
        assert got == [{"round": rnd}], f"round {rnd}: take handed out {len(got)} values"
        assert store.get(NS, f"race-{rnd}") is None


# --------------------------------------------------------------------------
# increment (a counter with a fixed window)
# --------------------------------------------------------------------------
COUNTERS = "counters"


def test_increment_starts_at_one_and_counts_up(store):
    assert [store.increment(COUNTERS, "client", 60) for _ in range(3)] == [1, 2, 3]


def test_increment_counts_each_key_apart(store):
    store.increment(COUNTERS, "a", 60)
    store.increment(COUNTERS, "a", 60)
    assert store.increment(COUNTERS, "b", 60) == 1


def test_increment_counts_each_namespace_apart(store):
    store.increment("one", "k", 60)
    assert store.increment("two", "k", 60) == 1


def test_counter_lives_until_its_ttl(backend, store):
    store.increment(COUNTERS, "k", 10)
    backend.advance(9)
    assert store.increment(COUNTERS, "k", 10) == 2


def test_counter_starts_again_at_one_after_its_ttl(backend, store):
    store.increment(COUNTERS, "k", 10)
    store.increment(COUNTERS, "k", 10)
    backend.advance(10.5)
    assert store.increment(COUNTERS, "k", 10) == 1


def test_increment_does_not_extend_the_window(backend, store):
    store.increment(COUNTERS, "k", 10)
    backend.advance(8)
    store.increment(COUNTERS, "k", 10)  # a sliding window would now live until 18 s
    backend.advance(3)
    assert store.increment(COUNTERS, "k", 10) == 1


def test_a_restarted_counter_gets_a_new_window(backend, store):
    store.increment(COUNTERS, "k", 10)
    backend.advance(11)
    store.increment(COUNTERS, "k", 10)  # starts again: lives until 21 s
    backend.advance(9)
    assert store.increment(COUNTERS, "k", 10) == 2


def test_a_deleted_counter_starts_again_at_one(store):
    store.increment(COUNTERS, "k", 60)
    store.delete(COUNTERS, "k")
    assert store.increment(COUNTERS, "k", 60) == 1


@pytest.mark.parametrize("kind", ["threads", pytest.param("processes", marks=pytest.mark.slow)])
def test_increment_is_atomic_under_concurrency(backend, store, kind):
    _skip_processes_for_memory(backend, kind)
    store.ping()  # the parent uses the store before the workers start (and fork)

    def op(worker, rnd):
        return store.increment(COUNTERS, f"race-{rnd}", 60)

    results = _race(kind, op)
    for rnd, outcome in enumerate(results):
        assert sorted(outcome) == list(range(1, len(outcome) + 1)), f"round {rnd}: increment returned {outcome}"


# --------------------------------------------------------------------------
# delete
# --------------------------------------------------------------------------
def test_delete_removes_the_entry(store):
    store.put(NS, "k", {"v": 1}, 60)
    store.delete(NS, "k")
    assert store.get(NS, "k") is None


def test_delete_of_missing_key_is_not_an_error(store):
    assert store.delete(NS, "never-written") is None


def test_delete_leaves_other_keys(store):
    store.put(NS, "k1", {"v": 1}, 60)
    store.put(NS, "k2", {"v": 2}, 60)
    store.delete(NS, "k1")
    assert store.get(NS, "k2") == {"v": 2}


# --------------------------------------------------------------------------
# write_batch
# --------------------------------------------------------------------------
def test_write_batch_makes_the_writes_in_order(store):
    store.put(NS, "gone", {"v": 0}, 60)
    results = store.write_batch(
        [
            StoreWrite.put(NS, "k", {"v": 1}, 60),
            StoreWrite.put(NS, "k", {"v": 2}, 60),
            StoreWrite.delete(NS, "gone"),
        ]
    )
    assert results == [None, None, None]
    assert (store.get(NS, "k"), store.get(NS, "gone")) == ({"v": 2}, None)


def test_write_batch_reports_each_add(store):
    store.put(NS, "taken", {"v": 0}, 60)
    results = store.write_batch([StoreWrite.add(NS, "taken", {"v": 1}, 60), StoreWrite.add(NS, "free", {"v": 2}, 60)])
    assert results == [False, True]


def test_write_batch_makes_the_writes_after_a_failed_add(store):
    store.put(NS, "taken", {"v": 0}, 60)
    store.write_batch([StoreWrite.add(NS, "taken", {"v": 1}, 60), StoreWrite.put(NS, "after", {"v": 2}, 60)])
    assert (store.get(NS, "taken"), store.get(NS, "after")) == ({"v": 0}, {"v": 2})


def test_write_batch_adds_and_discards_index_members(store):
    store.index_add(NS, "subject", "old", 60)
    store.write_batch([StoreWrite.index_add(NS, "subject", "new", 60), StoreWrite.index_discard(NS, "subject", "old")])
    assert store.index_members(NS, "subject") == ["new"]


def test_write_batch_entries_expire_after_their_ttl(backend, store):
    store.write_batch([StoreWrite.put(NS, "k", {"v": 1}, 10), StoreWrite.index_add(NS, "subject", "a", 10)])
    backend.advance(11)
    assert (store.get(NS, "k"), store.index_members(NS, "subject")) == (None, [])


def test_write_batch_with_a_bad_ttl_writes_nothing(store):
    with pytest.raises(ValueError):
        store.write_batch([StoreWrite.put(NS, "first", {"v": 1}, 60), StoreWrite.put(NS, "second", {"v": 2}, 0)])
    assert store.get(NS, "first") is None


def test_empty_write_batch_is_not_an_error(store):
    assert store.write_batch([]) == []


# --------------------------------------------------------------------------
# index sets
# --------------------------------------------------------------------------
def test_index_members_are_sorted_and_unique(store):
    for member in ["b", "c", "a", "b"]:
        store.index_add(NS, "subject", member, 60)
    assert store.index_members(NS, "subject") == ["a", "b", "c"]


def test_index_members_of_unknown_set_is_empty(store):
    assert store.index_members(NS, "never-written") == []


def test_index_discard_removes_one_member(store):
    store.index_add(NS, "subject", "a", 60)
    store.index_add(NS, "subject", "b", 60)
    store.index_discard(NS, "subject", "a")
    assert store.index_members(NS, "subject") == ["b"]


def test_index_discard_of_last_member_empties_the_set(store):
    store.index_add(NS, "subject", "a", 60)
    store.index_discard(NS, "subject", "a")
    assert store.index_members(NS, "subject") == []


def test_index_discard_of_missing_member_or_set_is_not_an_error(store):
    store.index_add(NS, "subject", "a", 60)
    store.index_discard(NS, "subject", "zzz")
    store.index_discard(NS, "no-such-set", "a")
    assert store.index_members(NS, "subject") == ["a"]


def test_index_set_expires(backend, store):
    store.index_add(NS, "subject", "a", 10)
    backend.advance(11)
    assert store.index_members(NS, "subject") == []


def test_index_add_extends_the_life_of_the_set(backend, store):
    store.index_add(NS, "subject", "a", 10)
    backend.advance(8)
    store.index_add(NS, "subject", "b", 10)
    backend.advance(8)  # 16 s after "a" was added; the set lives 18 s
    assert "b" in store.index_members(NS, "subject")


def test_index_add_never_shortens_the_life_of_the_set(backend, store):
    store.index_add(NS, "subject", "a", 100)
    store.index_add(NS, "subject", "b", 5)
    backend.advance(50)
    assert "a" in store.index_members(NS, "subject")


def test_index_add_after_expiry_starts_a_fresh_set(backend, store):
    store.index_add(NS, "subject", "old", 10)
    backend.advance(11)
    store.index_add(NS, "subject", "new", 10)
    assert store.index_members(NS, "subject") == ["new"]


def test_index_and_value_with_the_same_key_are_independent(store):
    store.put(NS, "k", {"v": 1}, 60)
    store.index_add(NS, "k", "m", 60)
    assert store.get(NS, "k") == {"v": 1}
    assert store.index_members(NS, "k") == ["m"]
    assert store.take(NS, "k") == {"v": 1}
    assert store.index_members(NS, "k") == ["m"]


# --------------------------------------------------------------------------
# namespaces
# --------------------------------------------------------------------------
def test_namespaces_are_isolated_for_values(store):
    store.put("one", "k", {"ns": "one"}, 60)
    store.put("two", "k", {"ns": "two"}, 60)
    assert store.take("one", "k") == {"ns": "one"}
    assert store.get("two", "k") == {"ns": "two"}
    store.delete("two", "k")
    assert store.get("one", "k") is None and store.get("two", "k") is None


def test_add_in_one_namespace_does_not_block_another(store):
    assert store.add("one", "k", {"v": 1}, 60) is True
    assert store.add("two", "k", {"v": 2}, 60) is True


def test_namespaces_are_isolated_for_index_sets(store):
    store.index_add("one", "subject", "a", 60)
    store.index_add("two", "subject", "b", 60)
    store.index_discard("two", "subject", "a")
    assert store.index_members("one", "subject") == ["a"]
    assert store.index_members("two", "subject") == ["b"]


@pytest.mark.parametrize(
    "first, second",
    [
        (("a:b", "c"), ("a", "b:c")),  # a separator inside a namespace must not alias another key
        (("a", ":x"), ("a:", "x")),
    ],
)
def test_namespace_and_key_never_alias(store, first, second):
    store.put(*first, {"who": "first"}, 60)
    assert store.get(*second) is None
    assert store.add(*second, {"who": "second"}, 60) is True
    assert store.get(*first) == {"who": "first"}


# --------------------------------------------------------------------------
# health
# --------------------------------------------------------------------------
def test_ping_of_a_healthy_store_returns_none(store):
    assert store.ping() is None


# --------------------------------------------------------------------------
# sharing state between store objects and processes
# --------------------------------------------------------------------------
def test_a_second_store_object_sees_the_same_state(backend, store):
    if not backend.shares_state_across_objects:
        pytest.skip("each memory store object is its own state by design")
    other = backend.make()
    store.put(NS, "k", {"v": 1}, 60)
    assert other.get(NS, "k") == {"v": 1}
    assert other.add(NS, "k", {"v": 2}, 60) is False
    assert other.take(NS, "k") == {"v": 1}
    assert store.get(NS, "k") is None


def test_sqlite_state_survives_a_restart(sqlite_backend):
    first = sqlite_backend.make()
    first.put(NS, "k", {"v": 1}, 60)
    first.add(NS, "replay", {"seen": True}, 60)
    first.index_add(NS, "subject", "a", 60)
    first.close()
    del first

    second = sqlite_backend.make()  # a new object on the same file, as after a restart
    assert second.get(NS, "k") == {"v": 1}
    assert second.add(NS, "replay", {"seen": True}, 60) is False
    assert second.index_members(NS, "subject") == ["a"]


# A second, unrelated interpreter (not a fork): it shares nothing with this one but the file.
_SQLITE_CHILD = """
import json, os, sys
from ekn_saml.storage.sqlite import SQLiteStateStore
store = SQLiteStateStore(sys.argv[1])
store.put("requests", "from-child", {"pid": os.getpid()}, 60)
print("written", flush=True)
sys.stdin.readline()  # wait for the parent's write
print(json.dumps(store.take("requests", "from-parent")), flush=True)
store.close()
"""


@pytest.mark.slow
def test_sqlite_is_shared_by_two_processes(sqlite_backend, request):
    store = sqlite_backend.make(fake_clock=False)
    env = dict(os.environ, PYTHONPATH=str(request.config.rootpath), PYTHONWARNINGS="ignore")
    child = subprocess.Popen(
        [sys.executable, "-c", _SQLITE_CHILD, sqlite_backend.sqlite_path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout.readline().strip() == "written", child.stderr.read() if child.poll() else ""
        assert store.get(NS, "from-child") == {"pid": child.pid}
        store.put(NS, "from-parent", {"pid": os.getpid()}, 60)
        child.stdin.write("go\n")
        child.stdin.flush()
        assert json.loads(child.stdout.readline()) == {"pid": os.getpid()}
        assert store.get(NS, "from-parent") is None  # the child's take deleted it here too
        assert child.wait(timeout=30) == 0, child.stderr.read()
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=10)


# --------------------------------------------------------------------------
# Redis-only: key prefix and server-side TTLs
# --------------------------------------------------------------------------
def test_redis_key_prefix_isolates_two_stores_on_one_server(redis_backend):
    app_a = redis_backend.make(prefix=redis_backend.prefix + "app-a:")
    app_b = redis_backend.make(prefix=redis_backend.prefix + "app-b:")
    app_a.put(NS, "k", {"app": "a"}, 60)
    assert app_b.get(NS, "k") is None
    assert app_b.add(NS, "k", {"app": "b"}, 60) is True
    app_a.index_add(NS, "subject", "a", 60)
    assert app_b.index_members(NS, "subject") == []
    assert app_b.take(NS, "k") == {"app": "b"}
    assert app_a.get(NS, "k") == {"app": "a"}
    prefixes = ((redis_backend.prefix + "app-a:").encode(), (redis_backend.prefix + "app-b:").encode())
    assert all(k.startswith(prefixes) for k in redis_backend.redis_keys())


def test_redis_keys_live_under_the_prefix_with_the_requested_ttl(redis_backend):
    store = redis_backend.make()
    store.put(NS, "put", {"v": 1}, 300)
    store.add(NS, "add", {"v": 1}, 200)
    store.index_add(NS, "set", "m", 100)
    store.increment(NS, "counter", 400)
    store.increment(NS, "counter", 400)
    r = redis_backend.raw_redis
    keys = redis_backend.redis_keys()
    assert len(keys) == 4
    ttls = sorted(r.ttl(k) for k in keys)
    assert 98 <= ttls[0] <= 100 and 198 <= ttls[1] <= 200 and 298 <= ttls[2] <= 300 and 398 <= ttls[3] <= 400


# --------------------------------------------------------------------------
# the memory store's warning
# --------------------------------------------------------------------------
def test_memory_store_warns_by_default():
    with pytest.warns(RuntimeWarning, match="memory store"):
        MemoryStateStore()


def test_memory_store_is_quiet_with_warn_false():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MemoryStateStore(warn=False)


def test_memory_url_warns_without_allow_memory():
    with pytest.warns(RuntimeWarning, match="memory store"):
        store_from_url("memory://")


def test_memory_url_is_quiet_with_allow_memory():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isinstance(store_from_url("memory://", allow_memory=True), MemoryStateStore)


def test_memory_warning_points_at_the_caller_of_store_from_url():
    with pytest.warns(RuntimeWarning) as caught:
        store_from_url("memory://")
    assert caught[0].filename == __file__


# --------------------------------------------------------------------------
# store_from_url
# --------------------------------------------------------------------------
def test_store_from_url_builds_sqlite(tmp_path):
    path = tmp_path / "sub" / "state.sqlite"
    store = store_from_url(f"sqlite://{path}")  # path is absolute: sqlite:///tmp/…
    assert isinstance(store, SQLiteStateStore)
    assert store.path == str(path)


def test_store_from_url_sqlite_decodes_percent_escapes(tmp_path):
    store = store_from_url(f"sqlite://{tmp_path}/with%20space.sqlite")
    assert store.path == f"{tmp_path}/with space.sqlite"


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://example.invalid:6380/1", "unix:///tmp/redis.sock?db=2"]
)
def test_store_from_url_builds_redis_without_connecting(url):
    store = store_from_url(url, key_prefix="custom:")  # example.invalid would fail if it connected
    assert isinstance(store, RedisStateStore)
    store.close()


def test_store_from_url_redis_store_works(redis_backend):
    store = store_from_url(redis_backend.redis_url, key_prefix=redis_backend.prefix)
    try:
        store.put(NS, "k", {"v": 1}, 60)
        assert store.get(NS, "k") == {"v": 1}
    finally:
        store.close()


@pytest.mark.parametrize(
    "url", ["postgres://localhost/db", "http://example.org/", "", "/var/lib/state.sqlite", "mem://"]
)
def test_store_from_url_rejects_unknown_schemes(url):
    with pytest.raises(ValueError, match="unsupported store URL scheme"):
        store_from_url(url)


@pytest.mark.parametrize("url", ["sqlite://relative/state.sqlite", "sqlite://state.sqlite"])
def test_store_from_url_rejects_sqlite_with_two_slashes(url):
    with pytest.raises(ValueError, match="three slashes"):
        store_from_url(url)


@pytest.mark.parametrize("url", ["sqlite:", "sqlite:///", "sqlite:relative/state.sqlite"])
def test_store_from_url_rejects_sqlite_without_an_absolute_file_path(url):
    with pytest.raises(ValueError):
        store_from_url(url)
