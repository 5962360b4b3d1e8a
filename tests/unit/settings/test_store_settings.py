# SPDX-License-Identifier: Apache-2.0
"""ekn_saml.store.*: a built-in backend by the URL's scheme, or the host's own class by its dotted name."""

from __future__ import annotations

import sys

import pytest

from ekn_saml.storage import StateStore
from ekn_saml.storage.memory import MemoryStateStore
from ekn_saml.storage.sqlite import SQLiteStateStore

from settings_cases import minimal_raw, parse, problems_of


class WithoutFromUrl(MemoryStateStore):
    """A complete store that cannot be built from a URL: its from_url is the base class's."""

    from_url = StateStore.__dict__["from_url"]


class Incomplete(StateStore):
    """Says how to build it, but leaves the contract's methods unimplemented."""

    @classmethod
    def from_url(cls, url: str, *, key_prefix: str = "ekn_saml:") -> Incomplete:
        return cls()


@pytest.fixture
def raw():
    return minimal_raw()


def test_a_dotted_name_resolves_to_the_class(raw):
    raw["ekn_saml.store.backend"] = "ekn_saml.storage.sqlite:SQLiteStateStore"
    assert parse(raw).store_backend is SQLiteStateStore


def test_without_a_dotted_name_the_scheme_chooses(raw):
    assert parse(raw).store_backend is None


def test_with_a_dotted_name_the_url_is_the_classes_to_read(raw):
    raw.update(
        {"ekn_saml.store.backend": "ekn_saml.storage.memory:MemoryStateStore", "ekn_saml.store.url": "mydb://db/ekn"}
    )
    assert parse(raw).store_url == "mydb://db/ekn"


@pytest.mark.parametrize(
    "dotted",
    [
        "ekn_saml_no_such_package.stores:Store",  # does not import
        "ekn_saml.storage.memory:NoSuchStore",  # no such attribute
        "ekn_saml.storage.registry:SCHEMES",  # not a class
        "ekn_saml.errors:SamlError",  # a class, not a StateStore
        f"{__name__}:Incomplete",  # abstract: the contract's methods are not implemented
        f"{__name__}:WithoutFromUrl",  # cannot be built from the URL
        ".relative:Store",  # relative to nothing
    ],
)
def test_a_dotted_name_that_gives_no_usable_store_is_refused(raw, dotted):
    raw["ekn_saml.store.backend"] = dotted
    assert [p for p in problems_of(raw) if p.startswith("ekn_saml.store.backend")]


def test_a_bad_dotted_name_is_listed_with_the_other_problems(raw):
    raw["ekn_saml.store.backend"] = "ekn_saml.errors:SamlError"
    raw["ekn_saml.security.clock_skew"] = "600"
    assert len(problems_of(raw)) == 2


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://redis.internal:6380/1", "unix:///run/r.sock"])
def test_a_redis_url_without_the_redis_package_is_a_startup_problem(monkeypatch, raw, url):
    monkeypatch.setitem(sys.modules, "redis", None)  # what an install without the [redis] extra looks like
    raw["ekn_saml.store.url"] = url
    assert [p for p in problems_of(raw) if p.startswith("ekn_saml.store.url") and "ekn_saml[redis]" in p]


def test_a_redis_url_with_the_redis_package_is_accepted(raw):
    raw["ekn_saml.store.url"] = "redis://127.0.0.1:6379/0"
    assert parse(raw).store_url == "redis://127.0.0.1:6379/0"


def test_a_sentinel_url_is_accepted(raw):
    raw["ekn_saml.store.url"] = "redis+sentinel://s1:26379,s2:26379/mymaster/0?socket_timeout=1"
    assert parse(raw).store_url.startswith("redis+sentinel://")


@pytest.mark.parametrize(
    "url, code",
    [
        ("redis+sentinel:///mymaster", "EKN-CFG-SENTINEL-001"),
        ("rediss+sentinel://s1/mymaster/x", "EKN-CFG-SENTINEL-005"),
        ("redis+sentinel://s1/mymaster?sentinel_pasword=secret", "EKN-CFG-SENTINEL-006"),
    ],
)
def test_a_malformed_sentinel_url_is_a_startup_problem_with_its_code(raw, url, code):
    raw["ekn_saml.store.url"] = url
    assert [p for p in problems_of(raw) if p.startswith("ekn_saml.store.url") and code in p]


def test_a_sentinel_url_problem_does_not_show_the_password(raw):
    raw["ekn_saml.store.url"] = "redis+sentinel://:hunter2@s1/mymaster/99"
    assert not [p for p in problems_of(raw) if "hunter2" in p]


def test_a_sentinel_url_without_the_redis_package_is_a_startup_problem(monkeypatch, raw):
    monkeypatch.setitem(sys.modules, "redis", None)
    raw["ekn_saml.store.url"] = "redis+sentinel://s1/mymaster"
    assert [p for p in problems_of(raw) if p.startswith("ekn_saml.store.url") and "ekn_saml[redis]" in p]
