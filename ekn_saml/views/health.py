# SPDX-License-Identifier: Apache-2.0
"""The operators' endpoints: ``/healthz`` and ``/readyz`` for load balancers, ``/metrics`` for Prometheus.

Paths and whether each is served are settings (``ekn_saml.health.*``,
``ekn_saml.metrics.*``), read when the app includes ekn_saml
(:func:`add_operations_views`).  The health checks are not restricted (a
load balancer calls them) and answer pass or fail per check, nothing
more; the metrics answer the ``status.allowed_addresses`` only, exactly as
``/saml/status`` does (a 404 for everyone else).
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response

from ..health import FAIL, PASS, readiness, state_gauges
from ..interfaces import IFederationMetadata, IMetrics
from . import service_provider
from .status import client_allowed


def _json(body: dict, ok: bool) -> Response:
    response = Response(json_body=body, status=200 if ok else 503)
    # a probe must see the state now, never a cached answer
    response.cache_control = "no-store"
    return response


def healthz(request):
    """Liveness: the process answers.  Touches no store, no file, no network."""
    return _json({"status": PASS}, True)


def readyz(request):
    """Readiness: :func:`~ekn_saml.health.readiness` (store ping, metadata validity, keys); 200 or 503."""
    sp = service_provider(request)
    checks, ready = readiness(sp, request.registry.queryUtility(IFederationMetadata), sp.clock())
    return _json({"status": PASS if ready else FAIL, "checks": checks}, ready)


def metrics(request):
    """The Prometheus scrape, for the ``status.allowed_addresses`` only (404 for others, as /saml/status)."""
    sp = service_provider(request)
    if not client_allowed(request.remote_addr, sp.settings.status_allowed_addresses):
        raise HTTPNotFound()
    recorder = request.registry.getUtility(IMetrics)
    body, content_type = recorder.exposition(
        state_gauges(sp, request.registry.queryUtility(IFederationMetadata), sp.clock())
    )
    response = Response(body=body)
    response.headers["Content-Type"] = content_type
    response.cache_control = "no-store"
    return response


def add_operations_views(config, operations) -> None:
    """Add the views of the routes :func:`ekn_saml.routes.add_operations_routes` added (``operations``: the settings)."""
    if operations.health_enabled:
        config.add_view(healthz, route_name="saml.healthz", request_method=("GET", "HEAD"))
        config.add_view(readyz, route_name="saml.readyz", request_method=("GET", "HEAD"))
    if operations.metrics_enabled:
        config.add_view(metrics, route_name="saml.metrics", request_method="GET")
