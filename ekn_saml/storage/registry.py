# SPDX-License-Identifier: Apache-2.0
"""The built-in state backends, by the scheme of ``ekn_saml.store.url``: the one list of schemes.

Each entry names its class by a dotted name, imported only when a store of
that kind is built, so that the Redis client (the ``[redis]`` extra) is
needed only by apps that use it.  The settings check a URL against
:data:`SCHEMES` and :func:`missing_requirement` at startup; a host's own
backend (``ekn_saml.store.backend``) does not go through this table.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from urllib.parse import urlsplit

from .base import StateStore


@dataclass(frozen=True)
class Backend:
    """A built-in backend: its class (``module:Class``), an example URL, and what it needs installed."""

    dotted: str
    example: str
    requires: str = ""  # a module the class imports that is not an ekn_saml requirement
    extra: str = ""  # the ekn_saml extra that installs it
    test_only: bool = False  # state per process: warns unless the caller says it is a test

    @property
    def install_hint(self) -> str:
        """The command that installs what this backend needs (empty if nothing)."""
        return f"pip install 'ekn_saml[{self.extra}]'" if self.extra else ""


_REDIS = "ekn_saml.storage.redis:RedisStateStore"

BACKENDS: dict[str, Backend] = {
    "sqlite": Backend("ekn_saml.storage.sqlite:SQLiteStateStore", "sqlite:///path"),
    "redis": Backend(_REDIS, "redis://host:port/db", requires="redis", extra="redis"),
    "rediss": Backend(_REDIS, "rediss://host:port/db", requires="redis", extra="redis"),
    "unix": Backend(_REDIS, "unix:///path/to/redis.sock?db=0", requires="redis", extra="redis"),
    # the master of a Sentinel-monitored service (ekn_saml.storage.redis_connection has the syntax)
    "redis+sentinel": Backend(_REDIS, "redis+sentinel://host:26379,host2/service/0", requires="redis", extra="redis"),
    "rediss+sentinel": Backend(_REDIS, "rediss+sentinel://host:26379,host2/service/0", requires="redis", extra="redis"),
    "memory": Backend("ekn_saml.storage.memory:MemoryStateStore", "memory://", test_only=True),
}
SCHEMES = tuple(BACKENDS)


def supported_urls() -> str:
    """The URL forms of the built-in backends, for messages."""
    return ", ".join(b.example for b in BACKENDS.values())


def backend_for(url: str) -> Backend:
    """The built-in backend of ``url``'s scheme; ValueError naming the supported ones if there is none."""
    scheme = urlsplit(url).scheme
    backend = BACKENDS.get(scheme)
    if backend is None:
        raise ValueError(f"unsupported store URL scheme {scheme!r} (use {supported_urls()})")
    return backend


def missing_requirement(backend: Backend) -> str | None:
    """What is missing for ``backend`` and how to install it; ``None`` if nothing is.

    Looks for the module without importing it.
    """
    if backend.requires and importlib.util.find_spec(backend.requires) is None:
        return f"the {backend.requires} package is not installed: {backend.install_hint}"
    return None


def backend_class(backend: Backend) -> type[StateStore]:
    """Import the class of ``backend``; ValueError (with the install command) if what it needs is missing."""
    problem = missing_requirement(backend)
    if problem is not None:
        raise ValueError(f"{backend.example.split(':', 1)[0]}:// store: {problem}")
    module_name, _, class_name = backend.dotted.partition(":")
    cls: type[StateStore] = getattr(importlib.import_module(module_name), class_name)
    return cls
