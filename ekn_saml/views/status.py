# SPDX-License-Identifier: Apache-2.0
"""``/saml/status``: the health report as JSON, for configured client addresses only.

Everyone else gets a plain 404, so the endpoint does not advertise itself.
The address checked is ``REMOTE_ADDR`` as the WSGI server sets it, never
``X-Forwarded-For`` (anyone can send that header); behind a reverse proxy,
let the server rewrite REMOTE_ADDR from a trusted proxy (waitress
``trusted_proxy``) or block the path at the proxy.
"""

from __future__ import annotations

import ipaddress

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from ..interfaces import IFederationMetadata
from ..status import health_report
from . import service_provider


def client_allowed(remote_addr: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether ``remote_addr`` is one of ``allowed`` (addresses or CIDR networks)."""
    if not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr.split("%", 1)[0])
    except ValueError:
        return False
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(value, strict=False) for value in allowed)


@view_config(route_name="saml.status", request_method="GET")
def status(request):
    sp = service_provider(request)
    if not client_allowed(request.remote_addr, sp.settings.status_allowed_addresses):
        raise HTTPNotFound()
    report, healthy = health_report(sp, request.registry.queryUtility(IFederationMetadata), sp.clock())
    response = Response(json_body=report, status=200 if healthy else 503)
    response.cache_control = "no-store"
    return response
