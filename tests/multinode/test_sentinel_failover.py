# SPDX-License-Identifier: Apache-2.0
"""A Redis master dies under a running app on a ``redis+sentinel://`` store: no session is lost, logins go on.

The cluster is the ``own_sentinel`` fixture (tests/own_sentinel.py): a
master, a replica and three sentinels of the test's own.  The app is the
demo under WebTest, logging in through the development IdP (every
response really signed and encrypted).  Before the master is killed the
test waits (``WAIT``) until the replica has every write, because Redis
replication is asynchronous: a write the replica has not yet received is
lost with the master (docs/scale-out.md, "Redis Sentinel").
"""

from __future__ import annotations

import time
import uuid

import pytest

from ekn_saml.demo import main
from ekn_saml.interfaces import ISamlServiceProvider
from ekn_saml.storage import store_from_url
from ekn_saml.testing import development_settings

from dev_app import acs_form, browser, log_in

pytestmark = pytest.mark.slow

BASE = "https://sp.example.test"


@pytest.fixture
def app(own_sentinel, key_dir, tmp_path):
    settings = development_settings(
        sp_base=BASE,
        keys_dir=key_dir,
        # a short connect timeout: the first try after the kill must fail fast, not hang the request
        store_url=own_sentinel.url(socket_timeout="1", socket_connect_timeout="0.5"),
    )
    settings["ekn_saml.store.key_prefix"] = f"ekn-test-sentinel:{uuid.uuid4().hex}:"
    app = main({}, **settings)
    yield app
    app.registry.getUtility(ISamlServiceProvider).store.close()


def logged_in(client) -> bool:
    page = client.get("/mina-sidor", expect_errors=True)
    assert page.status_int in (200, 302), page.status
    return page.status_int == 200


def replicated(cluster) -> None:
    """Every write so far is on the replica (WAIT 1 2000 on the master)."""
    assert cluster.client("master").execute_command("WAIT", 1, 2000) >= 1


def test_a_killed_master_loses_no_session_and_logins_go_on(app, own_sentinel):
    users = [browser(app) for _ in range(3)]
    for user in users:
        log_in(user)
    pending = acs_form(browser(app))  # a login under way: its outstanding request is in the store
    replicated(own_sentinel)
    old = own_sentinel.ports["master"]

    own_sentinel.kill("master")  # SIGKILL: no goodbye to the clients or the replica
    assert own_sentinel.wait_for_new_master(old) == own_sentinel.ports["replica"]

    # The app's pooled connections point to the dead master: the first command
    # of each request fails, the client asks the sentinels again and retries once.
    assert [logged_in(user) for user in users] == [True, True, True]
    assert pending.submit().status_int == 302  # the login under way ends on the new master
    newcomer = browser(app)
    log_in(newcomer)
    assert logged_in(newcomer)


def test_a_stalled_master_costs_the_next_request_one_timeout_not_a_failed_login(app, own_sentinel):
    """The master stops answering but keeps its sockets open (SIGSTOP: a frozen VM, a partition).

    The app's pooled connection looks alive, so the first command goes to
    the old master and times out; the one retry reconnects, asks the
    sentinels, and runs on the new master.  Without that retry this
    request would be a 503.
    """
    user = browser(app)
    log_in(user)
    replicated(own_sentinel)
    old = own_sentinel.ports["master"]

    own_sentinel.stop("master")
    own_sentinel.wait_for_new_master(old)

    assert logged_in(user)
    other = browser(app)
    log_in(other)
    assert logged_in(other)


def test_a_manual_failover_is_invisible_to_logged_in_users(app, own_sentinel):
    """SENTINEL FAILOVER demotes a live master: its clients are cut off or answered READONLY, then rediscover."""
    user = browser(app)
    log_in(user)
    replicated(own_sentinel)
    old = own_sentinel.ports["master"]

    own_sentinel.client("sentinel-1").execute_command("SENTINEL", "FAILOVER", "ekn-test-master")
    own_sentinel.wait_for_new_master(old)

    assert logged_in(user)
    other = browser(app)
    log_in(other)
    assert logged_in(other)


def test_a_dead_sentinel_is_skipped_at_once(own_sentinel):
    """The first sentinel of the URL is down: the master is found through the next one, without a retry loop."""
    own_sentinel.kill("sentinel-1")
    store = store_from_url(
        own_sentinel.url(socket_connect_timeout="0.5"), key_prefix=f"ekn-test-sentinel:{uuid.uuid4().hex}:"
    )
    try:
        started = time.monotonic()
        store.put("probe", "k", {"v": 1}, 10)
        assert time.monotonic() - started < 1.0
        assert store.get("probe", "k") == {"v": 1}
    finally:
        store.delete("probe", "k")
        store.close()
