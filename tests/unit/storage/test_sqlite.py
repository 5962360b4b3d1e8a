# SPDX-License-Identifier: Apache-2.0
"""The SQLite store's files are private to the process's user (ekn_saml/storage/sqlite.py).

The database and the ``-wal`` and ``-shm`` files SQLite keeps beside it in
WAL mode must be 0600 whatever the umask, and a file an older version left
open to other users is tightened.  The behaviour every backend shares is in
test_contract.py.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat

import pytest

from ekn_saml.errors import ErrorCode, StoreUnavailableError
from ekn_saml.storage import StoreWrite
from ekn_saml.storage.sqlite import SQLiteStateStore

FILES = ("", "-wal", "-shm")


@pytest.fixture
def restore_umask():
    """The test may change the process umask; the old one comes back afterwards."""
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


def modes(path) -> dict[str, int]:
    return {suffix or "db": stat.S_IMODE(os.stat(f"{path}{suffix}").st_mode) for suffix in FILES}


@pytest.mark.parametrize("mask", [0o022, 0o000, 0o277], ids=["umask-022", "umask-000", "umask-277"])
def test_new_store_files_are_0600_whatever_the_umask(tmp_path, restore_umask, mask):
    path = tmp_path / "state.sqlite"
    os.umask(mask)
    store = SQLiteStateStore(str(path))
    try:
        store.put("ns", "k", {"v": 1}, 60)  # a write: the -wal and -shm files exist while the connection is open
        assert modes(path) == {"db": 0o600, "-wal": 0o600, "-shm": 0o600}
    finally:
        store.close()


def test_files_an_older_version_left_open_to_others_are_tightened(tmp_path, restore_umask, caplog):
    path = tmp_path / "state.sqlite"
    os.umask(0o022)
    older = sqlite3.connect(path)  # as SQLite makes them by itself: 0644 under umask 022
    older.execute("PRAGMA journal_mode=WAL")
    older.execute("CREATE TABLE t (x)")
    older.execute("INSERT INTO t VALUES (1)")
    older.commit()  # still open, so its -wal and -shm stay
    assert set(modes(path).values()) == {0o644}
    store = SQLiteStateStore(str(path))
    try:
        with caplog.at_level(logging.WARNING, logger="ekn_saml"):
            store.put("ns", "k", {"v": 1}, 60)
        assert modes(path) == {"db": 0o600, "-wal": 0o600, "-shm": 0o600}
        exposed = [r for r in caplog.records if ErrorCode.STORE_FILE_EXPOSED.value in r.getMessage()]
        assert len(exposed) == 3 and all(r.levelno == logging.WARNING for r in exposed)
    finally:
        store.close()
        older.close()


def test_a_symlink_to_a_file_not_made_yet_makes_a_private_file(tmp_path, restore_umask):
    target = tmp_path / "data" / "state.sqlite"
    target.parent.mkdir()
    link = tmp_path / "state.sqlite"
    link.symlink_to(target)
    os.umask(0o022)
    store = SQLiteStateStore(str(link))
    try:
        store.put("ns", "k", {"v": 1}, 60)
        assert modes(target) == {"db": 0o600, "-wal": 0o600, "-shm": 0o600}
    finally:
        store.close()


def test_a_file_that_cannot_be_checked_gives_store_unavailable(tmp_path):
    path = tmp_path / "state.sqlite"
    os.symlink(path, path)  # a loop: stat fails with ELOOP, as it might with EACCES or EPERM
    store = SQLiteStateStore(str(path))
    with pytest.raises(StoreUnavailableError) as caught:
        store.put("ns", "k", {"v": 1}, 60)
    assert caught.value.code is ErrorCode.STORE_UNAVAILABLE


def test_a_write_batch_that_fails_half_way_writes_nothing(tmp_path, monkeypatch):
    store = SQLiteStateStore(str(tmp_path / "state.sqlite"))

    def fails(*args):
        raise StoreUnavailableError("injected after the first write of the batch")

    monkeypatch.setattr(store, "index_add", fails)
    with pytest.raises(StoreUnavailableError):
        store.write_batch([StoreWrite.put("ns", "k", {"v": 1}, 60), StoreWrite.index_add("ns", "i", "k", 60)])
    assert store.get("ns", "k") is None
    store.close()
