# SPDX-License-Identifier: Apache-2.0
"""ekn_saml.health.* and ekn_saml.metrics.*: which operators' endpoints are served, and at which paths."""

from __future__ import annotations

import pytest

from ekn_saml.settings import operations_at_include
from ekn_saml.settings.reader import Reader
from ekn_saml.settings.rules import operations_section

from settings_cases import minimal_raw, parse, problems_of


@pytest.fixture
def raw():
    return minimal_raw()


def _section(values: dict[str, str], *, installed: bool):
    r = Reader(values)
    return operations_section(r, metrics_available=lambda: installed), r.problems


def test_by_default_health_checks_and_metrics_are_served_at_their_usual_paths(raw):
    assert parse(raw).operations.routes == (
        ("saml.healthz", "/healthz"),
        ("saml.readyz", "/readyz"),
        ("saml.metrics", "/metrics"),
    )


def test_without_prometheus_client_metrics_are_off_and_nothing_is_reported():
    operations, problems = _section({}, installed=False)
    assert operations.metrics_enabled is False and problems == []


def test_metrics_enabled_without_prometheus_client_is_a_problem():
    operations, problems = _section({"metrics.enabled": "true"}, installed=False)
    assert operations.metrics_enabled is False
    assert problems == [
        "ekn_saml.metrics.enabled is true, but prometheus_client is not installed: "
        "pip install 'ekn_saml[metrics]' (or set it to false)"
    ]


def test_a_host_can_turn_both_off(raw):
    raw.update({"ekn_saml.health.enabled": "false", "ekn_saml.metrics.enabled": "false"})
    assert parse(raw).operations.routes == ()


def test_paths_are_configurable(raw):
    raw.update(
        {
            "ekn_saml.health.live_path": "/ops/live",
            "ekn_saml.health.ready_path": "/ops/ready",
            "ekn_saml.metrics.path": "/ops/metrics",
        }
    )
    assert [path for _name, path in parse(raw).operations.routes] == ["/ops/live", "/ops/ready", "/ops/metrics"]


@pytest.mark.parametrize("path", ["healthz", "/health/{x}", "/healthz?x=1", "//healthz", "/", "/a b"])
def test_a_path_must_be_a_fixed_local_path(raw, path):
    raw["ekn_saml.health.live_path"] = path
    assert any(p.startswith("ekn_saml.health.live_path must be a fixed path") for p in problems_of(raw))


def test_two_endpoints_cannot_share_a_path(raw):
    raw["ekn_saml.metrics.path"] = "/healthz"
    assert any(p.startswith("ekn_saml.health.* and metrics.path must be different") for p in problems_of(raw))


def test_the_include_reads_the_same_routes_as_the_parser(raw):
    raw.update({"ekn_saml.health.ready_path": "/ready", "ekn_saml.metrics.enabled": "false"})
    assert operations_at_include(raw).routes == parse(raw).operations.routes
