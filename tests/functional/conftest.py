# SPDX-License-Identifier: Apache-2.0
"""The demo app with the embedded development IdP, driven by WebTest over https."""

from __future__ import annotations

import pytest

from ekn_saml.keygen import write_key_pair
from ekn_saml.testing import development_settings
from ekn_saml.xmlsecurity import PrivateKey

from dev_app import make_testapp
from metadata_factory import bankid_and_expisoft, signed, write

BASE = "https://sp.example.test"


@pytest.fixture
def dev_settings(key_dir, tmp_path):
    return development_settings(sp_base=BASE, keys_dir=key_dir, store_url="sqlite:///" + str(tmp_path / "state.sqlite"))


@pytest.fixture
def testapp(dev_settings):
    return make_testapp(dev_settings)


@pytest.fixture(scope="session")
def federation_signer(tmp_path_factory):
    """The key that signs the test federation's metadata, and its certificate file (pinned by the SP)."""
    directory = str(tmp_path_factory.mktemp("fed"))
    key, cert = write_key_pair(directory, "federation-signer", "ekn_saml test federation signer (TEST ONLY)", bits=2048)
    return PrivateKey.from_file(key), cert


@pytest.fixture
def federation_settings(app_settings, idp_keys, federation_signer, tmp_path):
    """The test SP trusting the BankID and Expisoft IdPs through signed federation metadata only."""
    source = write(
        tmp_path / "federation.xml",
        signed(bankid_and_expisoft(idp_keys[1]), federation_signer[0]),
    )
    settings = dict(app_settings)
    del settings["ekn_saml.idp.metadata_files"]  # every IdP comes from the federation
    settings.update(
        {
            "ekn_saml.federation.metadata_url": source,
            "ekn_saml.federation.signing_cert": federation_signer[1],
            "ekn_saml.federation.backing_file": str(tmp_path / "var" / "federation.xml"),
        }
    )
    return settings
