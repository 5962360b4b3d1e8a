# SPDX-License-Identifier: Apache-2.0
"""A federation signing key made per session (TEST ONLY), settings that point at a temp aggregate, documents."""

from __future__ import annotations

import datetime as dt

import pytest

from ekn_saml.keygen import write_key_pair
from ekn_saml.settings import FederationSettings
from ekn_saml.timeutil import utcnow
from ekn_saml.xmlsecurity import PrivateKey, PublicKey

from federation_cases import bankid_document, make
from metadata_factory import fixture_bytes, write


@pytest.fixture(scope="session")
def fed_signer(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("federation"))
    key_path, cert_path = write_key_pair(
        directory, "federation-signer", "ekn_saml test federation signer (TEST ONLY)", bits=2048
    )
    with open(cert_path, "rb") as fh:
        return PrivateKey.from_file(key_path), PublicKey.from_pem(fh.read()), cert_path


@pytest.fixture
def fed_settings(tmp_path, fed_signer):
    return FederationSettings(
        metadata_url=str(tmp_path / "source.xml"),
        signing_certs=(fed_signer[2],),
        backing_file=str(tmp_path / "var" / "backing.xml"),
        min_refresh=60,
        max_refresh=3600,
    )


@pytest.fixture(scope="module")
def sveleg():
    return fixture_bytes("sveleg-fedtest.xml")


@pytest.fixture
def rotation(fed_settings, fed_signer, idp_keys, idp_next_keys):
    """A holder that loaded the document with the IdP's old key, then the newer one that rotated it.

    Returns ``(holder, old document bytes, new document bytes)``.
    """
    now = utcnow()
    before = bankid_document(idp_keys[1], fed_signer, created=now - dt.timedelta(hours=2))
    after = bankid_document(idp_next_keys[1], fed_signer, created=now - dt.timedelta(hours=1))
    write(fed_settings.metadata_url, before)
    fed = make(fed_settings)
    fed.load_initial()
    write(fed_settings.metadata_url, after)
    assert fed.refresh() is True
    return fed, before, after
