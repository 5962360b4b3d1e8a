# SPDX-License-Identifier: Apache-2.0
"""The audit trail: one JSON line per login success, login failure, logout, refused CSRF check and metadata refresh.

Lines go to the logger ``ekn_saml.audit`` at INFO, one JSON object per
record message, so an operator can route them to their own file or SIEM::

    [logger_ekn_saml_audit]
    level = INFO
    handlers = audit_file
    qualname = ekn_saml.audit
    propagate = 0

The same object is attached to the record as ``record.ekn_audit`` for
handlers that ship structured data.

Fields (absent when unknown, never guessed):

``time``
    UTC, ISO 8601 with milliseconds (``2026-11-28T09:15:02.123Z``).
``event``
    ``login_success``, ``login_failure``, ``logout``, ``csrf_failure``,
    ``metadata_refresh`` or ``method_availability`` (a login method became
    unavailable, or available again, with ``available`` and ``reason``).
``method``, ``idp``, ``loa``, ``assertion_id``, ``transaction_id``
    the login method, the IdP entityID, the LoA URI, the assertion's ID and
    the ``transactionIdentifier`` attribute (the IdP's reference).
``step_up``
    ``true`` on a ``login_success`` that was a step-up of the same subject
    (``ekn_saml.step_up``); absent otherwise.
``sp``
    the entityID of the SP profile the user logged in through (successes
    and logouts; absent for sessions older than SP profiles).
``code``, ``reference``
    the error code and the reference id shown to the user (failures).
``route``, ``reason``
    for ``csrf_failure``: the name of the route whose view refused the
    request (``saml.logout``; never the path, which a host app's routes may
    fill with user data) and what failed: ``token`` (missing or wrong CSRF
    token) or ``origin`` (the ``Origin``/``Referer`` check).
``client``
    ``REMOTE_ADDR``.  ``X-Forwarded-For`` is not read: anyone can send it.
    Behind a proxy, make the WSGI server set ``REMOTE_ADDR`` from the proxy
    (waitress: ``trusted_proxy`` and ``trusted_proxy_headers``).
``identity``
    ``kind`` and ``name_id``; for a person the personal identity number
    **masked** (``YYYYMMDD-XXXX``), for an organisation identity the
    organisation number and the ``uid`` of ``uid@orgnr``.

Never logged here: a full personal identity number, names, other
attribute values, SAML XML, or an error's free-text ``detail`` (the
ordinary ``ekn_saml`` warning line carries it, with the same reference).
Strings that can come from a request are cut to :data:`MAX_FIELD` characters;
JSON encoding escapes control characters, so a value cannot forge a line.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from .errors import SamlError
from .identity import Identity
from .interfaces import ISamlServiceProvider
from .numbers import mask_personal_number
from .timeutil import utcnow

log = logging.getLogger("ekn_saml.audit")

LOGIN_SUCCESS = "login_success"
LOGIN_FAILURE = "login_failure"
LOGOUT = "logout"
CSRF_FAILURE = "csrf_failure"
ERROR_PAGE = "error_page"
METADATA_REFRESH = "metadata_refresh"
METHOD_AVAILABILITY = "method_availability"

MAX_FIELD = 256


def _clip(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_FIELD:
        return value[: MAX_FIELD - 3] + "..."
    return value


def _now() -> str:
    moment = utcnow()
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def emit(event: str, **fields: Any) -> dict[str, Any]:
    """Write one audit line; return the object written (for tests and callers that forward it)."""
    record: dict[str, Any] = {"time": _now(), "event": event}
    for name, value in fields.items():
        if value is None:
            continue
        record[name] = (
            {k: _clip(v) for k, v in value.items() if v is not None} if isinstance(value, dict) else _clip(value)
        )
    log.info(json.dumps(record, ensure_ascii=True, separators=(",", ":")), extra={"ekn_audit": record})
    return record


def identity_fields(identity: Identity | None) -> dict[str, Any] | None:
    """The identity as the audit trail shows it: the personal identity number masked."""
    if identity is None:
        return None
    fields: dict[str, Any] = {"kind": identity.kind, "name_id": identity.name_id}
    if identity.kind == "person":
        fields["personal_number"] = mask_personal_number(identity.personal_number)
    elif identity.kind == "foreign_person":
        # the prid may hold a foreign national number: masked as the personnummer is (eidasPersonIdentifier never)
        fields["prid"] = identity.prid_masked
        fields["prid_persistence"] = identity.prid_persistence
        fields["country"] = identity.country
        if identity.mapped_personal_number:
            fields["mapped_personal_number"] = identity.mapped_personal_number_masked
            fields["personal_number_binding"] = ";".join(identity.personal_number_binding)
        if identity.mapped_number_dropped:  # sent under no accepted binding (ATTR §3.3.2)
            fields["mapped_number_dropped"] = True
    else:
        fields["org_number"] = identity.org_number
        fields["org_unique_id"] = identity.org_unique_id
    return fields


def _client(request) -> str | None:
    return request.remote_addr if request is not None else None


def login_succeeded(request, identity: Identity) -> dict[str, Any]:
    """The login is checked and the session made (call before redirecting)."""
    return emit(
        LOGIN_SUCCESS,
        method=identity.method,
        idp=identity.idp,
        sp=identity.sp_entity_id,
        loa=identity.loa,
        assertion_id=identity.assertion_id,
        transaction_id=identity.transaction_id,
        # a step-up of the same subject (ekn_saml.step_up); absent for an ordinary login
        step_up=True if identity.stepped_up_at is not None else None,
        client=_client(request),
        identity=identity_fields(identity),
    )


def _method_of(request, error: SamlError) -> str | None:
    if error.method:
        return error.method
    # a failure before any response (start of a login): the method in the URL
    route = getattr(request, "matched_route", None)
    if route is not None and route.name == "saml.login_start":
        return request.matchdict.get("method")
    return None


def login_failed(request, error: SamlError) -> dict[str, Any]:
    """A failed login: the code and reference the user saw, and the method and IdP when known."""
    method = _method_of(request, error)
    idp = error.idp
    if idp is None and method is not None:
        sp = request.registry.queryUtility(ISamlServiceProvider)
        configured = sp.settings.method(method) if sp is not None else None
        idp = configured.idp_entity_id if configured is not None else None
    return emit(
        LOGIN_FAILURE,
        method=method,
        idp=idp,
        code=error.code.value,
        reference=error.reference,
        client=_client(request),
    )


def logged_out(request, identity: Identity | None) -> dict[str, Any]:
    """The local session was ended (``identity`` is ``None`` if nobody was logged in)."""
    return emit(
        LOGOUT,
        method=identity.method if identity else None,
        idp=identity.idp if identity else None,
        sp=identity.sp_entity_id if identity else None,
        loa=identity.loa if identity else None,
        client=_client(request),
        identity=identity_fields(identity),
    )


def csrf_failed(request, *, code: str, reference: str, reason: str, identity: Identity | None = None) -> dict[str, Any]:
    """An unsafe request was refused by the CSRF check; the user saw ``code`` and ``reference``.

    A forged cross-site request and a stale form (a token from before the
    session was rotated) look alike here; the identity, when the browser is
    logged in, says whose session the request came with.
    """
    route = getattr(request, "matched_route", None)
    return emit(
        CSRF_FAILURE,
        route=route.name if route is not None else None,
        reason=reason,
        code=code,
        reference=reference,
        client=_client(request),
        identity=identity_fields(identity),
    )


def error_page_shown(request, *, code: str, reference: str) -> dict[str, Any]:
    """A page that shows an error code and a reference and is no failed login (404, 403, 500, a bad link).

    So that every reference a user can quote is in the audit trail as well as
    the log.  The path is not recorded: it may hold anything the client sent.
    """
    route = getattr(request, "matched_route", None)
    return emit(
        ERROR_PAGE,
        route=route.name if route is not None else None,
        code=code,
        reference=reference,
        client=_client(request),
    )


def metadata_refreshed(
    source: str,
    *,
    idps: int | None = None,
    valid_until: str | None = None,
    error: SamlError | None = None,
) -> dict[str, Any]:
    """A metadata (re)load finished: ``idps`` trusted entities from ``source``, or ``error``.

    For the metadata refresher to call after each attempt, successful or
    not; ``valid_until`` is the document's ``validUntil`` as an instant string.
    """
    return emit(
        METADATA_REFRESH,
        outcome="failure" if error is not None else "success",
        source=source,
        idps=idps,
        valid_until=valid_until,
        code=error.code.value if error is not None else None,
        reference=error.reference if error is not None else None,
    )


def method_availability(method: str, idp: str, *, reason: str | None) -> dict[str, Any]:
    """A login method became unavailable (``reason`` says why) or available again (``reason`` None).

    For the service to call at startup and after every metadata refresh,
    on a change only.  ``reason`` is built from metadata and settings, never
    from a request.
    """
    return emit(METHOD_AVAILABILITY, method=method, idp=idp, available=reason is None, reason=reason)
