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

Refreshing runs in one daemon thread per process, started by the first
read of the document in that process (never in a gunicorn master before it
forks); the workers of one machine share one download per interval through
a lease in the state store (:mod:`.refresher`).  A login request only reads
the current document reference.

The work is split along its seams: :mod:`.fetch` (the download, the atomic
write, the pinned signers), :mod:`.aggregate` (verification and the index:
:func:`verify_and_index`, :class:`FederationIdps`, :class:`MetadataDocument`,
:class:`Publication`) and :mod:`.refresher` (:class:`FederationMetadata`:
loading, the backing file and its lock, the thread, status).  This module
keeps their names importable from ``ekn_saml.metadata.federation`` and
attaches the refreshed document to an app (:func:`attach_federation`).
"""

from __future__ import annotations

from ..errors import ConfigurationError, MetadataError
from .aggregate import (
    CLOCK_ALLOWANCE,
    DEFAULT_MAX_VALIDITY,
    FederationIdps,
    MetadataDocument,
    Publication,
    parse_duration,
    verify_and_index,
)
from .fetch import is_remote, load_signers, read_source, write_atomically
from .refresher import REFRESH_FACTOR, FederationMetadata

__all__ = [
    "CLOCK_ALLOWANCE",
    "DEFAULT_MAX_VALIDITY",
    "REFRESH_FACTOR",
    "FederationIdps",
    "FederationMetadata",
    "MetadataDocument",
    "Publication",
    "attach_federation",
    "is_remote",
    "load_signers",
    "parse_duration",
    "read_source",
    "verify_and_index",
    "write_atomically",
]


def attach_federation(settings, idp_registry) -> tuple[FederationMetadata | None, list[str]]:
    """Load federation metadata at startup and attach it to ``idp_registry``; ``(holder, problems)``.

    Called by :func:`ekn_saml.wiring.build_services` when
    ``ekn_saml.federation.metadata_url`` is set; the holder is registered as
    :class:`~ekn_saml.interfaces.IFederationMetadata`.  Starts no thread: the
    refresher is armed once the application is created (``ekn_saml.includeme``
    subscribes to ``ApplicationCreated``) and its thread starts with the first
    read of the document in each process, so a startup that fails later, and
    a gunicorn master that preloads the app, have no thread.
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
