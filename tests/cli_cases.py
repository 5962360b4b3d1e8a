# SPDX-License-Identifier: Apache-2.0
"""Helpers of the command's tests: an ini file of settings, where its backing file is, a second SP profile."""

from __future__ import annotations

import os


def write_ini(path, settings: dict) -> str:
    lines = ["[app:main]", "use = egg:ekn_saml"] + [f"{k} = {' '.join(str(v).split())}" for k, v in settings.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def backing_of(ini_path):
    return os.path.join(os.path.dirname(ini_path), "var", "federation.xml")


ORGID_ENTITY = "https://sp.example.test/sp/orgid"


def orgid_settings(key_dir, stem="sp-orgid"):
    """The settings of a second SP profile, "orgid", with its own keys (``stem``), for Expisoft."""
    k = lambda name: os.path.join(key_dir, name)  # noqa: E731
    return {
        "ekn_saml.sp_profiles": "orgid",
        "ekn_saml.sp_profile.orgid.entity_id": ORGID_ENTITY,
        "ekn_saml.sp_profile.orgid.signing_key": k(f"{stem}-signing.key"),
        "ekn_saml.sp_profile.orgid.signing_cert": k(f"{stem}-signing.crt"),
        "ekn_saml.sp_profile.orgid.encryption_keys": k(f"{stem}-encryption.key"),
        "ekn_saml.sp_profile.orgid.encryption_cert": k(f"{stem}-encryption.crt"),
        "ekn_saml.method.expisoft.sp_profile": "orgid",
    }
