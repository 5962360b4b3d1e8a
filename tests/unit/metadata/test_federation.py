# SPDX-License-Identifier: Apache-2.0
"""Federation metadata: required signature by the pinned signer, validUntil, schema, refresh, backing file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.server
import json
import logging
import os
import threading
import time

import pytest

from ekn_saml.errors import ErrorCode, MetadataError
from ekn_saml.metadata.federation import FederationMetadata, parse_duration, read_source, verify_and_index
from ekn_saml.metadata.idp import IdpRegistry
from ekn_saml.timeutil import utcnow

from metadata_factory import (
    SVELEG_IDP,
    SVELEG_MOBILE_IDP,
    aggregate,
    federation_idp,
    fixture_bytes,
    signed,
    strip_signature,
    write,
)
from testbed import BANKID_IDP, EXPISOFT_IDP


@pytest.fixture(scope="module")
def sveleg():
    return fixture_bytes("sveleg-fedtest.xml")


def check(data, fed_signer, **kw):
    return verify_and_index(data, [fed_signer[1]], now=utcnow(), source="test", **kw)


def rejected(data, fed_signer) -> MetadataError:
    with pytest.raises(MetadataError) as info:
        check(data, fed_signer)
    assert info.value.code == ErrorCode.METADATA_INVALID
    return info.value


class TestVerifyAndIndex:
    def test_signed_real_aggregate_is_indexed(self, sveleg, fed_signer):
        doc = check(signed(sveleg, fed_signer[0]), fed_signer)
        assert doc.entity_count == 45
        assert sorted(doc.idps.entity_ids) == [SVELEG_IDP, SVELEG_MOBILE_IDP]
        assert doc.cache_duration == dt.timedelta(minutes=10)

    def test_idp_record_carries_what_the_metadata_says(self, sveleg, fed_signer):
        idp = check(signed(sveleg, fed_signer[0]), fed_signer).idps.get(SVELEG_IDP)
        assert "http://id.elegnamnden.se/ec/1.0/loa3-pnr" in idp.entity_categories
        assert "http://id.elegnamnden.se/loa/1.0/loa3" in idp.assurance_certifications
        assert idp.scopes == {"3xasecurity.com"}
        assert idp.signing_keys and idp.encryption_keys
        assert idp.display_names["sv"].startswith("E-legitimationsnämndens")

    def test_stripped_signature_is_rejected(self, sveleg, fed_signer):
        assert "not signed" in rejected(strip_signature(signed(sveleg, fed_signer[0])), fed_signer).detail

    def test_unsigned_aggregate_is_rejected(self, sveleg, fed_signer):
        rejected(sveleg, fed_signer)

    def test_wrong_signer_is_rejected(self, sveleg, fed_signer, attacker_keys):
        key, cert = attacker_keys
        assert "SIGNATURE_INVALID" in rejected(signed(sveleg, key, cert), fed_signer).detail

    def test_change_after_signing_is_rejected(self, sveleg, fed_signer):
        data = signed(sveleg, fed_signer[0]).replace(
            b"https://idp.svelegtest.se/idp/profile", b"https://evil.example/idp/profile"
        )
        assert "SIGNATURE_INVALID" in rejected(data, fed_signer).detail

    def test_signature_over_one_entity_only_is_rejected(self, fed_signer, idp_keys):
        # a wrapped aggregate: the signed element is an inner entity, the root is not signed
        from lxml import etree

        from ekn_saml.xmlsecurity import parse_xml, sign_enveloped

        root = parse_xml(aggregate(federation_idp(BANKID_IDP, idp_keys[1], extra_attrs=' ID="_e"')))
        root.set("validUntil", "2099-01-01T00:00:00Z")
        sign_enveloped(root[0], fed_signer[0])
        assert "not signed" in rejected(etree.tostring(root), fed_signer).detail

    def test_expired_valid_until_is_rejected(self, sveleg, fed_signer):
        data = signed(sveleg, fed_signer[0], valid_until=utcnow() - dt.timedelta(seconds=1))
        assert "has passed" in rejected(data, fed_signer).detail

    def test_missing_valid_until_is_rejected(self, sveleg, fed_signer):
        data = signed(sveleg, fed_signer[0], mutate=lambda root: root.attrib.pop("validUntil"))
        assert "no validUntil" in rejected(data, fed_signer).detail

    def test_bad_schema_aggregate_is_rejected(self, fed_signer):
        data = signed(fixture_bytes("sveleg-fedtest-badschema.xml"), fed_signer[0])
        assert "not valid SAML metadata" in rejected(data, fed_signer).detail

    # verify_and_index leaves the relative-namespace check to the signature
    # (parse_xml whole_document_signed): these two pin the libxml2 behaviour
    # that rests on.  An unused declaration is not canonicalised by exc-c14n,
    # so added after signing it changes no digest ...
    def test_unused_namespace_declaration_added_after_signing_still_verifies(self, sveleg, fed_signer):
        data = signed(sveleg, fed_signer[0]).replace(b"<md:Extensions>", b'<md:Extensions xmlns:p="urn:unused">', 1)
        assert check(data, fed_signer).entity_count == 45

    # ... yet a relative one anywhere fails the canonicalisation, and the document with it.
    def test_relative_namespace_declaration_anywhere_is_rejected(self, sveleg, fed_signer):
        data = signed(sveleg, fed_signer[0]).replace(b"<md:Extensions>", b'<md:Extensions xmlns:p="relative">', 1)
        assert "SIGNATURE_INVALID" in rejected(data, fed_signer).detail

    # The aggregate's ID checks are left to the root signature too (parse_xml
    # whole_document_signed): a copy of the signed root's ID elsewhere cannot
    # take the signature, and each IdP entity is checked in full when built.
    def test_wrapped_aggregate_with_the_signed_roots_id_is_rejected(self, sveleg, fed_signer):
        from lxml import etree

        from ekn_saml.xml_limits import METADATA_LIMITS
        from ekn_saml.xmlsecurity import NS, parse_xml

        original = parse_xml(signed(sveleg, fed_signer[0]), limits=METADATA_LIMITS)
        evil = etree.Element(
            original.tag, ID=original.get("ID"), validUntil=original.get("validUntil"), nsmap=original.nsmap
        )
        evil.append(original.find("ds:Signature", NS))  # the signature moves to the evil root
        extensions = etree.SubElement(evil, "{{{}}}Extensions".format(NS["md"]))
        extensions.append(original)  # the signed original hides inside it
        assert "SIGNATURE_INVALID" in rejected(etree.tostring(evil), fed_signer).detail

    def test_entity_repeating_the_roots_id_is_refused_by_the_schema(self, fed_signer, idp_keys):
        # libxml2's schema validation refuses a second xs:ID with one value
        bad = federation_idp(BANKID_IDP, idp_keys[1], extra_attrs=' ID="_fed"')
        assert "not valid SAML metadata" in rejected(signed(aggregate(bad), fed_signer[0]), fed_signer).detail

    def test_idp_entity_with_a_namespaced_id_is_not_used(self, fed_signer, idp_keys, caplog):
        bad = federation_idp(BANKID_IDP, idp_keys[1], extra_attrs=' xmlns:p="urn:x" p:ID="_x"')
        doc = check(signed(aggregate(bad, federation_idp(EXPISOFT_IDP, idp_keys[1])), fed_signer[0]), fed_signer)
        assert doc.idps.get(BANKID_IDP) is None
        assert doc.idps.get(EXPISOFT_IDP) is not None

    def test_configured_idp_with_an_id_problem_fails_the_load(self, fed_signer, idp_keys):
        bad = federation_idp(BANKID_IDP, idp_keys[1], extra_attrs=' xmlns:p="urn:x" p:ID="_x"')
        with pytest.raises(MetadataError) as info:
            check(signed(aggregate(bad), fed_signer[0]), fed_signer, eager=[BANKID_IDP])
        assert "XML_DUPLICATE_ID" in info.value.detail

    def test_doctype_is_rejected_before_anything_else(self, fed_signer):
        rejected(b'<!DOCTYPE x [<!ENTITY a "b">]><x/>', fed_signer)

    def test_expired_entity_is_dropped_and_the_rest_kept(self, fed_signer, idp_keys):
        old = federation_idp(BANKID_IDP, idp_keys[1], extra_attrs=' validUntil="2001-01-01T00:00:00Z"')
        doc = check(signed(aggregate(old, federation_idp(EXPISOFT_IDP, idp_keys[1])), fed_signer[0]), fed_signer)
        assert doc.idps.entity_ids == [EXPISOFT_IDP]

    def test_unused_idp_with_broken_key_is_ignored(self, fed_signer, idp_keys, caplog):
        broken = federation_idp(BANKID_IDP, idp_keys[1], signing_b64="AAAA")
        doc = check(signed(aggregate(broken, federation_idp(EXPISOFT_IDP, idp_keys[1])), fed_signer[0]), fed_signer)
        with caplog.at_level(logging.WARNING, "ekn_saml.metadata"):
            assert doc.idps.get(BANKID_IDP) is None
        assert doc.idps.get(EXPISOFT_IDP) is not None
        assert caplog.records

    def test_used_idp_with_broken_key_rejects_the_document(self, fed_signer, idp_keys):
        broken = federation_idp(BANKID_IDP, idp_keys[1], signing_b64="AAAA")
        data = signed(aggregate(broken), fed_signer[0])
        with pytest.raises(MetadataError):
            check(data, fed_signer, eager=[BANKID_IDP])

    def test_idps_are_built_only_when_used(self, fed_signer, idp_keys):
        doc = check(
            signed(
                aggregate(federation_idp(BANKID_IDP, idp_keys[1]), federation_idp(EXPISOFT_IDP, idp_keys[1])),
                fed_signer[0],
            ),
            fed_signer,
        )
        assert doc.idps._built == {}
        doc.idps.get(BANKID_IDP)
        assert list(doc.idps._built) == [BANKID_IDP]


class TestDuration:
    @pytest.mark.parametrize(
        "text, seconds",
        [("PT10M0.000S", 600), ("PT6H", 21600), ("P1D", 86400), ("P1DT1H", 90000), ("PT0.5S", 0.5)],
    )
    def test_parses(self, text, seconds):
        assert parse_duration(text).total_seconds() == seconds

    @pytest.mark.parametrize("text", ["", "P", "PT", "10M", "-PT1H", "P1DT"])
    def test_unusable_is_none(self, text):
        assert parse_duration(text) is None


def make(fed_settings, **kw):
    return FederationMetadata(fed_settings, **kw)


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
        from ekn_saml.metadata.idp import IdpInfo

        write(fed_settings.metadata_url, signed(sveleg, fed_signer[0]))
        fed = make(fed_settings)
        fed.load_initial()
        local = IdpInfo(entity_id=SVELEG_IDP, sso_urls={}, signing_keys=(idp_keys[1],))
        registry = IdpRegistry({SVELEG_IDP: local})
        registry.attach(fed)
        assert registry.get(SVELEG_IDP) is local

    def test_idp_past_its_valid_until_is_not_returned(self, idp_keys):
        from ekn_saml.metadata.idp import IdpInfo

        info = IdpInfo(
            entity_id=BANKID_IDP, sso_urls={}, signing_keys=(idp_keys[1],), valid_until=utcnow() + dt.timedelta(hours=1)
        )
        registry = IdpRegistry({BANKID_IDP: info}, clock=lambda: utcnow() + dt.timedelta(hours=2))
        assert registry.get(BANKID_IDP) is None


class _Handler(http.server.BaseHTTPRequestHandler):
    body = b""
    status = 200
    redirect_to = None

    def do_GET(self):
        if self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to)
            self.end_headers()
            return
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_source():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), type("H", (_Handler,), {}))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


class TestHttpSource:
    def test_loopback_http_source_is_fetched_when_testing(self, fed_settings, fed_signer, sveleg, http_source):
        http_source.RequestHandlerClass.body = signed(sveleg, fed_signer[0])
        url = f"http://127.0.0.1:{http_source.server_port}/md.xml"
        fed = make(dataclasses.replace(fed_settings, metadata_url=url, allow_loopback_http=True))
        assert fed.load_initial().origin == "source"

    def test_plain_http_is_refused_outside_tests(self, fed_settings, http_source):
        url = f"http://127.0.0.1:{http_source.server_port}/md.xml"
        with pytest.raises(MetadataError):
            read_source(dataclasses.replace(fed_settings, metadata_url=url))

    def test_oversized_download_is_refused(self, fed_settings, http_source):
        http_source.RequestHandlerClass.body = b"x" * (70 * 1024)
        url = f"http://127.0.0.1:{http_source.server_port}/md.xml"
        with pytest.raises(MetadataError) as info:
            read_source(
                dataclasses.replace(fed_settings, metadata_url=url, allow_loopback_http=True, max_bytes=64 * 1024)
            )
        assert "max_bytes" in info.value.detail

    def test_unreachable_server_is_a_metadata_error(self, fed_settings):
        url = "http://127.0.0.1:9/md.xml"  # discard port: nothing listens
        with pytest.raises(MetadataError):
            read_source(dataclasses.replace(fed_settings, metadata_url=url, allow_loopback_http=True, timeout=2))

    def test_http_error_status_is_a_metadata_error(self, fed_settings, http_source):
        url = f"http://127.0.0.1:{http_source.server_port}/missing.xml"
        http_source.RequestHandlerClass.status = 404
        with pytest.raises(MetadataError) as info:
            read_source(dataclasses.replace(fed_settings, metadata_url=url, allow_loopback_http=True))
        assert "HTTP 404" in info.value.detail

    def test_redirect_to_a_weaker_scheme_is_refused(self, fed_settings, http_source):
        http_source.RequestHandlerClass.redirect_to = "ftp://example.test/md.xml"
        url = f"http://127.0.0.1:{http_source.server_port}/md.xml"
        with pytest.raises(MetadataError):
            read_source(dataclasses.replace(fed_settings, metadata_url=url, allow_loopback_http=True))


class TestNestedGroups:
    def test_inner_group_valid_until_applies_to_its_entities(self, fed_signer, idp_keys):
        inner = (
            f'<md:EntitiesDescriptor validUntil="{(utcnow() + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}">'
            f"{federation_idp(BANKID_IDP, idp_keys[1])}</md:EntitiesDescriptor>"
        )
        doc = check(signed(aggregate(inner, federation_idp(EXPISOFT_IDP, idp_keys[1])), fed_signer[0]), fed_signer)
        assert doc.entity_count == 2
        assert doc.idps.get(BANKID_IDP).valid_until < doc.idps.get(EXPISOFT_IDP).valid_until


# ------------------------------------------------------------ never back in time


def _bankid(cert, fed_signer, **signing) -> bytes:
    """A federation document whose BankID IdP signs with ``cert``; ``signing`` goes to metadata_factory.signed."""
    return signed(aggregate(federation_idp(BANKID_IDP, cert)), fed_signer[0], **signing)


def _signing_ders(fed) -> list[bytes]:
    return [key.der for key in fed.get(BANKID_IDP).signing_keys]


def _aged(path, seconds=3600):
    """Make ``path`` look written ``seconds`` ago, so that startup tries the source before it."""
    old = time.time() - seconds
    os.utime(path, (old, old))


@pytest.fixture
def rotation(fed_settings, fed_signer, idp_keys, idp_next_keys):
    """A holder that loaded the document with the IdP's old key, then the newer one that rotated it.

    Returns ``(holder, old document bytes, new document bytes)``.
    """
    now = utcnow()
    before = _bankid(idp_keys[1], fed_signer, created=now - dt.timedelta(hours=2))
    after = _bankid(idp_next_keys[1], fed_signer, created=now - dt.timedelta(hours=1))
    write(fed_settings.metadata_url, before)
    fed = make(fed_settings)
    fed.load_initial()
    write(fed_settings.metadata_url, after)
    assert fed.refresh() is True
    return fed, before, after


class TestNeverBackInTime:
    def test_older_document_is_refused_and_the_removed_key_stays_untrusted(
        self, rotation, fed_settings, idp_keys, idp_next_keys
    ):
        fed, before, _ = rotation
        write(fed_settings.metadata_url, before)  # the very bytes that were accepted two hours' worth ago
        assert fed.refresh() is False
        assert _signing_ders(fed) == [idp_next_keys[1].der]
        assert fed.health.failures == 1

    def test_older_document_is_refused_without_a_backing_file(self, rotation, fed_settings, idp_next_keys):
        # the document in use is the limit even when no backing file tells (removed, or never writable)
        fed, before, _ = rotation
        os.remove(fed_settings.backing_file)
        write(fed_settings.metadata_url, before)
        assert fed.refresh() is False
        assert _signing_ders(fed) == [idp_next_keys[1].der]

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
        write(fed_settings.metadata_url, _bankid(idp_keys[1], fed_signer, created=utcnow()))
        assert fed.refresh() is True
        assert _signing_ders(fed) == [idp_keys[1].der]

    def test_without_publication_info_an_earlier_valid_until_is_refused(
        self, fed_settings, fed_signer, idp_keys, idp_next_keys
    ):
        now = utcnow()
        write(fed_settings.metadata_url, _bankid(idp_next_keys[1], fed_signer, valid_until=now + dt.timedelta(days=2)))
        fed = make(fed_settings)
        fed.load_initial()
        write(fed_settings.metadata_url, _bankid(idp_keys[1], fed_signer, valid_until=now + dt.timedelta(days=1)))
        assert fed.refresh() is False
        assert _signing_ders(fed) == [idp_next_keys[1].der]

    def test_without_publication_info_a_later_valid_until_is_accepted(
        self, fed_settings, fed_signer, idp_keys, idp_next_keys
    ):
        now = utcnow()
        write(fed_settings.metadata_url, _bankid(idp_keys[1], fed_signer, valid_until=now + dt.timedelta(days=1)))
        fed = make(fed_settings)
        fed.load_initial()
        write(fed_settings.metadata_url, _bankid(idp_next_keys[1], fed_signer, valid_until=now + dt.timedelta(days=2)))
        assert fed.refresh() is True

    def test_old_document_without_publication_info_does_not_pass_a_newer_one_with_it(
        self, fed_settings, fed_signer, idp_keys, idp_next_keys
    ):
        # its validUntil (ahead of us) must not be weighed against a creationInstant (behind us)
        now = utcnow()
        old = _bankid(idp_keys[1], fed_signer, valid_until=now + dt.timedelta(days=1))
        write(
            fed_settings.metadata_url,
            _bankid(
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
        assert _signing_ders(fed) == [idp_next_keys[1].der]

    def test_publication_info_without_creation_instant_counts_as_none(self, fed_signer, idp_keys):
        from metadata_factory import add_publication_info

        doc = check(_bankid(idp_keys[1], fed_signer, mutate=lambda root: add_publication_info(root, None)), fed_signer)
        assert (doc.created, doc.publication.kind) == (None, "validUntil")

    def test_status_shows_the_publication_instant_in_use(self, rotation):
        fed, _, _ = rotation
        status = fed.status()
        assert status["published_from"] == "creationInstant"
        assert status["published"] == _iso_of(fed.current.created)


def _iso_of(moment):
    from ekn_saml.timeutil import format_instant

    return format_instant(moment)


class TestPublicationInfo:
    def test_creation_instant_is_read(self, fed_signer, idp_keys):
        moment = utcnow().replace(microsecond=0) - dt.timedelta(hours=1)
        doc = check(_bankid(idp_keys[1], fed_signer, created=moment), fed_signer)
        assert (doc.created, doc.publication.instant) == (moment, moment)

    def test_creation_instant_in_the_future_is_refused(self, fed_signer, idp_keys):
        data = _bankid(idp_keys[1], fed_signer, created=utcnow() + dt.timedelta(hours=1))
        assert "in the future" in rejected(data, fed_signer).detail

    def test_creation_instant_without_a_zone_is_refused(self, fed_signer, idp_keys):
        data = _bankid(idp_keys[1], fed_signer, created="2026-01-01T00:00:00")
        assert "creationInstant" in rejected(data, fed_signer).detail

    def test_two_publication_infos_are_refused(self, fed_signer, idp_keys):
        from metadata_factory import add_publication_info

        def twice(root):
            add_publication_info(root, "2026-01-01T00:00:00Z")
            add_publication_info(root, "2026-02-01T00:00:00Z")

        assert "PublicationInfo" in rejected(_bankid(idp_keys[1], fed_signer, mutate=twice), fed_signer).detail


class TestValidityCap:
    def test_valid_until_beyond_the_cap_is_refused(self, fed_signer, idp_keys):
        data = _bankid(idp_keys[1], fed_signer, valid_until=utcnow() + dt.timedelta(days=32))
        assert "max_validity_days" in rejected(data, fed_signer).detail

    def test_valid_until_at_the_cap_is_accepted(self, fed_signer, idp_keys):
        data = _bankid(idp_keys[1], fed_signer, valid_until=utcnow() + dt.timedelta(days=31))
        assert check(data, fed_signer).idps.get(BANKID_IDP) is not None

    def test_the_setting_sets_the_cap(self, fed_settings, fed_signer, idp_keys):
        write(fed_settings.metadata_url, _bankid(idp_keys[1], fed_signer, valid_until=utcnow() + dt.timedelta(days=3)))
        with pytest.raises(MetadataError) as info:
            make(dataclasses.replace(fed_settings, max_validity_days=2)).load_initial()
        assert "max_validity_days" in info.value.detail

    def test_backing_file_beyond_the_cap_is_not_used(self, fed_settings, fed_signer, idp_keys):
        write(fed_settings.metadata_url, _bankid(idp_keys[1], fed_signer, valid_until=utcnow() + dt.timedelta(days=3)))
        make(fed_settings).load_initial()
        os.remove(fed_settings.metadata_url)
        with pytest.raises(MetadataError) as info:
            make(dataclasses.replace(fed_settings, max_validity_days=2)).load_initial()
        assert "backing file" in info.value.detail and "max_validity_days" in info.value.detail


class TestBackingFileNeverBackInTime:
    def test_source_older_than_the_backing_file_at_startup_uses_the_backing_file(
        self, rotation, fed_settings, idp_next_keys
    ):
        _, before, after = rotation  # the backing file holds the newer document
        write(fed_settings.metadata_url, before)
        _aged(fed_settings.backing_file)
        fed = make(fed_settings)
        assert fed.load_initial().origin == "backing file"
        assert _signing_ders(fed) == [idp_next_keys[1].der]
        with open(fed_settings.backing_file, "rb") as fh:
            assert fh.read() == after

    def test_source_refused_at_startup_is_audited(self, rotation, fed_settings, caplog):
        _, before, _ = rotation
        write(fed_settings.metadata_url, before)
        _aged(fed_settings.backing_file)
        with caplog.at_level(logging.INFO, "ekn_saml.audit"):
            make(fed_settings).load_initial()
        lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ekn_saml.audit"]
        assert [(line["outcome"], line["code"]) for line in lines] == [("failure", "EKN-OPS-002")]

    def test_refresh_does_not_replace_a_newer_document_another_worker_stored(
        self, fed_settings, fed_signer, idp_keys, idp_next_keys
    ):
        now = utcnow()
        first = _bankid(idp_keys[1], fed_signer, created=now - dt.timedelta(hours=3))
        middle = _bankid(idp_keys[1], fed_signer, created=now - dt.timedelta(hours=2))
        newest = _bankid(idp_next_keys[1], fed_signer, created=now - dt.timedelta(hours=1))
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
        _aged(fed_settings.backing_file)
        assert make(fed_settings).load_initial().origin == "source"

    def test_the_backing_file_is_replaced_under_its_lock(self, rotation, fed_settings, fed_signer, idp_keys):
        import fcntl

        fed, _, _ = rotation
        write(fed_settings.metadata_url, _bankid(idp_keys[1], fed_signer, created=utcnow()))
        with open(fed_settings.backing_file + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another worker is comparing and writing
            refresher = threading.Thread(target=fed.refresh)
            refresher.start()
            refresher.join(1.0)
            assert refresher.is_alive()  # waits for the lock
        refresher.join(10)
        assert fed.current.created is not None and fed.health.failures == 0
