# SPDX-License-Identifier: Apache-2.0
"""Verifying and indexing an aggregate (ekn_saml.metadata.aggregate): signature by the pinned signer, validUntil,
its cap, PublicationInfo, schema, nested groups."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os

import pytest

from ekn_saml.errors import MetadataError
from ekn_saml.metadata.aggregate import parse_duration
from ekn_saml.timeutil import utcnow

from federation_cases import bankid_document, check, make, rejected
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


class TestNestedGroups:
    def test_inner_group_valid_until_applies_to_its_entities(self, fed_signer, idp_keys):
        inner = (
            f'<md:EntitiesDescriptor validUntil="{(utcnow() + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}">'
            f"{federation_idp(BANKID_IDP, idp_keys[1])}</md:EntitiesDescriptor>"
        )
        doc = check(signed(aggregate(inner, federation_idp(EXPISOFT_IDP, idp_keys[1])), fed_signer[0]), fed_signer)
        assert doc.entity_count == 2
        assert doc.idps.get(BANKID_IDP).valid_until < doc.idps.get(EXPISOFT_IDP).valid_until


class TestPublicationInfo:
    def test_creation_instant_is_read(self, fed_signer, idp_keys):
        moment = utcnow().replace(microsecond=0) - dt.timedelta(hours=1)
        doc = check(bankid_document(idp_keys[1], fed_signer, created=moment), fed_signer)
        assert (doc.created, doc.publication.instant) == (moment, moment)

    def test_creation_instant_in_the_future_is_refused(self, fed_signer, idp_keys):
        data = bankid_document(idp_keys[1], fed_signer, created=utcnow() + dt.timedelta(hours=1))
        assert "in the future" in rejected(data, fed_signer).detail

    def test_creation_instant_without_a_zone_is_refused(self, fed_signer, idp_keys):
        data = bankid_document(idp_keys[1], fed_signer, created="2026-01-01T00:00:00")
        assert "creationInstant" in rejected(data, fed_signer).detail

    def test_two_publication_infos_are_refused(self, fed_signer, idp_keys):
        from metadata_factory import add_publication_info

        def twice(root):
            add_publication_info(root, "2026-01-01T00:00:00Z")
            add_publication_info(root, "2026-02-01T00:00:00Z")

        assert "PublicationInfo" in rejected(bankid_document(idp_keys[1], fed_signer, mutate=twice), fed_signer).detail


class TestValidityCap:
    def test_valid_until_beyond_the_cap_is_refused(self, fed_signer, idp_keys):
        data = bankid_document(idp_keys[1], fed_signer, valid_until=utcnow() + dt.timedelta(days=32))
        assert "max_validity_days" in rejected(data, fed_signer).detail

    def test_valid_until_at_the_cap_is_accepted(self, fed_signer, idp_keys):
        data = bankid_document(idp_keys[1], fed_signer, valid_until=utcnow() + dt.timedelta(days=31))
        assert check(data, fed_signer).idps.get(BANKID_IDP) is not None

    def test_the_setting_sets_the_cap(self, fed_settings, fed_signer, idp_keys):
        write(
            fed_settings.metadata_url,
            bankid_document(idp_keys[1], fed_signer, valid_until=utcnow() + dt.timedelta(days=3)),
        )
        with pytest.raises(MetadataError) as info:
            make(dataclasses.replace(fed_settings, max_validity_days=2)).load_initial()
        assert "max_validity_days" in info.value.detail

    def test_backing_file_beyond_the_cap_is_not_used(self, fed_settings, fed_signer, idp_keys):
        write(
            fed_settings.metadata_url,
            bankid_document(idp_keys[1], fed_signer, valid_until=utcnow() + dt.timedelta(days=3)),
        )
        make(fed_settings).load_initial()
        os.remove(fed_settings.metadata_url)
        with pytest.raises(MetadataError) as info:
            make(dataclasses.replace(fed_settings, max_validity_days=2)).load_initial()
        assert "backing file" in info.value.detail and "max_validity_days" in info.value.detail
