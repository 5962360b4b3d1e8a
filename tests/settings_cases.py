# SPDX-License-Identifier: Apache-2.0
"""The smallest valid ``ekn_saml.*`` settings, and parsing them, for the settings tests.

Key files are not read: paths starting with ``/missing`` count as absent,
every other path as present.
"""

from __future__ import annotations

import pytest

from ekn_saml.errors import ConfigurationError, ErrorCode
from ekn_saml.settings import SamlSettings, parse_settings


def minimal_raw() -> dict[str, str]:
    """One SP (the sp.* keys) and the three built-in methods; a new dict on every call."""
    return {
        "ekn_saml.sp.entity_id": "https://sp.example.test/sp",
        "ekn_saml.sp.public_base_url": "https://sp.example.test",
        "ekn_saml.sp.signing_key": "/k/s.key",
        "ekn_saml.sp.signing_cert": "/k/s.crt",
        "ekn_saml.sp.encryption_keys": "/k/e.key",
        "ekn_saml.sp.encryption_cert": "/k/e.crt",
        "ekn_saml.method.mobilt_bankid.idp": "https://idp.example.test/m",
        "ekn_saml.method.bankid.idp": "https://idp.example.test/b",
        "ekn_saml.method.expisoft.idp": "https://idp.example.test/e",
    }


def parse(raw, **kw) -> SamlSettings:
    return parse_settings(raw, file_exists=lambda p: not p.startswith("/missing"), **kw)


def problems_of(raw, **kw) -> list[str]:
    """Every problem parse_settings reports for ``raw`` (it must refuse it)."""
    with pytest.raises(ConfigurationError) as caught:
        parse(raw, **kw)
    assert caught.value.code == ErrorCode.CONFIGURATION_INVALID
    return caught.value.problems
