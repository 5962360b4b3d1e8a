# SPDX-License-Identifier: Apache-2.0
"""The contract every state backend keeps."""

from __future__ import annotations

import abc
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Self

from zope.interface import alsoProvides, implementer, provider

from ..interfaces import IStateStore, IStateStoreFactory


@dataclass(frozen=True, slots=True)
class StoreWrite:
    """One write of a :meth:`StateStore.write_batch`; made with the class methods, named like the store's methods."""

    op: Literal["put", "add", "delete", "index_add", "index_discard"]
    namespace: str
    key: str  # the value's key, or the index set's key
    value: dict[str, Any] = field(default_factory=dict)  # put, add
    ttl: int = 0  # put, add, index_add
    member: str = ""  # index_add, index_discard

    @classmethod
    def put(cls, namespace: str, key: str, value: dict[str, Any], ttl: int) -> StoreWrite:
        return cls("put", namespace, key, value, ttl)

    @classmethod
    def add(cls, namespace: str, key: str, value: dict[str, Any], ttl: int) -> StoreWrite:
        return cls("add", namespace, key, value, ttl)

    @classmethod
    def delete(cls, namespace: str, key: str) -> StoreWrite:
        return cls("delete", namespace, key)

    @classmethod
    def index_add(cls, namespace: str, index_key: str, member: str, ttl: int) -> StoreWrite:
        return cls("index_add", namespace, index_key, ttl=ttl, member=member)

    @classmethod
    def index_discard(cls, namespace: str, index_key: str, member: str) -> StoreWrite:
        return cls("index_discard", namespace, index_key, member=member)


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
    * :meth:`write_batch` makes several writes in order with the results the
      single methods would give (atomically as a whole in the built-in
      backends; see there);
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

    def write_batch(self, writes: Sequence[StoreWrite]) -> list[bool | None]:
        """Make ``writes`` in order, as the methods they name would; one result each (``add``: its bool, else ``None``).

        Every TTL is checked first, so a ValueError writes nothing.  An
        ``add`` that finds its key taken returns ``False`` and the writes
        after it are still made: nothing in a batch depends on another's
        result.  Why: a request's writes (a session's index entries and its
        record, a logout's deletions, the two replay entries) go to the
        store in one round trip instead of one each, which is most of a
        Redis store's CPU per login.

        The built-in backends also make the batch **atomic**: Redis in one
        Lua script, SQLite in one transaction, memory under its lock;
        no other client sees part of it, and a failure
        (:class:`~ekn_saml.errors.StoreUnavailableError`) leaves none of it
        written.  This default, which a host's backend inherits, calls the
        methods one by one: the same results, **without** that atomicity
        (a failure half-way leaves the writes before it).
        """
        for write in writes:
            self._check_write(write)
        return [self._write_one(write) for write in writes]

    def _write_one(self, write: StoreWrite) -> bool | None:
        if write.op == "put":
            self.put(write.namespace, write.key, write.value, write.ttl)
        elif write.op == "add":
            return self.add(write.namespace, write.key, write.value, write.ttl)
        elif write.op == "delete":
            self.delete(write.namespace, write.key)
        elif write.op == "index_add":
            self.index_add(write.namespace, write.key, write.member, write.ttl)
        else:
            self.index_discard(write.namespace, write.key, write.member)
        return None

    @classmethod
    def _check_write(cls, write: StoreWrite) -> None:
        if write.op in ("put", "add", "index_add"):
            cls._check_ttl(write.ttl)
        elif write.op not in ("delete", "index_discard"):
            raise ValueError(f"unknown store write {write.op!r}")
        if write.op in ("put", "add") and not isinstance(write.value, dict):
            raise ValueError(f"{write.op} needs a dict value")

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
