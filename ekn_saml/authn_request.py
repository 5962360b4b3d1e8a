# SPDX-License-Identifier: Apache-2.0
"""AuthnRequests and the outstanding-request record that binds the response to them."""
from __future__ import annotations

import base64
import hashlib
import secrets
import zlib
from dataclasses import asdict, dataclass
from urllib.parse import urlencode, urlsplit

from lxml import etree

from .settings import DEFAULT_SP_PROFILE
from .timeutil import format_instant, utcnow
from .xmlsecurity import NS, RSA_SHA256, PrivateKey, sign_bytes, sign_enveloped

BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
_P = "{%s}" % NS["samlp"]
_A = "{%s}" % NS["saml"]


def new_id() -> str:
    # An xs:ID must not start with a digit; 160 random bits.
    return "_" + secrets.token_hex(20)


def browser_hash(browser_token: str) -> str:
    """What we store about the browser: a hash, so a store dump cannot forge the cookie."""
    return hashlib.sha256(browser_token.encode()).hexdigest()


@dataclass(frozen=True)
class OutstandingRequest:
    """Everything the ACS needs to know about the request a response answers.

    Stored server-side under the request ID; single use (taken atomically).
    """

    request_id: str
    method: str
    idp_entity_id: str
    acs_url: str
    loa: tuple[str, ...]
    force_authn: bool
    issued_at: float  # epoch seconds
    browser: str  # browser_hash() of the binding cookie
    relay_state: str
    next_path: str
    # the SP profile that sent it: only that profile's ACS may consume it
    sp_profile: str = DEFAULT_SP_PROFILE
    # store key of the session the browser had at the login start (ekn_saml.session.current_session_key):
    # the login ends it, though the IdP's cross-site POST carries no session cookie
    previous_session: str | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["loa"] = list(self.loa)
        if self.sp_profile == DEFAULT_SP_PROFILE:
            # the record of a single-SP app stays as it was, so nodes of the
            # previous version read it during a rolling upgrade
            del data["sp_profile"]
        if self.previous_session is None:
            del data["previous_session"]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "OutstandingRequest":
        """The record :meth:`to_dict` wrote; one without ``sp_profile`` was sent by the default profile."""
        return cls(**{**data, "loa": tuple(data["loa"])})


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
