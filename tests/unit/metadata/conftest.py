# SPDX-License-Identifier: Apache-2.0
"""A federation signing key made per session (TEST ONLY), and settings that point at a temp aggregate."""

from __future__ import annotations

import pytest

from ekn_saml.keygen import write_key_pair
from ekn_saml.settings import FederationSettings
from ekn_saml.xmlsecurity import PrivateKey, PublicKey


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
