# SPDX-License-Identifier: Apache-2.0
"""Every SP profile's keys are loaded once at startup and checked against their certificates."""

from __future__ import annotations

import os

from ekn_saml.credentials import load_profile_credentials
from ekn_saml.settings import parse_settings


def profile_settings(app_settings, key_dir, **orgid):
    k = lambda name: os.path.join(key_dir, name)  # noqa: E731
    raw = {
        **app_settings,
        "ekn_saml.sp_profiles": "orgid",
        "ekn_saml.sp_profile.orgid.entity_id": "https://sp.example.test/sp/orgid",
        "ekn_saml.method.expisoft.sp_profile": "orgid",
    }
    raw.update({f"ekn_saml.sp_profile.orgid.{key}": k(value) for key, value in orgid.items()})
    return parse_settings(raw)


OWN_KEYS = dict(
    signing_key="sp-orgid-signing.key",
    signing_cert="sp-orgid-signing.crt",
    encryption_keys="sp-orgid-encryption.key",
    encryption_cert="sp-orgid-encryption.crt",
)


def test_each_profile_gets_its_own_keys(app_settings, key_dir):
    creds, problems = load_profile_credentials(profile_settings(app_settings, key_dir, **OWN_KEYS))
    assert problems == []
    assert creds["default"].signing_cert.der != creds["orgid"].signing_cert.der
    assert creds["default"].encryption_cert.der != creds["orgid"].encryption_cert.der


def test_a_profile_with_the_default_files_shares_the_loaded_keys(app_settings, key_dir):
    creds, problems = load_profile_credentials(profile_settings(app_settings, key_dir))
    assert problems == [] and creds["orgid"] is creds["default"]


def test_a_certificate_of_another_key_is_reported_under_the_profiles_key_name(app_settings, key_dir):
    keys = {**OWN_KEYS, "signing_cert": "sp-signing.crt"}  # the default's certificate with the orgid key
    creds, problems = load_profile_credentials(profile_settings(app_settings, key_dir, **keys))
    assert problems == [
        "ekn_saml.sp_profile.orgid.signing_cert does not belong to ekn_saml.sp_profile.orgid.signing_key"
    ]
    assert "orgid" not in creds and "default" in creds
