# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: test keys made per session, trusted test IdPs, the app, a response factory.

No key is committed: every key here is generated for the test session
(2048-bit, the smallest the profile allows, to keep the suite fast).
"""

from __future__ import annotations

import os

import pytest
from lxml import etree

from ekn_saml.keygen import write_key_pair
from ekn_saml.server_keys import write_key_file
from ekn_saml.testing import SERVER_KEYS_FILE
from ekn_saml.xmlsecurity import NS, PrivateKey, PublicKey

from saml_factory import ResponseFactory
from testbed import (
    BANKID_IDP,
    EXPISOFT_IDP,
    EXPISOFT_SCOPE,
    MULTIKEY_IDP,
    OTHER_IDP,
    federation_sp_settings,
    idp_entity,
)

# no log line of the whole run may hold a full personal identity number (tests/privacy_guard.py)
# the attack corpus (tests/attacks) is shared by tests/functional and tests/fuzz
pytest_plugins = ["privacy_guard", "attacks.fixtures", "own_redis", "own_sentinel"]


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("keys"))
    stems = (
        "sp-signing",
        "sp-encryption",
        "sp-encryption-old",
        # the second SP profile ("orgid") of the demo's settings (ekn_saml.testing.development_settings)
        "sp-orgid-signing",
        "sp-orgid-encryption",
        "idp",
        "idp-next",
        "attacker",
    )
    for stem in stems:
        write_key_pair(directory, stem, f"ekn_saml test {stem} (TEST ONLY)", bits=2048)
    # the server keys (ekn_saml.server_keys) every test app of the session shares
    write_key_file(os.path.join(directory, SERVER_KEYS_FILE))
    return directory


# certificates of keys that sign nothing as the multi-key IdP (the SP's own, and the old encryption key)
MULTIKEY_CERTS = ("sp-signing", "sp-encryption", "sp-encryption-old", "sp-orgid-signing", "sp-orgid-encryption")


def _certs(key_dir, stems):
    return tuple(_pair(key_dir, stem)[1] for stem in stems)


def _pair(key_dir, stem):
    with open(os.path.join(key_dir, stem + ".crt"), "rb") as fh:
        cert = PublicKey.from_pem(fh.read())
    return PrivateKey.from_file(os.path.join(key_dir, stem + ".key")), cert


@pytest.fixture(scope="session")
def idp_keys(key_dir):
    return _pair(key_dir, "idp")


@pytest.fixture(scope="session")
def attacker_keys(key_dir):
    return _pair(key_dir, "attacker")


@pytest.fixture(scope="session")
def sp_encryption(key_dir):
    return _pair(key_dir, "sp-encryption")


@pytest.fixture(scope="session")
def idp_next_keys(key_dir):
    return _pair(key_dir, "idp-next")


@pytest.fixture(scope="session")
def idp_metadata_file(key_dir, idp_keys, idp_next_keys):
    _, cert = idp_keys
    body = "".join(
        [
            # the BankID IdP publishes its next signing key too (rollover)
            idp_entity(BANKID_IDP, cert, extra_certs=(idp_next_keys[1],)),
            idp_entity(EXPISOFT_IDP, cert, scopes=(EXPISOFT_SCOPE,)),
            idp_entity(OTHER_IDP, cert),
            idp_entity(MULTIKEY_IDP, idp_next_keys[1], extra_certs=_certs(key_dir, MULTIKEY_CERTS)),
        ]
    )
    xml = (
        f'<md:EntitiesDescriptor xmlns:md="{NS["md"]}" xmlns:ds="{NS["ds"]}" xmlns:shibmd="{NS["shibmd"]}">'
        f"{body}</md:EntitiesDescriptor>"
    )
    etree.fromstring(xml)  # well-formed
    path = os.path.join(key_dir, "idps.xml")
    with open(path, "w") as fh:
        fh.write(xml)
    return path


@pytest.fixture
def app_settings(key_dir, idp_metadata_file):
    return federation_sp_settings(key_dir, idp_metadata_file, store_url="memory://")


@pytest.fixture
def response_factory(idp_keys, sp_encryption):
    key, cert = idp_keys
    return ResponseFactory(key, cert, sp_encryption[1])
