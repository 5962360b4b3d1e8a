# SPDX-License-Identifier: Apache-2.0
"""AuthnRequests as the Swedish eID profile wants them, signed for the Redirect or the POST binding.

The record that binds the response to the request, :class:`~ekn_saml.facts.OutstandingRequest`,
is in :mod:`ekn_saml.facts`.
"""

from __future__ import annotations

import base64
import secrets
import zlib
from urllib.parse import urlencode, urlsplit

from lxml import etree

from .timeutil import format_instant, utcnow
from .xmlsecurity import NS, RSA_SHA256, PrivateKey, sign_bytes, sign_enveloped

BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
_P = "{{{}}}".format(NS["samlp"])
_A = "{{{}}}".format(NS["saml"])


def new_id() -> str:
    # An xs:ID must not start with a digit; 160 random bits.
    return "_" + secrets.token_hex(20)


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


def redirect_url(
    destination: str, request: etree._Element, relay_state: str, key: PrivateKey, algorithm: str = RSA_SHA256
) -> str:
    """HTTP-Redirect binding URL with the query signature (SAML Bindings §3.4.4.1).

    ``algorithm`` must be the key's: rsa-sha256 for an RSA key, ecdsa-sha256
    for an EC P-256 one (:attr:`SpCredentials.signing_algorithm`).  An ECDSA
    signature is the XML-DSig form python-xmlsec makes (r || s, 64 bytes),
    as the SigAlg URI names it; that form is **not** checked against any
    IdP here (see docs/admin.md on testing an EC key with the IdP first).
    """
    xml = etree.tostring(request)
    # raw DEFLATE (no zlib header), as the binding requires
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = compressor.compress(xml) + compressor.flush()
    signed_part = "&".join(
        (
            "SAMLRequest=" + _quote_base64(base64.b64encode(deflated).decode()),
            urlencode([("RelayState", relay_state), ("SigAlg", algorithm)]),
        )
    )
    signature = base64.b64encode(sign_bytes(signed_part.encode(), key, algorithm)).decode()
    separator = "&" if urlsplit(destination).query else "?"
    return destination + separator + signed_part + "&Signature=" + _quote_base64(signature)


def _quote_base64(value: str) -> str:
    """``value``, base64, as ``urlencode`` writes it: only ``+``, ``/`` and ``=`` need escaping.

    The same bytes as ``urlencode`` (quote_plus) gives, for a fraction of its
    cost: it quotes character by character, and a deflated AuthnRequest is
    about a kilobyte of base64 at every login start.
    """
    return value.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")


def post_fields(
    request: etree._Element, relay_state: str, key: PrivateKey, algorithm: str = RSA_SHA256
) -> dict[str, str]:
    """HTTP-POST binding form fields, the request carrying an enveloped signature (``algorithm``: the key's)."""
    sign_enveloped(request, key, algorithm=algorithm)
    return {
        "SAMLRequest": base64.b64encode(etree.tostring(request)).decode(),
        "RelayState": relay_state,
    }
