# SPDX-License-Identifier: Apache-2.0
import os
import pathlib
import stat

from ekn_saml.keygen import write_key_pair


def test_private_key_is_written_mode_0600(tmp_path):
    key, _ = write_key_pair(str(tmp_path), "k", "test", bits=2048)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600


def test_existing_keys_are_kept(tmp_path):
    key, _ = write_key_pair(str(tmp_path), "k", "test", bits=2048)
    before = pathlib.Path(key).read_bytes()
    write_key_pair(str(tmp_path), "k", "test", bits=2048)
    assert pathlib.Path(key).read_bytes() == before
