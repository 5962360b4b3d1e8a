# SPDX-License-Identifier: Apache-2.0
"""A federation aggregate, verified and indexed: :func:`verify_and_index` and what it returns.

Fail closed, unlike pysaml2's ``MetadataStore`` (which accepts a document
whose signature was stripped, pysaml2 #1037): the aggregate **must** carry
an enveloped signature made with one of the pinned certificates, a
``validUntil`` that has not passed nor lies too far ahead, and be
schema-valid.  Only then are its ``IDPSSODescriptor`` entities kept, each
as its own serialised EntityDescriptor (SP entities are dropped with the
tree); an :class:`~ekn_saml.metadata.idp.IdpInfo` is built when an IdP is
first used (:class:`FederationIdps`).  :class:`Publication` is what the
rule "never back in time" compares.  Nothing here fetches, writes or
schedules anything (:mod:`.fetch`, :mod:`.refresher`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lxml import etree

from ..constants import DEFAULT_MAX_VALIDITY_DAYS
from ..errors import ErrorCode, MetadataError, ResponseValidationError
from ..timeutil import parse_instant
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


def verify_and_index(
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
    document in use (:meth:`~ekn_saml.metadata.refresher.FederationMetadata.load_from_source`).
    """
    root = _signed_root(data, signers, source)
    valid_until = _valid_until(root, now, source, max_validity)
    created = _creation_instant(root, source)
    if created is not None and created > now + CLOCK_ALLOWANCE:
        # it would become the instant every later document must reach, locking refreshes out until then
        raise MetadataError(f"{source}: creationInstant {_exact(created)} is in the future")
    validate_metadata(root, source=source)
    cache_duration = parse_duration(root.get("cacheDuration", "")) if root.get("cacheDuration") else None
    entries, entity_count = _index_idps(root, now, source)
    del root  # the tree (SP entities included) goes now, before any IdP is built
    idps = FederationIdps(entries)
    for entity_id in eager:
        if entity_id in idps:
            try:
                idps.build(entity_id)
            except MetadataError as exc:
                raise MetadataError(f"{source}: {exc.detail}") from None
    return MetadataDocument(
        idps=idps,
        entity_count=entity_count,
        valid_until=valid_until,
        cache_duration=cache_duration,
        verified_at=now,
        size=len(data),
        origin=origin,
        fetched_at=fetched_at or now,
        created=created,
    )


def _signed_root(data: bytes, signers: Sequence[PublicKey], source: str) -> etree._Element:
    """The document's root, once it is SAML metadata whose enveloped signature one of ``signers`` made."""
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
    return root


def _valid_until(root: etree._Element, now: dt.datetime, source: str, max_validity: dt.timedelta) -> dt.datetime:
    """The root's ``validUntil``: required, a time with a zone, ahead of ``now`` by at most ``max_validity``."""
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
    return valid_until


def _index_idps(
    root: etree._Element, now: dt.datetime, source: str
) -> tuple[dict[str, tuple[bytes, dt.datetime | None]], int]:
    """Each IdP entity serialised on its own, by entityID, with its inherited validUntil; and how many entities there are.

    The first of two entities with one entityID is kept (with a warning); an
    entity whose own ``validUntil`` has passed is left out.
    """
    entries: dict[str, tuple[bytes, dt.datetime | None]] = {}
    counter = [0]
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
    return entries, counter[0]
