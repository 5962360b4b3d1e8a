# SPDX-License-Identifier: Apache-2.0
"""Federation metadata from the network costs what its size says, whatever its shape.

The aggregate is public, so anyone holds a signed SignedInfo: a document
with that genuine signature and a body shaped to make canonicalisation
quadratic would only fail at the digest, after the work.  The per-element
attribute cap refuses it before any canonicalisation.
"""

from __future__ import annotations

import pytest

from ekn_saml.errors import MetadataError
from ekn_saml.metadata.federation import verify_and_index
from ekn_saml.timeutil import utcnow
from ekn_saml.xml_limits import METADATA_LIMITS

from metadata_factory import bankid_and_expisoft, signed


def _with_attributes_on_the_root(document: bytes, count: int) -> bytes:
    end = document.index(b">", document.index(b"<md:EntitiesDescriptor"))
    extra = b"".join(b' xmlns:x%d="urn:x:%d" x%d:a=""' % (i, i, i) for i in range(count))
    return document[:end] + extra + document[end:]


def test_a_signed_aggregate_grown_with_attributes_is_refused_before_its_digest(idp_keys, fed_signer):
    genuine = signed(bankid_and_expisoft(idp_keys[1]), fed_signer[0])
    grown = _with_attributes_on_the_root(genuine, METADATA_LIMITS.max_attributes + 1)
    with pytest.raises(MetadataError) as caught:
        verify_and_index(grown, [fed_signer[1]], now=utcnow(), source="test")
    assert "XML_TOO_MANY_ATTRIBUTES" in caught.value.detail


def test_attributes_up_to_the_cap_reach_the_signature(idp_keys, fed_signer):
    """Under the cap the same change is refused by the signature (the body changed), not by the cap."""
    genuine = signed(bankid_and_expisoft(idp_keys[1]), fed_signer[0])
    grown = _with_attributes_on_the_root(genuine, 2)
    with pytest.raises(MetadataError) as caught:
        verify_and_index(grown, [fed_signer[1]], now=utcnow(), source="test")
    assert "SIGNATURE_INVALID" in caught.value.detail


def test_a_large_aggregate_is_not_held_to_the_message_node_cap(idp_keys, fed_signer):
    from metadata_factory import aggregate, federation_idp

    entities = [federation_idp(f"https://idp{i}.example.test/idp", idp_keys[1]) for i in range(80)]
    document = signed(aggregate(*entities), fed_signer[0])
    assert document.count(b"<") > 2000
    assert len(verify_and_index(document, [fed_signer[1]], now=utcnow(), source="test").idps) == 80
