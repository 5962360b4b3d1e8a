# SPDX-License-Identifier: Apache-2.0
"""The demo app with the embedded development IdP, driven by WebTest over https."""

from __future__ import annotations

import pytest

from ekn_saml.testing import development_settings

from dev_app import make_testapp

BASE = "https://sp.example.test"


@pytest.fixture
def dev_settings(key_dir, tmp_path):
    return development_settings(sp_base=BASE, keys_dir=key_dir, store_url="sqlite:///" + str(tmp_path / "state.sqlite"))


@pytest.fixture
def testapp(dev_settings):
    return make_testapp(dev_settings)
