# SPDX-License-Identifier: Apache-2.0
"""Health checks for load balancers, and what the metrics read from the app's state and requests.

* :func:`readiness`: the checks of ``/readyz`` (store, metadata, keys),
  pass or fail each, nothing more: the endpoint is not restricted, so it
  says nothing an outsider could use (no error text, no entityID, no
  latency).  ``/saml/status`` has the details for operators.
* :func:`state_gauges`: the gauges of a scrape (store up, metadata age and
  validity, certificate expiry), read from the app's state when scraped.
* :func:`metrics_tween_factory` and :func:`count_login_success`: how
  requests reach the :class:`~ekn_saml.metrics.Recorder` (one tween and one
  subscriber, registered by ``config.include("ekn_saml")`` when metrics are on).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator

from .interfaces import IMetrics
from .metrics import GaugeSample, record_response

log = logging.getLogger("ekn_saml")

PASS = "pass"  # noqa: S105 - the answer of a passed check, not a password
FAIL = "fail"


def _store_check(store) -> str:
    try:
        store.ping()
    except Exception as exc:  # noqa: BLE001 - a health check answers fail, whatever the backend raised
        # the reason is for the operator's log, never the (unrestricted) answer
        log.warning("readiness: the state store does not answer (%s)", exc.__class__.__name__)
        return FAIL
    return PASS


def _metadata_check(sp, federation, now: dt.datetime) -> str:
    # registry.get gives None for an IdP whose validUntil has passed, whichever metadata it came from
    if any(sp.registry.get(method.idp_entity_id) is None for method in sp.settings.methods):
        return FAIL
    if federation is not None:
        doc = federation.current
        if doc is None or doc.valid_until <= now:
            return FAIL
    return PASS


def _keys_check(sp) -> str:
    loaded = all(
        p.credentials.signing_key is not None and len(p.credentials.decryption_keys) > 0 for p in sp.profiles.values()
    )
    return PASS if loaded and sp.server_keys is not None else FAIL


def readiness(sp, federation, now: dt.datetime) -> tuple[dict[str, str], bool]:
    """``({check: "pass" | "fail"}, ready)`` for ``/readyz``.

    ``store``: one ping (the Redis client's timeout bounds it: 2 s);
    ``metadata``: every configured method's IdP is in trusted metadata
    within its validUntil, and the federation document (if configured) is
    loaded and within its validUntil; ``keys``: every SP profile has its
    signing and decryption keys, and the server keys are loaded.  Does
    **not** check certificate expiry (metadata certificates are key
    containers; the metrics and /saml/status report it), nor that the IdPs
    answer, nor any network beyond the store.
    """
    checks = {
        "store": _store_check(sp.store),
        "metadata": _metadata_check(sp, federation, now),
        "keys": _keys_check(sp),
    }
    return checks, all(result == PASS for result in checks.values())


def _days_left(cert, now: dt.datetime) -> float:
    return (cert.cert.not_valid_after_utc - now).total_seconds() / 86400


def state_gauges(sp, federation, now: dt.datetime) -> Iterator[GaugeSample]:
    """The gauge samples of a scrape, read from the app's state now, and one store ping (``ekn_saml_store_up``).

    The ping makes "the store is down" visible without traffic; it is
    timed and counted like any store call.

    Label values come from the settings (SP profiles' entityIDs, methods'
    IdPs) and trusted metadata (certificate fingerprints), never from a
    request.  In multi-process mode each worker has the same settings and
    metadata sources: the worker that answers the scrape reports its own view.
    """
    yield (
        "ekn_saml_store_up",
        "1 if the state store answered a ping during this scrape, else 0.",
        {},
        1.0 if _store_check(sp.store) == PASS else 0.0,
    )
    cert_help = "Days until a certificate's notAfter (negative: expired): ours, the IdPs' and the federation signer's."
    for profile in sp.profiles.values():
        creds = profile.credentials
        for use, cert in (("signing", creds.signing_cert), ("encryption", creds.encryption_cert)):
            labels = {"owner": "sp", "entity": profile.entity_id, "use": use, "sha256": cert.sha256_fingerprint}
            yield ("ekn_saml_certificate_expiry_days", cert_help, labels, _days_left(cert, now))
    idp_help = "Seconds until the validUntil of a login method's IdP record in trusted metadata (negative: expired)."
    for entity_id in sorted({method.idp_entity_id for method in sp.settings.methods}):
        idp = sp.registry.get(entity_id)
        if idp is None:
            continue  # not in trusted metadata now: /readyz fails, and the alert on that series fires
        for cert in idp.signing_keys:
            labels = {"owner": "idp", "entity": entity_id, "use": "signing", "sha256": cert.sha256_fingerprint}
            yield ("ekn_saml_certificate_expiry_days", cert_help, labels, _days_left(cert, now))
        if idp.valid_until is not None:
            yield ("ekn_saml_idp_metadata_expiry_seconds", idp_help, {"idp": entity_id}, _seconds(idp.valid_until, now))
    if federation is None:
        return
    for cert in federation.signers:
        # the certificate pinned to verify the federation's signature: once it expires, so does every refresh
        labels = {"owner": "federation", "entity": "signer", "use": "signing", "sha256": cert.sha256_fingerprint}
        yield ("ekn_saml_certificate_expiry_days", cert_help, labels, _days_left(cert, now))
    doc = federation.current
    failures = federation.health.failures
    yield (
        "ekn_saml_federation_metadata_refresh_failures",
        "Refreshes of the federation metadata that failed in a row (0 after a success) in the answering worker.",
        {},
        float(failures),
    )
    if doc is not None:
        fetched = doc.fetched_at or doc.verified_at
        yield (
            "ekn_saml_federation_metadata_age_seconds",
            "Seconds since the federation metadata in use was fetched.",
            {},
            _seconds(now, fetched),
        )
        yield (
            "ekn_saml_federation_metadata_expiry_seconds",
            "Seconds until the validUntil of the federation metadata in use (negative: expired).",
            {},
            _seconds(doc.valid_until, now),
        )


def _seconds(later: dt.datetime, earlier: dt.datetime) -> float:
    return (later - earlier).total_seconds()


def metrics_tween_factory(handler, registry):
    """Time the login starts and ACS posts and count failures by code (:func:`~ekn_saml.metrics.record_response`).

    Placed over ``EXCVIEW`` so that it sees ``request.exception`` once an
    exception view has answered, and times the error pages too.  Without
    metrics (no :class:`~ekn_saml.interfaces.IMetrics`) it is not in the way.
    """
    recorder = registry.queryUtility(IMetrics)
    if recorder is None:
        return handler

    def metrics_tween(request):
        started = time.perf_counter()
        try:
            response = handler(request)
        except BaseException as exc:
            # no exception view answered (or one raised again): this request failed, whatever its route
            _record(request, exc, started)
            raise
        _record(request, getattr(request, "exception", None), started)
        return response

    def _record(request, exception, started: float) -> None:
        route = getattr(request, "matched_route", None)
        name = route.name if route is not None else None
        method = request.matchdict.get("method") if name == "saml.login_start" and request.matchdict else None
        record_response(recorder, name, method, exception, time.perf_counter() - started)

    return metrics_tween


def count_login_success(event) -> None:
    """``LoginSucceeded`` subscriber: a checked login, by its method and IdP."""
    recorder = event.request.registry.queryUtility(IMetrics)
    if recorder is not None:
        recorder.login_finished(event.identity.method, event.identity.idp, success=True)
