# SPDX-License-Identifier: Apache-2.0
"""gunicorn with preload (pserve builds the app in the master, then forks): the master forks without a refresher thread.

Threads do not survive a fork, and a master that refreshed the federation
metadata would download once more per interval for nobody.  The app is
built in the master (``ApplicationCreated`` fires there), so the refresher
is only armed then; a worker's first request that reads the document
starts that worker's thread (tests/functional/test_federation_app.py).
With the thread started at ApplicationCreated, as before, the master here
has 2 threads (gunicorn's control socket, which has a thread of its own, is
turned off).  Served as production.ini.example serves it
(tests/multinode/gunicorn_harness.py), with signed federation metadata
from a file and a SQLite store.
"""

from __future__ import annotations

import os

import pytest

from ekn_saml.keygen import write_key_pair
from ekn_saml.testing import development_settings, make_test_keys
from ekn_saml.xmlsecurity import PrivateKey, PublicKey

from gunicorn_harness import PUBLIC_BASE, WORKERS, Browser, GunicornServer, worker_of, write_gunicorn_ini
from metadata_factory import bankid_and_expisoft, signed, write

pytestmark = pytest.mark.slow


@pytest.fixture
def server(request, tmp_path):
    keys = make_test_keys(str(tmp_path / "keys"), "gunicorn refresher test")
    signer_key, signer_cert = write_key_pair(
        str(tmp_path), "federation-signer", "ekn_saml test federation signer (TEST ONLY)", bits=2048
    )
    with open(signer_cert, "rb") as fh:
        some_idp_cert = PublicKey.from_pem(fh.read())  # any certificate will do for the IdPs' keys here
    source = write(
        tmp_path / "federation.xml", signed(bankid_and_expisoft(some_idp_cert), PrivateKey.from_file(signer_key))
    )
    entered = tmp_path / "entered"
    entered.mkdir()
    settings = development_settings(
        sp_base=PUBLIC_BASE,
        keys_dir=keys,
        store_url="sqlite:///" + str(tmp_path / "state.sqlite"),
        cookie_secure=False,
        security__login_start_limit="0",
        federation__metadata_url=source,
        federation__signing_cert=signer_cert,
        federation__backing_file=str(tmp_path / "var" / "federation.xml"),
    )
    # the harness turns gunicorn's control socket off (gunicorn >= 25.1 runs a thread for it in the
    # master), so the master's only thread is its main one whatever the version: any other is ours
    ini = write_gunicorn_ini(tmp_path / "gunicorn.ini", settings, entered_dir=str(entered))
    server = GunicornServer(ini, tmp_path / "gunicorn.log")
    request.addfinalizer(server.stop)
    server.wait_until_serving()
    return server


def threads_of(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def test_the_preloading_master_has_no_refresher_thread(server):
    browser = Browser(server)
    answered = set()
    for _ in range(40):  # the kernel hands connections to either worker: until both have answered
        answered.add(worker_of(browser.start()))
        if len(answered) == WORKERS:
            break
    assert answered == server.worker_pids(), server.log()
    assert threads_of(server.proc.pid) == 1, server.log()
