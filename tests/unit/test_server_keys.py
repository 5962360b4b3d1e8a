# SPDX-License-Identifier: Apache-2.0
"""The server key file (ekn_saml.server_keys): its format, MACs, signed values, sealed values, rollover."""

from __future__ import annotations

import os
import stat

import pytest
from pyramid.exceptions import ConfigurationExecutionError

from ekn_saml.demo import main
from ekn_saml.interfaces import ISamlServiceProvider
from ekn_saml.server_keys import (
    ServerKey,
    ServerKeys,
    UndecryptableError,
    load_server_keys,
    new_key_line,
    write_key_file,
)

KEY_A = "ka  " + "A" * 43  # 32 zero-ish bytes in base64url, without padding
KEY_B = "kb  " + "B" * 43


def keys(*lines: str) -> ServerKeys:
    return ServerKeys.parse("\n".join(lines))


# ------------------------------------------------------------ the file format


def test_the_first_key_of_the_file_is_the_newest():
    assert keys("# comment", "", KEY_B, KEY_A).newest.key_id == "kb"


def test_a_fresh_key_line_parses():
    assert len(keys(new_key_line()).newest.secret) == 32


@pytest.mark.parametrize(
    "line, problem",
    [
        ("ka", "expected"),
        ("k a " + "A" * 43, "expected"),
        ("k/a " + "A" * 43, "expected"),
        ("ka " + "A" * 20, "bytes, not 32"),
        ("ka " + "*" * 43, "base64url"),
    ],
)
def test_a_malformed_line_is_refused_with_its_number(line, problem):
    with pytest.raises(ValueError, match=f"line 2: .*{problem}"):
        keys(KEY_A.replace("ka", "k0"), line)


def test_a_file_without_keys_is_refused():
    with pytest.raises(ValueError, match="no key"):
        keys("# only a comment")


def test_a_key_id_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        keys(KEY_A, KEY_A)


def test_a_file_other_users_may_read_is_refused(tmp_path):
    path = tmp_path / "server-keys.key"
    path.write_text(KEY_A + "\n")
    os.chmod(path, 0o640)
    with pytest.raises(ValueError, match="chmod 600"):
        ServerKeys.from_file(str(path))


def test_a_private_file_is_loaded(tmp_path):
    path = tmp_path / "server-keys.key"
    path.write_text(KEY_A + "\n")
    os.chmod(path, 0o600)
    assert ServerKeys.from_file(str(path)).newest.key_id == "ka"


def test_the_secret_is_not_in_the_repr():
    key = ServerKey("ka", b"s" * 32)
    assert "sss" not in repr(key) and "ka" in repr(key)


# ------------------------------------------------------------ MACs and signed values


def test_a_mac_depends_on_the_purpose():
    k = keys(KEY_A)
    assert k.mac("subject-index", "pnr:1") != k.mac("saml-index", "pnr:1")


def test_a_mac_depends_on_the_key():
    assert keys(KEY_A).mac("p", "x") != keys(KEY_B).mac("p", "x")


def test_macs_give_every_key_newest_first():
    rotated = keys(KEY_B, KEY_A)
    assert rotated.macs("p", "x") == [keys(KEY_B).mac("p", "x"), keys(KEY_A).mac("p", "x")]


def test_a_signed_value_comes_back():
    k = keys(KEY_A)
    assert k.unsign("cookie", k.sign("cookie", "tok")) == "tok"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: "x" + s,  # another value
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),  # another tag
        lambda s: s.replace(".ka.", ".kz."),  # a key id not in the file
        lambda s: s + ".more",
        lambda s: "",
    ],
)
def test_a_changed_signed_value_is_refused(tamper):
    k = keys(KEY_A)
    assert k.unsign("cookie", tamper(k.sign("cookie", "tok"))) is None


def test_a_value_signed_for_another_purpose_is_refused():
    k = keys(KEY_A)
    assert k.unsign("cookie", k.sign("other", "tok")) is None


def test_a_value_signed_with_an_older_key_still_verifies():
    signed = keys(KEY_A).sign("cookie", "tok")
    assert keys(KEY_B, KEY_A).unsign("cookie", signed) == "tok"


def test_a_value_with_a_dot_cannot_be_signed():
    with pytest.raises(ValueError):
        keys(KEY_A).sign("cookie", "a.b")


# ------------------------------------------------------------ sealed (encrypted) values


def test_a_sealed_value_opens_with_the_same_purpose_and_context():
    k = keys(KEY_A)
    sealed = k.seal("session", b"198001012387", context="session:abc")
    assert "198001012387" not in sealed
    assert k.open("session", sealed, context="session:abc") == b"198001012387"


def test_sealing_twice_gives_two_different_texts():
    k = keys(KEY_A)
    assert k.seal("session", b"x") != k.seal("session", b"x")


@pytest.mark.parametrize("purpose, context", [("session", "session:other"), ("other", "session:abc")])
def test_a_sealed_value_does_not_open_elsewhere(purpose, context):
    k = keys(KEY_A)
    sealed = k.seal("session", b"x", context="session:abc")
    with pytest.raises(UndecryptableError):
        k.open(purpose, sealed, context=context)


def test_a_changed_byte_does_not_open():
    k = keys(KEY_A)
    sealed = k.seal("session", b"x" * 40)
    body = sealed[-10:]
    changed = sealed[:-10] + ("A" if body[0] != "A" else "B") + body[1:]
    with pytest.raises(UndecryptableError):
        k.open("session", changed)


@pytest.mark.parametrize("value", ["plain", "v1.", "v1.ka.!!!", "v1.kz.AAAA", 42])
def test_what_is_not_a_sealed_value_does_not_open(value):
    with pytest.raises(UndecryptableError):
        keys(KEY_A).open("session", value)


def test_after_a_rollover_old_values_open_and_new_ones_use_the_new_key():
    old = keys(KEY_A).seal("session", b"x")
    rotated = keys(KEY_B, KEY_A)
    assert rotated.open("session", old) == b"x"
    assert not rotated.is_sealed_with_newest(old)
    assert rotated.is_sealed_with_newest(rotated.seal("session", b"x"))


def test_a_removed_key_no_longer_opens_its_values():
    old = keys(KEY_A).seal("session", b"x")
    with pytest.raises(UndecryptableError, match="not in the key file"):
        keys(KEY_B).open("session", old)


# ------------------------------------------------------------ writing the file


def test_a_new_key_file_is_private_whatever_the_umask(tmp_path):
    previous = os.umask(0)
    try:
        path = tmp_path / "keys" / "server-keys.key"
        write_key_file(str(path))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert ServerKeys.from_file(str(path)).newest.secret


def test_an_existing_key_file_is_not_replaced(tmp_path):
    path = str(tmp_path / "server-keys.key")
    write_key_file(path)
    with pytest.raises(FileExistsError):
        write_key_file(path)


def test_a_rotation_puts_the_new_key_first_and_keeps_the_old(tmp_path):
    path = str(tmp_path / "server-keys.key")
    (tmp_path / "server-keys.key").write_text(KEY_A + "\n")
    os.chmod(path, 0o600)
    new_id = write_key_file(path, rotate=True)
    loaded = ServerKeys.from_file(path)
    assert [k.key_id for k in loaded.keys] == [new_id, "ka"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_rotation_needs_an_existing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_key_file(str(tmp_path / "none.key"), rotate=True)


# ------------------------------------------------------------ the setting


def test_without_a_key_file_production_is_refused():
    loaded, problems = load_server_keys("", development=False)
    assert loaded is None and "ekn_saml.server_keys is required" in problems[0]


def test_without_a_key_file_development_gets_a_process_key():
    loaded, problems = load_server_keys("", development=True, quiet=True)
    assert problems == [] and loaded.newest.key_id == "ephemeral"


def test_an_unusable_key_file_is_a_problem(tmp_path):
    path = tmp_path / "server-keys.key"
    path.write_text("nonsense\n")
    os.chmod(path, 0o600)
    loaded, problems = load_server_keys(str(path), development=True)
    assert loaded is None and problems[0].startswith(f"ekn_saml.server_keys {path}: line 1")


def test_startup_outside_development_needs_the_server_keys(app_settings, tmp_path):
    """Without ekn_saml.server_keys the store's index keys and identities would have no secret."""
    settings = {k: v for k, v in app_settings.items() if k not in ("ekn_saml.server_keys", "ekn_saml.testing")}
    settings["ekn_saml.store.url"] = "sqlite:///" + str(tmp_path / "state.sqlite")
    with pytest.raises(ConfigurationExecutionError) as caught:
        main({}, **settings)
    assert any(p.startswith("ekn_saml.server_keys is required") for p in caught.value.evalue.problems)


def test_startup_in_development_runs_with_a_process_key(app_settings):
    settings = {k: v for k, v in app_settings.items() if k != "ekn_saml.server_keys"}
    assert main({}, **settings).registry.getUtility(ISamlServiceProvider).server_keys.newest.key_id == "ephemeral"
