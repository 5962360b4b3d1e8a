# SPDX-License-Identifier: Apache-2.0
import os
import pathlib
import stat

from ekn_saml.keygen import write_key_pair


def test_private_key_is_written_mode_0600(tmp_path):
    key, _ = write_key_pair(str(tmp_path), "k", "test", bits=2048)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600


def test_an_ec_key_pair_is_on_p256(tmp_path):
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key, _ = write_key_pair(str(tmp_path), "k", "test", key_type="ec")
    assert load_pem_private_key(pathlib.Path(key).read_bytes(), None).curve.name == "secp256r1"


def test_an_unknown_key_type_is_refused(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="key_type"):
        write_key_pair(str(tmp_path), "k", "test", key_type="dsa")


def test_existing_keys_are_kept(tmp_path):
    key, _ = write_key_pair(str(tmp_path), "k", "test", bits=2048)
    before = pathlib.Path(key).read_bytes()
    write_key_pair(str(tmp_path), "k", "test", bits=2048)
    assert pathlib.Path(key).read_bytes() == before


def test_development_keys_cover_both_sp_profiles_of_development_ini(tmp_path):
    """`make run` (python -m ekn_saml.keygen certs) must make every key file development.ini names."""
    import configparser

    from ekn_saml.keygen import DEV_KEYS, DEV_SERVER_KEYS

    root = pathlib.Path(__file__).parents[2]
    ini = configparser.ConfigParser(defaults={"here": str(root)})
    ini.read(root / "development.ini", encoding="utf-8")
    named = {
        pathlib.Path(path).name
        for key, value in ini["app:main"].items()
        if key.startswith("ekn_saml.") and value.startswith(str(root / "certs"))
        for path in value.split()
    }
    made = {stem + ext for stem, _ in DEV_KEYS for ext in (".key", ".crt")} | {DEV_SERVER_KEYS}
    assert named and named <= made
    assert DEV_SERVER_KEYS in named
    assert {"dev-sp-orgid-signing.key", "dev-sp-orgid-encryption.key"} <= named
