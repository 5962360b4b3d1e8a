# SPDX-License-Identifier: Apache-2.0
"""Two workers of one machine refresh the federation metadata with one download, and both get the new document.

Each "worker" is a whole app (``ekn_saml.demo.main``) with the same
settings, as gunicorn's pre-fork workers have: the same SQLite state store
(where the refresh lease lives) and the same backing file.  The source is
a local HTTP server that counts the downloads; the federation's key signs
every document it serves.  A refresh interval is made to pass by setting
each holder's ``next_refresh`` to now, as the interval's end does.
"""

from __future__ import annotations

import datetime as dt
import http.server
import threading
import time

import pytest
import webtest

from ekn_saml.demo import main
from ekn_saml.interfaces import IFederationMetadata, IStateStore
from ekn_saml.keygen import write_key_pair
from ekn_saml.metadata.refresher import LEASES
from ekn_saml.timeutil import utcnow
from ekn_saml.xmlsecurity import PrivateKey

from federation_cases import signing_ders
from metadata_factory import bankid_and_expisoft, signed

ENV = {"wsgi.url_scheme": "https", "HTTP_HOST": "sp.example.test", "REMOTE_ADDR": "127.0.0.1"}


class CountingSource(http.server.BaseHTTPRequestHandler):
    """Serves ``body`` and counts the GETs (one class per server: the fixture makes a subclass)."""

    body = b""
    downloads = 0
    lock = threading.Lock()

    def do_GET(self):
        with self.lock:
            type(self).downloads += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/samlmetadata+xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def federation_signer(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("fed"))
    key, cert = write_key_pair(directory, "federation-signer", "ekn_saml test federation signer (TEST ONLY)", bits=2048)
    return PrivateKey.from_file(key), cert


@pytest.fixture
def source():
    handler = type("Source", (CountingSource,), {"downloads": 0, "lock": threading.Lock()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def publish(source, data: bytes) -> None:
    source.RequestHandlerClass.body = data


def downloads(source) -> int:
    return source.RequestHandlerClass.downloads


@pytest.fixture
def worker_settings(app_settings, federation_signer, source, tmp_path):
    settings = dict(app_settings)
    del settings["ekn_saml.idp.metadata_files"]  # every IdP comes from the federation
    settings.update(
        {
            # loopback http: allowed because the test settings set ekn_saml.testing
            "ekn_saml.federation.metadata_url": f"http://127.0.0.1:{source.server_port}/federation.xml",
            "ekn_saml.federation.signing_cert": federation_signer[1],
            "ekn_saml.federation.backing_file": str(tmp_path / "var" / "federation.xml"),
            "ekn_saml.store.url": "sqlite:///" + str(tmp_path / "state.sqlite"),
        }
    )
    return settings


@pytest.fixture
def documents(idp_keys, idp_next_keys, federation_signer):
    """(the document at startup, the newer one that rotates the BankID IdP's key)."""
    now = utcnow()
    old = signed(bankid_and_expisoft(idp_keys[1]), federation_signer[0], created=now - dt.timedelta(hours=2))
    new = signed(bankid_and_expisoft(idp_next_keys[1]), federation_signer[0], created=now - dt.timedelta(hours=1))
    return old, new


@pytest.fixture
def workers(worker_settings, source, documents):
    publish(source, documents[0])
    apps = [main({}, **worker_settings) for _ in range(2)]
    holders = [app.registry.getUtility(IFederationMetadata) for app in apps]
    yield apps, holders
    for holder in holders:
        holder.stop()


def make_due(holders) -> None:
    for holder in holders:
        holder.health.next_refresh = utcnow()


def test_the_second_worker_starts_from_the_first_ones_backing_file(workers, source):
    assert downloads(source) == 1


def test_one_refresh_interval_one_download_and_both_workers_have_the_new_document(
    workers, source, documents, idp_next_keys
):
    _apps, (first, second) = workers
    publish(source, documents[1])
    make_due([first, second])

    assert first.refresh() is True  # took the lease and downloaded
    assert second.refresh() is True  # picked up the backing file the first one wrote

    assert downloads(source) == 2  # the one at startup, and this interval's
    assert signing_ders(first) == signing_ders(second) == [idp_next_keys[1].der]


def test_background_threads_falling_due_together_download_once(workers, source, documents, idp_next_keys):
    """Both workers' threads wake in the same instant: one gets the lease, the other picks up its file."""
    apps, holders = workers
    for holder in holders:
        holder.pickup_pause = 0.2  # the test's patience, not the product's (30 s at most)
    publish(source, documents[1])
    make_due(holders)
    for app in apps:
        webtest.TestApp(app, extra_environ=ENV).get("/login/bankid")  # the first request starts each thread

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not all(signing_ders(h) == [idp_next_keys[1].der] for h in holders):
        time.sleep(0.05)
    assert [signing_ders(h) for h in holders] == [[idp_next_keys[1].der]] * 2
    assert downloads(source) == 2


def test_a_backing_file_that_does_not_verify_is_not_picked_up(workers, source, documents, idp_keys, federation_signer):
    """The file is only a hand-over: a worker trusts it as far as its signature goes, like a download."""
    _apps, (first, second) = workers
    # after signing: the IdP's login URL changed, so the signature no longer matches
    tampered = documents[1].replace(b"https://idp.example.test/sso", b"https://evil.example.test/sso")
    assert tampered != documents[1]
    with open(first.settings.backing_file, "wb") as fh:
        fh.write(tampered)
    assert second.pick_up_backing_file() is False
    assert signing_ders(second) == [idp_keys[1].der]


def test_without_the_lease_a_worker_waits_for_the_file_instead_of_downloading(workers, source, documents):
    apps, (first, second) = workers
    store = apps[0].registry.getUtility(IStateStore)
    assert store.add(LEASES, first._lease_key(), {"pid": 0}, first.lease_ttl())  # another worker is downloading
    publish(source, documents[1])
    make_due([second])

    assert second.refresh() is False
    assert downloads(source) == 1
    assert second.health.next_refresh <= utcnow() + dt.timedelta(seconds=second.pickup_pause)
    assert second.health.failures == 0  # waiting for another worker is not a failed refresh


def test_an_older_document_in_the_backing_file_is_not_picked_up(workers, source, documents, idp_next_keys):
    """Never back in time, through the hand-over either: a validly signed but older document stays unused."""
    _apps, (first, second) = workers
    publish(source, documents[1])
    make_due([first, second])
    assert first.refresh() and second.refresh()
    with open(first.settings.backing_file, "wb") as fh:
        fh.write(documents[0])
    assert second.pick_up_backing_file() is False
    assert signing_ders(second) == [idp_next_keys[1].der]
