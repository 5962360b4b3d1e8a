# SPDX-License-Identifier: Apache-2.0
"""Helpers of the federation metadata tests: verifying a document, a holder, documents of the test federation."""

from __future__ import annotations

import os
import time

import pytest

from ekn_saml.errors import ErrorCode, MetadataError
from ekn_saml.metadata.aggregate import verify_and_index
from ekn_saml.metadata.refresher import FederationMetadata
from ekn_saml.timeutil import format_instant, utcnow

from metadata_factory import aggregate, federation_idp, signed
from testbed import BANKID_IDP


def check(data, fed_signer, **kw):
    """``verify_and_index`` of ``data`` with the test federation's signer, now."""
    return verify_and_index(data, [fed_signer[1]], now=utcnow(), source="test", **kw)


def rejected(data, fed_signer) -> MetadataError:
    """The METADATA_INVALID error :func:`check` refuses ``data`` with (it must refuse)."""
    with pytest.raises(MetadataError) as info:
        check(data, fed_signer)
    assert info.value.code == ErrorCode.METADATA_INVALID
    return info.value


def make(fed_settings, **kw) -> FederationMetadata:
    return FederationMetadata(fed_settings, **kw)


def bankid_document(cert, fed_signer, **signing) -> bytes:
    """A federation document whose BankID IdP signs with ``cert``; ``signing`` goes to metadata_factory.signed."""
    return signed(aggregate(federation_idp(BANKID_IDP, cert)), fed_signer[0], **signing)


def signing_ders(fed) -> list[bytes]:
    """The certificates the holder ``fed`` trusts for the BankID IdP."""
    return [key.der for key in fed.get(BANKID_IDP).signing_keys]


def aged(path, seconds=3600):
    """Make ``path`` look written ``seconds`` ago, so that startup tries the source before it."""
    old = time.time() - seconds
    os.utime(path, (old, old))


def iso_of(moment):
    return format_instant(moment)
