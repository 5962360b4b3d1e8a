# SPDX-License-Identifier: Apache-2.0
"""IdP metadata: parsed once into frozen records, indexed by entityID, swapped atomically."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from lxml import etree
from zope.interface import implementer

from ..errors import MetadataError, ResponseValidationError
from ..interfaces import IIdpRegistry
from ..timeutil import parse_instant, utcnow
from ..xml_limits import METADATA_LIMITS
from ..xmlsecurity import NS, PublicKey, parse_xml

BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
ENTITY_CATEGORY = "http://macedir.org/entity-category"
ASSURANCE_CERTIFICATION = "urn:oasis:names:tc:SAML:attribute:assurance-certification"
_MD = "{{{}}}".format(NS["md"])


@dataclass(frozen=True)
class IdpInfo:
    """What we use of one IdP's metadata.  Keys here are the only keys we trust for it."""

    entity_id: str
    sso_urls: dict[str, str]
    signing_keys: tuple[PublicKey, ...]
    encryption_keys: tuple[PublicKey, ...] = ()
    scopes: frozenset[str] = frozenset()
    entity_categories: frozenset[str] = frozenset()
    assurance_certifications: frozenset[str] = frozenset()
    want_authn_requests_signed: bool = False
    display_names: dict[str, str] = field(default_factory=dict)
    requested_principal_selection: tuple[str, ...] = ()
    valid_until: dt.datetime | None = None

    def sso_url(self, binding: str) -> str | None:
        return self.sso_urls.get(binding)


def _keys(descriptor: etree._Element, use: str) -> tuple[PublicKey, ...]:
    keys = []
    for kd in descriptor.findall("md:KeyDescriptor", NS):
        if kd.get("use") not in (None, use):
            continue
        for cert in kd.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS):
            # A metadata certificate is a key container: its expiry is not checked (DP 2.1.1.2).
            keys.append(PublicKey.from_base64_der(cert.text or ""))
    return tuple(keys)


def _entity_attribute(entity: etree._Element, name: str) -> frozenset[str]:
    values = entity.xpath(
        "md:Extensions/mdattr:EntityAttributes/saml:Attribute[@Name=$name]/saml:AttributeValue/text()",
        namespaces=NS,
        name=name,
    )
    return frozenset(v.strip() for v in values)


def idp_from_entity(entity: etree._Element, inherited_valid_until: dt.datetime | None = None) -> IdpInfo | None:
    """Build an :class:`IdpInfo` from an EntityDescriptor; ``None`` if it has no IdP role."""
    idp = entity.find("md:IDPSSODescriptor", NS)
    if idp is None:
        return None
    entity_id = entity.get("entityID", "")
    sso = {}
    for service in idp.findall("md:SingleSignOnService", NS):
        sso.setdefault(service.get("Binding", ""), service.get("Location", ""))
    scopes = frozenset(
        (s.text or "").strip()
        for s in idp.findall("md:Extensions/shibmd:Scope", NS)
        if s.get("regexp", "false") in ("false", "0")  # regexp scopes are not honoured: too easy to get wrong
    )
    names = {
        el.get("{http://www.w3.org/XML/1998/namespace}lang", ""): (el.text or "").strip()
        for el in idp.findall("md:Extensions/mdui:UIInfo/mdui:DisplayName", NS)
    }
    principal = tuple(
        mv.get("Name", "") for mv in idp.findall("md:Extensions/psc:RequestedPrincipalSelection/psc:MatchValue", NS)
    )
    valid_until = entity.get("validUntil")
    return IdpInfo(
        entity_id=entity_id,
        sso_urls=sso,
        signing_keys=_keys(idp, "signing"),
        encryption_keys=_keys(idp, "encryption"),
        scopes=scopes,
        entity_categories=_entity_attribute(entity, ENTITY_CATEGORY),
        assurance_certifications=_entity_attribute(entity, ASSURANCE_CERTIFICATION),
        want_authn_requests_signed=idp.get("WantAuthnRequestsSigned") in ("true", "1"),
        display_names=names,
        requested_principal_selection=principal,
        valid_until=parse_instant(valid_until) if valid_until else inherited_valid_until,
    )


def parse_idp_metadata(data: bytes, *, source: str, now: dt.datetime) -> dict[str, IdpInfo]:
    """Every IdP in an EntityDescriptor or EntitiesDescriptor document.

    Rejects expired ``validUntil`` (document or entity).  Does **not** check a
    metadata signature: :mod:`ekn_saml.metadata.aggregate` does, before
    calling this, for documents that must be signed.
    """
    try:
        root = parse_xml(data, limits=METADATA_LIMITS)
    except ResponseValidationError as exc:
        raise MetadataError(f"{source}: {exc.detail}") from None
    if root.tag == _MD + "EntityDescriptor":
        entities: Iterable[etree._Element] = [root]
    elif root.tag == _MD + "EntitiesDescriptor":
        entities = root.iter(_MD + "EntityDescriptor")
    else:
        raise MetadataError(f"{source}: not SAML metadata (root is {root.tag})")
    try:
        doc_valid_until = parse_instant(root.get("validUntil")) if root.get("validUntil") else None
    except ValueError as exc:  # found by tests/fuzz: a bad date must be a MetadataError, not a crash
        raise MetadataError(f"{source}: validUntil {root.get('validUntil')!r} is not an instant: {exc}") from None
    if doc_valid_until is not None and doc_valid_until <= now:
        raise MetadataError(f"{source}: validUntil {root.get('validUntil')} has passed")
    found: dict[str, IdpInfo] = {}
    for entity in entities:
        try:
            info = idp_from_entity(entity, doc_valid_until)
        except (ValueError, TypeError) as exc:
            raise MetadataError(f"{source}: entity {entity.get('entityID')!r}: bad key or date: {exc}") from None
        if info is None:
            continue
        if info.valid_until is not None and info.valid_until <= now:
            continue  # an expired entity is dropped, the rest of the aggregate stays usable
        found[info.entity_id] = info
    return found


def load_idp_metadata_files(paths: Iterable[str], *, now: dt.datetime) -> tuple[dict[str, IdpInfo], list[str]]:
    """The IdPs of ``ekn_saml.idp.metadata_files``, trusted as they are; ``(IdPs by entityID, problems)``.

    The one loader the app and the ``ekn-saml`` command share.  Each file is
    read and parsed by :func:`parse_idp_metadata` (expired documents and
    entities refused); a file that cannot be read or used is one problem,
    named by the setting, and the others still load.  Does **not** check a
    metadata signature: these files are trusted because the ini names them.
    """
    idps: dict[str, IdpInfo] = {}
    problems = []
    for path in paths:
        try:
            with open(path, "rb") as fh:
                idps.update(parse_idp_metadata(fh.read(), source=path, now=now))
        except OSError as exc:
            problems.append(f"ekn_saml.idp.metadata_files: {exc}")
        except MetadataError as exc:
            problems.append(f"ekn_saml.idp.metadata_files: {exc.detail}")
    return idps, problems


class IdpSource(Protocol):
    """A refreshed set of IdPs, e.g. :class:`~ekn_saml.metadata.refresher.FederationMetadata`."""

    def get(self, entity_id: str) -> IdpInfo | None: ...

    def all(self) -> list[IdpInfo]: ...


@implementer(IIdpRegistry)
class IdpRegistry:
    """The trusted IdPs; readers never see a half-loaded set (the dict is replaced whole).

    IdPs from configured files (and the development IdP) come first; an
    attached :class:`IdpSource` (federation metadata, swapped atomically by its
    own refresher) answers for the rest.  An IdP whose ``validUntil`` has
    passed is not returned, however long ago it was loaded.
    """

    def __init__(self, idps: dict[str, IdpInfo] | None = None, *, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self._idps: dict[str, IdpInfo] = dict(idps or {})
        self._lock = threading.Lock()
        self._source: IdpSource | None = None
        self._clock = clock

    def attach(self, source: IdpSource) -> None:
        """Consult ``source`` for entityIDs that no configured file names."""
        self._source = source

    @property
    def source(self) -> IdpSource | None:
        return self._source

    def get(self, entity_id: str) -> IdpInfo | None:
        info = self._idps.get(entity_id)
        if info is None and self._source is not None:
            info = self._source.get(entity_id)
        if info is not None and info.valid_until is not None and info.valid_until <= self._clock():
            return None
        return info

    def __contains__(self, entity_id: str) -> bool:
        return self.get(entity_id) is not None

    def all(self) -> list[IdpInfo]:
        found = dict(self._idps)
        if self._source is not None:
            for info in self._source.all():
                found.setdefault(info.entity_id, info)
        now = self._clock()
        return [i for i in found.values() if i.valid_until is None or i.valid_until > now]

    def replace(self, idps: dict[str, IdpInfo]) -> None:
        with self._lock:
            self._idps = dict(idps)

    def merge(self, idps: dict[str, IdpInfo]) -> None:
        with self._lock:
            merged = dict(self._idps)
            merged.update(idps)
            self._idps = merged
