# SPDX-License-Identifier: Apache-2.0
"""After a real login, the raw store holds no personal data: the SQLite file and Redis, read as an attacker would.

A login through the development IdP (really signed and encrypted responses)
as a person and as an organisation identity; then every row of every table
of the SQLite file (with the plain sqlite3 module), the bytes of the file and
of its -wal and -shm, and every Redis key under the app's prefix (with a
plain redis client), names and values, are searched for the persona's
personal identity number in every written form, its names, date of birth
and organisation data.  The session records are sealed
(ekn_saml/session.py) and the index keys are HMACs, so nothing is found.
"""

from __future__ import annotations

import os
import sqlite3
import uuid

import pytest
import redis

from ekn_saml.demo import main

from dev_app import browser, log_in

REDIS_URL = os.environ.get("EKN_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"

# (method, persona, what of its identity must not be readable at rest: label -> written form).
# Failures name the label, so a report does not print the number itself.
PERSONAS = {
    "person": (
        "bankid",
        "karin",
        {
            "personal identity number, 12 digits": "196506151239",
            "personal identity number, 12 digits with hyphen": "19650615-1239",
            "personal identity number, 10 digits": "6506151239",
            "personal identity number, 10 digits with hyphen": "650615-1239",
            "given name": "Karin",
            "surname": "Karlsson",
            "date of birth": "1965-06-15",
        },
    ),
    "organisation": (
        "expisoft",
        "eva",
        {
            "unique id in the organisation": "stbj1006",
            "organisation number": "5560000001",
            "organisation number with hyphen": "556000-0001",
            "surname": "Exportsson",
            "organisation name": "Exportbolaget",
        },
    ),
    # the eIDAS connector's Norwegian persona (made up): its prid may be a national number
    "foreign person": (
        "eidas",
        "ola",
        {
            "prid identifier": "01018099887",
            "mapped personal identity number (dropped by default)": "197903150006",
            "surname": "Nordmann",
            "date of birth": "1979-03-15",
        },
    ),
}


def found_in(haystack: bytes, forms: dict[str, str]) -> list[str]:
    """The labels of the ``forms`` that ``haystack`` contains (as UTF-8, or UTF-16 should anything store so)."""
    return [label for label, text in forms.items() if text.encode() in haystack or text.encode("utf-16-le") in haystack]


def sqlite_contents(path: str) -> bytes:
    """Every value of every row of every table, as the sqlite3 module reads them (the WAL included)."""
    rows = []
    with sqlite3.connect(path) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {"kv", "idx"} <= set(tables)
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from sqlite_master
                rows.append(repr(row))
    assert rows
    return "\n".join(rows).encode()


def sqlite_file_bytes(path: str) -> bytes:
    """The database file and, while the app's connection is open, its -wal and -shm files."""
    parts = []
    for suffix in ("", "-wal", "-shm"):
        with open(path + suffix, "rb") as fh:
            parts.append(fh.read())
    return b"\n".join(parts)


@pytest.mark.parametrize("kind", sorted(PERSONAS))
def test_the_sqlite_store_holds_no_personal_data_after_a_login(dev_settings, kind):
    method, persona, secrets_of_persona = PERSONAS[kind]
    path = dev_settings["ekn_saml.store.url"][len("sqlite:///") :]
    client = browser(main({}, **dev_settings))
    log_in(client, method, persona)
    page = client.get("/mina-sidor")
    assert page.status_int == 200  # logged in: the sealed session opens
    assert found_in(page.body, secrets_of_persona)  # the page shows who it is: the search does find it
    assert found_in(sqlite_contents(path), secrets_of_persona) == []
    assert found_in(sqlite_file_bytes(path), secrets_of_persona) == []


@pytest.fixture
def redis_prefix():
    """A key prefix of our own on the shared Redis; every key under it is deleted afterwards.

    Fails under CI (never a silent skip) and skips loudly elsewhere if no Redis answers.
    """
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis at {REDIS_URL} does not answer ({exc}); start it with .ci/ensure-redis"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI is set, so the Redis data-at-rest test may not be skipped: {message}", pytrace=False)
        pytest.skip(f"!!! REDIS DATA AT REST NOT TESTED !!! {message}")
    prefix = f"ekn-test-at-rest:{uuid.uuid4().hex}:"
    yield client, prefix
    mine = list(client.scan_iter(match=prefix + "*", count=1000))
    if mine:
        client.delete(*mine)
    client.close()


def redis_contents(client, prefix: str) -> bytes:
    """Every key name under ``prefix`` and everything stored under it, whatever its type."""
    parts = []
    for key in client.scan_iter(match=prefix + "*", count=1000):
        kind = client.type(key)
        parts.append(key)
        if kind == b"string":
            parts.append(client.get(key))
        elif kind == b"set":
            parts.extend(client.smembers(key))
        elif kind == b"hash":
            for field, value in client.hgetall(key).items():
                parts += [field, value]
        elif kind == b"list":
            parts.extend(client.lrange(key, 0, -1))
        elif kind == b"zset":
            parts.extend(client.zrange(key, 0, -1))
        else:
            raise AssertionError(f"a key of a type this test does not read: {kind!r}")
    return b"\n".join(parts)


@pytest.mark.parametrize("kind", sorted(PERSONAS))
def test_the_redis_store_holds_no_personal_data_after_a_login(dev_settings, redis_prefix, kind):
    method, persona, secrets_of_persona = PERSONAS[kind]
    client_redis, prefix = redis_prefix
    settings = {**dev_settings, "ekn_saml.store.url": REDIS_URL, "ekn_saml.store.key_prefix": prefix}
    client = browser(main({}, **settings))
    log_in(client, method, persona)
    assert client.get("/mina-sidor").status_int == 200
    contents = redis_contents(client_redis, prefix)
    assert prefix.encode() + b"session:" in contents  # the session is there, under the app's prefix
    assert found_in(contents, secrets_of_persona) == []
