# SPDX-License-Identifier: Apache-2.0
"""Views of the development IdP: verify the AuthnRequest, pick a persona, answer."""

from __future__ import annotations

import base64
import secrets
import zlib
from urllib.parse import parse_qsl, unquote_plus

from lxml import etree
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.response import Response
from pyramid.view import view_config

from ..interfaces import IDevelopmentIdp
from ..metadata.idp import BINDING_POST, BINDING_REDIRECT
from ..views import render_autopost, service_provider
from ..xmlsecurity import NS, parse_xml, verify_bytes, verify_enveloped
from . import DEV_IDPS
from .personas import persona, personas_for

_STATUS = {
    "cancel": "http://id.elegnamnden.se/status/1.0/cancel",
    "fraud": "http://id.elegnamnden.se/status/1.0/fraud",
    "possibleFraud": "http://id.elegnamnden.se/status/1.0/possibleFraud",
    "authn_failed": "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed",
}
PENDING = "devidp"  # store namespace of verified requests waiting for a persona


def _requesting_profile(sp, xml: bytes):
    """The SP profile whose entityID is the AuthnRequest's Issuer.

    Read before the signature is checked, only to choose the one key that
    must have signed it (as any IdP picks an SP's metadata by Issuer).
    """
    issuer = (parse_xml(xml).findtext("saml:Issuer", namespaces=NS) or "").strip()
    profile = sp.profile_of_entity(issuer)
    if profile is None:
        raise HTTPBadRequest("the AuthnRequest's Issuer is none of the SP's profiles")
    return profile


def _redirect_request(request, sp):
    """Inflate a Redirect-binding request and check its query signature with its SP profile's key.

    The signature is checked over the query string exactly as received
    (pysaml2 #957: re-encoding breaks it).  Returns the XML and the profile.
    """
    raw = request.query_string
    parts = dict(p.split("=", 1) for p in raw.split("&") if "=" in p)
    if "Signature" not in parts or "SigAlg" not in parts:
        raise HTTPBadRequest("unsigned AuthnRequest")
    deflated = base64.b64decode(unquote_plus(parts["SAMLRequest"]))
    xml = zlib.decompressobj(-15).decompress(deflated, 100_000)
    profile = _requesting_profile(sp, xml)
    signed = "&".join(f"{k}={parts[k]}" for k in ("SAMLRequest", "RelayState", "SigAlg") if k in parts)
    signature = base64.b64decode(unquote_plus(parts["Signature"]))
    if not verify_bytes(signed.encode(), signature, [profile.credentials.signing_cert], unquote_plus(parts["SigAlg"])):
        raise HTTPBadRequest("bad AuthnRequest signature")
    return xml, profile


@view_config(route_name="devidp.sso", renderer="ekn_saml:templates/devidp_login.jinja2", require_csrf=False)
def sso(request):
    slug = request.matchdict["slug"]  # the route admits only known slugs
    sp = service_provider(request)
    engine = request.registry.getUtility(IDevelopmentIdp).engine(slug)
    # Our own signature check first, then pysaml2's parse (with its own
    # signature check): a second implementation judges our AuthnRequests.
    if request.method == "GET":
        xml, profile = _redirect_request(request, sp)
        query = dict(parse_qsl(request.query_string))
        relay_state = query.get("RelayState", "")
        authn_request = engine.parse_authn_request(
            query["SAMLRequest"],
            BINDING_REDIRECT,
            relay_state=relay_state,
            sigalg=query["SigAlg"],
            signature=query["Signature"],
        )
    else:
        xml = base64.b64decode(request.POST.get("SAMLRequest", ""))
        relay_state = request.POST.get("RelayState", "")
        profile = _requesting_profile(sp, xml)
        verify_enveloped(parse_xml(xml), [profile.credentials.signing_cert])
        authn_request = engine.parse_authn_request(request.POST["SAMLRequest"], BINDING_POST)
    root = etree.fromstring(xml)
    requested = root.xpath("samlp:RequestedAuthnContext/saml:AuthnContextClassRef/text()", namespaces=NS)
    # the answer goes to the ACS of the profile that asked, and to no other
    if (
        authn_request.issuer.text != profile.entity_id
        or authn_request.assertion_consumer_service_url != profile.acs_url
    ):
        raise HTTPBadRequest("AssertionConsumerServiceURL is not in the requesting SP profile's metadata")
    token = secrets.token_urlsafe(24)
    sp.store.put(
        PENDING,
        token,
        {
            "request_id": authn_request.id,
            "sp": authn_request.issuer.text,
            "acs": authn_request.assertion_consumer_service_url,
            "loa": list(requested),
            "relay_state": relay_state,
        },
        600,
    )
    method = DEV_IDPS[slug][0]
    return {
        "personas": personas_for(method),
        "method": method,
        "fields": {"token": token},
        "action": request.route_path("devidp.respond", slug=slug),
    }


@view_config(route_name="devidp.respond", request_method="POST", require_csrf=False)
def respond(request):
    # The single-use token stands in for a CSRF token: it is random and server-side.
    slug = request.matchdict["slug"]
    sp = service_provider(request)
    pending = sp.store.take(PENDING, request.POST.get("token", ""))
    if pending is None:
        raise HTTPBadRequest("unknown or used request token")
    engine = request.registry.getUtility(IDevelopmentIdp).engine(slug)
    outcome = request.POST.get("outcome", "success")
    if outcome in _STATUS:
        xml = engine.error_response(
            request_id=pending["request_id"], acs_url=pending["acs"], second_level=_STATUS[outcome], message=outcome
        )
    else:
        chosen = persona(DEV_IDPS[slug][0], request.POST.get("persona", ""))
        if chosen is None:
            raise HTTPBadRequest("choose a test person")
        # encrypted to the requesting profile's key: only its ACS can read it
        profile = sp.profile_of_entity(pending["sp"])
        if profile is None:
            raise HTTPBadRequest("the requesting SP profile is no longer configured")
        loa = chosen.loa if chosen.loa in pending["loa"] or not pending["loa"] else pending["loa"][0]
        xml = engine.success_response(
            request_id=pending["request_id"],
            sp_entity_id=pending["sp"],
            acs_url=pending["acs"],
            persona_id=chosen.id,
            attributes=chosen.attributes,
            loa=loa,
            sp_encryption_cert_b64=profile.credentials.encryption_cert.base64,
        )
    fields = {"SAMLResponse": base64.b64encode(xml.encode()).decode(), "RelayState": pending["relay_state"]}
    return render_autopost(request, pending["acs"], fields)


@view_config(route_name="devidp.metadata", request_method="GET")
def metadata(request):
    return Response(
        body=request.registry.getUtility(IDevelopmentIdp).metadata, content_type="application/samlmetadata+xml"
    )
