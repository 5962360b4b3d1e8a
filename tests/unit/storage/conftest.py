# SPDX-License-Identifier: Apache-2.0
"""Fixtures for the storage tests: one ``backend`` fixture over memory, SQLite, Redis and Redis through Sentinel.

The Sentinel backend is the same Redis store reached with a
``redis+sentinel://`` URL, on a master, replica and three sentinels this
run starts once (``shared_sentinel``, tests/own_sentinel.py).

Redis is never skipped silently.  The shared server is expected at
127.0.0.1:6379 (``.ci/ensure-redis`` starts one; ``EKN_TEST_REDIS_URL``
overrides the address).  If it does not answer:

* with ``CI`` set (to anything but ``""``, ``0``, ``false`` or ``no``) every
  Redis-parametrized test **fails**;
* otherwise they are skipped with a loud reason, and a banner is printed at
  the end of the run.

Each Redis test uses its own random key prefix, so parallel runs on one
server do not collide, and the keys are deleted afterwards.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest

from ekn_saml.storage.base import StateStore

# The shared server; EKN_TEST_REDIS_URL points the tests elsewhere (e.g. a CI service container).
REDIS_URL = os.environ.get("EKN_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"

BACKENDS = ("memory", "sqlite", "redis", "sentinel")
_REDIS_LIKE = ("redis", "sentinel")

_redis_problem: list[str | None] = []  # cached result of the one probe per run
_redis_skipped = False


def ci_is_set() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _probe_redis() -> str | None:
    """``None`` if Redis at REDIS_URL answers PING, else why not."""
    if not _redis_problem:
        try:
            import redis

            client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
            try:
                client.ping()
                version = client.info("server").get("redis_version", "0")
                if tuple(int(p) for p in version.split(".")[:2]) < (7, 0):
                    _redis_problem.append(f"Redis {version} is too old: the store needs >= 7.0 (EXPIRE GT/NX)")
                else:
                    _redis_problem.append(None)
            finally:
                client.close()
        except Exception as exc:
            _redis_problem.append(f"{exc.__class__.__name__}: {exc}")
    return _redis_problem[0]


def require_redis() -> str:
    """Return the shared server's URL, or fail (CI) / skip loudly (local)."""
    global _redis_skipped
    problem = _probe_redis()
    if problem is None:
        return REDIS_URL
    message = f"Redis at {REDIS_URL} does not answer ({problem}). Start it with .ci/ensure-redis."
    if ci_is_set():
        pytest.fail(f"CI is set, so Redis tests may not be skipped: {message}", pytrace=False)
    _redis_skipped = True
    pytest.skip(f"!!! REDIS BACKEND NOT TESTED !!! {message}")


def pytest_terminal_summary(terminalreporter):
    if _redis_skipped:
        terminalreporter.section("REDIS NOT TESTED", sep="!", red=True, bold=True)
        terminalreporter.write_line(
            f"The Redis state store was NOT tested: nothing answered at {REDIS_URL}. "
            "Run .ci/ensure-redis and re-run; with CI=true these tests fail instead.",
            red=True,
            bold=True,
        )


class FakeClock:
    """A clock the memory and SQLite stores read instead of the real one."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Backend:
    """One backend under test: builds stores and lets time pass for them.

    ``advance(seconds)`` makes ``seconds`` pass for every store this object
    built: the fake clock moves for memory and SQLite; for Redis, whose TTLs
    run on the server, every key under this test's prefix has its remaining
    TTL shortened by ``seconds`` (and is deleted when that reaches zero),
    which is what the server itself would see after the same wait.
    ``sleep_for_real`` is the honest variant for the few tests that sleep.
    """

    def __init__(self, name: str, tmp_path, redis_url: str | None, direct_url: str | None = None) -> None:
        """``redis_url`` is the store's; for Sentinel ``direct_url`` is the master's own, for the test's look inside."""
        self.name = name
        self.clock = FakeClock()
        self.sqlite_path = str(tmp_path / "state.sqlite")
        self.redis_url = redis_url
        self.prefix = f"ekn-test:{uuid.uuid4().hex}:"
        self._stores: list[StateStore] = []
        self._redis = None
        if name in _REDIS_LIKE:
            import redis

            self._redis = redis.Redis.from_url(redis_url if name == "redis" else direct_url)

    # -- building stores ----------------------------------------------------
    def make(self, *, fake_clock: bool = True, prefix: str | None = None) -> StateStore:
        """A new store object on the same underlying state (file / server / prefix).

        ``prefix`` (Redis only) must lie under ``self.prefix`` so cleanup finds its keys.
        """
        assert prefix is None or prefix.startswith(self.prefix)
        if self.name == "memory":
            from ekn_saml.storage.memory import MemoryStateStore

            store: StateStore = MemoryStateStore(warn=False, **({"clock": self.clock} if fake_clock else {}))
        elif self.name == "sqlite":
            from ekn_saml.storage.sqlite import SQLiteStateStore

            store = SQLiteStateStore(self.sqlite_path, **({"clock": self.clock} if fake_clock else {}))
        else:
            from ekn_saml.storage.redis import RedisStateStore

            store = RedisStateStore.from_url(self.redis_url, key_prefix=prefix or self.prefix)
        self._stores.append(store)
        return store

    @property
    def shares_state_across_objects(self) -> bool:
        return self.name != "memory"

    @property
    def supports_processes(self) -> bool:
        return self.name != "memory"

    # -- time ---------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        if self.name not in _REDIS_LIKE:
            self.clock.advance(seconds)
            return
        step = int(seconds * 1000)
        for key in self._redis.scan_iter(match=self.prefix + "*", count=1000):
            pttl = self._redis.pttl(key)
            if pttl == -2:  # gone meanwhile
                continue
            assert pttl >= 0, f"{key!r} has no TTL: the contract says every entry expires"
            if pttl - step <= 0:
                self._redis.delete(key)
            else:
                self._redis.pexpire(key, pttl - step)

    def sleep_for_real(self, seconds: float) -> None:
        time.sleep(seconds)

    # -- Redis introspection --------------------------------------------------
    @property
    def raw_redis(self):
        return self._redis

    def redis_keys(self, prefix: str | None = None) -> list[bytes]:
        return sorted(self._redis.scan_iter(match=(prefix or self.prefix) + "*", count=1000))

    # -- cleanup --------------------------------------------------------------
    def close(self) -> None:
        for store in self._stores:
            try:
                store.close()
            except Exception:
                pass
        if self._redis is not None:
            try:
                # every store this object built uses self.prefix or a prefix under it
                mine = list(self._redis.scan_iter(match=self.prefix + "*", count=1000))
                if mine:
                    self._redis.delete(*mine)
            finally:
                self._redis.close()


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path) -> Iterator[Backend]:
    redis_url = direct_url = None
    if request.param == "redis":
        redis_url = require_redis()
    elif request.param == "sentinel":
        cluster = request.getfixturevalue("shared_sentinel")
        redis_url, direct_url = cluster.url(), f"redis://127.0.0.1:{cluster.ports['master']}/0"
    b = Backend(request.param, tmp_path, redis_url, direct_url)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def store(backend: Backend) -> StateStore:
    """A store of the current backend whose time is ``backend.advance``'s to move."""
    return backend.make()


@pytest.fixture
def redis_backend(tmp_path) -> Iterator[Backend]:
    """The Redis backend alone, for tests about Redis-only behaviour."""
    b = Backend("redis", tmp_path, require_redis())
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def sqlite_backend(tmp_path) -> Iterator[Backend]:
    b = Backend("sqlite", tmp_path, None)
    try:
        yield b
    finally:
        b.close()
