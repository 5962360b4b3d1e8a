# SPDX-License-Identifier: Apache-2.0
"""The demo app under gunicorn with two worker processes sharing Redis, as production.ini.example runs it.

* Logins whose start and ACS are answered by different workers succeed:
  the outstanding request, the browser binding and the session are in the
  shared store, not in a worker.
* A graceful stop (SIGTERM to the master) finishes every request a worker
  has already received, and the logins started before it finish on a
  restarted server with the same store.

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
    worker_of,
    write_gunicorn_ini,
)

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("EKN_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
# logins whose start and ACS two different workers answered, before the test is satisfied
CROSSED_WANTED = 3
MAX_LOGINS = 60
MAX_SECONDS = 60.0


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


@pytest.fixture
def ini(redis_client, keys, tmp_path):
    """An ini for gunicorn with two workers and a Redis prefix of this test's own; its keys are deleted after."""
    prefix = f"ekn-test-gunicorn:{uuid.uuid4().hex}:"
    entered = tmp_path / "entered"
    entered.mkdir()
    # the test client speaks plain HTTP and would not send Secure cookies over it; all its
    # logins come from 127.0.0.1, so the per-address login-start limit is off
    settings = development_settings(
        sp_base=PUBLIC_BASE,
        keys_dir=keys,
        store_url=REDIS_URL,
        cookie_secure=False,
        store__key_prefix=prefix,
        security__login_start_limit="0",
    )
    path = write_gunicorn_ini(tmp_path / "gunicorn.ini", settings, entered_dir=str(entered))
    yield path
    stale = list(redis_client.scan_iter(match=prefix + "*", count=1000))
    if stale:
        redis_client.delete(*stale)


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


def test_logins_whose_start_and_acs_land_on_different_workers_succeed(ini, servers):
    server = servers(ini)
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
