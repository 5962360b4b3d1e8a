# SPDX-License-Identifier: Apache-2.0
"""Differential fuzzing of the federation metadata signature check against python-xmlsec.

:func:`ekn_saml.metadata.root_signature.verify_root_signature` computes the
reference digest itself.  Seeds: a small aggregate signed in three shapes
(ds prefix; ds as the default namespace with InclusiveNamespaces; the
Signature after an entity, with a tail).  Each input is a seed mutated at
the byte or the tree level, the signature never recomputed, and goes
through the parse and the check as :func:`verify_and_index` does them.
Every input must verify or raise a SamlError; whatever ours accepts,
python-xmlsec's full verification must accept too (else: an accepted
forgery).  Ours may refuse more (comments inside Signature, other
transform lists).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from ekn_saml.errors import SamlError
from ekn_saml.metadata.root_signature import verify_root_signature
from ekn_saml.xmlsecurity import parse_xml

from fuzzing import byte_mutant, fuzz_settings, tally, tree_mutant
from metadata_factory import aggregate, federation_idp, sign_root, xmlsec_verifies
from testbed import BANKID_IDP, EXPISOFT_IDP

pytestmark = pytest.mark.fuzz
TARGET = tally("metadata_root_signature")


@pytest.fixture(scope="module")
def signer(idp_keys):
    return idp_keys


@pytest.fixture(scope="module")
def seeds(signer):
    root = etree.fromstring(aggregate(federation_idp(BANKID_IDP, signer[1]), federation_idp(EXPISOFT_IDP, signer[1])))
    root.set("validUntil", "2099-01-01T00:00:00Z")
    etree.indent(root)
    document = etree.tostring(root)
    shapes = [
        {},
        {"ns": None, "digest_prefixes": ["mdui", "#default"], "signed_info_prefixes": ["ds"]},
        {"position": 1, "tail": "\n  "},
    ]
    signed = [sign_root(document, signer[0], **shape) for shape in shapes]
    for seed in signed:  # the seeds themselves verify, both ways
        verify_root_signature(parse_xml(seed, whole_document_signed=True), [signer[1]])
        assert xmlsec_verifies(seed, signer[1])
    return signed


@fuzz_settings(short_examples=1500)
@given(data=st.data())
def test_what_verifies_also_verifies_with_xmlsec(data, seeds, signer):
    seed = data.draw(st.sampled_from(seeds), label="seed")
    mutant = data.draw(st.one_of(byte_mutant(seed), tree_mutant(seed)), label="document")
    try:
        verify_root_signature(parse_xml(mutant, whole_document_signed=True), [signer[1]])
    except SamlError as exc:
        TARGET.add(exc.code.name)
        return
    except Exception:
        TARGET.unhandled += 1
        raise
    if not xmlsec_verifies(mutant, signer[1]):
        TARGET.forgeries += 1
        TARGET.finding(mutant.decode("utf-8", "replace"))
        raise AssertionError("verify_root_signature accepted what python-xmlsec refuses")
    TARGET.add("verified")
