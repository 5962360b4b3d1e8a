# SPDX-License-Identifier: Apache-2.0
"""A host app's own state store, named by ekn_saml.store.backend, carries a whole login."""

from __future__ import annotations

from typing import Any, ClassVar

from ekn_saml.demo import main
from ekn_saml.storage.memory import MemoryStateStore

from dev_app import browser, log_in


class HostStateStore(MemoryStateStore):
    """The host's backend: kept in memory here, and built only through from_url, as ekn_saml builds every backend."""

    built: ClassVar[list[HostStateStore]] = []

    def __init__(self, url: str, key_prefix: str) -> None:
        super().__init__(warn=False)
        self.url, self.key_prefix = url, key_prefix
        self.namespaces: set[str] = set()  # where something was written

    @classmethod
    def from_url(cls, url: str, *, key_prefix: str = "ekn_saml:") -> HostStateStore:
        store = cls(url, key_prefix)
        cls.built.append(store)
        return store

    def put(self, namespace: str, key: str, value: dict[str, Any], ttl: int) -> None:
        self.namespaces.add(namespace)
        super().put(namespace, key, value, ttl)

    def add(self, namespace: str, key: str, value: dict[str, Any], ttl: int) -> bool:
        self.namespaces.add(namespace)
        return super().add(namespace, key, value, ttl)


def test_a_login_runs_on_the_hosts_own_store(dev_settings):
    HostStateStore.built.clear()
    settings = {
        **dev_settings,
        "ekn_saml.store.backend": f"{__name__}:HostStateStore",
        "ekn_saml.store.url": "hoststore://state.internal/ekn",
        "ekn_saml.store.key_prefix": "portal:",
    }
    client = browser(main({}, **settings))
    log_in(client)
    assert client.get("/mina-sidor").status_int == 200
    [store] = HostStateStore.built
    assert (store.url, store.key_prefix) == ("hoststore://state.internal/ekn", "portal:")
    # the login start's request, the ACS's replay record and the session all went to the host's store
    assert {"outstanding", "replay", "session"} <= store.namespaces
