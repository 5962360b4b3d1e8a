# SPDX-License-Identifier: Apache-2.0
"""The demo app under gunicorn with two worker processes sharing Redis, as production.ini.example runs it.

* Logins whose start and ACS are answered by different workers succeed:
  the outstanding request, the browser binding and the session are in the
  shared store, not in a worker.
* Behind the TLS proxy: the client's address comes from the PROXY protocol
  header and https from X-Forwarded-Proto, both only from the proxy.
* A graceful stop (SIGTERM to the master) finishes every request a worker
  has already received, and the logins started before it finish on a
  restarted server with the same store.

The gunicorn set-up is production.ini.example's ``[server:main]``, with
two workers.
Workers are told apart by the ``X-Worker-Pid`` header of the test-only
include ``worker_probe``; gunicorn_harness.py has the server and the
browser.  Redis is the shared server at 127.0.0.1:6379
(``EKN_TEST_REDIS_URL`` overrides it), with a key prefix per test; it fails
(CI) or skips loudly when absent.  Every loop is bounded in count and time,
and every server is stopped by its fixture.
"""

from __future__ import annotations

import os
import time
import uuid

import pytest
import redis

from ekn_saml.testing import development_settings, make_test_keys

from gunicorn_harness import (
    GRACEFUL_TIMEOUT,
    PUBLIC_BASE,
    WORKERS,
    Browser,
    GunicornServer,
    InFlight,
    held,
    proxied_get,
    worker_of,
    write_gunicorn_ini,
)

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("EKN_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
# logins whose start and ACS two different workers answered, before the test is satisfied
CROSSED_WANTED = 3
MAX_LOGINS = 60
MAX_SECONDS = 60.0
# the client address the "proxy" names in its PROXY protocol line (TEST-NET-3, never routed)
PROXIED_CLIENT = "203.0.113.7"


@pytest.fixture(scope="module")
def redis_client():
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis at {REDIS_URL} does not answer ({exc}); start it with .ci/ensure-redis"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI is set, so the gunicorn tests may not be skipped: {message}", pytrace=False)
        pytest.skip(f"!!! GUNICORN WORKER TESTS NOT RUN !!! {message}")
    yield client
    client.close()


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return make_test_keys(str(tmp_path_factory.mktemp("gunicorn-keys")), "gunicorn test")


def _write_ini(directory, keys: str, prefix: str) -> str:
    entered = directory / "entered"
    entered.mkdir()
    # The test client speaks plain HTTP and would not send Secure cookies over it; all its
    # logins come from 127.0.0.1, so the per-address login-start limit is off.  /saml/status
    # answers only an address that a PROXY protocol header names (test_the_client_address_...).
    settings = development_settings(
        sp_base=PUBLIC_BASE,
        keys_dir=keys,
        store_url=REDIS_URL,
        cookie_secure=False,
        store__key_prefix=prefix,
        security__login_start_limit="0",
        status__allowed_addresses=PROXIED_CLIENT,
    )
    return write_gunicorn_ini(directory / "gunicorn.ini", settings, entered_dir=str(entered))


def _drop_prefix(client, prefix: str) -> None:
    stale = list(client.scan_iter(match=prefix + "*", count=1000))
    if stale:
        client.delete(*stale)


@pytest.fixture(scope="module")
def shared_server(request, redis_client, keys, tmp_path_factory):
    """One gunicorn server (two workers) for the tests that do not stop it; stopped, and its keys deleted, after."""
    workdir = tmp_path_factory.mktemp("gunicorn-shared")
    prefix = f"ekn-test-gunicorn:{uuid.uuid4().hex}:"
    server = GunicornServer(_write_ini(workdir, keys, prefix), workdir / "gunicorn.log")
    request.addfinalizer(lambda: (server.stop(), _drop_prefix(redis_client, prefix)))
    server.wait_until_serving()
    return server


@pytest.fixture
def ini(redis_client, keys, tmp_path):
    """An ini with a Redis prefix of this test's own, for servers the test stops; its keys are deleted after."""
    prefix = f"ekn-test-gunicorn:{uuid.uuid4().hex}:"
    yield _write_ini(tmp_path, keys, prefix)
    _drop_prefix(redis_client, prefix)


@pytest.fixture
def servers(request, tmp_path):
    """Starts gunicorn servers of an ini on demand; every one is stopped at the end, also after a failure."""
    started: list[GunicornServer] = []
    request.addfinalizer(lambda: [s.stop() for s in started])

    def start(ini: str) -> GunicornServer:
        server = GunicornServer(ini, tmp_path / f"gunicorn-{len(started)}.log")
        started.append(server)
        server.wait_until_serving()
        return server

    return start


def test_logins_whose_start_and_acs_land_on_different_workers_succeed(shared_server):
    server = shared_server
    crossed, logins, workers_seen = 0, 0, set()
    deadline = time.monotonic() + MAX_SECONDS
    while crossed < CROSSED_WANTED and logins < MAX_LOGINS and time.monotonic() < deadline:
        logins += 1
        browser = Browser(server)
        to_idp = browser.start()
        acs = browser.post_acs(browser.answer(to_idp))
        assert acs.status_code == 302, acs.text
        assert acs.headers["Location"] == PUBLIC_BASE + "/mina-sidor"
        assert browser.logged_in_as() == "Karin Karlsson"
        workers_seen |= {worker_of(to_idp), worker_of(acs)}
        crossed += worker_of(to_idp) != worker_of(acs)
    assert len(workers_seen) == WORKERS, f"only workers {workers_seen} answered in {logins} logins"
    assert crossed >= CROSSED_WANTED, f"{crossed} of {logins} logins crossed workers"
    assert workers_seen <= server.worker_pids()  # the pids are gunicorn's workers, not the master


def test_the_client_address_is_the_one_the_proxys_protocol_header_names(shared_server):
    # /saml/status answers only PROXIED_CLIENT: REMOTE_ADDR must come from the PROXY line
    # (production.ini.example: proxy_protocol, proxy_allow_ips), not from the connection
    status, _ = proxied_get(shared_server, "/saml/status", client=PROXIED_CLIENT)
    assert status in (200, 503)  # the report itself (503: unhealthy), not the 404 of a stranger
    assert proxied_get(shared_server, "/saml/status", client=None)[0] == 404


def test_https_at_the_proxy_reaches_the_app_through_x_forwarded_proto(shared_server):
    # from the proxy's address (forwarded_allow_ips) the app sees https: it sends HSTS
    _, behind_tls = proxied_get(shared_server, "/login", client=PROXIED_CLIENT, headers={"X-Forwarded-Proto": "https"})
    _, plain = proxied_get(shared_server, "/login", client=PROXIED_CLIENT)
    assert "Strict-Transport-Security" in behind_tls
    assert "Strict-Transport-Security" not in plain


def test_a_graceful_stop_finishes_the_requests_in_flight_and_loses_no_login(ini, servers, tmp_path):
    entered = tmp_path / "entered"
    first = servers(ini)
    # logins whose IdP answered before the stop; their ACS comes after it, on the next server
    waiting = []
    for _ in range(3):
        browser = Browser(first)
        waiting.append((browser, browser.answer(browser.start())))
    # requests the workers have received and are answering when SIGTERM comes: two ACS posts and a start
    acs_browsers = []
    for _ in range(2):
        browser = Browser(first)
        acs_browsers.append((browser, browser.answer(browser.start())))
    start_browser = Browser(first)
    hold = 2.0
    in_flight = [
        InFlight(browser.post_acs, form, headers=held(f"acs-{i}", hold))
        for i, (browser, form) in enumerate(acs_browsers)
    ]
    in_flight.append(InFlight(start_browser.start, headers=held("start", hold)))
    for request in in_flight:
        request.start()
    deadline = time.monotonic() + 20
    while len(os.listdir(entered)) < len(in_flight) and time.monotonic() < deadline:
        time.sleep(0.05)  # until every held request is inside a worker
    assert len(os.listdir(entered)) == len(in_flight), first.log()

    first.terminate()
    for request in in_flight:
        request.join(timeout=GRACEFUL_TIMEOUT + 10)
    assert first.proc.wait(timeout=GRACEFUL_TIMEOUT + 10) == 0, first.log()
    for request in in_flight:
        assert request.error is None, f"{request.error!r}\n{first.log()}"
        assert request.response is not None and request.response.status_code == 302, first.log()
    for request in in_flight[:2]:
        assert request.response.headers["Location"] == PUBLIC_BASE + "/mina-sidor"

    second = servers(ini)
    for browser, _form in acs_browsers:  # sessions made while the server was stopping are in the store
        browser.server = second
        assert browser.logged_in_as() == "Karin Karlsson"
    for browser, form in waiting:  # the outstanding requests outlived the server that stored them
        browser.server = second
        acs = browser.post_acs(form)
        assert acs.status_code == 302 and acs.headers["Location"] == PUBLIC_BASE + "/mina-sidor", acs.text
        assert browser.logged_in_as() == "Karin Karlsson"
    start_browser.server = second  # the start answered during the stop: its login finishes too
    assert start_browser.post_acs(start_browser.answer(in_flight[2].response)).status_code == 302
    assert start_browser.logged_in_as() == "Karin Karlsson"
