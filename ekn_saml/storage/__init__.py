# SPDX-License-Identifier: Apache-2.0
"""Server-side state: outstanding requests, the replay cache and sessions.

One interface (:class:`~ekn_saml.storage.base.StateStore`), three backends,
chosen by the ``ekn_saml.store.url`` setting:

* ``memory://`` – a dict in this process, for unit tests only (warns otherwise);
* ``sqlite:///path/to/file.sqlite`` – the default; several processes on one
  machine share the file, and it survives restarts;
* ``redis://host:port/db`` – several nodes share one Redis server.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .base import StateStore


def store_from_url(url: str, *, key_prefix: str = "ekn_saml:", allow_memory: bool = False) -> StateStore:
    """Build the backend named by ``url``.

    Does **not** connect: the first operation does, so a store that is down
    at startup only makes logins answer 503 until it is back.
    """
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        from .memory import MemoryStateStore

        return MemoryStateStore(warn=not allow_memory)
    if scheme == "sqlite":
        from .sqlite import SQLiteStateStore

        return SQLiteStateStore.from_url(url)
    if scheme in ("redis", "rediss", "unix"):
        from .redis import RedisStateStore

        return RedisStateStore.from_url(url, key_prefix=key_prefix)
    raise ValueError(f"unsupported store URL scheme {scheme!r} (use memory://, sqlite:///path or redis://host:port/db)")


__all__ = ["StateStore", "store_from_url"]
