# SPDX-License-Identifier: Apache-2.0
"""/metrics under gunicorn with two workers in prometheus_client's multi-process mode: one scrape sums both.

The server is production.ini.example's gunicorn set-up (gunicorn_harness.py),
with ``PROMETHEUS_MULTIPROC_DIR`` in its environment as the README says, and
production.ini.example's ``child_exit`` hook.  Logins are made until both
workers have answered login starts and ACS posts (bounded in count and
time); then every scrape, whichever worker answers it, must count every
login exactly once, also after a worker was killed and replaced (a total
never goes back).  The store is SQLite, shared by the workers: this test
is about the metrics, not the store.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from ekn_saml.testing import development_settings, make_test_keys

from gunicorn_harness import PUBLIC_BASE, WORKERS, Browser, GunicornServer, worker_of, write_gunicorn_ini

pytestmark = pytest.mark.slow

MAX_LOGINS = 40
MAX_SECONDS = 60.0
MAX_SCRAPES = 20
BANKID = {"method": "bankid", "idp": f"{PUBLIC_BASE}/devidp/bankid"}


@pytest.fixture
def server(request, tmp_path, monkeypatch):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    # the server's environment, as the systemd unit of the README sets it (inherited by pserve)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    keys = make_test_keys(str(tmp_path / "keys"), "gunicorn metrics test")
    entered = tmp_path / "entered"
    entered.mkdir()
    settings = development_settings(
        sp_base=PUBLIC_BASE,
        keys_dir=keys,
        store_url=f"sqlite:///{tmp_path / 'state.sqlite'}",
        cookie_secure=False,  # the test client speaks plain HTTP
        security__login_start_limit="0",  # every login comes from 127.0.0.1
        status__allowed_addresses="127.0.0.1",
    )
    ini = write_gunicorn_ini(tmp_path / "gunicorn.ini", settings, entered_dir=str(entered))
    server = GunicornServer(ini, tmp_path / "gunicorn.log")
    request.addfinalizer(server.stop)
    server.wait_until_serving()
    return server


def scrape(server: GunicornServer) -> tuple[int, dict[tuple[str, frozenset], float]]:
    """(the worker that answered, the samples) of one scrape on a new connection."""
    response = requests.get(
        f"http://127.0.0.1:{server.port}/metrics",
        headers={"Host": PUBLIC_BASE.split("//", 1)[1], "Connection": "close"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    return worker_of(response), samples


def log_in_on_both_workers(server: GunicornServer) -> int:
    """Log in until both workers have answered a login start and an ACS post; the number of logins."""
    starts, acs = set(), set()
    logins = 0
    deadline = time.monotonic() + MAX_SECONDS
    while (len(starts) < WORKERS or len(acs) < WORKERS) and logins < MAX_LOGINS and time.monotonic() < deadline:
        browser = Browser(server)
        to_idp = browser.start()
        answered = browser.post_acs(browser.answer(to_idp))
        assert answered.status_code == 302, answered.text
        logins += 1
        starts.add(worker_of(to_idp))
        acs.add(worker_of(answered))
    assert len(starts) == WORKERS and len(acs) == WORKERS, f"starts on {starts}, ACS on {acs} after {logins} logins"
    return logins


def assert_counts(samples: dict, logins: int) -> None:
    assert samples[("ekn_saml_logins_started_total", frozenset(BANKID.items()))] == logins
    finished = frozenset({**BANKID, "outcome": "success"}.items())
    assert samples[("ekn_saml_logins_finished_total", finished)] == logins
    for endpoint in ("login_start", "acs"):
        count = ("ekn_saml_request_duration_seconds_count", frozenset({"endpoint": endpoint}.items()))
        assert samples[count] == logins


def test_one_scrape_counts_the_logins_of_both_workers(server):
    logins = log_in_on_both_workers(server)
    scrapers = set()
    for _ in range(MAX_SCRAPES):
        worker, samples = scrape(server)
        scrapers.add(worker)
        assert_counts(samples, logins)
        if len(scrapers) == WORKERS:
            break
    assert len(scrapers) == WORKERS, f"only worker {scrapers} answered {MAX_SCRAPES} scrapes"


def test_the_logins_of_a_worker_that_died_still_count(server):
    logins = log_in_on_both_workers(server)
    dead = sorted(server.worker_pids())[0]
    os.kill(dead, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until gunicorn has replaced it (its child_exit hook has run)
        pids = server.worker_pids()
        if dead not in pids and len(pids) == WORKERS:
            break
        time.sleep(0.1)
    assert dead not in server.worker_pids() and len(server.worker_pids()) == WORKERS, server.log()
    assert_counts(scrape(server)[1], logins)
