# SPDX-License-Identifier: Apache-2.0
"""redis+sentinel:// URLs: what each part means, and every malformed URL refused with its own code."""

from __future__ import annotations

import ssl

import pytest
from redis.connection import SSLConnection

from ekn_saml.errors import StoreUrlError
from ekn_saml.storage.redis_connection import (
    DEFAULT_SENTINEL_PORT,
    SentinelUrlProblem,
    parse_sentinel_url,
    redacted,
    sentinel_client,
)

P = SentinelUrlProblem


def test_several_sentinels_a_service_and_a_db():
    parsed = parse_sentinel_url("redis+sentinel://s1:26380,s2,[::1]:26381/mymaster/3")
    assert parsed.sentinels == (("s1", 26380), ("s2", DEFAULT_SENTINEL_PORT), ("::1", 26381))
    assert (parsed.service, parsed.db, parsed.tls) == ("mymaster", 3, False)


def test_the_db_defaults_to_0_and_a_trailing_slash_is_harmless():
    assert parse_sentinel_url("redis+sentinel://s1/mymaster").db == 0
    assert parse_sentinel_url("redis+sentinel://s1/mymaster/").db == 0
    assert parse_sentinel_url("redis+sentinel://s1/mymaster/2/").db == 2


def test_userinfo_is_for_the_master_and_options_for_the_sentinels():
    parsed = parse_sentinel_url(
        "redis+sentinel://app:m%40ster@s1/svc?sentinel_username=mon&sentinel_password=s3nt&socket_timeout=0.5"
    )
    assert (parsed.username, parsed.password) == ("app", "m@ster")
    assert (parsed.sentinel_username, parsed.sentinel_password) == ("mon", "s3nt")
    assert (parsed.socket_timeout, parsed.socket_connect_timeout) == (0.5, 2.0)


def test_a_password_alone():
    parsed = parse_sentinel_url("redis+sentinel://:secret@s1/svc")
    assert (parsed.username, parsed.password) == (None, "secret")


def test_rediss_sentinel_is_tls_with_an_optional_ca_file():
    parsed = parse_sentinel_url("rediss+sentinel://s1/svc?ssl_ca_certs=/etc/ssl/redis-ca.pem")
    assert parsed.tls and parsed.ssl_ca_certs == "/etc/ssl/redis-ca.pem"


def test_the_client_uses_tls_to_the_master_and_the_sentinels_when_asked():
    client = sentinel_client(parse_sentinel_url("rediss+sentinel://s1/svc?ssl_ca_certs=/etc/ca.pem"))
    master = client.connection_pool.make_connection()  # built, not connected
    assert isinstance(master, SSLConnection)
    assert (master.cert_reqs, master.ca_certs) == (ssl.CERT_REQUIRED, "/etc/ca.pem")
    sentinel = client.connection_pool.sentinel_manager.sentinels[0].connection_pool.make_connection()
    assert isinstance(sentinel, SSLConnection) and sentinel.cert_reqs == ssl.CERT_REQUIRED


def test_the_sentinels_get_their_own_credentials_and_the_master_its_own():
    client = sentinel_client(parse_sentinel_url("redis+sentinel://app:pw@s1/svc?sentinel_password=spw"))
    master = client.connection_pool.make_connection()
    sentinel = client.connection_pool.sentinel_manager.sentinels[0].connection_pool.make_connection()
    assert (master.username, master.password) == ("app", "pw")
    assert (sentinel.username, sentinel.password) == (None, "spw")


def test_the_client_asks_the_sentinels_for_the_named_master_and_db():
    client = sentinel_client(parse_sentinel_url("redis+sentinel://s1:1,s2:2/svc/4"))
    pool = client.connection_pool
    assert pool.service_name == "svc" and pool.is_master and pool.connection_kwargs["db"] == 4
    assert [
        (s.connection_pool.connection_kwargs["host"], s.connection_pool.connection_kwargs["port"])
        for s in pool.sentinel_manager.sentinels
    ] == [("s1", 1), ("s2", 2)]


MALFORMED = [
    ("redis+sentinel:///svc", P.NO_SENTINELS),
    ("redis+sentinel://:pw@/svc", P.NO_SENTINELS),
    ("redis+sentinel://s1:notaport/svc", P.BAD_SENTINEL),
    ("redis+sentinel://s1:70000/svc", P.BAD_SENTINEL),
    ("redis+sentinel://s1:0/svc", P.BAD_SENTINEL),
    ("redis+sentinel://s1,,s2/svc", P.BAD_SENTINEL),
    ("redis+sentinel://s1,:26379/svc", P.BAD_SENTINEL),
    ("redis+sentinel://s1:26379,s1/svc", P.DUPLICATE_SENTINEL),
    ("redis+sentinel://s1", P.NO_SERVICE),
    ("redis+sentinel://s1/", P.NO_SERVICE),
    ("redis+sentinel://s1//0", P.NO_SERVICE),
    ("redis+sentinel://s1/svc/x", P.BAD_DB),
    ("redis+sentinel://s1/svc/-1", P.BAD_DB),
    ("redis+sentinel://s1/svc/16", P.BAD_DB),
    ("redis+sentinel://s1/svc/١", P.BAD_DB),  # a digit, but not an ASCII one
    ("redis+sentinel://s1/svc/0/extra", P.BAD_DB),
    ("redis+sentinel://s1/svc?sentinel_pasword=x", P.UNKNOWN_OPTION),
    ("redis+sentinel://s1/svc?db=2", P.UNKNOWN_OPTION),
    ("redis+sentinel://s1/svc?socket_timeout=1&socket_timeout=2", P.DUPLICATE_OPTION),
    ("redis+sentinel://s1/svc?socket_timeout=soon", P.BAD_TIMEOUT),
    ("redis+sentinel://s1/svc?socket_timeout=0", P.BAD_TIMEOUT),
    ("redis+sentinel://s1/svc?socket_connect_timeout=nan", P.BAD_TIMEOUT),
    ("redis+sentinel://s1/svc?socket_connect_timeout=61", P.BAD_TIMEOUT),
    ("redis+sentinel://s1/svc?ssl_ca_certs=/ca.pem", P.TLS_OPTION_WITHOUT_TLS),
    ("redis+sentinel://s1/svc#frag", P.FRAGMENT),
]


@pytest.mark.parametrize("url, problem", MALFORMED)
def test_a_malformed_url_is_refused_with_its_code(url, problem):
    with pytest.raises(StoreUrlError) as caught:
        parse_sentinel_url(url)
    assert caught.value.code == problem.value


def test_every_problem_has_a_code_of_its_own_and_a_case_above():
    assert len({p.value for p in P}) == len(P)
    assert {problem for _, problem in MALFORMED} == set(P)


def test_a_refusal_never_shows_a_password():
    with pytest.raises(StoreUrlError) as caught:
        parse_sentinel_url("redis+sentinel://app:hunter2@s1/svc?sentinel_password=s3cr3t&bogus=1")
    assert "hunter2" not in str(caught.value) and "s3cr3t" not in str(caught.value)


def test_redacted_hides_both_passwords():
    shown = redacted("rediss+sentinel://u:pw1@s1,s2/svc/1?sentinel_password=pw2&socket_timeout=1")
    assert "pw1" not in shown and "pw2" not in shown and "socket_timeout=1" in shown


def test_the_repr_shows_no_password():
    assert "pw" not in repr(parse_sentinel_url("redis+sentinel://u:pw@s1/svc?sentinel_password=pw"))
