# SPDX-License-Identifier: Apache-2.0
"""The demo app with the embedded development IdP, driven by WebTest over https."""
from __future__ import annotations

import os

import pytest

from dev_app import make_testapp

BASE = "https://sp.example.test"


@pytest.fixture
def dev_settings(key_dir, tmp_path):
    k = lambda name: os.path.join(key_dir, name)  # noqa: E731
    return {
        "ekn_saml.sp.entity_id": BASE + "/sp",
        "ekn_saml.sp.public_base_url": BASE,
        "ekn_saml.sp.signing_key": k("sp-signing.key"),
        "ekn_saml.sp.signing_cert": k("sp-signing.crt"),
        "ekn_saml.sp.encryption_keys": k("sp-encryption.key"),
        "ekn_saml.sp.encryption_cert": k("sp-encryption.crt"),
        "ekn_saml.methods": "mobilt_bankid bankid expisoft",
        "ekn_saml.method.mobilt_bankid.idp": BASE + "/devidp/mobilt-bankid",
        "ekn_saml.method.bankid.idp": BASE + "/devidp/bankid",
        "ekn_saml.method.expisoft.idp": BASE + "/devidp/expisoft",
        "ekn_saml.store.url": "sqlite:///" + str(tmp_path / "state.sqlite"),
        "ekn_saml.landing_path": "/mina-sidor",
        "ekn_saml.logged_out_path": "/logged-out",
        "ekn_saml.devidp.enabled": "true",
        "ekn_saml.devidp.entity_id": BASE + "/devidp",
        "ekn_saml.devidp.base_url": BASE,
        "ekn_saml.devidp.key": k("idp.key"),
        "ekn_saml.devidp.cert": k("idp.crt"),
    }


@pytest.fixture
def testapp(dev_settings):
    return make_testapp(dev_settings)
