# SPDX-License-Identifier: Apache-2.0
"""The ACS checks (sp-checklist §1, 1 to 12): from a POSTed SAMLResponse to trusted facts.

:func:`validate_response` makes every check and raises a
:class:`~ekn_saml.errors.SamlError` with its own code at the first failure.
The order matters and is commented: nothing from the message is trusted
before the Response signature is verified with a key from the issuer's
metadata, and the outstanding request is consumed before any later check,
so one request can be answered only once.

It does **not** map attributes to an identity (:mod:`ekn_saml.identity`
does, including the scope check of checklist 9) and does **not** look at
RelayState targets (checklist 13: RelayState is only an opaque key here).
"""

from __future__ import annotations

import binascii
import datetime as dt
import hmac
from dataclasses import dataclass
from typing import Literal, overload

from lxml import etree

from .constants import DEFAULT_SP_PROFILE
from .credentials import SpCredentials
from .errors import ErrorCode, IdPStatusError, RequestStateError, ResponseValidationError
from .facts import AssertionFacts, OutstandingRequest, browser_hash
from .metadata.idp import IdpRegistry
from .storage import StateStore, StoreWrite
from .timeutil import parse_instant
from .xml_limits import MESSAGE_LIMITS, XmlLimits
from .xmlsecurity import (
    NS,
    XmlCrypto,
    check_schema,
    child,
    children,
    children_at,
    decrypt_element,
    parse_xml,
    signature_of,
    strict_text,
    verify_enveloped,
)

REQUESTS = "outstanding"  # store namespace of outstanding requests (OutstandingRequest.to_dict)
# Where the previous version stored its (larger) records, read only while a
# rolling upgrade may have left some there.  That version does not look in
# REQUESTS, so a login started on an upgraded node and answered on an old one
# is REQUEST_UNKNOWN ("start again"), not a record it cannot parse (a 500).
PREVIOUS_REQUESTS = "request"
REPLAY = "replay"  # store namespace of seen assertion and response IDs

STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
_STATUS_CODES = {
    "http://id.elegnamnden.se/status/1.0/cancel": ErrorCode.IDP_CANCELLED,
    "http://id.elegnamnden.se/status/1.0/fraud": ErrorCode.IDP_FRAUD,
    "http://id.elegnamnden.se/status/1.0/possibleFraud": ErrorCode.IDP_POSSIBLE_FRAUD,
    "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed": ErrorCode.IDP_AUTHN_FAILED,
    "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext": ErrorCode.IDP_NO_AUTHN_CONTEXT,
    "urn:oasis:names:tc:SAML:2.0:status:RequestDenied": ErrorCode.IDP_REQUEST_DENIED,
}
_P = "{{{}}}".format(NS["samlp"])
_A = "{{{}}}".format(NS["saml"])


@dataclass(frozen=True)
class ValidationPolicy:
    """The numbers and switches the checks use; built once from SamlSettings."""

    entity_id: str
    acs_url: str
    sp_profile: str = DEFAULT_SP_PROFILE  # the SP profile whose ACS this is
    clock_skew: int = 30
    max_response_age: int = 180
    require_encrypted_assertion: bool = True
    max_response_bytes: int = 256 * 1024
    xml_limits: XmlLimits = MESSAGE_LIMITS  # the caps on the Response's shape (ekn_saml.security.max_xml_*)


def _reject(code: ErrorCode, detail: str) -> ResponseValidationError:
    return ResponseValidationError(code, detail)


def decode_form_value(value: str | None, max_bytes: int) -> bytes:
    """Base64-decode the SAMLResponse field after the size cap (checklist 12)."""
    if not value:
        raise _reject(ErrorCode.RESPONSE_MISSING, "no SAMLResponse in the POST body")
    if len(value) > max_bytes:
        raise _reject(ErrorCode.RESPONSE_TOO_LARGE, f"SAMLResponse has {len(value)} characters, cap {max_bytes}")
    try:
        # strict_mode: only the base64 alphabet and correct padding, as
        # b64decode(validate=True), without its extra pass over the text.
        # Most IdPs send no line breaks: try as is first, then without whitespace.
        try:
            return binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
        except binascii.Error:
            return binascii.a2b_base64("".join(value.split()).encode("ascii"), strict_mode=True)
    except (binascii.Error, ValueError):
        raise _reject(ErrorCode.RESPONSE_NOT_BASE64, "SAMLResponse is not base64") from None


@overload
def _instant(el: etree._Element, name: str, *, required: Literal[True] = True) -> dt.datetime: ...
@overload
def _instant(el: etree._Element, name: str, *, required: Literal[False]) -> dt.datetime | None: ...


def _instant(el: etree._Element, name: str, *, required: bool = True) -> dt.datetime | None:
    value = el.get(name)
    if value is None:
        if required:
            raise _reject(ErrorCode.SCHEMA_INVALID, f"{etree.QName(el).localname} lacks {name}")
        return None
    try:
        return parse_instant(value)
    except ValueError:
        raise _reject(ErrorCode.SCHEMA_INVALID, f"{etree.QName(el).localname}/@{name} is not a UTC instant") from None


def _issuer(el: etree._Element) -> str:
    issuers = children(el, _A + "Issuer")
    if len(issuers) != 1:
        raise _reject(ErrorCode.ISSUER_UNKNOWN, f"{etree.QName(el).localname} must have exactly one Issuer")
    return strict_text(issuers[0]).strip()


def _check_issue_instant(el: etree._Element, policy: ValidationPolicy, now: dt.datetime) -> None:
    issued = _instant(el, "IssueInstant")
    skew = dt.timedelta(seconds=policy.clock_skew)
    if issued > now + skew:
        raise _reject(ErrorCode.ISSUE_INSTANT_IN_FUTURE, f"IssueInstant {issued.isoformat()} is in the future")
    if issued < now - dt.timedelta(seconds=policy.max_response_age) - skew:
        raise _reject(ErrorCode.RESPONSE_TOO_OLD, f"IssueInstant {issued.isoformat()} is too old")


# compiled once: it runs on every response (outermost status code first)
_STATUS_CODE_VALUES = etree.XPath(
    "samlp:Status/samlp:StatusCode/descendant-or-self::samlp:StatusCode/@Value", namespaces=NS
)


def _raise_for_status(root: etree._Element) -> None:
    codes = _STATUS_CODE_VALUES(root)
    if not codes:
        raise _reject(ErrorCode.SCHEMA_INVALID, "Response has no StatusCode")
    if codes[0] == STATUS_SUCCESS and len(codes) == 1:
        return
    # A failure response has no assertion to wait for: its schema check is here.
    check_schema(root)
    message = " ".join(root.xpath("samlp:Status/samlp:StatusMessage/text()", namespaces=NS))[:200]
    code = ErrorCode.IDP_OTHER_ERROR
    for value in codes[1:]:  # the second level says what happened
        code = _STATUS_CODES.get(value, code)
        if code is not ErrorCode.IDP_OTHER_ERROR:
            break
    raise IdPStatusError(code, tuple(codes), message)


def _take_outstanding(
    root: etree._Element,
    issuer: str,
    relay_state: str | None,
    browser_token: str | None,
    store: StateStore,
    sp_profile: str,
    trail: dict[str, str] | None = None,
) -> OutstandingRequest:
    in_response_to = root.get("InResponseTo")
    if not in_response_to:
        raise RequestStateError(ErrorCode.UNSOLICITED_RESPONSE, "Response has no InResponseTo")
    namespace = REQUESTS
    stored = store.get(REQUESTS, in_response_to)
    if stored is None:  # perhaps stored by a node of the previous version
        namespace = PREVIOUS_REQUESTS
        stored = store.get(PREVIOUS_REQUESTS, in_response_to)
    if stored is None:
        raise RequestStateError(ErrorCode.REQUEST_UNKNOWN, "no outstanding request with that ID (expired or used)")
    request = OutstandingRequest.from_dict(in_response_to, stored)
    if trail is not None:
        trail["method"] = request.method
    # Answered at the ACS of the SP profile that asked; refused before the
    # request is consumed, so the same response can still finish at the right one.
    if request.sp_profile != sp_profile:
        raise RequestStateError(
            ErrorCode.SP_PROFILE_MISMATCH,
            f"request sent by SP profile {request.sp_profile!r}, answer at the ACS of {sp_profile!r}",
        )
    # Bound to this browser: checked before the request is consumed, so a
    # stranger posting someone else's response cannot burn their login.
    if not browser_token or not hmac.compare_digest(browser_hash(browser_token), request.browser):
        raise RequestStateError(ErrorCode.REQUEST_BROWSER_MISMATCH, "request was started in another browser")
    if store.take(namespace, in_response_to) is None:
        raise RequestStateError(ErrorCode.REQUEST_UNKNOWN, "outstanding request was used concurrently")
    # Bound to the IdP it went to: an IdP that may assert anything (e.g. a
    # test IdP in the same federation) cannot answer a request sent elsewhere.
    if issuer != request.idp_entity_id:
        raise RequestStateError(
            ErrorCode.ISSUER_MISMATCH, f"request went to {request.idp_entity_id}, answer from {issuer}"
        )
    if relay_state != request.relay_state:
        raise RequestStateError(ErrorCode.RELAY_STATE_MISMATCH, "RelayState does not match the request")
    return request


def _the_assertion(
    root: etree._Element, policy: ValidationPolicy, credentials: SpCredentials, crypto: XmlCrypto | None = None
) -> etree._Element:
    plain = children(root, _A + "Assertion")
    encrypted = children(root, _A + "EncryptedAssertion")
    if len(plain) + len(encrypted) != 1:
        raise _reject(ErrorCode.ASSERTION_COUNT, f"{len(plain)} Assertion and {len(encrypted)} EncryptedAssertion")
    if plain:
        if policy.require_encrypted_assertion:
            raise _reject(ErrorCode.ASSERTION_NOT_ENCRYPTED, "the assertion must be encrypted")
        return plain[0]
    assertion = decrypt_element(encrypted[0], credentials.decryption_keys, crypto)
    if assertion.tag != _A + "Assertion":
        raise _reject(ErrorCode.ASSERTION_COUNT, f"EncryptedAssertion holds {assertion.tag}, not an Assertion")
    return assertion


def _unwrap(root: etree._Element, assertion: etree._Element) -> None:
    """Put the decrypted assertion where the Response's EncryptedAssertion is.

    The Response then reads as if the assertion had been sent in clear, so
    one schema validation covers both signed elements.  Called after the
    assertion's signature is verified; exclusive canonicalisation of the
    moved element is unchanged (lxml keeps the namespaces it uses).  The
    assertion may be in the tree (in-process decryption) or a new element
    (another engine's output).
    """
    if assertion.getparent() is root:
        return  # sent in clear
    root.replace(child(root, _A + "EncryptedAssertion"), assertion)


def _check_subject(
    assertion, request: OutstandingRequest, policy: ValidationPolicy, now
) -> tuple[str, str, dt.datetime]:
    skew = dt.timedelta(seconds=policy.clock_skew)
    subject = child(assertion, _A + "Subject")
    if subject is None:
        raise _reject(ErrorCode.SUBJECT_CONFIRMATION_INVALID, "assertion has no Subject")
    if child(subject, _A + "EncryptedID") is not None:
        raise _reject(ErrorCode.ENCRYPTED_ID_FORBIDDEN, "EncryptedID is not allowed")
    name_ids = children(subject, _A + "NameID")
    if len(name_ids) != 1 or not strict_text(name_ids[0]).strip():
        raise _reject(ErrorCode.SUBJECT_CONFIRMATION_INVALID, "Subject must have exactly one non-empty NameID")
    confirmations = children(subject, _A + "SubjectConfirmation")
    if len(confirmations) != 1 or confirmations[0].get("Method") != BEARER:
        raise _reject(ErrorCode.SUBJECT_CONFIRMATION_INVALID, "exactly one bearer SubjectConfirmation is required")
    data = child(confirmations[0], _A + "SubjectConfirmationData")
    if data is None:
        raise _reject(ErrorCode.SUBJECT_CONFIRMATION_INVALID, "SubjectConfirmationData is missing")
    if data.get("InResponseTo") != request.request_id:
        raise _reject(ErrorCode.SUBJECT_CONFIRMATION_INVALID, "SubjectConfirmationData InResponseTo differs")
    # Recipient = the ACS URL in our request = the URL it arrived at: the request
    # was sent by this ACS's SP profile (SP_PROFILE_MISMATCH otherwise), with its ACS URL.
    if data.get("Recipient") != policy.acs_url:
        raise _reject(ErrorCode.RECIPIENT_MISMATCH, f"Recipient {data.get('Recipient')!r} is not {policy.acs_url}")
    not_on_or_after = _instant(data, "NotOnOrAfter")
    if now - skew >= not_on_or_after:
        raise _reject(ErrorCode.EXPIRED, "SubjectConfirmationData NotOnOrAfter has passed")
    not_before = _instant(data, "NotBefore", required=False)
    if not_before is not None and now + skew < not_before:
        raise _reject(ErrorCode.NOT_YET_VALID, "SubjectConfirmationData NotBefore is in the future")
    return strict_text(name_ids[0]).strip(), name_ids[0].get("Format", ""), not_on_or_after


def _check_conditions(assertion, policy: ValidationPolicy, now) -> dt.datetime:
    skew = dt.timedelta(seconds=policy.clock_skew)
    conditions = children(assertion, _A + "Conditions")
    if len(conditions) != 1:
        raise _reject(ErrorCode.AUDIENCE_MISMATCH, "assertion must have one Conditions with an Audience")
    cond = conditions[0]
    not_before = _instant(cond, "NotBefore", required=False)
    if not_before is not None and now + skew < not_before:
        raise _reject(ErrorCode.NOT_YET_VALID, "Conditions NotBefore is in the future")
    not_on_or_after = _instant(cond, "NotOnOrAfter")
    if now - skew >= not_on_or_after:
        raise _reject(ErrorCode.EXPIRED, "Conditions NotOnOrAfter has passed")
    restrictions = children(cond, _A + "AudienceRestriction")
    if not restrictions:
        raise _reject(ErrorCode.AUDIENCE_MISMATCH, "no AudienceRestriction")
    for restriction in restrictions:  # every restriction must admit us (SAML core 2.5.1.4)
        audiences = [strict_text(a).strip() for a in children(restriction, _A + "Audience")]
        if policy.entity_id not in audiences:
            raise _reject(ErrorCode.AUDIENCE_MISMATCH, f"Audience {audiences} does not include {policy.entity_id}")
    return not_on_or_after


def _check_authn(assertion, request: OutstandingRequest, policy: ValidationPolicy) -> tuple[str, dt.datetime, str]:
    statements = children(assertion, _A + "AuthnStatement")
    if len(statements) != 1:
        raise _reject(ErrorCode.AUTHN_STATEMENT_COUNT, f"{len(statements)} AuthnStatements")
    if len(children(assertion, _A + "AttributeStatement")) != 1:
        raise _reject(ErrorCode.ATTRIBUTE_STATEMENT_COUNT, "exactly one AttributeStatement is required")
    statement = statements[0]
    refs = children_at(statement, _A + "AuthnContext", _A + "AuthnContextClassRef")
    loa = strict_text(refs[0]).strip() if len(refs) == 1 else ""
    if loa not in request.loa:
        raise _reject(ErrorCode.LOA_NOT_REQUESTED, f"AuthnContextClassRef {loa!r} was not requested")
    authn_instant = _instant(statement, "AuthnInstant")
    if request.force_authn:
        issued = dt.datetime.fromtimestamp(request.issued_at, dt.UTC)
        if authn_instant < issued - dt.timedelta(seconds=policy.clock_skew):
            raise _reject(ErrorCode.AUTHN_INSTANT_TOO_OLD, "ForceAuthn was asked but AuthnInstant predates the request")
    return loa, authn_instant, statement.get("SessionIndex", "")


def _attributes(assertion) -> dict[str, tuple[str, ...]]:
    statement = child(assertion, _A + "AttributeStatement")
    if child(statement, _A + "EncryptedAttribute") is not None:
        raise _reject(ErrorCode.ENCRYPTED_ATTRIBUTE_FORBIDDEN, "EncryptedAttribute is not allowed")
    attributes: dict[str, tuple[str, ...]] = {}
    for attribute in children(statement, _A + "Attribute"):
        name = attribute.get("Name", "")
        if name in attributes:
            raise _reject(ErrorCode.ATTRIBUTE_VALUE_MALFORMED, f"attribute {name} appears twice")
        attributes[name] = tuple(strict_text(v) for v in children(attribute, _A + "AttributeValue"))
    return attributes


def validate_response(
    saml_response: str | None,
    relay_state: str | None,
    browser_token: str | None,
    *,
    policy: ValidationPolicy,
    credentials: SpCredentials,
    registry: IdpRegistry,
    store: StateStore,
    now: dt.datetime,
    crypto: XmlCrypto | None = None,
    trail: dict[str, str] | None = None,
) -> AssertionFacts:
    """Every ACS check, in a safe order; the facts of a valid response or a SamlError.

    ``crypto`` makes the cryptographic steps after our checks (default: in
    process; see :class:`~ekn_saml.xmlsecurity.XmlCrypto`).  ``trail``, if
    given, gets ``idp`` and ``method`` as soon as each is known, so that the
    caller can say which login a failure belongs to (audit trail).
    """
    root = parse_xml(decode_form_value(saml_response, policy.max_response_bytes), limits=policy.xml_limits)
    if root.tag != _P + "Response" or root.get("Version") != "2.0":
        raise _reject(ErrorCode.NOT_A_RESPONSE, f"root element is {root.tag}")

    # 1. Who claims to have sent it, and is it really signed by them?
    issuer = _issuer(root)
    idp = registry.get(issuer)
    if idp is None:
        raise RequestStateError(ErrorCode.ISSUER_UNKNOWN, f"issuer {issuer!r} is not in trusted metadata")
    if trail is not None:
        trail["idp"] = issuer
    if signature_of(root) is None:
        raise _reject(ErrorCode.RESPONSE_NOT_SIGNED, "the Response must be signed")
    # The schema check of the signed elements (pysaml2's CVE-2021-21238
    # defence) is made once, in step 5, of the Response holding its decrypted
    # assertion.  Until then only direct children found by name are read, and
    # the profile check has pinned the signature to this element's own ID.
    verify_enveloped(root, idp.signing_keys, crypto)

    # 2. Which request does it answer?  Consumed here, whatever follows.
    request = _take_outstanding(root, issuer, relay_state, browser_token, store, policy.sp_profile, trail)

    # 3. Addressed to us, now.
    destination = root.get("Destination")
    if not destination:
        raise _reject(ErrorCode.DESTINATION_MISSING, "the signed Response must carry Destination")
    if destination != policy.acs_url:
        raise _reject(ErrorCode.DESTINATION_MISMATCH, f"Destination {destination!r} is not {policy.acs_url}")
    _check_issue_instant(root, policy, now)

    # 4. A non-success status ends here with its own page (cancel, fraud …),
    # once the signed Response has passed the schema check.
    _raise_for_status(root)

    # 5. The one assertion, decrypted with any of our keys.
    assertion = _the_assertion(root, policy, credentials, crypto)
    if _issuer(assertion) != issuer:
        raise RequestStateError(ErrorCode.ISSUER_MISMATCH, "assertion Issuer differs from the Response Issuer")
    if signature_of(assertion) is not None:
        verify_enveloped(assertion, idp.signing_keys, crypto)
    _unwrap(root, assertion)
    assertion_id = assertion.get("ID") or ""
    if not assertion_id:
        raise _reject(ErrorCode.SCHEMA_INVALID, "assertion has no ID")
    _check_issue_instant(assertion, policy, now)
    name_id, name_id_format, confirmation_end = _check_subject(assertion, request, policy, now)
    conditions_end = _check_conditions(assertion, policy, now)
    loa, authn_instant, session_index = _check_authn(assertion, request, policy)
    attributes = _attributes(assertion)
    # The schema check of both signed elements, once: the Response with its
    # decrypted assertion in place (the EncryptedAssertion wrapper was checked
    # by decrypt_element).  After the specific checks above, so they report
    # their own codes; nothing has been stored or trusted yet.
    check_schema(root)

    # 6. Replay: once per assertion ID (and response ID) across every node.
    valid_until = max(confirmation_end, conditions_end) + dt.timedelta(seconds=policy.clock_skew)
    ttl = max(1, int((valid_until - now).total_seconds()) + 1)
    # Both entries in one batch (one round trip): each add is still atomic on
    # its own, and the response's entry is made even when the assertion's was
    # taken, which only marks a replayed message as seen once more.
    assertion_new, response_new = store.write_batch(
        [
            StoreWrite.add(REPLAY, "assertion:" + assertion_id, {"issuer": issuer}, ttl),
            StoreWrite.add(REPLAY, "response:" + (root.get("ID") or ""), {"issuer": issuer}, ttl),
        ]
    )
    if not assertion_new:
        raise _reject(ErrorCode.ASSERTION_REPLAYED, f"assertion {assertion_id} was already used")
    if not response_new:
        raise _reject(ErrorCode.ASSERTION_REPLAYED, "response was already used")

    return AssertionFacts(
        request=request,
        idp=idp,
        response_id=root.get("ID") or "",
        assertion_id=assertion_id,
        name_id=name_id,
        name_id_format=name_id_format,
        session_index=session_index,
        authn_instant=authn_instant,
        loa=loa,
        not_on_or_after=confirmation_end,
        attributes=attributes,
    )
