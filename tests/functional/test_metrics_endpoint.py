# SPDX-License-Identifier: Apache-2.0
"""/metrics after real logins through the development IdP: each counter and histogram moves by what happened.

Every response is signed and encrypted by the development IdP (pysaml2);
the scrape is parsed with prometheus_client's own parser.  The store's calls
are counted independently by a store put behind the app's metered store.
"""

from __future__ import annotations

import pathlib
import re
import sys
import uuid

import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pyramid.exceptions import ConfigurationExecutionError

from ekn_saml.demo import main
from ekn_saml.errors import ErrorCode
from ekn_saml.interfaces import IFederationMetadata, IMetrics, ISamlServiceProvider
from ekn_saml.settings import rules

from dev_app import acs_form, answer, browser, idp_page, log_in
from metadata_factory import write
from testbed import BANKID_IDP as BANKID_FEDERATION_IDP
from testbed import EXPISOFT_IDP as EXPISOFT_FEDERATION_IDP

BANKID_IDP = "https://sp.example.test/devidp/bankid"
STARTED = "ekn_saml_logins_started_total"
FINISHED = "ekn_saml_logins_finished_total"
FAILURES = "ekn_saml_failures_total"
REQUEST_COUNT = "ekn_saml_request_duration_seconds_count"
BANKID = {"method": "bankid", "idp": BANKID_IDP}


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics")
    assert response.status_int == 200 and response.content_type == "text/plain"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def delta(before: dict, after: dict, name: str, **labels) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def changed(before: dict, after: dict, name: str) -> dict[frozenset, float]:
    """Every series of ``name`` that moved, by its labels."""
    keys = {k for k in (*before, *after) if k[0] == name}
    moved = {k[1]: after.get(k, 0.0) - before.get(k, 0.0) for k in keys}
    return {labels: d for labels, d in moved.items() if d}


@pytest.fixture
def app(dev_settings):
    return main({}, **dev_settings)


class CountingStore:
    """Counts the calls that reach the real store, by operation, to check the store metrics against."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls: dict[str, int] = {}

    def __getattr__(self, name):
        method = getattr(self.inner, name)

        def counted(*args, **kwargs):
            self.calls[name] = self.calls.get(name, 0) + 1
            return method(*args, **kwargs)

        return counted


def test_a_login_moves_each_counter_and_histogram_by_one(app):
    client = browser(app)
    before = scrape(client)
    log_in(client, "bankid", "karin")
    after = scrape(client)
    assert changed(before, after, STARTED) == {frozenset(BANKID.items()): 1}
    assert changed(before, after, FINISHED) == {frozenset({**BANKID, "outcome": "success"}.items()): 1}
    assert changed(before, after, REQUEST_COUNT) == {
        frozenset({"endpoint": "login_start"}.items()): 1,
        frozenset({"endpoint": "acs"}.items()): 1,
    }
    assert changed(before, after, FAILURES) == {}


def test_no_personal_identity_number_reaches_the_metrics(app):
    client = browser(app)
    log_in(client, "bankid", "karin")  # 196506151239
    text = client.get("/metrics").text
    assert "196506151239" not in text and "19650615" not in text and "XXXX" not in text


def test_the_store_metrics_count_every_call_that_reached_the_store(app):
    metered = app.registry.getUtility(ISamlServiceProvider).store
    counting = metered.inner = CountingStore(metered.inner)
    client = browser(app)
    before = scrape(client)
    log_in(client, "bankid", "karin")
    after = scrape(client)
    timed = {
        dict(labels)["operation"]: d
        for labels, d in changed(before, after, "ekn_saml_store_operation_duration_seconds_count").items()
    }
    # each scrape pings the store and reports that ping: the first one is in the "before" numbers already
    counting.calls["ping"] -= 1
    assert timed == {op: n for op, n in counting.calls.items() if n} and timed["put"] >= 1


def test_a_cancelled_login_is_a_failure_of_its_code_and_method(app):
    client = browser(app)
    before = scrape(client)
    # a cancel is a calm page (HTTP 200), and still a failed login for the metrics
    assert answer(client, idp_page(client, "bankid"), "karin", outcome="cancel").status_int == 200
    after = scrape(client)
    assert changed(before, after, FAILURES) == {frozenset({"code": ErrorCode.IDP_CANCELLED.value}.items()): 1}
    assert changed(before, after, FINISHED) == {frozenset({**BANKID, "outcome": "failure"}.items()): 1}


def test_a_replayed_response_is_a_failure_of_its_code(app):
    client = browser(app)
    form = acs_form(client)
    assert form.submit().status_int == 302
    before = scrape(client)
    # still logged in from the first time: the calm page (HTTP 200), and still a failure for the metrics
    assert form.submit(expect_errors=True).status_int == 200
    after = scrape(client)
    assert changed(before, after, FAILURES) == {frozenset({"code": ErrorCode.REQUEST_UNKNOWN.value}.items()): 1}


def test_refused_login_starts_are_counted_as_rate_limited(dev_settings):
    app = main({}, **{**dev_settings, "ekn_saml.security.login_start_limit": "1"})
    client = browser(app, REMOTE_ADDR="192.0.2.7")
    scraper = browser(app)
    before = scrape(scraper)
    assert client.get("/login/bankid").status_int == 302
    assert client.get("/login/bankid", expect_errors=True).status_int == 429
    after = scrape(scraper)
    assert delta(before, after, "ekn_saml_login_rate_limited_total") == 1
    assert changed(before, after, FAILURES) == {frozenset({"code": ErrorCode.LOGIN_RATE_LIMITED.value}.items()): 1}
    assert changed(before, after, STARTED) == {frozenset(BANKID.items()): 1}


def test_an_unknown_method_in_the_url_is_never_a_label(app):
    client = browser(app)
    before = scrape(client)
    assert client.get("/login/%3Cscript%3Ealert(1)", expect_errors=True).status_int == 400
    after = scrape(client)
    assert changed(before, after, STARTED) == {}
    assert changed(before, after, FAILURES) == {frozenset({"code": ErrorCode.UNKNOWN_METHOD.value}.items()): 1}


def test_a_store_that_is_down_is_counted_as_store_errors(dev_settings, own_redis):
    settings = {
        **dev_settings,
        "ekn_saml.store.url": own_redis.url,
        "ekn_saml.store.key_prefix": f"test-metrics-{uuid.uuid4().hex}:",
    }
    app = main({}, **settings)
    client = browser(app)
    before = scrape(client)
    own_redis.kill()
    assert client.get("/login/bankid", expect_errors=True).status_int == 503
    after = scrape(client)
    errors = {
        dict(labels)["operation"]: d for labels, d in changed(before, after, "ekn_saml_store_errors_total").items()
    }
    # the scrape's own ping, and the first call of the login start: nothing is tried after it
    assert errors.pop("ping") == 1 and sum(errors.values()) == 1
    assert after[("ekn_saml_store_up", frozenset())] == 0 and before[("ekn_saml_store_up", frozenset())] == 1
    assert changed(before, after, FAILURES) == {frozenset({"code": ErrorCode.STORE_UNAVAILABLE.value}.items()): 1}


def test_certificate_expiry_is_reported_for_ours_and_the_idps(app):
    client = browser(app)
    samples = scrape(client)
    days = {
        (dict(labels)["owner"], dict(labels)["entity"], dict(labels)["use"]): value
        for (name, labels), value in samples.items()
        if name == "ekn_saml_certificate_expiry_days"
    }
    sp = app.registry.getUtility(ISamlServiceProvider)
    cert = sp.credentials.signing_cert.cert
    expected = (cert.not_valid_after_utc - sp.clock()).total_seconds() / 86400
    assert days[("sp", sp.settings.entity_id, "signing")] == pytest.approx(expected, abs=0.01)
    assert ("idp", BANKID_IDP, "signing") in days


class TestFederationMetadata:
    @pytest.fixture
    def app(self, federation_settings):
        app = main({}, **federation_settings)
        yield app
        app.registry.getUtility(IFederationMetadata).stop()

    def test_age_and_time_to_valid_until_are_those_of_the_document_in_use(self, app):
        samples = scrape(browser(app))
        doc = app.registry.getUtility(IFederationMetadata).current
        now = app.registry.getUtility(ISamlServiceProvider).clock()
        expiry = samples[("ekn_saml_federation_metadata_expiry_seconds", frozenset())]
        assert expiry == pytest.approx((doc.valid_until - now).total_seconds(), abs=5)
        assert 0 <= samples[("ekn_saml_federation_metadata_age_seconds", frozenset())] < 60
        assert samples[("ekn_saml_federation_metadata_refresh_failures", frozenset())] == 0

    def test_the_pinned_federation_signers_certificate_expiry_is_reported(self, app):
        samples = scrape(browser(app))
        owners = {dict(labels)["owner"] for name, labels in samples if name == "ekn_saml_certificate_expiry_days"}
        assert owners == {"sp", "idp", "federation"}

    def test_a_failed_refresh_is_counted(self, app, federation_settings):
        write(federation_settings["ekn_saml.federation.metadata_url"], b"<garbage/>")
        assert app.registry.getUtility(IFederationMetadata).refresh() is False
        assert scrape(browser(app))[("ekn_saml_federation_metadata_refresh_failures", frozenset())] == 1

    def test_every_series_the_readmes_alert_rules_use_is_exposed(self, app):
        readme = (pathlib.Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
        rules = readme.split("groups:\n  - name: ekn_saml", 1)[1].split("```", 1)[0]
        names = set(re.findall(r"\bekn_saml_[a-z_]+", rules))
        client = browser(app)
        client.get("/login/nosuch", expect_errors=True)  # a failure, so that the failures counter has a series
        exposed = {name for name, _labels in scrape(client)}
        assert len(names) == 6 and names <= exposed, names - exposed

    def test_the_readmes_table_lists_every_series_exposed(self, app):
        readme = (pathlib.Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
        listed = {name.removesuffix("_total") for name in re.findall(r"^\| `(ekn_saml_[a-z_]+)` \|", readme, re.M)}
        client = browser(app)
        assert client.get("/login/bankid").status_int == 302  # a start, to the federation's IdP
        client.post("/saml/acs", {"SAMLResponse": "bm90IHhtbA=="}, expect_errors=True)  # a refused response
        text = client.get("/metrics").text
        assert listed == {family.name for family in text_string_to_metric_families(text)}

    def test_each_methods_idp_has_its_time_to_valid_until(self, app):
        samples = scrape(browser(app))
        idps = {dict(labels)["idp"] for name, labels in samples if name == "ekn_saml_idp_metadata_expiry_seconds"}
        assert idps == {BANKID_FEDERATION_IDP, EXPISOFT_FEDERATION_IDP}


def test_other_addresses_get_404(app):
    browser(app, REMOTE_ADDR="192.0.2.10").get("/metrics", status=404)


def test_a_forwarded_for_header_is_not_believed(app):
    browser(app, REMOTE_ADDR="192.0.2.10").get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}, status=404)


def test_the_allowed_addresses_are_those_of_the_status_endpoint(dev_settings):
    app = main({}, **{**dev_settings, "ekn_saml.status.allowed_addresses": "192.0.2.0/24"})
    assert browser(app, REMOTE_ADDR="192.0.2.10").get("/metrics").status_int == 200
    browser(app).get("/metrics", status=404)


def test_the_global_registry_is_left_alone(app):
    log_in(browser(app))
    assert not any(f.name.startswith("ekn_saml_") for f in prometheus_client.REGISTRY.collect())


def test_a_host_can_turn_metrics_off(dev_settings):
    app = main({}, **{**dev_settings, "ekn_saml.metrics.enabled": "false"})
    assert app.registry.queryUtility(IMetrics) is None
    browser(app).get("/metrics", status=404)
    log_in(browser(app))


class TestWithoutPrometheusClient:
    @pytest.fixture(autouse=True)
    def _uninstalled(self, monkeypatch):
        monkeypatch.setattr(rules, "prometheus_client_installed", lambda: False)
        # an import of it would now fail
        for name in [n for n in sys.modules if n == "prometheus_client" or n.startswith("prometheus_client.")]:
            monkeypatch.setitem(sys.modules, name, None)

    def test_the_plugin_works_without_metrics(self, dev_settings):
        app = main({}, **dev_settings)
        client = browser(app)
        client.get("/metrics", status=404)
        assert client.get("/readyz").json["status"] == "pass"
        log_in(client)

    def test_metrics_enabled_by_setting_stops_the_startup(self, dev_settings):
        with pytest.raises(ConfigurationExecutionError) as info:
            main({}, **{**dev_settings, "ekn_saml.metrics.enabled": "true"})
        assert info.value.args and "ekn_saml.metrics.enabled" in str(info.value)
