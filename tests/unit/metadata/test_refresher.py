# SPDX-License-Identifier: Apache-2.0
"""The refreshed holder (ekn_saml.metadata.refresher): loading, refreshing, the backing file, never back in time."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import threading
import time

import pytest

from ekn_saml.errors import MetadataError
from ekn_saml.metadata.idp import IdpInfo, IdpRegistry
from ekn_saml.metadata.refresher import JITTER, _random_jitter
from ekn_saml.timeutil import utcnow

from federation_cases import aged, bankid_document, check, iso_of, make, signing_ders
from metadata_factory import SVELEG_IDP, SVELEG_MOBILE_IDP, aggregate, federation_idp, signed, write
from testbed import BANKID_IDP


class TestRefreshDelay:
    def doc(self, fed_signer, sveleg, cache):
        return check(signed(sveleg, fed_signer[0], cache_duration=cache), fed_signer)

    def test_short_cache_duration_is_raised_to_min_refresh(self, fed_settings, fed_signer, sveleg):
        fed = make(fed_settings)
        assert fed.refresh_delay(self.doc(fed_signer, sveleg, "PT10S"), utcnow()) == 60

    def test_cache_duration_is_honoured_within_bounds(self, fed_settings, fed_signer, sveleg):
        fed = make(fed_settings)
        assert fed.refresh_delay(self.doc(fed_signer, sveleg, "PT20M"), utcnow()) == 900  # 3/4 of it

    def test_long_cache_duration_is_cut_to_max_refresh(self, fed_settings, fed_signer, sveleg):
        fed = make(fed_settings)
        assert fed.refresh_delay(self.doc(fed_signer, sveleg, "P1D"), utcnow()) == 3600


class TestLoadingAndRefreshing:
    def test_initial_load_writes_the_backing_file(self, fed_settings, fed_signer, sveleg):
        data = signed(sveleg, fed_signer[0])
        write(fed_settings.metadata_url, data)
        fed = make(fed_settings)
        assert fed.load_initial().origin == "source"
        with open(fed_settings.backing_file, "rb") as fh:
            assert fh.read() == data
        assert [n for n in os.listdir(os.path.dirname(fed_settings.backing_file)) if n.endswith(".tmp")] == []

    def test_failing_refresh_keeps_the_last_good_metadata(
        self, fed_settings, fed_signer, sveleg, attacker_keys, caplog
    ):
        write(fed_settings.metadata_url, signed(sveleg, fed_signer[0]))
        fed = make(fed_settings)
        good = fed.load_initial()
        write(fed_settings.metadata_url, signed(sveleg, *attacker_keys))
        with caplog.at_level(logging.WARNING, "ekn_saml.metadata"):
            assert fed.refresh() is False
        assert fed.current is good
        assert fed.get(SVELEG_IDP) is not None
        assert fed.health.failures == 1 and "SIGNATURE_INVALID" in fed.health.last_error
        assert any(r.levelno == logging.WARNING for r in caplog.records)

    def test_failing_refresh_does_not_overwrite_the_backing_file(self, fed_settings, fed_signer, sveleg):
        data = signed(sveleg, fed_signer[0])
        write(fed_settings.metadata_url, data)
        fed = make(fed_settings)
        fed.load_initial()
        write(fed_settings.metadata_url, b"<broken")
        fed.refresh()
        with open(fed_settings.backing_file, "rb") as fh:
            assert fh.read() == data

    def test_successful_refresh_swaps_the_document(self, fed_settings, fed_signer, sveleg, idp_keys):
        write(fed_settings.metadata_url, signed(sveleg, fed_signer[0]))
        fed = make(fed_settings)
        fed.load_initial()
        write(fed_settings.metadata_url, signed(aggregate(federation_idp(BANKID_IDP, idp_keys[1])), fed_signer[0]))
        assert fed.refresh() is True
        assert fed.get(SVELEG_IDP) is None and fed.get(BANKID_IDP) is not None

    def test_each_refresh_writes_one_audit_line(self, fed_settings, fed_signer, sveleg, attacker_keys, caplog):
        write(fed_settings.metadata_url, signed(sveleg, fed_signer[0]))
        fed = make(fed_settings)
        fed.load_initial()
        with caplog.at_level(logging.INFO, "ekn_saml.audit"):
            fed.refresh()
            write(fed_settings.metadata_url, signed(sveleg, *attacker_keys))
            fed.refresh()
        lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ekn_saml.audit"]
        assert [line["outcome"] for line in lines] == ["success", "failure"]
        assert lines[1]["code"] == "EKN-OPS-002"

    def test_backing_file_is_used_at_startup_when_the_source_is_unreachable(self, fed_settings, fed_signer, sveleg):
        write(fed_settings.metadata_url, signed(sveleg, fed_signer[0]))
        make(fed_settings).load_initial()
        os.remove(fed_settings.metadata_url)
        old = time.time() - 3600  # not fresh: the source is tried first
        os.utime(fed_settings.backing_file, (old, old))
        fed = make(fed_settings)
        assert fed.load_initial().origin == "backing file"
        assert fed.get(SVELEG_IDP) is not None
        assert fed.health.failures == 1

    def test_fresh_backing_file_is_used_without_the_source(self, fed_settings, fed_signer, sveleg):
        write(fed_settings.metadata_url, signed(sveleg, fed_signer[0]))
        make(fed_settings).load_initial()
        write(fed_settings.metadata_url, b"not even XML")
        fed = make(fed_settings)
        assert fed.load_initial().origin == "backing file"
        assert fed.health.failures == 0

    def test_tampered_backing_file_is_not_trusted(self, fed_settings, fed_signer, sveleg):
        write(fed_settings.metadata_url, signed(sveleg, fed_signer[0]))
        make(fed_settings).load_initial()
        with open(fed_settings.backing_file, "rb") as fh:
            tampered = fh.read().replace(b"svelegtest.se/idp/profile", b"evil.example/idp/profile")
        write(fed_settings.backing_file, tampered)
        os.remove(fed_settings.metadata_url)
        with pytest.raises(MetadataError):
            make(fed_settings).load_initial()

    def test_nothing_loadable_at_startup_is_an_error(self, fed_settings):
        with pytest.raises(MetadataError) as info:
            make(fed_settings).load_initial()
        assert "backing file" in info.value.detail

    def test_expired_document_stops_serving(self, fed_settings, fed_signer, sveleg):
        write(fed_settings.metadata_url, signed(sveleg, fed_signer[0]))
        fed = make(fed_settings)
        fed.load_initial()
        fed.clock = lambda: utcnow() + dt.timedelta(days=3)
        assert fed.get(SVELEG_IDP) is None
        assert fed.status()["expired"] is True

    def test_background_thread_refreshes_when_due(self, fed_settings, fed_signer, sveleg, idp_keys):
        write(fed_settings.metadata_url, signed(sveleg, fed_signer[0]))
        fed = make(dataclasses.replace(fed_settings, min_refresh=1))
        fed.load_initial()
        write(fed_settings.metadata_url, signed(aggregate(federation_idp(BANKID_IDP, idp_keys[1])), fed_signer[0]))
        fed.health.next_refresh = utcnow()
        fed.start()
        try:
            deadline = time.monotonic() + 10
            while fed.get(BANKID_IDP) is None and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            fed.stop()
        assert fed.get(BANKID_IDP) is not None
        assert not fed._thread.is_alive()


class TestRegistry:
    def test_federation_idps_are_found_through_the_registry(self, fed_settings, fed_signer, sveleg):
        write(fed_settings.metadata_url, signed(sveleg, fed_signer[0]))
        fed = make(fed_settings)
        fed.load_initial()
        registry = IdpRegistry({})
        registry.attach(fed)
        assert SVELEG_IDP in registry
        assert {i.entity_id for i in registry.all()} == {SVELEG_IDP, SVELEG_MOBILE_IDP}

    def test_configured_file_wins_over_the_federation(self, fed_settings, fed_signer, sveleg, idp_keys):

        write(fed_settings.metadata_url, signed(sveleg, fed_signer[0]))
        fed = make(fed_settings)
        fed.load_initial()
        local = IdpInfo(entity_id=SVELEG_IDP, sso_urls={}, signing_keys=(idp_keys[1],))
        registry = IdpRegistry({SVELEG_IDP: local})
        registry.attach(fed)
        assert registry.get(SVELEG_IDP) is local

    def test_idp_past_its_valid_until_is_not_returned(self, idp_keys):

        info = IdpInfo(
            entity_id=BANKID_IDP, sso_urls={}, signing_keys=(idp_keys[1],), valid_until=utcnow() + dt.timedelta(hours=1)
        )
        registry = IdpRegistry({BANKID_IDP: info}, clock=lambda: utcnow() + dt.timedelta(hours=2))
        assert registry.get(BANKID_IDP) is None


class TestNeverBackInTime:
    def test_older_document_is_refused_and_the_removed_key_stays_untrusted(
        self, rotation, fed_settings, idp_keys, idp_next_keys
    ):
        fed, before, _ = rotation
        write(fed_settings.metadata_url, before)  # the very bytes that were accepted two hours' worth ago
        assert fed.refresh() is False
        assert signing_ders(fed) == [idp_next_keys[1].der]
        assert fed.health.failures == 1

    def test_older_document_is_refused_without_a_backing_file(self, rotation, fed_settings, idp_next_keys):
        # the document in use is the limit even when no backing file tells (removed, or never writable)
        fed, before, _ = rotation
        os.remove(fed_settings.backing_file)
        write(fed_settings.metadata_url, before)
        assert fed.refresh() is False
        assert signing_ders(fed) == [idp_next_keys[1].der]

    def test_refused_rollback_is_audited_as_a_failed_refresh(self, rotation, fed_settings, caplog):
        fed, before, _ = rotation
        write(fed_settings.metadata_url, before)
        with caplog.at_level(logging.INFO, "ekn_saml.audit"):
            fed.refresh()
        lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ekn_saml.audit"]
        assert [(line["outcome"], line["code"]) for line in lines] == [("failure", "EKN-OPS-002")]

    def test_refused_rollback_leaves_the_backing_file_alone(self, rotation, fed_settings):
        fed, before, after = rotation
        write(fed_settings.metadata_url, before)
        fed.refresh()
        with open(fed_settings.backing_file, "rb") as fh:
            assert fh.read() == after

    def test_the_same_document_again_is_accepted(self, rotation):
        fed, _, _ = rotation
        assert fed.refresh() is True  # the source still serves the new document

    def test_newer_document_is_accepted(self, rotation, fed_settings, fed_signer, idp_keys):
        fed, _, _ = rotation
        write(fed_settings.metadata_url, bankid_document(idp_keys[1], fed_signer, created=utcnow()))
        assert fed.refresh() is True
        assert signing_ders(fed) == [idp_keys[1].der]

    def test_without_publication_info_an_earlier_valid_until_is_refused(
        self, fed_settings, fed_signer, idp_keys, idp_next_keys
    ):
        now = utcnow()
        write(
            fed_settings.metadata_url,
            bankid_document(idp_next_keys[1], fed_signer, valid_until=now + dt.timedelta(days=2)),
        )
        fed = make(fed_settings)
        fed.load_initial()
        write(
            fed_settings.metadata_url, bankid_document(idp_keys[1], fed_signer, valid_until=now + dt.timedelta(days=1))
        )
        assert fed.refresh() is False
        assert signing_ders(fed) == [idp_next_keys[1].der]

    def test_without_publication_info_a_later_valid_until_is_accepted(
        self, fed_settings, fed_signer, idp_keys, idp_next_keys
    ):
        now = utcnow()
        write(
            fed_settings.metadata_url, bankid_document(idp_keys[1], fed_signer, valid_until=now + dt.timedelta(days=1))
        )
        fed = make(fed_settings)
        fed.load_initial()
        write(
            fed_settings.metadata_url,
            bankid_document(idp_next_keys[1], fed_signer, valid_until=now + dt.timedelta(days=2)),
        )
        assert fed.refresh() is True

    def test_old_document_without_publication_info_does_not_pass_a_newer_one_with_it(
        self, fed_settings, fed_signer, idp_keys, idp_next_keys
    ):
        # its validUntil (ahead of us) must not be weighed against a creationInstant (behind us)
        now = utcnow()
        old = bankid_document(idp_keys[1], fed_signer, valid_until=now + dt.timedelta(days=1))
        write(
            fed_settings.metadata_url,
            bankid_document(
                idp_next_keys[1],
                fed_signer,
                valid_until=now + dt.timedelta(days=2),
                created=now - dt.timedelta(minutes=1),
            ),
        )
        fed = make(fed_settings)
        fed.load_initial()
        write(fed_settings.metadata_url, old)
        assert fed.refresh() is False
        assert signing_ders(fed) == [idp_next_keys[1].der]

    def test_publication_info_without_creation_instant_counts_as_none(self, fed_signer, idp_keys):
        from metadata_factory import add_publication_info

        doc = check(
            bankid_document(idp_keys[1], fed_signer, mutate=lambda root: add_publication_info(root, None)), fed_signer
        )
        assert (doc.created, doc.publication.kind) == (None, "validUntil")

    def test_status_shows_the_publication_instant_in_use(self, rotation):
        fed, _, _ = rotation
        status = fed.status()
        assert status["published_from"] == "creationInstant"
        assert status["published"] == iso_of(fed.current.created)


class TestBackingFileNeverBackInTime:
    def test_source_older_than_the_backing_file_at_startup_uses_the_backing_file(
        self, rotation, fed_settings, idp_next_keys
    ):
        _, before, after = rotation  # the backing file holds the newer document
        write(fed_settings.metadata_url, before)
        aged(fed_settings.backing_file)
        fed = make(fed_settings)
        assert fed.load_initial().origin == "backing file"
        assert signing_ders(fed) == [idp_next_keys[1].der]
        with open(fed_settings.backing_file, "rb") as fh:
            assert fh.read() == after

    def test_source_refused_at_startup_is_audited(self, rotation, fed_settings, caplog):
        _, before, _ = rotation
        write(fed_settings.metadata_url, before)
        aged(fed_settings.backing_file)
        with caplog.at_level(logging.INFO, "ekn_saml.audit"):
            make(fed_settings).load_initial()
        lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ekn_saml.audit"]
        assert [(line["outcome"], line["code"]) for line in lines] == [("failure", "EKN-OPS-002")]

    def test_refresh_does_not_replace_a_newer_document_another_worker_stored(
        self, fed_settings, fed_signer, idp_keys, idp_next_keys
    ):
        now = utcnow()
        first = bankid_document(idp_keys[1], fed_signer, created=now - dt.timedelta(hours=3))
        middle = bankid_document(idp_keys[1], fed_signer, created=now - dt.timedelta(hours=2))
        newest = bankid_document(idp_next_keys[1], fed_signer, created=now - dt.timedelta(hours=1))
        write(fed_settings.metadata_url, first)
        worker = make(fed_settings)
        worker.load_initial()
        write(fed_settings.metadata_url, newest)
        make(fed_settings).load_from_source()  # another worker sharing the backing file
        write(fed_settings.metadata_url, middle)  # newer than what `worker` uses, older than the stored one
        assert worker.refresh() is False
        with open(fed_settings.backing_file, "rb") as fh:
            assert fh.read() == newest

    def test_an_unusable_backing_file_does_not_hold_back_a_valid_source(
        self, rotation, fed_settings, fed_signer, idp_keys
    ):
        _, before, _ = rotation
        with open(fed_settings.backing_file, "rb") as fh:
            tampered = fh.read().replace(b"https://idp.example.test/sso", b"https://evil.example.test/sso")
        write(fed_settings.backing_file, tampered)
        write(fed_settings.metadata_url, before)
        aged(fed_settings.backing_file)
        assert make(fed_settings).load_initial().origin == "source"

    def test_the_backing_file_is_replaced_under_its_lock(self, rotation, fed_settings, fed_signer, idp_keys):
        import fcntl

        fed, _, _ = rotation
        write(fed_settings.metadata_url, bankid_document(idp_keys[1], fed_signer, created=utcnow()))
        with open(fed_settings.backing_file + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another worker is comparing and writing
            refresher = threading.Thread(target=fed.refresh)
            refresher.start()
            refresher.join(1.0)
            assert refresher.is_alive()  # waits for the lock
        refresher.join(10)
        assert fed.current.created is not None and fed.health.failures == 0


class TestSeveralWorkers:
    """What each process does alone; two workers sharing a store: tests/multinode/test_metadata_refresh_workers.py."""

    def test_the_refresh_delay_is_jittered_earlier_never_later(self, fed_settings, fed_signer, sveleg):
        write(fed_settings.metadata_url, signed(sveleg, fed_signer[0]))
        fed = make(fed_settings, jitter=lambda: 0.9)
        before = utcnow()
        doc = fed.load_initial()
        delay = (fed.health.next_refresh - before).total_seconds()
        assert 0.9 * fed.refresh_delay(doc, before) - 2 <= delay <= 0.9 * fed.refresh_delay(doc, before) + 2

    def test_the_default_jitter_takes_at_most_a_tenth_off(self):
        draws = [_random_jitter() for _ in range(200)]
        assert all(1 - JITTER <= d <= 1.0 for d in draws) and len(set(draws)) > 1

    def test_a_workers_own_lease_has_run_out_by_its_next_refresh(self, fed_settings):
        assert make(fed_settings).lease_ttl() < fed_settings.min_refresh * (1 - JITTER)

    def test_start_starts_no_thread_until_the_document_is_read(self, fed_settings, fed_signer, sveleg):
        write(fed_settings.metadata_url, signed(sveleg, fed_signer[0]))
        fed = make(fed_settings)
        fed.load_initial()
        fed.start()
        try:
            assert fed._thread is None  # a gunicorn master (preload_app) forks without it
            fed.all()
            assert fed._thread is not None and fed._thread.is_alive()
        finally:
            fed.stop()

    def test_a_store_that_does_not_answer_does_not_stop_the_refresh(self, fed_settings, fed_signer, sveleg, idp_keys):
        """No lease to be had: fresh keys matter more than sparing the server one download."""
        from ekn_saml.storage import store_from_url
        from ekn_saml.testing import free_port

        write(fed_settings.metadata_url, signed(sveleg, fed_signer[0]))
        fed = make(fed_settings)
        fed.load_initial()
        nobody = store_from_url(f"redis+sentinel://127.0.0.1:{free_port()}/nobody?socket_connect_timeout=0.5")
        fed.use_store(nobody)
        write(fed_settings.metadata_url, signed(aggregate(federation_idp(BANKID_IDP, idp_keys[1])), fed_signer[0]))
        assert fed.refresh() is True
        assert fed.get(BANKID_IDP) is not None
