# SPDX-License-Identifier: Apache-2.0
"""Fuzzing the IdP metadata loader (ekn_saml.metadata.idp.parse_idp_metadata).

Seeds: the test federation's metadata, the development IdPs' metadata and,
when tests/data/metadata/sveleg-fedtest.xml is there, its two real IdP
entities (Swedish eID test federation).  Each input is a seed mutated at
the byte or the tree level.  Every input must give a dict of IdPs (none
expired) or a MetadataError; nothing else may escape.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from ekn_saml.devidp import dev_idp_metadata, dev_idps
from ekn_saml.errors import MetadataError
from ekn_saml.metadata.idp import IdpInfo, parse_idp_metadata
from ekn_saml.xmlsecurity import NS, PublicKey

from fuzzing import byte_mutant, fuzz_settings, tally, tree_mutant

pytestmark = pytest.mark.fuzz
TARGET = tally("idp_metadata_loader")
NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
SVELEG = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "metadata", "sveleg-fedtest.xml")


def _real_idps() -> bytes | None:
    """The IdP entities of the real test-federation aggregate, as a small EntitiesDescriptor."""
    if not os.path.exists(SVELEG):
        return None
    with open(SVELEG, "rb") as fh:
        root = etree.fromstring(fh.read())
    small = etree.Element(root.tag, nsmap=root.nsmap)
    for entity in root.findall("md:EntityDescriptor", NS):
        if entity.find("md:IDPSSODescriptor", NS) is not None:
            small.append(entity)
    return etree.tostring(small)


# what validUntil (document or entity) may say: instants with and without a zone, and junk
DATES = [
    "2030-01-01T00:00:00Z",
    "2020-01-01T00:00:00Z",
    "2030-01-01T00:00:00",
    "2030-01-01T00:00:00+14:00",
    "2030-02-30T00:00:00Z",
    "",
    "x",
    "9999-12-31T23:59:59.999999999Z",
]


@st.composite
def dated(draw, seed: bytes) -> bytes:
    """``seed`` with validUntil set on the root or on one EntityDescriptor."""
    root = etree.fromstring(seed)
    targets = [root, *root.iter("{{{}}}EntityDescriptor".format(NS["md"]))]
    draw(st.sampled_from(targets)).set("validUntil", draw(st.sampled_from(DATES)))
    return etree.tostring(root)


@pytest.fixture(scope="module")
def metadata_seeds(idp_metadata_file, idp_keys):
    with open(idp_metadata_file, "rb") as fh:
        seeds = [fh.read()]
    seeds.append(dev_idp_metadata(dev_idps("https://sp.example.test/devidp", "https://sp.example.test"), idp_keys[1]))
    real = _real_idps()
    if real is not None:
        seeds.append(real)
    for seed in seeds:  # the seeds themselves load
        assert parse_idp_metadata(seed, source="seed", now=NOW)
    return seeds


@fuzz_settings(short_examples=3000)
@given(data=st.data())
def test_every_metadata_document_loads_or_is_refused(data, metadata_seeds):
    seed = data.draw(st.sampled_from(metadata_seeds), label="seed")
    mutant = data.draw(st.one_of(byte_mutant(seed), tree_mutant(seed), dated(seed)), label="document")
    try:
        found = parse_idp_metadata(mutant, source="fuzz", now=NOW)
    except MetadataError as exc:
        TARGET.add(exc.code.value)
        return
    except Exception:
        TARGET.unhandled += 1
        raise
    assert all(isinstance(info, IdpInfo) and key == info.entity_id for key, info in found.items())
    assert all(info.valid_until is None or info.valid_until > NOW for info in found.values()), (
        "an expired IdP was loaded"
    )
    assert all(isinstance(k, PublicKey) for info in found.values() for k in info.signing_keys)
    TARGET.add(f"loaded {min(len(found), 3)}{'+' if len(found) > 3 else ''} IdPs")
