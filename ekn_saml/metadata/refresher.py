# SPDX-License-Identifier: Apache-2.0
"""The federation document in use, kept fresh: :class:`FederationMetadata`.

It loads the aggregate (from the source, else the last-known-good backing
file), swaps in each newer verified document whole, never goes back in
time (:class:`~ekn_saml.metadata.aggregate.Publication`), writes the backing
file atomically under an exclusive lock, and refreshes in one daemon
thread per process, started lazily by the first request that reads the
document (so never in a gunicorn master before it forks, even with
``preload_app``).  A login request only reads the current document
reference.

Several workers on one machine (gunicorn pre-fork, several pserve
processes) do not each download the aggregate: each process jitters its
schedule, and when the app's state store is given (:meth:`use_store`) and
there is a backing file, a short lease in the store lets one process per
machine download per interval while the others pick up the backing file
it wrote, verifying it exactly like a download.  The store holds only the
lease, never a document: nothing read from it is trusted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import hashlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from zope.interface import implementer

from .. import audit
from ..errors import MetadataError, StoreUnavailableError
from ..interfaces import IFederationMetadata
from ..settings import FederationSettings
from ..storage import StateStore
from ..timeutil import format_instant, utcnow
from ..xmlsecurity import PublicKey
from .aggregate import MetadataDocument, Publication, verify_and_index
from .fetch import load_signers, read_source, write_atomically
from .idp import IdpInfo

log = logging.getLogger("ekn_saml.metadata")

# Shibboleth's refreshDelayFactor: refresh before the cache duration runs out, not after.
REFRESH_FACTOR = 0.75
# Each process refreshes after a random 90-100 % of the delay, so the workers that loaded one
# document do not all fall due in the same second (earlier, never later: the delay is a promise
# to refresh before the cache duration runs out).
JITTER = 0.10
# The state store namespace of the refresh leases: one key per machine, backing file and source.
LEASES = "metadata_lease"


def _random_jitter() -> float:
    return 1.0 - JITTER * secrets.SystemRandom().random()


@dataclass
class _Health:
    last_attempt: dt.datetime | None = None
    last_success: dt.datetime | None = None
    last_error: str | None = None
    next_refresh: dt.datetime | None = None
    backing_error: str | None = None
    failures: int = 0


@implementer(IFederationMetadata)
class FederationMetadata:
    """The current verified federation document, refreshed in the background; an :class:`IdpSource`.

    ``get`` and ``all`` only read the current document reference, which the
    refresher replaces whole; they never wait for a download.  Call
    :meth:`load_initial` once, then :meth:`start` for the refresher thread
    (or :meth:`refresh` yourself, as the tests and the command do).
    """

    def __init__(
        self,
        settings: FederationSettings,
        *,
        eager: Iterable[str] = (),
        clock: Callable[[], dt.datetime] = utcnow,
        signers: Sequence[PublicKey] | None = None,
        jitter: Callable[[], float] = _random_jitter,
        host: str | None = None,
    ) -> None:
        self.settings = settings
        self.eager = tuple(eager)
        self.clock = clock
        self.jitter = jitter  # the factor (0.9-1.0) of each computed refresh delay
        self.host = host if host is not None else socket.gethostname()
        self._lease_store: StateStore | None = None
        # seconds before a process that found the lease taken looks for the backing file again:
        # about a download's time, and well inside the interval
        self.pickup_pause = float(max(1, min(30, settings.timeout, settings.min_refresh // 4)))
        self.signers = list(signers) if signers is not None else load_signers(settings.signing_certs)
        self.health = _Health()
        self._current: MetadataDocument | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._background = False
        self._expired_logged = False
        # (identity, publication) of the backing file this process last wrote or verified
        self._backing_known: tuple[tuple[int, ...], Publication] | None = None

    # -- reading (login path) --

    @property
    def current(self) -> MetadataDocument | None:
        return self._current

    def get(self, entity_id: str) -> IdpInfo | None:
        self._ensure_running()
        doc = self._current
        if doc is None:
            return None
        if doc.valid_until <= self.clock():
            if not self._expired_logged:
                self._expired_logged = True
                log.error("federation metadata expired at %s and no newer document could be loaded", doc.valid_until)
            return None
        return doc.idps.get(entity_id)

    def all(self) -> list[IdpInfo]:
        self._ensure_running()
        doc = self._current
        if doc is None or doc.valid_until <= self.clock():
            return []
        return doc.idps.all()

    # -- loading --

    def verify(
        self, data: bytes, *, source: str, origin: str, fetched_at: dt.datetime | None = None
    ) -> MetadataDocument:
        """:func:`verify_and_index` with this holder's signers, eager IdPs, clock and validity cap.

        Does **not** compare the document with the one in use or the backing file's.
        """
        doc = verify_and_index(
            data,
            self.signers,
            now=self.clock(),
            source=source,
            origin=origin,
            eager=self.eager,
            fetched_at=fetched_at,
            max_validity=dt.timedelta(days=self.settings.max_validity_days),
        )
        # which bytes are in use, for the status report (kept out of verify_and_index: not needed to trust them)
        return dataclasses.replace(doc, sha256=hashlib.sha256(data).hexdigest())

    def load_from_source(self, *, progress: Callable[[int, int | None], None] | None = None) -> MetadataDocument:
        """Download (or read) and verify the source; on success write the backing file. Does not swap.

        MetadataError if the document is older (:meth:`Publication.rollback_from`)
        than the one in use or than the one in the backing file: then the
        backing file is left as it is.  A backing file that cannot be written
        is only recorded (``health.backing_error``): the document is still good.
        """
        data = read_source(self.settings, progress=progress)
        source = self.settings.metadata_url
        doc = self.verify(data, source=source, origin="source")
        current = self._current
        if current is not None:
            problem = doc.publication.rollback_from(current.publication, "the document in use")
            if problem:
                raise MetadataError(f"{source}: {problem}")
        try:
            self.store_backing_file(data, doc, source=source)
            self.health.backing_error = None
        except OSError as exc:
            # the verified document is still good; only the fallback copy is stale
            self.health.backing_error = f"{self.settings.backing_file}: {exc.strerror or exc}"
            log.warning("federation metadata: could not write the backing file %s", self.health.backing_error)
        return doc

    def _read_backing(self) -> tuple[bytes, tuple[int, ...], dt.datetime]:
        """The backing file's bytes, identity (see :func:`_file_identity`) and mtime; MetadataError if unreadable."""
        path = self.settings.backing_file
        try:
            with open(path, "rb") as fh:
                stat = os.fstat(fh.fileno())  # of the file read, even if it is replaced meanwhile
                data = fh.read(self.settings.max_bytes + 1)
        except OSError as exc:
            raise MetadataError(f"backing file {path}: cannot be read: {exc.strerror or exc}") from None
        if len(data) > self.settings.max_bytes:
            raise MetadataError(f"backing file {path}: larger than federation.max_bytes")
        return data, _file_identity(stat), dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)

    def load_backing_file(self) -> MetadataDocument:
        """Verify the backing file exactly like a download (it is only as trusted as its signature)."""
        data, identity, mtime = self._read_backing()
        path = self.settings.backing_file
        doc = self.verify(data, source=f"backing file {path}", origin="backing file", fetched_at=mtime)
        self._backing_known = (identity, doc.publication)
        return doc

    def store_backing_file(self, data: bytes, doc: MetadataDocument, *, source: str) -> None:
        """Write ``data`` (verified as ``doc``) to the backing file, unless that holds a newer document.

        The check and the write run under an exclusive lock (``<backing
        file>.lock``), so that workers sharing the file, and ``ekn-saml
        fetch-metadata``, cannot replace a newer document one of them just
        stored with an older one.  The file's document counts only once it
        verifies; one that does not (tampered, expired, beyond the validity
        cap) sets no limit, as it would not be used either.  Raises
        MetadataError for a rollback (the file is then unchanged), OSError
        if the file cannot be written.  Does nothing without a backing file.
        """
        path = self.settings.backing_file
        if not path:
            return
        with _exclusive_lock(path + ".lock"):
            stored = self._stored_publication(data)
            if stored is not None:
                problem = doc.publication.rollback_from(stored, f"the backing file {path}")
                if problem:
                    raise MetadataError(f"{source}: {problem}")
            write_atomically(path, data)
            self._backing_known = (_file_identity(os.stat(path)), doc.publication)

    def _stored_publication(self, incoming: bytes) -> Publication | None:
        """The publication of the verified document in the backing file; ``None`` if none counts.

        A file this process wrote or verified is known by its identity and
        not verified again; one another process wrote is verified once.
        """
        path = self.settings.backing_file
        try:
            identity = _file_identity(os.stat(path))
        except FileNotFoundError:
            return None
        known = self._backing_known
        if known is not None and known[0] == identity:
            return known[1]
        try:
            data, identity, mtime = self._read_backing()
        except MetadataError as exc:
            log.warning("federation metadata: %s; it sets no limit on the new document", exc.detail)
            return None
        if data == incoming:
            return None  # the same document again (another worker stored it): never older than itself
        try:
            doc = self.verify(data, source=f"backing file {path}", origin="backing file", fetched_at=mtime)
        except MetadataError as exc:
            log.warning("federation metadata: %s; it sets no limit on the new document", exc.detail)
            return None
        self._backing_known = (identity, doc.publication)
        return doc.publication

    def _swap(self, doc: MetadataDocument) -> None:
        self._current = doc  # one reference assignment: readers see the old document or the new one
        self._expired_logged = False
        now = self.clock()
        self.health.last_success = now
        self.health.last_error = None
        self.health.failures = 0
        self.health.next_refresh = now + dt.timedelta(seconds=self.refresh_delay(doc, now) * self.jitter())

    def refresh_delay(self, doc: MetadataDocument | None, now: dt.datetime) -> float:
        """Seconds until the next refresh: 3/4 of cacheDuration, at most half the remaining validity, within bounds."""
        low, high = self.settings.min_refresh, self.settings.max_refresh
        if doc is None:
            return low
        delay = doc.cache_duration.total_seconds() * REFRESH_FACTOR if doc.cache_duration else high
        delay = min(delay, (doc.valid_until - now).total_seconds() / 2)
        return float(min(max(delay, low), high))

    def load_initial(self) -> MetadataDocument:
        """First load of the process: a fresh backing file, else the source, else any valid backing file.

        A backing file verified less than ``min_refresh`` seconds ago is used
        without contacting the source, so that restarting many workers does
        not download the aggregate many times.  A source document older than
        the backing file's is refused like any failing source, so the backing
        file's is used: startup never goes back in time either.  Raises
        MetadataError (with both reasons) if nothing valid can be loaded.
        """
        now = self.clock()
        backing = self.settings.backing_file
        if backing and os.path.exists(backing):
            age = time.time() - os.stat(backing).st_mtime
            if 0 <= age < self.settings.min_refresh:
                try:
                    doc = self.load_backing_file()
                    self._swap(doc)
                    self.health.next_refresh = now + dt.timedelta(seconds=max(self.settings.min_refresh - age, 0))
                    return doc
                except MetadataError as exc:
                    log.warning("federation metadata: fresh backing file not usable: %s", exc.detail)
        self.health.last_attempt = now
        try:
            doc = self.load_from_source()
        except MetadataError as source_exc:
            log.warning("federation metadata: %s; trying the backing file", source_exc.detail)
            audit.metadata_refreshed(self.settings.metadata_url, error=source_exc)
            try:
                doc = self.load_backing_file()
            except MetadataError as backing_exc:
                self.health.last_error = source_exc.detail
                raise MetadataError(f"{source_exc.detail}; and {backing_exc.detail}") from None
            self._swap(doc)
            self._failed(source_exc.detail)
            return doc
        self._swap(doc)
        return doc

    def _failed(self, detail: str) -> None:
        now = self.clock()
        self.health.last_error = detail
        self.health.failures += 1
        self.health.next_refresh = now + dt.timedelta(seconds=self.settings.min_refresh)

    # -- several processes on one machine --

    def use_store(self, store: StateStore) -> None:
        """Coordinate refreshes with the other processes of this machine through ``store``'s leases.

        Only with a backing file, which is how the downloading process hands
        the document to the others; without one every process downloads.
        """
        self._lease_store = store

    def _lease_key(self) -> str:
        # the machine, because the backing file it hands the document over in is a local file
        scope = "\0".join((self.host, os.path.abspath(self.settings.backing_file), self.settings.metadata_url))
        return hashlib.sha256(scope.encode()).hexdigest()[:32]

    def lease_ttl(self) -> int:
        """How long a download lease is held: just under the shortest interval a process can wait.

        So a process's own lease has always run out when its next refresh is
        due, and a process that died downloading holds nobody back for long.
        """
        return max(1, int(self.settings.min_refresh * (1 - JITTER)) - 1)

    def _take_lease(self) -> bool:
        """Whether this process may download now: it got the lease, or there is nothing to coordinate."""
        store = self._lease_store
        if store is None or not self.settings.backing_file:
            return True
        try:
            return store.add(LEASES, self._lease_key(), {"pid": os.getpid()}, self.lease_ttl())
        except StoreUnavailableError as exc:
            # fresh keys matter more than sparing the federation's server one download
            log.warning("federation metadata: no refresh lease (%s); downloading anyway", exc.detail)
            return True

    def pick_up_backing_file(self) -> bool:
        """Swap in the backing file if another process replaced it with a document not older than ours.

        The file is verified exactly like a download (signature, validity,
        schema, never back in time); a file this process wrote or verified
        last is not read again.  Never raises; ``True`` if it swapped.
        """
        path = self.settings.backing_file
        if not path:
            return False
        try:
            identity = _file_identity(os.stat(path))
        except OSError:
            return False
        known = self._backing_known
        if known is not None and known[0] == identity:
            return False
        try:
            doc = self.load_backing_file()
        except MetadataError as exc:
            log.warning("federation metadata: the backing file another process wrote is not usable: %s", exc.detail)
            return False
        current = self._current
        if current is not None:
            problem = doc.publication.rollback_from(current.publication, "the document in use")
            if problem:
                log.warning("federation metadata: backing file %s not used: %s", path, problem)
                return False
        self._swap(doc)
        log.info("federation metadata: picked up the document another process downloaded (%d IdPs)", len(doc.idps))
        return True

    def refresh(self) -> bool:
        """Refresh once; swap on success, keep the current document on failure. Never raises.

        With a store (:meth:`use_store`): first the backing file, if another
        process of this machine stored a document since; else a download
        only with the lease, and without it a look at the backing file again
        in a little while (``False`` meanwhile, which is no failure).
        """
        self.health.last_attempt = self.clock()
        if self._lease_store is not None:
            if self.pick_up_backing_file():
                return True
            if not self._take_lease():
                # another process of this machine is downloading: look for its file soon
                self.health.next_refresh = self.clock() + dt.timedelta(seconds=self.pickup_pause)
                return False
        try:
            doc = self.load_from_source()
        except MetadataError as exc:
            self._failed(exc.detail)
            audit.metadata_refreshed(self.settings.metadata_url, error=exc)
            current = self._current
            log.warning(
                "federation metadata refresh failed, keeping the last good document (valid until %s): %s",
                format_instant(current.valid_until) if current else "-",
                exc.detail,
            )
            return False
        except Exception as exc:
            self._failed(f"{exc.__class__.__name__}: {exc}")
            log.exception("federation metadata refresh failed unexpectedly; keeping the last good document")
            return False
        self._swap(doc)
        audit.metadata_refreshed(
            self.settings.metadata_url, idps=len(doc.idps), valid_until=format_instant(doc.valid_until)
        )
        log.info(
            "federation metadata refreshed: %d entities, %d IdPs, valid until %s",
            doc.entity_count,
            len(doc.idps),
            format_instant(doc.valid_until),
        )
        return True

    # -- the background thread --

    def start(self) -> None:
        """Let the refresher run: its daemon thread starts with the first read of the document in each process.

        Starts no thread itself: called when the app is created, which under
        gunicorn's ``preload_app`` happens in the master before it forks
        (threads do not survive a fork, and a master must not download).
        """
        self._background = True

    def _ensure_running(self) -> None:
        if not self._background or (self._pid == os.getpid() and self._thread is not None and self._thread.is_alive()):
            return
        with _START_LOCK:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, name="ekn_saml-metadata-refresh", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        stop = self._stop
        while True:
            due = self.health.next_refresh
            wait = 0.0 if due is None else max((due - self.clock()).total_seconds(), 0.0)
            # wake at least every minute, so a changed clock or a stop is noticed
            if stop.wait(min(wait, 60.0)):
                return
            if self.health.next_refresh is None or self.health.next_refresh <= self.clock():
                self.refresh()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the refresher thread (tests, shutdown)."""
        self._background = False
        self._stop.set()
        if self._thread is not None and self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # -- reporting --

    def status(self) -> dict:
        """Age, validity and refresh state, for the status endpoint and ``ekn-saml check``."""
        self._ensure_running()
        now = self.clock()
        doc = self._current
        result = {
            "source": self.settings.metadata_url,
            "backing_file": self.settings.backing_file,
            "loaded": doc is not None,
            "last_attempt": _iso(self.health.last_attempt),
            "last_success": _iso(self.health.last_success),
            "last_error": self.health.last_error,
            "consecutive_failures": self.health.failures,
            "next_refresh": _iso(self.health.next_refresh),
            "backing_file_error": self.health.backing_error,
        }
        if doc is not None:
            fetched = doc.fetched_at or doc.verified_at
            result.update(
                origin=doc.origin,
                fetched_at=_iso(fetched),
                age_seconds=int((now - fetched).total_seconds()),
                valid_until=_iso(doc.valid_until),
                expired=doc.valid_until <= now,
                cache_duration_seconds=int(doc.cache_duration.total_seconds()) if doc.cache_duration else None,
                entities=doc.entity_count,
                idps=len(doc.idps),
                size=doc.size,
                sha256=doc.sha256,
                # the instant a newer document must reach (never back in time)
                published=_iso(doc.publication.instant),
                published_from=doc.publication.kind,
            )
        return result


_START_LOCK = threading.Lock()


def _file_identity(stat: os.stat_result) -> tuple[int, ...]:
    """What tells one backing file from its replacement: write_atomically makes a new inode each time."""
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


@contextlib.contextmanager
def _exclusive_lock(path: str):
    """Hold an exclusive advisory lock (flock) on ``path`` for the ``with`` block.

    Every process that replaces the backing file takes it first.  If the
    lock file cannot be made (a read-only directory), the block runs
    unlocked: its check must still run, and its write would fail anyway.
    """
    fd = None
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError as exc:
        log.warning("federation metadata: cannot lock %s: %s", path, exc.strerror or exc)
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the lock


def _iso(moment: dt.datetime | None) -> str | None:
    return format_instant(moment) if moment else None
