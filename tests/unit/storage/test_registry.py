# SPDX-License-Identifier: Apache-2.0
"""The one list of store URL schemes: what builds each, what the settings accept, what a missing extra says."""

from __future__ import annotations

import sys

import pytest

from ekn_saml.storage import StateStore, store_from_url
from ekn_saml.storage.memory import MemoryStateStore
from ekn_saml.storage.registry import BACKENDS, SCHEMES, backend_class, backend_for

from settings_cases import minimal_raw, parse, problems_of

# a URL of each scheme that builds a store (building never connects)
URLS = {
    "sqlite": "sqlite:///{tmp}/state.sqlite",
    "redis": "redis://127.0.0.1:6379/0",
    "rediss": "rediss://example.invalid:6380/1",
    "unix": "unix:///run/redis.sock?db=2",
    "memory": "memory://",
    "redis+sentinel": "redis+sentinel://127.0.0.1:26379,example.invalid/mymaster/0",
    "rediss+sentinel": "rediss+sentinel://example.invalid:26380/mymaster/1",
}


def test_every_scheme_of_the_registry_has_a_test_url():
    assert set(URLS) == set(SCHEMES)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_scheme_builds_the_class_the_registry_names(tmp_path, scheme):
    store = store_from_url(URLS[scheme].format(tmp=tmp_path), allow_memory=True)
    try:
        assert type(store) is backend_class(BACKENDS[scheme])
    finally:
        store.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_settings_accept_every_scheme_of_the_registry(scheme):
    raw = minimal_raw()
    raw["ekn_saml.store.url"] = BACKENDS[scheme].example
    assert parse(raw).store_url == BACKENDS[scheme].example


def test_the_settings_refuse_a_scheme_the_registry_lacks():
    raw = minimal_raw()
    raw["ekn_saml.store.url"] = "postgres://db/state"
    assert any(p.startswith("ekn_saml.store.url") for p in problems_of(raw))


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "rediss://example.invalid:6380/1",
        "unix:///run/r.sock",
        "redis+sentinel://example.invalid/mymaster",
    ],
)
def test_a_redis_url_without_the_redis_package_names_the_extra(monkeypatch, url):
    """Not an ImportError from deep inside: a ValueError (a startup problem) with the command that fixes it."""
    monkeypatch.setitem(sys.modules, "redis", None)  # what an install without the [redis] extra looks like
    with pytest.raises(ValueError) as caught:
        store_from_url(url)
    assert "pip install 'ekn_saml[redis]'" in str(caught.value)


def test_an_unknown_scheme_is_refused_by_the_registry():
    with pytest.raises(ValueError):
        backend_for("postgres://db/state")


class _HostStore(MemoryStateStore):
    """A host's own backend: remembers what it was built from."""

    @classmethod
    def from_url(cls, url: str, *, key_prefix: str = "ekn_saml:") -> _HostStore:
        store = cls(warn=False)
        store.built_from = (url, key_prefix)
        return store


def test_a_host_backend_is_built_by_its_from_url_whatever_the_scheme():
    store = store_from_url("mydb://db.internal/ekn", key_prefix="app:", backend=_HostStore)
    assert isinstance(store, _HostStore) and store.built_from == ("mydb://db.internal/ekn", "app:")


def test_a_store_without_from_url_says_it_cannot_be_built_from_a_url():
    class Unbuildable(MemoryStateStore):
        from_url = StateStore.__dict__["from_url"]

    with pytest.raises(NotImplementedError):
        Unbuildable.from_url("memory://")
