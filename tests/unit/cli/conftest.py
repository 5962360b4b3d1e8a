# SPDX-License-Identifier: Apache-2.0
"""The command's test apps: an ini of the test SP, one with federation metadata, one with a second SP profile."""

from __future__ import annotations

import pytest

from ekn_saml.keygen import write_key_pair
from ekn_saml.xmlsecurity import PrivateKey

from cli_cases import orgid_settings, write_ini
from metadata_factory import bankid_and_expisoft, signed, write


@pytest.fixture(scope="module")
def fed_signer(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("cli-fed"))
    key, cert = write_key_pair(directory, "federation-signer", "ekn_saml test federation signer (TEST ONLY)", bits=2048)
    return PrivateKey.from_file(key), cert


@pytest.fixture
def ini(tmp_path, app_settings):
    return write_ini(tmp_path / "app.ini", app_settings)


@pytest.fixture
def fed_ini(tmp_path, app_settings, idp_keys, fed_signer):
    source = write(
        tmp_path / "source.xml",
        signed(bankid_and_expisoft(idp_keys[1], suffix=" test"), fed_signer[0]),
    )
    settings = {k: v for k, v in app_settings.items() if k != "ekn_saml.idp.metadata_files"}
    settings.update(
        {
            "ekn_saml.federation.metadata_url": source,
            "ekn_saml.federation.signing_cert": fed_signer[1],
            "ekn_saml.federation.backing_file": str(tmp_path / "var" / "federation.xml"),
        }
    )
    return write_ini(tmp_path / "fed.ini", settings)


@pytest.fixture
def profiles_ini(tmp_path, app_settings, key_dir):
    """The test SP with a second SP profile, "orgid" (its own keys), for Expisoft."""
    return write_ini(tmp_path / "profiles.ini", {**app_settings, **orgid_settings(key_dir)})
