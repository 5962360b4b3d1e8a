# SPDX-License-Identifier: Apache-2.0
"""AuthnRequests and the outstanding-request record that binds the response to them."""

from __future__ import annotations

import base64
import hashlib
import secrets
import zlib
from dataclasses import dataclass, fields
from urllib.parse import urlencode, urlsplit

from lxml import etree

from .settings import DEFAULT_SP_PROFILE
from .timeutil import format_instant, utcnow
from .xmlsecurity import NS, RSA_SHA256, PrivateKey, sign_bytes, sign_enveloped

BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
_P = "{{{}}}".format(NS["samlp"])
_A = "{{{}}}".format(NS["saml"])


def new_id() -> str:
    # An xs:ID must not start with a digit; 160 random bits.
    return "_" + secrets.token_hex(20)


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
    if f.name in ("next_path", "force_authn", "sp_profile", "previous_session")
}


def build_authn_request(
    *,
    request_id: str,
    issuer: str,
    destination: str,
    acs_url: str,
    loa: tuple[str, ...],
    force_authn: bool,
    issue_instant: str | None = None,
) -> etree._Element:
    """An unsigned AuthnRequest as the Swedish DP §5.3 wants it.

    ``Destination`` is set, ``ForceAuthn`` is explicit (true or false), the ACS
    URL is the exact metadata URL, and ``RequestedAuthnContext`` lists every
    acceptable LoA with Comparison ``exact``.
    """
    req = etree.Element(
        _P + "AuthnRequest",
        nsmap={"samlp": NS["samlp"], "saml": NS["saml"]},
        ID=request_id,
        Version="2.0",
        IssueInstant=issue_instant or format_instant(utcnow()),
        Destination=destination,
        ForceAuthn="true" if force_authn else "false",
        IsPassive="false",
        AssertionConsumerServiceURL=acs_url,
        ProtocolBinding=BINDING_POST,
    )
    etree.SubElement(req, _A + "Issuer").text = issuer
    etree.SubElement(req, _P + "NameIDPolicy", AllowCreate="true")
    context = etree.SubElement(req, _P + "RequestedAuthnContext", Comparison="exact")
    for uri in loa:
        etree.SubElement(context, _A + "AuthnContextClassRef").text = uri
    return req


def redirect_url(destination: str, request: etree._Element, relay_state: str, key: PrivateKey) -> str:
    """HTTP-Redirect binding URL with the query signature (SAML Bindings §3.4.4.1), RSA-SHA256."""
    xml = etree.tostring(request)
    # raw DEFLATE (no zlib header), as the binding requires
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = compressor.compress(xml) + compressor.flush()
    signed_part = urlencode(
        [("SAMLRequest", base64.b64encode(deflated).decode()), ("RelayState", relay_state), ("SigAlg", RSA_SHA256)]
    )
    signature = base64.b64encode(sign_bytes(signed_part.encode(), key)).decode()
    separator = "&" if urlsplit(destination).query else "?"
    return destination + separator + signed_part + "&" + urlencode([("Signature", signature)])


def post_fields(request: etree._Element, relay_state: str, key: PrivateKey) -> dict[str, str]:
    """HTTP-POST binding form fields, the request carrying an enveloped signature."""
    sign_enveloped(request, key)
    return {
        "SAMLRequest": base64.b64encode(etree.tostring(request)).decode(),
        "RelayState": relay_state,
    }
