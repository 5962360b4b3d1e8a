# SPDX-License-Identifier: Apache-2.0
"""A dict in this process: for unit tests only."""

from __future__ import annotations

import threading
import time
import warnings
from typing import Any

from .base import StateStore


class MemoryStateStore(StateStore):
    """Keeps state in this process only.

    It cannot be shared by workers or nodes, so a login whose IdP response
    lands on another worker fails, and a replay to another worker is not seen.
    It therefore warns unless the caller says it is a test.
    """

    WARNING = (
        "ekn_saml memory store: state is per process and lost on restart; use sqlite:/// or redis:// outside unit tests"
    )

    def __init__(self, *, warn: bool = True, clock=time.monotonic) -> None:
        if warn:
            warnings.warn(self.WARNING, RuntimeWarning, stacklevel=2)
        self._clock = clock
        # reentrant: write_batch holds it over the methods it calls, which take it too
        self._lock = threading.RLock()
        self._data: dict[tuple[str, str], tuple[float, str]] = {}
        self._sets: dict[tuple[str, str], tuple[float, set[str]]] = {}

    @classmethod
    def from_url(cls, url: str, *, key_prefix: str = "ekn_saml:") -> MemoryStateStore:
        """``memory://``, without the warning: :func:`~ekn_saml.storage.store_from_url` gives it to its caller."""
        return cls(warn=False)

    def _live(self, k):
        item = self._data.get(k)
        if item is None:
            return None
        if item[0] <= self._clock():
            del self._data[k]
            return None
        return item[1]

    def put(self, namespace, key, value, ttl):
        raw = self._encode(value)
        with self._lock:
            self._data[(namespace, key)] = (self._clock() + self._check_ttl(ttl), raw)

    def add(self, namespace, key, value, ttl) -> bool:
        raw = self._encode(value)
        with self._lock:
            if self._live((namespace, key)) is not None:
                return False
            self._data[(namespace, key)] = (self._clock() + self._check_ttl(ttl), raw)
            return True

    def get(self, namespace, key) -> dict[str, Any] | None:
        with self._lock:
            return self._decode(self._live((namespace, key)))

    def take(self, namespace, key):
        with self._lock:
            raw = self._live((namespace, key))
            self._data.pop((namespace, key), None)
            return self._decode(raw)

    def delete(self, namespace, key):
        with self._lock:
            self._data.pop((namespace, key), None)

    def increment(self, namespace, key, ttl) -> int:
        ttl = self._check_ttl(ttl)
        with self._lock:
            k = (namespace, key)
            raw = self._live(k)
            if raw is None:
                self._data[k] = (self._clock() + ttl, "1")
                return 1
            expires = self._data[k][0]  # a fixed window: the first increment's expiry stays
            count = int(raw) + 1
            self._data[k] = (expires, str(count))
            return count

    def index_add(self, namespace, index_key, member, ttl):
        with self._lock:
            expires, members = self._sets.get((namespace, index_key), (0.0, set()))
            if expires <= self._clock():
                members = set()
            self._sets[(namespace, index_key)] = (
                max(expires, self._clock() + self._check_ttl(ttl)),
                members | {member},
            )

    def index_members(self, namespace, index_key):
        with self._lock:
            expires, members = self._sets.get((namespace, index_key), (0.0, set()))
            return sorted(members) if expires > self._clock() else []

    def index_discard(self, namespace, index_key, member):
        with self._lock:
            item = self._sets.get((namespace, index_key))
            if item:
                item[1].discard(member)

    def write_batch(self, writes):
        # under the lock the methods take: no other thread sees part of the batch
        with self._lock:
            return super().write_batch(writes)

    def ping(self):
        return None
