# SPDX-License-Identifier: Apache-2.0
"""The contract every state backend keeps."""

from __future__ import annotations

import abc
import json
from typing import Any, Self

from zope.interface import alsoProvides, implementer, provider

from ..interfaces import IStateStore, IStateStoreFactory


@implementer(IStateStore)
@provider(IStateStoreFactory)
class StateStore(abc.ABC):
    """Key/value state with a TTL on every entry, in namespaces.

    Contract, for every backend:

    * every entry expires after ``ttl`` seconds (``ttl`` >= 1) and is then
      invisible to every method;
    * :meth:`add` is an atomic "add if absent": of two concurrent calls with
      the same key, across processes and nodes, exactly one returns ``True``;
    * :meth:`take` is an atomic "get and delete": of two concurrent calls,
      at most one gets the value (single use);
    * :meth:`increment` is an atomic counter: of N concurrent calls on one
      live counter, each gets a different value;
    * values are JSON-serialisable dicts;
    * any failure to reach the backend raises
      :class:`~ekn_saml.errors.StoreUnavailableError` and nothing is written
      in part.

    The store does **not** encrypt values: never put a personal identity
    number in a namespace that a client could read (no backend exposes data
    to clients; the rule is for callers that might copy values into cookies).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # An interface a class provides is not inherited: each backend, a host's too, says again
        # that the class itself is how ekn_saml builds a store (IStateStoreFactory.from_url).
        super().__init_subclass__(**kwargs)
        alsoProvides(cls, IStateStoreFactory)

    @classmethod
    def from_url(cls, url: str, *, key_prefix: str = "ekn_saml:") -> Self:
        """Build a store from ``ekn_saml.store.url`` and ``ekn_saml.store.key_prefix``: how ekn_saml builds every backend.

        The built-in backends are chosen by the URL's scheme
        (:mod:`ekn_saml.storage.registry`); a host's own class, named by
        ``ekn_saml.store.backend``, is built by this same method and reads
        ``url`` as it likes.  Must **not** connect (the first operation
        does, so a store that is down at startup only makes logins answer
        503 until it is back); raises ValueError for a URL it cannot use.
        A backend that keeps its keys apart from other apps' by
        ``key_prefix`` uses it; others may ignore it.
        """
        raise NotImplementedError(
            f"{cls.__name__} does not say how to build it from a URL: define from_url(url, *, key_prefix)"
        )

    @abc.abstractmethod
    def put(self, namespace: str, key: str, value: dict[str, Any], ttl: int) -> None:
        """Set ``key`` to ``value``, replacing any earlier value."""

    @abc.abstractmethod
    def add(self, namespace: str, key: str, value: dict[str, Any], ttl: int) -> bool:
        """Set ``key`` only if it is absent (or expired); ``True`` if this call set it."""

    @abc.abstractmethod
    def get(self, namespace: str, key: str) -> dict[str, Any] | None:
        """The live value, or ``None``."""

    @abc.abstractmethod
    def take(self, namespace: str, key: str) -> dict[str, Any] | None:
        """Atomically return and delete the live value, or ``None``."""

    @abc.abstractmethod
    def delete(self, namespace: str, key: str) -> None:
        """Remove ``key``; absent keys are not an error."""

    @abc.abstractmethod
    def index_add(self, namespace: str, index_key: str, member: str, ttl: int) -> None:
        """Add ``member`` to the set ``index_key``; the set lives at least ``ttl`` more seconds."""

    @abc.abstractmethod
    def index_members(self, namespace: str, index_key: str) -> list[str]:
        """Members of the set (sorted); an expired or unknown set is empty."""

    @abc.abstractmethod
    def index_discard(self, namespace: str, index_key: str, member: str) -> None:
        """Remove ``member`` from the set."""

    @abc.abstractmethod
    def increment(self, namespace: str, key: str, ttl: int) -> int:
        """Add one to the counter ``key`` and return its new value, atomically.

        A counter that is absent or expired starts again at 1 and then lives
        ``ttl`` seconds; later increments do **not** extend its life (a fixed
        window, e.g. for a rate limit).  Counters are read only through this
        method, and ``key`` must hold nothing but a counter (use a namespace
        of its own): what it does to a value :meth:`put` there is undefined.
        """

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise ``StoreUnavailableError`` unless the backend answers."""

    def close(self) -> None:  # noqa: B027 - optional: a backend without connections has nothing to release
        """Release connections."""

    @staticmethod
    def _encode(value: dict[str, Any]) -> str:
        return json.dumps(value, separators=(",", ":"), sort_keys=True)

    @staticmethod
    def _decode(raw: str | bytes | None) -> dict[str, Any] | None:
        return None if raw is None else json.loads(raw)

    @staticmethod
    def _check_ttl(ttl: int) -> int:
        ttl = int(ttl)
        if ttl < 1:
            raise ValueError("ttl must be at least one second")
        return ttl
