# SPDX-License-Identifier: Apache-2.0
"""ekn_saml.metrics: bounded labels, the app's own registry, the timed store, the scrape."""

from __future__ import annotations

from types import SimpleNamespace

import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pyramid.exceptions import BadCSRFToken

from ekn_saml.errors import ErrorCode, StoreUnavailableError
from ekn_saml.metrics import OTHER, MeteredStore, Recorder, child_exit, record_response
from ekn_saml.storage.memory import MemoryStateStore

BANKID = "https://idp.example.test/bankid"


@pytest.fixture
def recorder():
    return Recorder({"bankid": BANKID, "mobilt_bankid": BANKID})


def value(recorder: Recorder, name: str, **labels) -> float:
    found = recorder.registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


def scrape(body: bytes) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def test_a_configured_method_is_counted_with_its_idp(recorder):
    recorder.login_started("bankid")
    assert value(recorder, "ekn_saml_logins_started_total", method="bankid", idp=BANKID) == 1


def test_an_unknown_method_is_counted_as_other(recorder):
    recorder.login_started("../../etc/passwd")
    assert value(recorder, "ekn_saml_logins_started_total", method=OTHER, idp=OTHER) == 1


def test_an_idp_that_no_method_uses_is_counted_as_other(recorder):
    recorder.login_finished("bankid", "https://attacker.example/idp", success=False)
    assert value(recorder, "ekn_saml_logins_finished_total", method="bankid", idp=OTHER, outcome="failure") == 1


def test_failures_are_counted_by_code(recorder):
    recorder.failure(ErrorCode.SIGNATURE_INVALID.value)
    recorder.failure("EKN-NOT-A-CODE")
    assert value(recorder, "ekn_saml_failures_total", code="EKN-SIG-002") == 1
    assert value(recorder, "ekn_saml_failures_total", code=OTHER) == 1


def test_a_rate_limited_start_is_also_counted_on_its_own(recorder):
    recorder.failure(ErrorCode.LOGIN_RATE_LIMITED.value)
    assert value(recorder, "ekn_saml_login_rate_limited_total") == 1
    assert value(recorder, "ekn_saml_failures_total", code="EKN-WEB-006") == 1


def test_the_metrics_are_not_on_the_global_registry(recorder):
    recorder.login_started("bankid")
    names = {family.name for family in prometheus_client.REGISTRY.collect()}
    assert not any(name.startswith("ekn_saml_") for name in names)


def test_two_recorders_count_apart():
    first, second = Recorder({"bankid": BANKID}), Recorder({"bankid": BANKID})
    first.login_started("bankid")
    assert value(second, "ekn_saml_logins_started_total", method="bankid", idp=BANKID) == 0


class _DownStore(MemoryStateStore):
    def get(self, namespace, key):
        raise StoreUnavailableError("injected")


def test_the_metered_store_times_each_call_by_its_name(recorder):
    store = MeteredStore(MemoryStateStore(warn=False), recorder)
    store.put("ns", "k", {"v": 1}, 60)
    assert store.get("ns", "k") == {"v": 1}
    assert value(recorder, "ekn_saml_store_operation_duration_seconds_count", operation="put") == 1
    assert value(recorder, "ekn_saml_store_operation_duration_seconds_count", operation="get") == 1


def test_the_metered_store_counts_a_failure_and_raises_it(recorder):
    store = MeteredStore(_DownStore(warn=False), recorder)
    with pytest.raises(StoreUnavailableError):
        store.get("ns", "k")
    assert value(recorder, "ekn_saml_store_errors_total", operation="get") == 1
    assert value(recorder, "ekn_saml_store_operation_duration_seconds_count", operation="get") == 1


def test_the_metered_store_keeps_the_stores_contract(recorder):
    store = MeteredStore(MemoryStateStore(warn=False), recorder)
    assert store.add("ns", "k", {}, 60) is True and store.add("ns", "k", {}, 60) is False
    assert store.increment("ns", "c", 60) == 1 and store.increment("ns", "c", 60) == 2
    assert store.take("ns", "k") == {} and store.take("ns", "k") is None


def test_the_scrape_has_the_counters_and_the_gauges_given(recorder):
    recorder.login_started("bankid")
    body, content_type = recorder.exposition([("ekn_saml_test_gauge", "A gauge.", {"idp": BANKID}, 2.5)])
    samples = scrape(body)
    assert samples[("ekn_saml_logins_started_total", (("idp", BANKID), ("method", "bankid")))] == 1
    assert samples[("ekn_saml_test_gauge", (("idp", BANKID),))] == 2.5
    assert content_type.startswith("text/plain")


def test_child_exit_drops_only_the_live_gauges_of_the_exited_worker(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name in ("gauge_livesum_4242.db", "counter_4242.db", "gauge_livesum_4343.db"):
        (tmp_path / name).write_bytes(b"")
    child_exit(None, SimpleNamespace(pid=4242))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter_4242.db", "gauge_livesum_4343.db"]


def test_a_host_may_opt_in_by_adding_the_registry_to_its_own(recorder):
    host_registry = prometheus_client.CollectorRegistry(auto_describe=True)  # stands for the host's REGISTRY
    host_registry.register(recorder.registry)
    recorder.login_started("bankid")
    assert host_registry.get_sample_value("ekn_saml_logins_started_total", {"method": "bankid", "idp": BANKID}) == 1


def test_a_login_start_that_raised_is_timed_but_not_counted_as_started(recorder):
    record_response(recorder, "saml.login_start", "bankid", RuntimeError("no exception view answered"), 0.01)
    assert value(recorder, "ekn_saml_logins_started_total", method="bankid", idp=BANKID) == 0
    assert value(recorder, "ekn_saml_request_duration_seconds_count", endpoint="login_start") == 1


def test_a_refused_csrf_check_counts_only_on_the_plugins_routes(recorder):
    record_response(recorder, "saml.logout", None, BadCSRFToken(), 0.01)
    record_response(recorder, "host.form", None, BadCSRFToken(), 0.01)
    assert value(recorder, "ekn_saml_failures_total", code=ErrorCode.CSRF_FAILED.value) == 1
