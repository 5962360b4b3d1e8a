# SPDX-License-Identifier: Apache-2.0
"""Server-side state: outstanding requests, the replay cache and sessions.

One interface (:class:`~ekn_saml.storage.base.StateStore`) and its backends,
chosen by the ``ekn_saml.store.url`` setting's scheme
(:mod:`~ekn_saml.storage.registry`):

* ``memory://`` – a dict in this process, for unit tests only (warns otherwise);
* ``sqlite:///path/to/file.sqlite`` – the default; several processes on one
  machine share the file, and it survives restarts;
* ``redis://host:port/db`` (``rediss://``, ``unix://``) – several nodes share
  one Redis server; needs ``pip install 'ekn_saml[redis]'``;
* ``redis+sentinel://host:26379,host2/service/0`` (``rediss+sentinel://``) –
  the same, on the master a set of Redis Sentinels points to.

or by ``ekn_saml.store.backend``, the dotted name of a host's own class.
"""

from __future__ import annotations

import warnings

from .base import StateStore, StoreWrite
from .memory import MemoryStateStore
from .registry import SCHEMES, backend_class, backend_for


def store_from_url(
    url: str, *, key_prefix: str = "ekn_saml:", allow_memory: bool = False, backend: type[StateStore] | None = None
) -> StateStore:
    """Build the store ``url`` names: ``backend.from_url(url, key_prefix=key_prefix)``.

    ``backend`` is the host's own class (``ekn_saml.store.backend``, resolved
    and checked by the settings); without it, the built-in backend of the
    URL's scheme.  ValueError for an unsupported scheme, a URL the backend
    cannot use, or a backend whose package is not installed (with the
    ``pip install`` command).  The memory backend warns unless
    ``allow_memory`` (tests).  Does **not** connect: the first operation
    does, so a store that is down at startup only makes logins answer 503
    until it is back.
    """
    if backend is not None:
        return backend.from_url(url, key_prefix=key_prefix)
    entry = backend_for(url)
    store = backend_class(entry).from_url(url, key_prefix=key_prefix)
    if entry.test_only and not allow_memory:
        warnings.warn(MemoryStateStore.WARNING, RuntimeWarning, stacklevel=2)
    return store


__all__ = ["SCHEMES", "StateStore", "StoreWrite", "store_from_url"]
