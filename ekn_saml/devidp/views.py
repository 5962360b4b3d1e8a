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
from ..xml_schema import request_schema_problem
from ..xmlsecurity import NS, parse_xml, verify_bytes, verify_enveloped
from . import DEV_IDPS
from .personas import Persona, persona, personas_for

_UMSG = {"umsg": "http://id.swedenconnect.se/authn/1.0/user-message/ns"}
_PSC = {"psc": "http://id.swedenconnect.se/authn/1.0/principal-selection/ns"}
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

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


def user_message_of(root: etree._Element, language: str) -> str | None:
    """The umsg:UserMessage text to show (UMSG 3.1): the message in ``language``, else the first; ``None`` if none.

    Only text/plain is shown (the IdP must not show a type it does not
    support); the template escapes it.
    """
    element = root.find("samlp:Extensions/umsg:UserMessage", {**NS, **_UMSG})
    if element is None or element.get("mimeType", "text/plain") != "text/plain":
        return None
    messages = [(m.get(_XML_LANG, ""), m.text or "") for m in element.findall("umsg:Message", _UMSG)]
    chosen = next((text for lang, text in messages if lang == language), messages[0][1] if messages else None)
    return base64.b64decode(chosen).decode("utf-8") if chosen else None


def match_values_of(root: etree._Element) -> dict[str, str]:
    """The psc:PrincipalSelection of the request: attribute name -> value."""
    return {
        mv.get("Name", ""): (mv.text or "").strip()
        for mv in root.findall("samlp:Extensions/psc:PrincipalSelection/psc:MatchValue", {**NS, **_PSC})
    }


def selected_persona(personas: list[Persona], match_values: dict[str, str]) -> Persona | None:
    """The persona the PrincipalSelection names (every given value matches one of its attributes), or ``None``."""
    if not match_values:
        return None
    for candidate in personas:
        if all(value in candidate.attributes.get(name, ()) for name, value in match_values.items()):
            return candidate
    return None


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
    # the extensions (psc, umsg) against their published schemas, the rest against SAML's
    problem = request_schema_problem(root)
    if problem:
        raise HTTPBadRequest(f"the AuthnRequest breaks the schema: {problem}")
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
    personas = personas_for(method)
    # PrincipalSelection (PSC 1): the person the SP asks for is pre-selected; another may still be chosen,
    # so that tests can see the SP refuse a step-up answered by someone else
    selected = selected_persona(personas, match_values_of(root))
    return {
        "personas": personas,
        "method": method,
        "fields": {"token": token},
        "action": request.route_path("devidp.respond", slug=slug),
        "selected": selected.id if selected else None,
        "user_message": user_message_of(root, request.localizer.locale_name),
        "force_authn": root.get("ForceAuthn") == "true",
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
