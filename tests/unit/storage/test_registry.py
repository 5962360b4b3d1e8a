# SPDX-License-Identifier: Apache-2.0
"""The one list of store URL schemes: what builds each, what the settings accept, what a missing extra says."""

from __future__ import annotations

import sys

import pytest

from ekn_saml.storage import store_from_url
from ekn_saml.storage.registry import BACKENDS, SCHEMES, backend_class, backend_for

from settings_cases import minimal_raw, parse, problems_of

# a URL of each scheme that builds a store (building never connects)
URLS = {
    "sqlite": "sqlite:///{tmp}/state.sqlite",
    "redis": "redis://127.0.0.1:6379/0",
    "rediss": "rediss://example.invalid:6380/1",
    "unix": "unix:///run/redis.sock?db=2",
    "memory": "memory://",
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


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://example.invalid:6380/1", "unix:///run/r.sock"])
def test_a_redis_url_without_the_redis_package_names_the_extra(monkeypatch, url):
    """Not an ImportError from deep inside: a ValueError (a startup problem) with the command that fixes it."""
    monkeypatch.setitem(sys.modules, "redis", None)  # what an install without the [redis] extra looks like
    with pytest.raises(ValueError) as caught:
        store_from_url(url)
    assert "pip install 'ekn_saml[redis]'" in str(caught.value)


def test_an_unknown_scheme_is_refused_by_the_registry():
    with pytest.raises(ValueError):
        backend_for("postgres://db/state")
