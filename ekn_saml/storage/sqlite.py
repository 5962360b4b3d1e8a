# SPDX-License-Identifier: Apache-2.0
"""An embedded SQLite file: the default for one machine with several workers."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
import threading
import time
from urllib.parse import unquote, urlsplit

from ..errors import ErrorCode, StoreUnavailableError
from .base import StateStore

log = logging.getLogger("ekn_saml")

# The files SQLite keeps beside the database in WAL mode.  It creates them
# itself with the database file's permission bits (and fchmods a new one to
# exactly those bits, whatever the umask), so a 0600 database gives 0600
# companions; ones left by an older version are tightened like the database.
_COMPANIONS = ("-wal", "-shm")

# Held while a thread makes its first connection; see _prepare_private_file.
_FIRST_CONNECT = threading.Lock()


def _prepare_private_file(path: str) -> None:
    """Create the database file 0600 if it is absent; take group and other bits off it and its companions.

    Why not set the umask around ``sqlite3.connect``: the umask belongs to
    the process, so another thread creating a file meanwhile (a log, the
    federation backing file, another connection) would get ours, or we
    theirs.  Creating the file ourselves needs no process-wide state.

    ``O_EXCL``: a file that already exists is never opened here.  Closing a
    descriptor drops every POSIX lock the process holds on that file,
    including the locks of this process's SQLite connections, so opening an
    existing database outside SQLite could break its locking.  A file we
    just created is opened by no connection yet, as long as no other thread
    connects before we close it: hence ``_FIRST_CONNECT``, held by the caller
    over this and the connect.

    A file open to other users (mode 0644 from a version before this check,
    or an admin's chmod) is tightened, with a warning (EKN-OPS-005), rather
    than refused: refusing would turn the upgrade that fixes the exposure
    into an outage (every request a 503), and the data is ours.  Raises
    ``OSError`` if the file cannot be made or tightened (e.g. it belongs to
    another user); the caller turns that into ``StoreUnavailableError``.
    Does **not** check the directory's permissions.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        pass
    else:
        try:
            os.fchmod(fd, 0o600)  # a umask such as 0o277 could have taken bits SQLite needs
        finally:
            os.close(fd)
    for name in (path, *(path + suffix for suffix in _COMPANIONS)):
        try:
            info = os.stat(name)
        except FileNotFoundError:
            continue  # a companion that does not exist yet is made private by SQLite
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISREG(info.st_mode) and mode & 0o077:
            os.chmod(name, mode & 0o700)
            log.warning(
                "%s: sqlite store file %s was open to other users (mode %04o); tightened to %04o",
                ErrorCode.STORE_FILE_EXPOSED.value,
                name,
                mode,
                mode & 0o700,
            )


_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx (
    ns TEXT NOT NULL, ikey TEXT NOT NULL, member TEXT NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (ns, ikey, member)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires);
"""


class SQLiteStateStore(StateStore):
    """State in one SQLite file, shared by every process that opens it.

    WAL mode lets readers and one writer work at once; ``busy_timeout`` makes a
    writer wait for another rather than fail.  Atomicity of :meth:`add`,
    :meth:`take` and :meth:`increment` comes from single statements (``INSERT …
    ON CONFLICT … WHERE``, ``DELETE … RETURNING``, ``INSERT … ON CONFLICT …
    RETURNING``), which SQLite runs under its write lock; a :meth:`write_batch`
    is one ``BEGIN IMMEDIATE`` … ``COMMIT`` transaction.
    Wall-clock time is used for expiry because several processes share it.
    Each thread has its own connection (sqlite3 connections are not shareable).
    The database and its ``-wal`` and ``-shm`` files are private to the
    process's user (0600), whatever the umask: see :func:`_prepare_private_file`.
    """

    _PURGE_EVERY = 500  # writes between purges of expired rows

    def __init__(self, path: str, *, clock=time.time) -> None:
        self.path = path
        self._clock = clock
        self._local = threading.local()
        self._writes = 0
        # The directory is created on first use, not here: building a store
        # never touches the disk (see store_from_url), and a path that cannot
        # be created must surface as StoreUnavailableError, not a raw OSError.

    @classmethod
    def from_url(cls, url: str, *, key_prefix: str = "ekn_saml:") -> SQLiteStateStore:
        """``sqlite:///absolute/path``; ``key_prefix`` is not needed (the file is the app's own)."""
        parts = urlsplit(url)
        path = unquote(parts.path)
        if parts.netloc:  # sqlite://relative/path is a common slip; refuse it clearly
            raise ValueError("use sqlite:///absolute/path (three slashes) for the SQLite store")
        if not path or path.endswith("/"):
            raise ValueError("sqlite:/// store URL needs a file path")
        if not os.path.isabs(path):  # sqlite:relative would depend on each worker's cwd
            raise ValueError("use sqlite:///absolute/path (three slashes) for the SQLite store")
        return cls(path)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            except OSError as exc:
                raise StoreUnavailableError(f"sqlite store {self.path}: cannot create its directory: {exc}") from exc
            # the real path, so that a symlink to a file not made yet is made private too
            path = os.path.realpath(self.path)
            conn = None
            with _FIRST_CONNECT:
                try:
                    _prepare_private_file(path)
                except OSError as exc:
                    raise StoreUnavailableError(f"sqlite store {self.path}: cannot make it private: {exc}") from exc
                try:
                    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=True)
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute("PRAGMA synchronous=NORMAL")
                    conn.execute("PRAGMA busy_timeout=10000")
                    conn.executescript(_SCHEMA)
                except sqlite3.Error as exc:
                    if conn is not None:  # do not leak a half-set-up connection on every retry
                        conn.close()
                    raise StoreUnavailableError(f"sqlite store {self.path}: {exc}") from exc
            self._local.conn = conn
        return conn

    def _run(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        try:
            return self._conn().execute(sql, params)
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"sqlite store {self.path}: {exc}") from exc

    def _wrote(self) -> None:
        self._writes += 1
        if self._writes % self._PURGE_EVERY == 0:
            now = self._clock()
            self._run("DELETE FROM kv WHERE expires <= ?", (now,))
            self._run("DELETE FROM idx WHERE expires <= ?", (now,))

    def put(self, namespace, key, value, ttl):
        expires = self._clock() + self._check_ttl(ttl)
        self._run(
            "INSERT INTO kv (ns, key, value, expires) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires = excluded.expires",
            (namespace, key, self._encode(value), expires),
        )
        self._wrote()

    def add(self, namespace, key, value, ttl) -> bool:
        now = self._clock()
        cur = self._run(
            "INSERT INTO kv (ns, key, value, expires) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires = excluded.expires "
            "WHERE kv.expires <= ?",
            (namespace, key, self._encode(value), now + self._check_ttl(ttl), now),
        )
        self._wrote()
        return cur.rowcount == 1

    def get(self, namespace, key):
        row = self._run(
            "SELECT value FROM kv WHERE ns = ? AND key = ? AND expires > ?", (namespace, key, self._clock())
        ).fetchone()
        return self._decode(row[0]) if row else None

    def take(self, namespace, key):
        row = self._run("DELETE FROM kv WHERE ns = ? AND key = ? RETURNING value, expires", (namespace, key)).fetchone()
        if row is None or row[1] <= self._clock():
            return None
        return self._decode(row[0])

    def delete(self, namespace, key):
        self._run("DELETE FROM kv WHERE ns = ? AND key = ?", (namespace, key))

    def increment(self, namespace, key, ttl) -> int:
        # One statement, so atomic under SQLite's write lock.  The counter is
        # an integer in the kv table (purged with the rest); an expired one
        # starts again at 1 with a new expiry, a live one keeps its expiry.
        now = self._clock()
        row = self._run(
            "INSERT INTO kv (ns, key, value, expires) VALUES (?, ?, '1', ?) "
            "ON CONFLICT (ns, key) DO UPDATE SET "
            "value = CASE WHEN kv.expires <= ? THEN '1' ELSE CAST(CAST(kv.value AS INTEGER) + 1 AS TEXT) END, "
            "expires = CASE WHEN kv.expires <= ? THEN excluded.expires ELSE kv.expires END "
            "RETURNING value",
            (namespace, key, now + self._check_ttl(ttl), now, now),
        ).fetchone()
        self._wrote()
        return int(row[0])

    def index_add(self, namespace, index_key, member, ttl):
        expires = self._clock() + self._check_ttl(ttl)
        self._run(
            "INSERT INTO idx (ns, ikey, member, expires) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (ns, ikey, member) DO UPDATE SET expires = max(idx.expires, excluded.expires)",
            (namespace, index_key, member, expires),
        )
        self._wrote()

    def index_members(self, namespace, index_key):
        rows = self._run(
            "SELECT member FROM idx WHERE ns = ? AND ikey = ? AND expires > ? ORDER BY member",
            (namespace, index_key, self._clock()),
        ).fetchall()
        return [r[0] for r in rows]

    def index_discard(self, namespace, index_key, member):
        self._run("DELETE FROM idx WHERE ns = ? AND ikey = ? AND member = ?", (namespace, index_key, member))

    def write_batch(self, writes):
        for write in writes:
            self._check_write(write)
        if not writes:
            return []
        # IMMEDIATE: the write lock from the start, so the batch never has to
        # upgrade a read lock (which can fail with SQLITE_BUSY at once); the
        # statements are the methods' own, so the results are theirs.
        self._run("BEGIN IMMEDIATE")
        try:
            results = [self._write_one(write) for write in writes]
            self._run("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # a connection that is gone took the transaction with it
                self._conn().execute("ROLLBACK")
            raise
        return results

    def ping(self):
        self._run("SELECT 1").fetchone()

    def close(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
