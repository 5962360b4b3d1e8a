# SPDX-License-Identifier: Apache-2.0
"""Signed federation metadata: verified against a pinned certificate, indexed, kept fresh.

Fail closed, unlike pysaml2's ``MetadataStore`` (which accepts a document
whose signature was stripped, pysaml2 #1037, and never refreshes, #808):

* the aggregate **must** carry an enveloped signature, made with one of the
  pinned certificates (``ekn_saml.federation.signing_cert``), passing the
  same profile check as a SAML Response (:mod:`ekn_saml.xmlsecurity`) and a
  stricter one of its own (:mod:`~ekn_saml.metadata.root_signature`);
* it must have a ``validUntil`` that has not passed, nor lies further ahead
  than ``ekn_saml.federation.max_validity_days``, and be schema-valid;
* it must not be older than the document in use or the one in the backing
  file (:class:`Publication`): a refresh never goes back in time, so an old,
  still valid document (from an attacker on the path, or a stale mirror)
  cannot bring back a key the federation has since removed;
* only then is it indexed and swapped in whole; a failed refresh changes
  nothing but a logged warning, and the last good document keeps serving
  until its own ``validUntil``;
* every verified document is also written, atomically, to a backing file,
  which is verified again like any download before it is used (at startup,
  or when the source cannot be reached).

Lean loading: one parse, one signature check, one schema pass, then only the
``IDPSSODescriptor`` entities are kept, each as its own serialised
EntityDescriptor (SP entities are dropped with the tree).  An
:class:`~ekn_saml.metadata.idp.IdpInfo` is built when an IdP is first used
(eagerly for the IdPs the login methods name, so their problems show at load).

Refreshing runs in one daemon thread per process (started again in a forked
worker).  A login request only reads the current document reference.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import hashlib
import logging
import os
import re
import ssl
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree
from zope.interface import implementer

from .. import audit
from ..errors import ConfigurationError, ErrorCode, MetadataError, ResponseValidationError
from ..interfaces import IFederationMetadata
from ..settings import DEFAULT_MAX_VALIDITY_DAYS, FederationSettings
from ..timeutil import format_instant, parse_instant, utcnow
from ..xml_limits import METADATA_LIMITS
from ..xmlsecurity import NS, PublicKey, parse_xml
from .idp import IdpInfo, idp_from_entity
from .root_signature import verify_root_signature
from .schema import validate_metadata

log = logging.getLogger("ekn_saml.metadata")

_MD = "{{{}}}".format(NS["md"])
ENTITIES = _MD + "EntitiesDescriptor"
ENTITY = _MD + "EntityDescriptor"
IDPSSO = _MD + "IDPSSODescriptor"
EXTENSIONS = _MD + "Extensions"
# SAML V2.0 Metadata Extensions for Registration and Publication Information (MDRPI)
MDRPI = "urn:oasis:names:tc:SAML:metadata:rpi"
PUBLICATION_INFO = f"{{{MDRPI}}}PublicationInfo"
# The signer's clock may run ahead of ours: a document signed "now" for exactly
# max_validity_days, or stamped "now", must not be refused for a few seconds' difference.
CLOCK_ALLOWANCE = dt.timedelta(minutes=5)
DEFAULT_MAX_VALIDITY = dt.timedelta(days=DEFAULT_MAX_VALIDITY_DAYS)
_DURATION = re.compile(
    r"^P(?:(?P<y>[0-9]+)Y)?(?:(?P<mo>[0-9]+)M)?(?:(?P<d>[0-9]+)D)?"
    r"(?:T(?:(?P<h>[0-9]+)H)?(?:(?P<mi>[0-9]+)M)?(?:(?P<s>[0-9]+(?:\.[0-9]+)?)S)?)?$"
)
# Shibboleth's refreshDelayFactor: refresh before the cache duration runs out, not after.
REFRESH_FACTOR = 0.75
_CHUNK = 1024 * 1024


def parse_duration(value: str) -> dt.timedelta | None:
    """An xs:duration as a timedelta (a year is 365 days, a month 30); ``None`` if unusable or negative."""
    match = _DURATION.match(value.strip())
    if not match or value.strip() in ("P", "PT") or value.strip().endswith("T"):
        return None
    g = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    days = g["y"] * 365 + g["mo"] * 30 + g["d"]
    return dt.timedelta(days=days, hours=g["h"], minutes=g["mi"], seconds=g["s"])


_IDP_ENTITIES = etree.XPath("md:EntityDescriptor[md:IDPSSODescriptor]", namespaces={"md": NS["md"]})
_COUNT_ENTITIES = etree.XPath("count(md:EntityDescriptor)", namespaces={"md": NS["md"]})


def _idp_entities(group: etree._Element, valid_until: dt.datetime | None, counter: list[int]):
    """``(IdP EntityDescriptor, earliest validUntil of its EntitiesDescriptor ancestors)``.

    A group's own entities come before those of its nested groups.

    Looks at the aggregate's children only (groups nest, entities do not), not
    at the whole tree: a 5,000-entity aggregate has some 150,000 elements.
    ``counter[0]`` is increased by the number of entities seen, IdPs or not.
    """
    if group.tag == ENTITY:
        counter[0] += 1
        if group.find(IDPSSO) is not None:
            yield group, valid_until
        return
    own = group.get("validUntil")
    if own:
        moment = parse_instant(own)  # a time without a zone raises ValueError
        valid_until = moment if valid_until is None or moment < valid_until else valid_until
    counter[0] += int(_COUNT_ENTITIES(group))
    for entity in _IDP_ENTITIES(group):
        yield entity, valid_until
    for inner in group.iterchildren(ENTITIES):
        yield from _idp_entities(inner, valid_until, counter)


class FederationIdps:
    """The IdPs of one verified document: entityID -> serialised EntityDescriptor, built on first use.

    The serialised entities come from a tree whose signature was verified;
    parsing them again needs no second check.  Building is idempotent, so two
    threads racing on the same entity at worst both build it.
    """

    def __init__(self, entries: dict[str, tuple[bytes, dt.datetime | None]]) -> None:
        self._entries = entries
        self._built: dict[str, IdpInfo] = {}
        self._broken: set[str] = set()  # logged once, then simply unknown

    def build(self, entity_id: str) -> IdpInfo:
        """Build (or return the built) IdpInfo; MetadataError if the entity is unusable (bad key, bad date)."""
        info = self._built.get(entity_id)
        if info is not None:
            return info
        data, inherited = self._entries[entity_id]
        try:
            info = idp_from_entity(parse_xml(data, limits=METADATA_LIMITS), inherited)
        except (ValueError, TypeError, ResponseValidationError) as exc:
            raise MetadataError(f"entity {entity_id!r}: bad key or date: {exc}") from None
        if info is None:  # pragma: no cover - only IDPSSODescriptor entities are indexed
            raise MetadataError(f"entity {entity_id!r} has no IDPSSODescriptor")
        self._built[entity_id] = info
        return info

    def get(self, entity_id: str) -> IdpInfo | None:
        if entity_id not in self._entries or entity_id in self._broken:
            return None
        try:
            return self.build(entity_id)
        except MetadataError as exc:
            self._broken.add(entity_id)
            log.warning("federation metadata: ignoring IdP: %s", exc.detail)
            return None

    def all(self) -> list[IdpInfo]:
        return [info for info in map(self.get, self._entries) if info is not None]

    def __contains__(self, entity_id: str) -> bool:
        return entity_id in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def entity_ids(self) -> list[str]:
        return list(self._entries)


def _exact(moment: dt.datetime) -> str:
    """An instant to the millisecond, for messages comparing two that may differ by less than a second."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Publication:
    """When a verified document was published: what the rule "never back in time" compares.

    ``created`` is the root's ``mdrpi:PublicationInfo/@creationInstant``
    (``None`` if it has none); :attr:`instant` is that, else ``valid_until``.
    """

    created: dt.datetime | None
    valid_until: dt.datetime

    @property
    def instant(self) -> dt.datetime:
        return self.created if self.created is not None else self.valid_until

    @property
    def kind(self) -> str:
        """Which attribute :attr:`instant` comes from: ``creationInstant`` or ``validUntil``."""
        return "creationInstant" if self.created is not None else "validUntil"

    def rollback_from(self, other: Publication, other_name: str) -> str | None:
        """Why this document would go back in time from ``other`` (named ``other_name`` in the message); ``None`` if it would not.

        Two creationInstants are compared when both documents have one, else
        the two validUntils.  Never a creationInstant with a validUntil: an old
        document without PublicationInfo (its validUntil still ahead) would
        then pass any newer one that has it (its creationInstant behind us).
        An equal instant is not older: the same document may be served again.
        """
        if self.created is not None and other.created is not None:
            kind, mine, theirs = "creationInstant", self.created, other.created
        else:
            kind, mine, theirs = "validUntil", self.valid_until, other.valid_until
        if mine >= theirs:
            return None
        return (
            f"{kind} {_exact(mine)} is older than {kind} {_exact(theirs)} of {other_name}; "
            "federation metadata never goes back in time (an old document could bring back a removed key)"
        )


@dataclass(frozen=True)
class MetadataDocument:
    """One verified aggregate, indexed; replaced whole, never changed."""

    idps: FederationIdps
    entity_count: int
    valid_until: dt.datetime
    cache_duration: dt.timedelta | None
    verified_at: dt.datetime
    size: int
    origin: str  # "source" or "backing file"
    fetched_at: dt.datetime | None = None  # when the bytes came from the source (backing file: its mtime)
    sha256: str | None = None
    created: dt.datetime | None = None  # mdrpi:PublicationInfo/@creationInstant, if the root has one

    @property
    def publication(self) -> Publication:
        return Publication(self.created, self.valid_until)


def _creation_instant(root: etree._Element, source: str) -> dt.datetime | None:
    """The root's ``md:Extensions/mdrpi:PublicationInfo/@creationInstant``; ``None`` if it has none.

    (MDRPI makes the attribute optional.)  MetadataError if there are
    several PublicationInfo elements, or a creationInstant that is not a
    time with a zone: the metadata schema we validate against skips mdrpi,
    so these are checked here.
    """
    found = [info for ext in root.iterchildren(EXTENSIONS) for info in ext.iterchildren(PUBLICATION_INFO)]
    if len(found) > 1:
        # two would leave it to us which one counts
        raise MetadataError(f"{source}: {len(found)} mdrpi:PublicationInfo elements; at most one is allowed")
    raw = found[0].get("creationInstant") if found else None
    if raw is None:
        return None
    try:
        return parse_instant(raw)
    except ValueError:
        raise MetadataError(f"{source}: creationInstant {raw!r} is not a time with a zone") from None


def verify_and_index(  # noqa: C901 - to be split with the federation module (issue 13)
    data: bytes,
    signers: Sequence[PublicKey],
    *,
    now: dt.datetime,
    source: str,
    origin: str = "source",
    eager: Iterable[str] = (),
    fetched_at: dt.datetime | None = None,
    max_validity: dt.timedelta = DEFAULT_MAX_VALIDITY,
) -> MetadataDocument:
    """Parse, verify, check and index a federation metadata document.

    In this order, each failure raising :class:`MetadataError`
    (METADATA_INVALID): the one safe parse (no DTD; the ID and namespace
    checks are the signature's, see :func:`parse_xml`); the root is an
    EntitiesDescriptor or EntityDescriptor; it has exactly one enveloped
    signature over its own ID, by one of ``signers``
    (:func:`~ekn_saml.metadata.root_signature.verify_root_signature`); it has a ``validUntil`` in the future
    and at most ``max_validity`` ahead; its PublicationInfo, if any, is
    well-formed and not in the future; it is valid
    against the metadata schema; each IdP in ``eager`` present in it builds.
    Entities whose own ``validUntil`` has passed are left out.  Does **not**
    check certificate expiry (metadata certificates are key containers),
    nor whether the document is older than another one: that needs the
    document in use (:meth:`FederationMetadata.load_from_source`).
    """
    try:
        # whole_document_signed: the signature below covers the root without any
        # ID lookup, and its canonicalisation refuses relative namespace declarations
        root = parse_xml(data, whole_document_signed=True, limits=METADATA_LIMITS)
    except ResponseValidationError as exc:
        raise MetadataError(f"{source}: {exc.code.name}: {exc.detail}") from None
    if root.tag not in (ENTITIES, ENTITY):
        raise MetadataError(f"{source}: not SAML metadata (root is {root.tag})")
    try:
        verify_root_signature(root, signers)
    except ResponseValidationError as exc:
        if exc.code == ErrorCode.RESPONSE_NOT_SIGNED:
            raise MetadataError(f"{source}: not signed; federation metadata must carry a signature") from None
        raise MetadataError(f"{source}: signature rejected: {exc.code.name}: {exc.detail}") from None
    raw_valid_until = root.get("validUntil")
    if not raw_valid_until:
        # without it, a captured old aggregate could be replayed forever (MetaIOP §2.3)
        raise MetadataError(f"{source}: no validUntil; federation metadata must say how long it is valid")
    try:
        valid_until = parse_instant(raw_valid_until)
    except ValueError:
        raise MetadataError(f"{source}: validUntil {raw_valid_until!r} is not a time with a zone") from None
    if valid_until <= now:
        raise MetadataError(f"{source}: validUntil {raw_valid_until} has passed")
    if valid_until - now > max_validity + CLOCK_ALLOWANCE:
        # a document signed for years could be replayed for years, keys it has since lost included
        raise MetadataError(
            f"{source}: validUntil {raw_valid_until} is more than {max_validity.days} days ahead; "
            "raise ekn_saml.federation.max_validity_days only if the federation really signs for that long"
        )
    created = _creation_instant(root, source)
    if created is not None and created > now + CLOCK_ALLOWANCE:
        # it would become the instant every later document must reach, locking refreshes out until then
        raise MetadataError(f"{source}: creationInstant {_exact(created)} is in the future")
    validate_metadata(root, source=source)
    cache_duration = parse_duration(root.get("cacheDuration", "")) if root.get("cacheDuration") else None

    entries: dict[str, tuple[bytes, dt.datetime | None]] = {}
    counter = [0]
    entity = None
    try:
        for entity, inherited in _idp_entities(root, None, counter):
            entity_id = entity.get("entityID", "")
            if entity_id in entries:
                log.warning(
                    "federation metadata %s: entityID %s appears more than once; the first is used", source, entity_id
                )
                continue
            own = entity.get("validUntil")
            if own and parse_instant(own) <= now:
                continue  # an expired entity is dropped; the rest of the aggregate stays usable
            entries[entity_id] = (etree.tostring(entity), inherited)
    except ValueError as exc:
        raise MetadataError(f"{source}: bad validUntil: {exc}") from None
    del root, entity  # the tree (SP entities included) goes now, before any IdP is built

    idps = FederationIdps(entries)
    for entity_id in eager:
        if entity_id in idps:
            try:
                idps.build(entity_id)
            except MetadataError as exc:
                raise MetadataError(f"{source}: {exc.detail}") from None
    return MetadataDocument(
        idps=idps,
        entity_count=counter[0],
        valid_until=valid_until,
        cache_duration=cache_duration,
        verified_at=now,
        size=len(data),
        origin=origin,
        fetched_at=fetched_at or now,
        created=created,
    )


# ---------------------------------------------------------------- getting the bytes


class _HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but never from https to anything weaker."""

    def __init__(self, allow_loopback_http: bool) -> None:
        self.allow_loopback_http = allow_loopback_http

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not _scheme_allowed(newurl, self.allow_loopback_http):
            fp.close()  # urllib closes it only after a redirect it follows
            raise MetadataError(f"redirect to {newurl!r} refused: federation metadata is fetched over https only")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _scheme_allowed(url: str, allow_loopback_http: bool) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and allow_loopback_http and parts.hostname in ("127.0.0.1", "::1", "localhost")


def is_remote(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def read_source(settings: FederationSettings, *, progress: Callable[[int, int | None], None] | None = None) -> bytes:
    """The raw bytes of ``settings.metadata_url`` (a file path, file:// or https URL).

    Size-capped at ``max_bytes``; network reads time out after ``timeout``
    seconds each and the whole download after ten times that.  Raises
    MetadataError for every failure.  Does **not** parse or verify.
    """
    url = settings.metadata_url
    if not is_remote(url):
        path = urlsplit(url).path if url.startswith("file:") else url
        try:
            with open(path, "rb") as fh:
                data = fh.read(settings.max_bytes + 1)
        except OSError as exc:
            raise MetadataError(f"{url}: cannot be read: {exc.strerror or exc}") from None
        if len(data) > settings.max_bytes:
            raise MetadataError(f"{url}: larger than federation.max_bytes ({settings.max_bytes})")
        if progress:
            progress(len(data), len(data))
        return data
    if not _scheme_allowed(url, settings.allow_loopback_http):
        raise MetadataError(f"{url}: only https is allowed")
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=ssl.create_default_context()),
        _HttpsOnlyRedirects(settings.allow_loopback_http),
    )
    # https only (checked above), or http to loopback with ekn_saml.testing
    request = urllib.request.Request(  # noqa: S310
        url, headers={"User-Agent": "ekn_saml", "Accept": "application/samlmetadata+xml, application/xml;q=0.9"}
    )
    deadline = time.monotonic() + 10 * settings.timeout
    try:
        with opener.open(request, timeout=settings.timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isascii() and length.isdigit() else None
            if total is not None and total > settings.max_bytes:
                raise MetadataError(f"{url}: {total} bytes is larger than federation.max_bytes ({settings.max_bytes})")
            chunks, size = [], 0
            while chunk := response.read(_CHUNK):
                chunks.append(chunk)
                size += len(chunk)
                if size > settings.max_bytes:
                    raise MetadataError(f"{url}: larger than federation.max_bytes ({settings.max_bytes})")
                if time.monotonic() > deadline:
                    raise MetadataError(f"{url}: download took longer than {10 * settings.timeout} s")
                if progress:
                    progress(size, total)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise MetadataError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise MetadataError(f"{url}: cannot be fetched: {reason}") from None
    return b"".join(chunks)


def write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".ekn-metadata-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):  # the write failed already: that is the error to report
            os.unlink(tmp)
        raise


def load_signers(paths: Iterable[str]) -> list[PublicKey]:
    """The pinned federation signing certificates; ConfigurationError if one cannot be read."""
    signers, problems = [], []
    for path in paths:
        try:
            with open(path, "rb") as fh:
                signers.append(PublicKey.from_pem(fh.read()))
        except (OSError, ValueError) as exc:
            problems.append(f"ekn_saml.federation.signing_cert {path}: cannot be read ({exc})")
    if problems:
        raise ConfigurationError(problems)
    return signers


# ---------------------------------------------------------------- the refreshed holder


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
    ) -> None:
        self.settings = settings
        self.eager = tuple(eager)
        self.clock = clock
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
        self.health.next_refresh = now + dt.timedelta(seconds=self.refresh_delay(doc, now))

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

    def refresh(self) -> bool:
        """Try the source once; swap on success, keep the current document on failure. Never raises."""
        self.health.last_attempt = self.clock()
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
        """Run the refresher in a daemon thread of this process (again in a forked child)."""
        self._background = True
        self._ensure_running()

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


def attach_federation(settings, idp_registry) -> tuple[FederationMetadata | None, list[str]]:
    """Load federation metadata at startup and attach it to ``idp_registry``; ``(holder, problems)``.

    Called by :func:`ekn_saml.wiring.build_services` when
    ``ekn_saml.federation.metadata_url`` is set; the holder is registered as
    :class:`~ekn_saml.interfaces.IFederationMetadata`.  Starts no thread: the
    refresher starts once the application is created (``ekn_saml.includeme``
    subscribes to ``ApplicationCreated``), so a startup that fails later
    leaves no thread behind.
    """
    try:
        federation = FederationMetadata(settings.federation, eager=[m.idp_entity_id for m in settings.methods])
        federation.load_initial()
    except ConfigurationError as exc:
        return None, exc.problems
    except MetadataError as exc:
        return None, [f"ekn_saml.federation.metadata_url: {exc.detail}"]
    idp_registry.attach(federation)
    return federation, []
