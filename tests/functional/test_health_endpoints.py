# SPDX-License-Identifier: Apache-2.0
"""/healthz and /readyz: unrestricted, cheap, pass or fail per check and nothing more."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import webtest

from ekn_saml.demo import main
from ekn_saml.interfaces import IFederationMetadata, IMetrics, ISamlServiceProvider

from dev_app import browser, make_testapp

ENV = {"wsgi.url_scheme": "https", "HTTP_HOST": "sp.example.test", "REMOTE_ADDR": "127.0.0.1"}
ALL_PASS = {"status": "pass", "checks": {"store": "pass", "metadata": "pass", "keys": "pass"}}
# an address status.allowed_addresses does not list: a load balancer's
OUTSIDE = {"REMOTE_ADDR": "192.0.2.10"}


def test_healthz_says_the_process_is_alive(testapp):
    response = testapp.get("/healthz", extra_environ=OUTSIDE)
    assert response.status_int == 200 and response.json == {"status": "pass"}
    assert "no-store" in response.headers["Cache-Control"]


def test_healthz_answers_while_the_store_is_down(dev_settings):
    # a Redis client pointed at a port where nothing listens: liveness makes no store call
    app = make_testapp({**dev_settings, "ekn_saml.store.url": "redis://127.0.0.1:1/0"})
    assert app.get("/healthz").json == {"status": "pass"}


def _store_calls(app) -> float:
    """Every store call the app has made, as its metrics count them (without a scrape, which pings)."""
    registry = app.registry.getUtility(IMetrics).registry
    return sum(
        sample.value
        for family in registry.collect()
        if family.name == "ekn_saml_store_operation_duration_seconds"
        for sample in family.samples
        if sample.name.endswith("_count")
    )


def test_healthz_makes_no_store_call(dev_settings):
    app = main({}, **dev_settings)
    before = _store_calls(app)
    assert browser(app).get("/healthz").status_int == 200
    assert _store_calls(app) == before


def test_readyz_makes_one_store_call(dev_settings):
    app = main({}, **dev_settings)
    before = _store_calls(app)
    assert browser(app).get("/readyz").status_int == 200
    assert _store_calls(app) == before + 1


def test_readyz_passes_every_check_for_anyone(testapp):
    response = testapp.get("/readyz", extra_environ=OUTSIDE)
    assert response.status_int == 200 and response.json == ALL_PASS
    assert "no-store" in response.headers["Cache-Control"]


def test_readyz_is_503_while_the_store_is_down_and_200_when_it_is_back(dev_settings, own_redis):
    settings = {
        **dev_settings,
        "ekn_saml.store.url": own_redis.url,
        "ekn_saml.store.key_prefix": f"test-readyz-{uuid.uuid4().hex}:",
    }
    app = make_testapp(settings)
    assert app.get("/readyz").status_int == 200
    own_redis.kill()
    down = app.get("/readyz", status=503)
    assert down.json == {"status": "fail", "checks": {"store": "fail", "metadata": "pass", "keys": "pass"}}
    own_redis.start()
    assert app.get("/readyz").json == ALL_PASS


def test_a_host_can_turn_the_health_checks_off(dev_settings):
    app = make_testapp({**dev_settings, "ekn_saml.health.enabled": "false"})
    app.get("/healthz", status=404)
    app.get("/readyz", status=404)


def test_the_paths_are_the_settings(dev_settings):
    app = make_testapp(
        {**dev_settings, "ekn_saml.health.live_path": "/ops/live", "ekn_saml.health.ready_path": "/ops/ready"}
    )
    assert app.get("/ops/live").json == {"status": "pass"}
    assert app.get("/ops/ready").json == ALL_PASS
    app.get("/healthz", status=404)


class TestFederationMetadata:
    @pytest.fixture
    def federation_app(self, federation_settings):
        app = main({}, **federation_settings)
        yield webtest.TestApp(app, extra_environ=ENV)
        app.registry.getUtility(IFederationMetadata).stop()

    def test_ready_while_the_federation_metadata_is_valid(self, federation_app):
        assert federation_app.get("/readyz").json == ALL_PASS

    def test_readyz_is_503_once_the_federation_metadata_has_expired(self, federation_app):
        registry = federation_app.app.registry
        federation = registry.getUtility(IFederationMetadata)
        after = federation.current.valid_until + dt.timedelta(seconds=1)
        # both clocks are replaceable by design: the document's holder and the SP's
        federation.clock = registry.getUtility(ISamlServiceProvider).clock = lambda: after
        response = federation_app.get("/readyz", status=503)
        assert response.json == {"status": "fail", "checks": {"store": "pass", "metadata": "fail", "keys": "pass"}}
