# SPDX-License-Identifier: Apache-2.0
"""Prometheus metrics of the plugin: what is counted, on which registry, and how a scrape reads it.

Needs ``prometheus_client`` (``pip install 'ekn_saml[metrics]'``); without
it :func:`make_recorder` is never called (``ekn_saml.metrics.enabled`` is
false) and nothing here imports it.

**Registry.**  Every metric lives on a :class:`~prometheus_client.CollectorRegistry`
of the app's own (:attr:`Recorder.registry`), never on prometheus_client's
global ``REGISTRY``: a host's own ``/metrics`` does not grow ekn_saml's
series unless the host opts in by adding :attr:`Recorder.registry`'s
collector to its registry, and two apps in one process (tests) count apart.
In multi-process mode (``PROMETHEUS_MULTIPROC_DIR`` set before
prometheus_client is imported, as gunicorn's pre-forked workers need)
counters and histograms are written to that directory by every worker,
so a scrape reads them there (the collector pattern,
:class:`~prometheus_client.multiprocess.MultiProcessCollector`) and keeps
only the ``ekn_saml_`` families: the directory may hold the host's too.

**Labels** are bounded and never come from a request: ``method`` is a
configured login method's name, ``idp`` the entityID of a configured
method's IdP (checked against trusted metadata at startup), ``code`` an
:class:`~ekn_saml.errors.ErrorCode`, ``operation`` a store method's name.
Anything else is counted as ``other``.  No personal data is ever a label.

**Gauges** (metadata age and validity, certificate expiry) are not kept
here: they are read from the app's state when scraped (:mod:`ekn_saml.health`),
so they need no multi-process bookkeeping and are never stale.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from zope.interface import implementer

from .errors import ErrorCode, SamlError, StoreUnavailableError
from .interfaces import IMetrics, IStateStore

# every family this plugin exposes starts so; a multi-process scrape keeps only these
PREFIX = "ekn_saml_"
OTHER = "other"  # the label value of anything outside a label's bounded set
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# request routes timed, by the endpoint label they get
TIMED_ROUTES = {"saml.login_start": "login_start", "saml.acs": "acs", "saml.acs_profile": "acs"}
ACS_ROUTES = frozenset({"saml.acs", "saml.acs_profile"})
# a login start takes a signature and a store write, the ACS a decryption and a few store calls:
# milliseconds to a few seconds (a slow store); the default buckets end at 10 s too
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# one store call: sub-millisecond (SQLite, a near Redis) to the 2 s timeout of the Redis client
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

_CODES = frozenset(code.value for code in ErrorCode)

# (name, help, labels, value) of one gauge sample read when scraped
GaugeSample = tuple[str, str, Mapping[str, str], float]


def multiprocess_mode() -> bool:
    """Whether prometheus_client writes values to ``PROMETHEUS_MULTIPROC_DIR``.

    Reads the environment now; prometheus_client read it when first
    imported, so the variable must be set before the process starts
    (README, "Health checks and metrics"), never changed while it runs.
    """
    return bool(os.environ.get(MULTIPROC_ENV))


@implementer(IMetrics)
class Recorder:
    """The plugin's counters and histograms on a registry of its own (see the module's docstring).

    ``methods`` maps each configured login method to its IdP's entityID:
    the only label values ``method`` and ``idp`` take (else ``other``).
    Thread-safe (prometheus_client's metrics are).
    """

    def __init__(self, methods: Mapping[str, str]) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.methods = dict(methods)
        self._idps = frozenset(self.methods.values())
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.logins_started = Counter(
            "ekn_saml_logins_started", "Login starts that sent the user to the IdP.", ["method", "idp"], registry=r
        )
        self.logins_finished = Counter(
            "ekn_saml_logins_finished",
            "Responses at the ACS, by outcome (success: the identity is checked; failure: refused).",
            ["method", "idp", "outcome"],
            registry=r,
        )
        self.failures = Counter(
            "ekn_saml_failures", "Failures shown to users, by error code (EKN-...).", ["code"], registry=r
        )
        self.rate_limited = Counter(
            "ekn_saml_login_rate_limited",
            "Login starts refused by security.login_start_limit (EKN-WEB-006).",
            registry=r,
        )
        self.request_seconds = Histogram(
            "ekn_saml_request_duration_seconds",
            "Time to answer a login start or an ACS post, error pages included.",
            ["endpoint"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.store_seconds = Histogram(
            "ekn_saml_store_operation_duration_seconds",
            "Time of one state-store call.",
            ["operation"],
            buckets=STORE_BUCKETS,
            registry=r,
        )
        self.store_errors = Counter(
            "ekn_saml_store_errors",
            "State-store calls that failed (EKN-OPS-001: the store did not answer).",
            ["operation"],
            registry=r,
        )

    # -- bounded labels --

    def method_label(self, method: str | None) -> str:
        return method if method in self.methods else OTHER

    def idp_label(self, idp: str | None) -> str:
        return idp if idp in self._idps else OTHER

    # -- what the plugin records --

    def login_started(self, method: str) -> None:
        label = self.method_label(method)
        self.logins_started.labels(label, self.idp_label(self.methods.get(label))).inc()

    def login_finished(self, method: str | None, idp: str | None, *, success: bool) -> None:
        outcome = "success" if success else "failure"
        self.logins_finished.labels(self.method_label(method), self.idp_label(idp), outcome).inc()

    def failure(self, code: str) -> None:
        self.failures.labels(code if code in _CODES else OTHER).inc()
        if code == ErrorCode.LOGIN_RATE_LIMITED:
            self.rate_limited.inc()

    def request_time(self, endpoint: str, seconds: float) -> None:
        self.request_seconds.labels(endpoint).observe(seconds)

    def store_call(self, operation: str, call: Callable[..., Any]) -> Callable[..., Any]:
        """``call`` timed as ``operation``; a StoreUnavailableError it raises is counted, then raised."""
        seconds = self.store_seconds.labels(operation)
        errors = self.store_errors.labels(operation)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            except StoreUnavailableError:
                errors.inc()
                raise
            finally:
                seconds.observe(time.perf_counter() - started)

        return timed

    # -- the scrape --

    def exposition(self, gauges: Iterable[GaugeSample] = ()) -> tuple[bytes, str]:
        """``(body, content type)`` of a scrape: the counters and histograms, then ``gauges``.

        In multi-process mode the counters and histograms are every live and
        dead worker's (summed by prometheus_client), ``ekn_saml_`` families only.
        """
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        scrape = CollectorRegistry(auto_describe=False)
        if multiprocess_mode():
            from prometheus_client.multiprocess import MultiProcessCollector

            scrape.register(_OwnFamilies(MultiProcessCollector(None)))
        else:
            scrape.register(_OwnFamilies(self.registry))
        scrape.register(_Gauges(tuple(gauges)))
        return generate_latest(scrape), CONTENT_TYPE_LATEST


class _OwnFamilies:
    """The ``ekn_saml_`` metric families of another collector (a multi-process directory may hold the host's).

    Without their ``_created`` samples: the multi-process collector has
    none, so a scrape has the same series in either mode (and fewer).
    """

    def __init__(self, source) -> None:
        self.source = source

    def collect(self):
        families = [family for family in self.source.collect() if family.name.startswith(PREFIX)]
        for family in families:  # made anew by each collect(): ours to change
            family.samples = [sample for sample in family.samples if not sample.name.endswith("_created")]
        return families


class _Gauges:
    """Gauge families made from samples read at scrape time."""

    def __init__(self, samples: tuple[GaugeSample, ...]) -> None:
        self.samples = samples

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        families: dict[str, Any] = {}
        for name, documentation, labels, value in self.samples:
            family = families.get(name)
            if family is None:
                family = families[name] = GaugeMetricFamily(name, documentation, labels=list(labels))
            family.add_metric(list(labels.values()), value)
        return list(families.values())


@implementer(IStateStore)
class MeteredStore:
    """A state store whose every public method is timed and whose failures are counted (:meth:`Recorder.store_call`).

    Delegates everything to ``inner``, including methods a backend adds to
    the contract later (each is timed under its own name); attributes that
    are not methods are ``inner``'s.  :attr:`inner` may be replaced (a
    test puts a faulty store there).  It is not a subclass of
    :class:`~ekn_saml.storage.StateStore`: code that needs the backend's
    class reads :attr:`inner`.
    """

    def __init__(self, inner, recorder: Recorder) -> None:
        self.inner = inner
        self._recorder = recorder

    def __getattr__(self, name: str) -> Any:
        # only called for what this object lacks; each timed method is made once, then found in __dict__
        value = getattr(self.inner, name)
        if name.startswith("_") or not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            # looked up on each call: ``inner`` may be replaced (a test's faulty store)
            return getattr(self.inner, name)(*args, **kwargs)

        timed = self._recorder.store_call(name, call)
        self.__dict__[name] = timed
        return timed

    def __repr__(self) -> str:
        return f"MeteredStore({self.inner!r})"


def record_response(
    recorder: Recorder, route_name: str | None, method: str | None, exception: object, seconds: float
) -> None:
    """What one request of the app says, as the metrics tween (:mod:`ekn_saml.health`) saw it.

    ``route_name`` is the matched route's (``None`` if none matched),
    ``method`` the login start's ``{method}``, ``exception`` what an
    exception view answered (``request.exception``).  Every
    :class:`SamlError` is a failure of its code wherever it was raised, and
    so is a refused CSRF check on the plugin's routes; a login start that
    raised nothing sent the user to the IdP; an ACS refusal is a failed
    login (a success is :meth:`Recorder.login_finished`, from the
    ``LoginSucceeded`` event).  ``method`` is a label only if it is a
    configured method's name (:meth:`Recorder.method_label`).
    """
    endpoint = TIMED_ROUTES.get(route_name or "")
    if endpoint is not None:
        recorder.request_time(endpoint, seconds)
    if isinstance(exception, SamlError):
        recorder.failure(exception.code.value)
        if route_name in ACS_ROUTES:
            recorder.login_finished(exception.method, exception.idp, success=False)
    elif isinstance(exception, BadCSRFToken | BadCSRFOrigin):
        if (route_name or "").startswith("saml."):
            recorder.failure(ErrorCode.CSRF_FAILED.value)
    elif exception is None and route_name == "saml.login_start":
        recorder.login_started(method or "")


def child_exit(server, worker) -> None:
    """gunicorn's ``child_exit`` hook (production.ini.example): the bookkeeping of a worker that has exited.

    In multi-process mode, prometheus_client's ``mark_process_dead`` drops
    the dead worker's live-gauge files; its counters and histograms stay
    and keep counting in the sums (a total never goes back).  Without
    ``PROMETHEUS_MULTIPROC_DIR`` it does nothing, so the hook is harmless
    in any set-up.  Runs in the master, which needs no metrics of its own.
    """
    if multiprocess_mode():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
