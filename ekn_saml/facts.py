# SPDX-License-Identifier: Apache-2.0
"""What the protocol knows between its steps: the outstanding request, and the facts a valid response gives.

:class:`OutstandingRequest` is stored when a login starts and taken when
its answer comes; :class:`AssertionFacts` is what the ACS checks
(:mod:`ekn_saml.response`) hand to the identity mapping
(:mod:`ekn_saml.identity`).  Plain data: nothing here checks anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field, fields

from .constants import DEFAULT_SP_PROFILE
from .metadata.idp import IdpInfo


def browser_hash(browser_token: str) -> str:
    """What we store about the browser: a hash, so a store dump cannot forge the cookie."""
    return hashlib.sha256(browser_token.encode()).hexdigest()


@dataclass(frozen=True)
class OutstandingRequest:
    """Everything the ACS needs to know about the request a response answers.

    Stored server-side under the request ID (:meth:`to_dict`); single use
    (taken atomically).  Every anonymous login start stores one for
    ``security.request_ttl`` seconds, so the record holds only what a check
    needs.
    """

    request_id: str  # the store key: not part of the record
    method: str
    idp_entity_id: str  # the IdP it was sent to: only that IdP may answer
    loa: tuple[str, ...]  # the LoAs requested: the answer's must be one of them
    issued_at: float  # epoch seconds (the ForceAuthn check)
    browser: str  # browser_hash() of the binding token
    relay_state: str
    # the checked path to return to; None when none was given (the ACS goes to landing_path)
    next_path: str | None = None
    force_authn: bool = True
    # the SP profile that sent it: only that profile's ACS may consume it
    sp_profile: str = DEFAULT_SP_PROFILE
    # store key of the session the browser had at the login start (ekn_saml.session.current_session_key):
    # the login ends it, though the IdP's cross-site POST carries no session cookie
    previous_session: str | None = None
    # a step-up (ekn_saml.step_up): a MAC under the server keys of the subject that must come back
    # (the subject holds a personal identity number, which the store must not hold in clear)
    step_up_subject: str | None = None

    def to_dict(self) -> dict:
        """The stored record: what the checks need and nothing derivable.

        Left out: the request ID (it is the record's store key), the ACS URL
        (the SP profile's own: Destination and Recipient are compared with the
        ACS URL of the profile, which must be ``sp_profile``), and each field
        below ``relay_state`` while it has its default.
        """
        data = {
            "method": self.method,
            "idp_entity_id": self.idp_entity_id,
            "loa": list(self.loa),
            "issued_at": self.issued_at,
            "browser": self.browser,
            "relay_state": self.relay_state,
        }
        for name, default in _DEFAULTS.items():
            value = getattr(self, name)
            if value != default:
                data[name] = value
        return data

    @classmethod
    def from_dict(cls, request_id: str, data: dict) -> OutstandingRequest:
        """The request stored under ``request_id``: a :meth:`to_dict` record, or one of the previous version.

        The previous version also stored ``request_id`` (the same as the key)
        and ``acs_url`` (its profile's ACS URL, checked through the profile
        now): both are ignored.  It always stored ``next_path`` and
        ``force_authn``, which are read as they are.
        """
        return cls(
            request_id=request_id,
            method=data["method"],
            idp_entity_id=data["idp_entity_id"],
            loa=tuple(data["loa"]),
            issued_at=data["issued_at"],
            browser=data["browser"],
            relay_state=data["relay_state"],
            **{name: data.get(name, default) for name, default in _DEFAULTS.items()},
        )


# the fields a record carries only when they differ from their defaults
_DEFAULTS = {
    f.name: f.default
    for f in fields(OutstandingRequest)
    if f.name in ("next_path", "force_authn", "sp_profile", "previous_session", "step_up_subject")
}


@dataclass(frozen=True)
class AssertionFacts:
    """What a valid response tells us; attribute values are whole strings."""

    request: OutstandingRequest
    idp: IdpInfo
    response_id: str
    assertion_id: str
    name_id: str
    name_id_format: str
    session_index: str
    authn_instant: dt.datetime
    loa: str
    not_on_or_after: dt.datetime
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)
