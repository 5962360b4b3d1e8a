# SPDX-License-Identifier: Apache-2.0
"""XML security in-process, on lxml and python-xmlsec: one parser, strict profiles.

This module holds the primitives every signed or encrypted message goes
through: the safe parse, the signature-profile check and verification, the
decryption, and (for the development IdP and for POST-bound requests) signing
and encryption.  It knows nothing of SAML semantics beyond element names; the
ACS rules live in :mod:`ekn_saml.response`.

Keys are loaded once (:class:`PublicKey`, :class:`PrivateKey`) and reused;
nothing here writes temporary files or starts a process.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from .errors import ErrorCode, ResponseValidationError
from .xml_limits import MESSAGE_LIMITS, XmlLimits
from .xml_schema import check_schema
from .xml_schema import saml_schema as saml_schema  # re-exported: it was defined here
from .xml_schema import schema_directory as schema_directory  # re-exported: it was defined here
from .xmlsec_check import load_xmlsec

if TYPE_CHECKING:  # python-xmlsec is loaded below, through the startup check; its types are named here
    from xmlsec import Key as XmlsecKey

# python-xmlsec, or a ConfigurationError saying how to fix it (libxml2 mismatch)
xmlsec = load_xmlsec()

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "xenc": "http://www.w3.org/2001/04/xmlenc#",
    "xenc11": "http://www.w3.org/2009/xmlenc11#",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "mdui": "urn:oasis:names:tc:SAML:metadata:ui",
    "mdattr": "urn:oasis:names:tc:SAML:metadata:attribute",
    "shibmd": "urn:mace:shibboleth:metadata:1.0",
    "alg": "urn:oasis:names:tc:SAML:metadata:algsupport",
    "psc": "http://id.swedenconnect.se/authn/1.0/principal-selection/ns",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "xs": "http://www.w3.org/2001/XMLSchema",
}
DS = "{{{}}}".format(NS["ds"])
XENC = "{{{}}}".format(NS["xenc"])

# --- algorithm allow-lists (Swedish eID DP §8) ---
SIGNATURE_ALGORITHMS = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": xmlsec.Transform.RSA_SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": xmlsec.Transform.RSA_SHA384,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": xmlsec.Transform.RSA_SHA512,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": xmlsec.Transform.ECDSA_SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": xmlsec.Transform.ECDSA_SHA384,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": xmlsec.Transform.ECDSA_SHA512,
}
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
DIGEST_ALGORITHMS = {
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
}
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
_DIGEST_TRANSFORMS = {
    SHA256: xmlsec.Transform.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": xmlsec.Transform.SHA384,
    "http://www.w3.org/2001/04/xmlenc#sha512": xmlsec.Transform.SHA512,
}
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
ALLOWED_TRANSFORMS = {ENVELOPED, EXC_C14N}
# SHA-256 of nothing: a digest over an empty node set ("void canonicalisation")
EMPTY_SHA256_B64 = base64.b64encode(hashlib.sha256(b"").digest()).decode()

DATA_ENCRYPTION_ALGORITHMS = {
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc": (xmlsec.constants.KeyDataAes, 128),
    "http://www.w3.org/2001/04/xmlenc#aes192-cbc": (xmlsec.constants.KeyDataAes, 192),
    "http://www.w3.org/2001/04/xmlenc#aes256-cbc": (xmlsec.constants.KeyDataAes, 256),
    "http://www.w3.org/2009/xmlenc11#aes128-gcm": (xmlsec.constants.KeyDataAes, 128),
    "http://www.w3.org/2009/xmlenc11#aes192-gcm": (xmlsec.constants.KeyDataAes, 192),
    "http://www.w3.org/2009/xmlenc11#aes256-gcm": (xmlsec.constants.KeyDataAes, 256),
}
# The same algorithms by their short names (the URI's fragment), which the
# settings, encrypt_element and the development IdP use.
DATA_ENCRYPTION_NAMES = {uri: uri.rsplit("#", 1)[1] for uri in DATA_ENCRYPTION_ALGORITHMS}
RSA_OAEP_MGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
# Only the profile's mandatory key transport. xmlenc11#rsa-oaep is not in the
# DP §8 table, so a receiver MUST refuse it unless its own metadata declares it;
# our SP metadata (metadata/sp.py) declares exactly this set.
KEY_TRANSPORT_ALGORITHMS = {RSA_OAEP_MGF1P}
# The SHA-1 *OAEP digest* is the profile's mandatory default and is accepted;
# SHA-1 signatures and reference digests are not (checklist 11).
OAEP_DIGESTS = {"http://www.w3.org/2000/09/xmldsig#sha1", SHA256, *DIGEST_ALGORITHMS}

_ENCRYPTION_TRANSFORMS = {
    "aes128-gcm": xmlsec.Transform.AES128_GCM,
    "aes192-gcm": xmlsec.Transform.AES192_GCM,
    "aes256-gcm": xmlsec.Transform.AES256_GCM,
    "aes128-cbc": xmlsec.Transform.AES128,
    "aes192-cbc": xmlsec.Transform.AES192,
    "aes256-cbc": xmlsec.Transform.AES256,
}

# One parser for everything: no DTD, no entities, no network (checklist 12).
# Comments are kept so that a value split by a comment is *seen* and rejected.
_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_blank_text=False,
)


def _fail(code: ErrorCode, detail: str) -> ResponseValidationError:
    return ResponseValidationError(code, detail)


def parse_xml(
    data: bytes, *, whole_document_signed: bool = False, limits: XmlLimits = MESSAGE_LIMITS
) -> etree._Element:
    """Parse untrusted XML with the one safe parser.

    Rejects a document over one of the ``limits`` (:class:`XmlLimits`: the
    node cap before parsing, the others right after), a DOCTYPE (so no
    entity can be declared or expanded, and libxml2 refuses a reference to
    an undeclared one: no entity node can reach the tree), relative
    namespace URIs (void canonicalisation), duplicate ``ID`` values and
    namespaced ``ID`` attributes (ID pollution).
    It does **not** check signatures or SAML semantics.

    ``whole_document_signed=True`` is for a caller that refuses the
    document unless an enveloped exc-c14n signature over its *root* verifies
    without resolving any ID (federation metadata,
    :func:`ekn_saml.metadata.root_signature.verify_root_signature`).  The
    namespace and ID checks are then left out, and a 20 MB aggregate is not
    walked twice for them:

    * that signature's digest canonicalises every element but the Signature
      (which it checks itself), and libxml2's canonicalisation fails on a
      relative namespace declaration, used or not (probed at startup by
      :func:`ekn_saml.xmlsec_check.canonicalisation_problems`);
    * nothing is looked up by ID, so duplicate or namespaced IDs cannot
      move the signature.

    The caller must parse again, with every check, any part it goes on to
    use (FederationIdps parses each IdP entity it builds).
    """
    equals = limits.check_bytes(data)
    if _declares_a_dtd(data):
        raise _fail(ErrorCode.XML_DTD_FORBIDDEN, "a DOCTYPE or entity declaration is not allowed")
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise _fail(ErrorCode.XML_MALFORMED, f"not well-formed XML ({_parse_error(exc)})") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype:
        raise _fail(ErrorCode.XML_DTD_FORBIDDEN, "a DOCTYPE is not allowed")
    limits.check_tree(root, equals)
    if whole_document_signed:
        return root
    check_namespaces(root, max_declarations=limits.max_namespaces)
    _check_ids(root)
    return root


def _parse_error(exc: Exception) -> str:
    """What went wrong, without libxml2's message text (it quotes the document: values, even identity numbers)."""
    error_log = getattr(exc, "error_log", None)
    last = error_log.last_error if error_log is not None else None
    if not last:
        return exc.__class__.__name__
    return f"{last.type_name} at line {last.line}, column {last.column}"


# compiled once: the ID check runs twice on every response
_ID_ATTRIBUTES = etree.XPath("descendant-or-self::*/@*[local-name()='ID' or local-name()='Id']")

# A DOCTYPE (and with it any entity declaration) can only come in the prolog:
# after an optional BOM, whitespace, the XML declaration, processing
# instructions and comments.  Atomic groups: no backtracking into a later "?>".
_PROLOG_DTD = re.compile(rb"\A(?:\xef\xbb\xbf)?(?>[ \t\r\n]+|<\?.*?\?>|<!--.*?-->)*+<!DOCTYPE", re.S)
_UTF16 = {b"\xff\xfe": "utf-16", b"\xfe\xff": "utf-16", b"<\x00": "utf-16-le", b"\x00<": "utf-16-be"}


def _declares_a_dtd(data: bytes) -> bool:
    """Whether ``data`` has a DOCTYPE, found *before* libxml2 reads it (no DTD is ever parsed).

    Reads the prolog only, not the whole document (a 26 MB aggregate has no
    reason to be scanned twice).  UTF-16 is decoded first; anything libxml2
    reads as another encoding is left to the DOCTYPE check after the parse.
    A DOCTYPE anywhere else, or an entity declaration outside one, is not
    well-formed: the parser refuses it.
    """
    encoding = _UTF16.get(data[:2])
    if encoding is not None:
        try:
            data = data.decode(encoding).encode("utf-8")
        except UnicodeDecodeError:
            return False  # the parser says what is wrong with it
    return _PROLOG_DTD.match(data) is not None


def _check_nodes(root: etree._Element) -> None:
    # Entity references and namespace URIs of a subtree parse_xml did not
    # parse (a decrypted one): each is one pass inside libxml2 (tag filter,
    # start-ns walk), not a Python loop over every element.
    for _entity in root.iter(etree.Entity):
        raise _fail(ErrorCode.XML_DTD_FORBIDDEN, "entity references are not allowed")
    check_namespaces(root)


def check_namespaces(root: etree._Element, *, max_declarations: int | None = None) -> None:
    """Raise XML_NAMESPACE_INVALID for a relative namespace URI declared in or above ``root``.

    Declarations inherited from above a subtree count as well as those
    inside it.  With ``max_declarations``, more declarations than that in
    the subtree raise XML_TOO_MANY_NAMESPACES.  Does **not** check IDs or
    entities.
    """
    inherited = [("", uri) for uri in root.nsmap.values()]
    declared = (ns for _event, ns in etree.iterwalk(root, events=("start-ns",)))
    for count, (_prefix, uri) in enumerate(itertools.chain(inherited, declared), 1 - len(inherited)):
        if ":" not in uri:
            raise _fail(ErrorCode.XML_NAMESPACE_INVALID, f"relative namespace URI {uri!r}")
        if max_declarations is not None and count > max_declarations:
            raise _fail(ErrorCode.XML_TOO_MANY_NAMESPACES, f"more than {max_declarations} namespace declarations")


def _check_ids(root: etree._Element) -> None:
    # ID attributes of a subtree: none namespaced, none twice
    seen_ids: set[str] = set()
    for value in _ID_ATTRIBUTES(root):
        if value.attrname not in ("ID", "Id"):
            raise _fail(ErrorCode.XML_DUPLICATE_ID, f"namespaced ID attribute {value.attrname} (ID pollution)")
        if value in seen_ids:
            raise _fail(ErrorCode.XML_DUPLICATE_ID, f"ID {str(value)!r} appears twice")
        seen_ids.add(str(value))


def children(parent: etree._Element, tag: str) -> list[etree._Element]:
    """The direct children of ``parent`` named ``tag`` (``{namespace}name``), in document order.

    What ``parent.findall(tag)`` returns, by a plain C iteration instead of
    lxml's ElementPath.  The ACS makes some 40 such lookups per response;
    in the interleaved bench, where pysaml2's runs leave every cache cold,
    this lowered (b)/(c) by about 0.035 (paired runs, BENCHMARKS.md).
    """
    return list(parent.iterchildren(tag))


def children_at(parent: etree._Element, *tags: str) -> list[etree._Element]:
    """The elements a path of child steps reaches: ``children_at(p, a, b)`` is ``p.findall(a + "/" + b)``."""
    level = [parent]
    for tag in tags:
        level = [found for element in level for found in element.iterchildren(tag)]
    return level


def child(parent: etree._Element, tag: str) -> etree._Element | None:
    """The first direct child of ``parent`` named ``tag``, or None: ``parent.find(tag)``, see :func:`children`."""
    return next(parent.iterchildren(tag), None)


def strict_text(el: etree._Element) -> str:
    """The element's whole text; reject child nodes (a comment or element inside a value).

    Reading only ``.text`` of ``1970<!---->01011234`` would give a truncated
    value (CVE-2017-11427), so any child, comment included, is refused.
    """
    if len(el):
        raise _fail(ErrorCode.ATTRIBUTE_VALUE_MALFORMED, f"{etree.QName(el).localname} has child nodes")
    return el.text or ""


# ---------------------------------------------------------------- keys


def _bare_public_key(cert: x509.Certificate) -> XmlsecKey:
    # The certificate is only a key container (DP 2.1.1.2): xmlsec gets the
    # bare public key.  Each signature check copies the context's key, and a
    # key without X.509 data copies in ~1 us instead of ~40 us.
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return xmlsec.Key.from_memory(spki, xmlsec.KeyFormat.DER, None)


@dataclass(frozen=True)
class PublicKey:
    """A verification key from metadata: the xmlsec key and its certificate, loaded once.

    ``key`` holds only the public key (no certificate data); ``der`` is the
    certificate, for metadata, fingerprints and encryption templates.
    """

    key: XmlsecKey
    der: bytes
    cert: x509.Certificate

    @classmethod
    def from_pem(cls, pem: bytes) -> PublicKey:
        """Load a PEM certificate; any unreadable certificate is a ValueError."""
        try:
            cert = x509.load_pem_x509_certificate(pem)
        except Exception as exc:  # noqa: BLE001 - cryptography raises several types (e.g. InvalidVersion)
            raise ValueError(f"unreadable certificate: {exc}") from None
        der = cert.public_bytes(serialization.Encoding.DER)
        return cls(_bare_public_key(cert), der, cert)

    @classmethod
    def from_base64_der(cls, text: str) -> PublicKey:
        """Load a base64 DER certificate (metadata); any unreadable certificate is a ValueError.

        cryptography raises ``InvalidVersion`` (not a ValueError) for a bad
        version field, which the metadata fuzzer found escaping as a 500.
        """
        try:
            der = base64.b64decode("".join(text.split()))
            cert = x509.load_der_x509_certificate(der)
            public_key = _bare_public_key(cert)
        except Exception as exc:  # noqa: BLE001 - see above
            raise ValueError(f"unreadable certificate: {exc}") from None
        return cls(public_key, der, cert)

    @property
    def base64(self) -> str:
        return base64.b64encode(self.der).decode()

    @property
    def sha256_fingerprint(self) -> str:
        return hashlib.sha256(self.der).hexdigest()


@dataclass(frozen=True)
class PrivateKey:
    """A private key (signing or decryption), loaded once, with its PEM for cryptography use."""

    key: XmlsecKey
    pem: bytes
    path: str = ""

    @classmethod
    def from_file(cls, path: str) -> PrivateKey:
        with open(path, "rb") as fh:
            pem = fh.read()
        return cls(xmlsec.Key.from_memory(pem, xmlsec.KeyFormat.PEM, None), pem, path)

    def public_numbers(self):
        return serialization.load_pem_private_key(self.pem, None).public_key().public_numbers()


# ---------------------------------------------------------------- signatures


def _one(parent: etree._Element, tag: str, what: str) -> etree._Element:
    found = children(parent, tag)
    if len(found) != 1:
        raise _fail(ErrorCode.SIGNATURE_PROFILE_VIOLATION, f"expected exactly one {what}, found {len(found)}")
    return found[0]


def signature_of(element: etree._Element) -> etree._Element | None:
    """The enveloped ``ds:Signature`` child of ``element``; more than one is a profile violation."""
    sigs = children(element, DS + "Signature")
    if len(sigs) > 1:
        raise _fail(ErrorCode.SIGNATURE_PROFILE_VIOLATION, "more than one Signature")
    return sigs[0] if sigs else None


def check_signature_profile(element: etree._Element, signature: etree._Element) -> str:
    """Check the signature profile; return the signature algorithm URI.

    Exactly one Reference whose URI is ``#`` + the element's own ID; only the
    enveloped and exc-c14n transforms; exc-c14n canonicalisation; allowed
    signature and digest algorithms; no ``ds:Object``; no ``KeyValue`` or
    retrieval in KeyInfo.  A certificate in KeyInfo is ignored, never used
    (keys come only from metadata).  Does **not** verify the cryptography.
    """
    element_id = element.get("ID")
    if not element_id:
        raise _fail(ErrorCode.SIGNATURE_PROFILE_VIOLATION, "signed element has no ID")
    signed_info = _one(signature, DS + "SignedInfo", "SignedInfo")
    if child(signature, DS + "Object") is not None:
        raise _fail(ErrorCode.SIGNATURE_PROFILE_VIOLATION, "ds:Object is not allowed")
    c14n = _one(signed_info, DS + "CanonicalizationMethod", "CanonicalizationMethod").get("Algorithm")
    if c14n != EXC_C14N:
        raise _fail(ErrorCode.SIGNATURE_PROFILE_VIOLATION, f"canonicalisation {c14n!r} not allowed")
    sig_alg = _one(signed_info, DS + "SignatureMethod", "SignatureMethod").get("Algorithm")
    if sig_alg not in SIGNATURE_ALGORITHMS:
        raise _fail(ErrorCode.SIGNATURE_ALGORITHM_FORBIDDEN, f"signature algorithm {sig_alg!r}")
    reference = _one(signed_info, DS + "Reference", "Reference")
    if reference.get("URI") != "#" + element_id:
        raise _fail(
            ErrorCode.SIGNATURE_PROFILE_VIOLATION,
            f"Reference URI {reference.get('URI')!r} is not the signed element's ID",
        )
    for transform in children_at(reference, DS + "Transforms", DS + "Transform"):
        if transform.get("Algorithm") not in ALLOWED_TRANSFORMS:
            raise _fail(ErrorCode.SIGNATURE_PROFILE_VIOLATION, f"transform {transform.get('Algorithm')!r}")
    digest_alg = _one(reference, DS + "DigestMethod", "DigestMethod").get("Algorithm")
    if digest_alg not in DIGEST_ALGORITHMS:
        raise _fail(ErrorCode.SIGNATURE_ALGORITHM_FORBIDDEN, f"digest algorithm {digest_alg!r}")
    digest_value = "".join((_one(reference, DS + "DigestValue", "DigestValue").text or "").split())
    if digest_value == EMPTY_SHA256_B64:
        raise _fail(ErrorCode.SIGNATURE_PROFILE_VIOLATION, "digest of an empty node set")
    key_info = child(signature, DS + "KeyInfo")
    if key_info is not None:
        for item in key_info:
            if not isinstance(item.tag, str):
                continue
            if item.tag not in (DS + "X509Data", DS + "KeyName"):
                raise _fail(
                    ErrorCode.SIGNATURE_KEYINFO_FORBIDDEN, f"KeyInfo child {etree.QName(item).localname} is not allowed"
                )
    return sig_alg


# At most this many prefixes in an InclusiveNamespaces PrefixList: each one
# is a namespace that canonicalisation must render and sort on the apex
# element, and SignedInfo is canonicalised before any key has verified it.
MAX_INCLUSIVE_PREFIXES = 16
_EC = f"{{{EXC_C14N}}}"  # the InclusiveNamespaces element's namespace is the algorithm URI
_HASHES = {
    SHA256: hashlib.sha256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": hashlib.sha384,
    "http://www.w3.org/2001/04/xmlenc#sha512": hashlib.sha512,
}


@dataclass(frozen=True)
class SignatureParts:
    """An enveloped signature whose every element was checked: what verifying it needs.

    Made by :func:`signature_parts`; the elements are the message's own (the
    checks read nothing twice).
    """

    signature: etree._Element
    signed_info: etree._Element
    signature_value: bytes
    algorithm: str  # the SignatureMethod URI, one of SIGNATURE_ALGORITHMS
    info_prefixes: list[str] | None  # CanonicalizationMethod's InclusiveNamespaces PrefixList
    digest_algorithm: str  # one of DIGEST_ALGORITHMS
    digest_value: bytes
    digest_prefixes: list[str] | None  # the exc-c14n Transform's PrefixList


def _in_order(element: etree._Element, what: str, *names: str, optional: str | None = None) -> list[etree._Element]:
    """The element children of ``element``, which must be ``names`` in this order (then ``optional``).

    The XML Signature schema fixes the order; python-xmlsec refuses another.
    Reading by name alone would accept, say, SignatureValue before SignedInfo.
    A comment or processing instruction is a child too, so it is refused:
    what is read here is then exactly what the signed bytes say.
    """
    found = list(element)
    tags = [item.tag for item in found]
    expected = [DS + name for name in names]
    if tags != expected and (optional is None or tags != [*expected, DS + optional]):
        raise _fail(
            ErrorCode.SIGNATURE_PROFILE_VIOLATION,
            f"{what} must hold {', '.join(names)}{f' (and {optional})' if optional else ''} in this order",
        )
    return found[: len(names)]


def _inclusive_prefixes(method: etree._Element, what: str) -> list[str] | None:
    """The PrefixList of an exc-c14n method's InclusiveNamespaces child; nothing else may be there."""
    found = list(method)
    if not found:
        return None
    if len(found) != 1 or found[0].tag != _EC + "InclusiveNamespaces" or len(found[0]):
        raise _fail(ErrorCode.SIGNATURE_PROFILE_VIOLATION, f"{what} may only carry an empty InclusiveNamespaces")
    prefixes = found[0].get("PrefixList", "").split()
    if len(prefixes) > MAX_INCLUSIVE_PREFIXES:
        raise _fail(
            ErrorCode.SIGNATURE_PROFILE_VIOLATION,
            f"{what} lists {len(prefixes)} prefixes, at most {MAX_INCLUSIVE_PREFIXES}",
        )
    return prefixes


def _base64_of(element: etree._Element, what: str) -> bytes:
    try:
        return base64.b64decode("".join((element.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise _fail(ErrorCode.SIGNATURE_INVALID, f"{what} is not base64") from None


def signature_parts(element: etree._Element, signature: etree._Element) -> SignatureParts:
    """Check every element of the enveloped ``signature`` of ``element``; return what verifying it needs.

    First :func:`check_signature_profile` (with its specific codes), then the
    exact shape this SP verifies, beyond the profile: Signature, SignedInfo,
    Reference and Transforms hold exactly the allowed elements in the XML
    Signature schema's order, with no comment or processing instruction
    among them; the Transforms are exactly enveloped-signature then
    exc-c14n; an InclusiveNamespaces PrefixList has at most
    :data:`MAX_INCLUSIVE_PREFIXES` prefixes; the Signature subtree declares
    no relative namespace.  Does **not** verify anything cryptographically.
    """
    algorithm = check_signature_profile(element, signature)
    check_namespaces(signature)
    signed_info, signature_value = _in_order(signature, "Signature", "SignedInfo", "SignatureValue", optional="KeyInfo")
    c14n_method, signature_method, reference = _in_order(
        signed_info, "SignedInfo", "CanonicalizationMethod", "SignatureMethod", "Reference"
    )
    transforms, digest_method, digest_value = _in_order(
        reference, "Reference", "Transforms", "DigestMethod", "DigestValue"
    )
    enveloped, exclusive = _in_order(transforms, "Transforms", "Transform", "Transform")
    if (enveloped.get("Algorithm"), exclusive.get("Algorithm")) != (ENVELOPED, EXC_C14N):
        raise _fail(ErrorCode.SIGNATURE_PROFILE_VIOLATION, "the Transforms must be enveloped-signature, then exc-c14n")
    for leaf in (enveloped, signature_method, digest_method, digest_value, signature_value):
        if len(leaf):
            raise _fail(
                ErrorCode.SIGNATURE_PROFILE_VIOLATION, f"{etree.QName(leaf).localname} may not have child elements"
            )
    return SignatureParts(
        signature=signature,
        signed_info=signed_info,
        signature_value=_base64_of(signature_value, "SignatureValue"),
        algorithm=algorithm,
        info_prefixes=_inclusive_prefixes(c14n_method, "CanonicalizationMethod"),
        digest_algorithm=digest_method.get("Algorithm"),
        digest_value=_base64_of(digest_value, "DigestValue"),
        digest_prefixes=_inclusive_prefixes(exclusive, "the exc-c14n Transform"),
    )


def _canonical(element: etree._Element, prefixes: list[str] | None) -> bytes:
    try:
        return etree.tostring(
            element, method="c14n", exclusive=True, with_comments=False, inclusive_ns_prefixes=prefixes
        )
    except etree.C14NError:
        # libxml2 refuses a relative namespace URI anywhere in the subtree
        raise _fail(ErrorCode.SIGNATURE_INVALID, "the signed element cannot be canonicalised") from None


def verify_signed_info(parts: SignatureParts, keys: Sequence[PublicKey]) -> PublicKey:
    """The key of ``keys`` whose signature SignedInfo carries; else SIGNATURE_INVALID.

    SignedInfo is a few hundred bytes whatever the message, so this costs one
    small canonicalisation and one public-key operation per key: the bounded
    work an unauthenticated message can cause.  Does **not** check the
    Reference's digest (:func:`verify_digest` does, and only after this).
    """
    signed = _canonical(parts.signed_info, parts.info_prefixes)
    for key in keys:
        if verify_bytes(signed, parts.signature_value, (key,), parts.algorithm):
            return key
    raise _fail(ErrorCode.SIGNATURE_INVALID, "signature does not verify with any metadata key")


class _HashWriter:
    """The file lxml's ``write_c14n`` writes to: each chunk goes into the hash."""

    __slots__ = ("write",)

    def __init__(self, hasher) -> None:
        self.write = hasher.update


def _processing_instruction_beside(root: etree._Element) -> bool:
    siblings = itertools.chain(root.itersiblings(preceding=True), root.itersiblings())
    return any(node.tag is etree.ProcessingInstruction for node in siblings)


def _digest(element: etree._Element, hasher, prefixes: list[str] | None) -> None:
    """Feed ``element``'s exclusive canonical form into ``hasher``.

    The document root is streamed into the hash (no canonical copy of a
    20 MB aggregate); ``write_c14n`` would take a processing instruction
    beside the root along, which the Reference (the root element alone)
    leaves out, so that case is canonicalised as an element.  An element
    below the root is canonicalised with the namespaces it inherits in
    scope, as exclusive canonicalisation of a document subset requires.
    """
    if element.getparent() is None and not _processing_instruction_beside(element):
        try:
            etree.ElementTree(element).write_c14n(
                _HashWriter(hasher), exclusive=True, with_comments=False, inclusive_ns_prefixes=prefixes
            )
        except etree.C14NError:
            raise _fail(ErrorCode.SIGNATURE_INVALID, "the signed element cannot be canonicalised") from None
        return
    hasher.update(_canonical(element, prefixes))


def verify_digest(element: etree._Element, parts: SignatureParts) -> None:
    """Compare the digest of ``element`` without its Signature with ``DigestValue``; else SIGNATURE_INVALID.

    That is what the enveloped-signature then exc-c14n transforms of a
    Reference to the element's own ID produce; nothing is looked up by ID,
    so no other element (a wrapped copy) can take the signature.  The
    Signature is detached while the digest is made and put back, with its
    tail text, before returning, whatever happens: no other thread may read
    the tree meanwhile.  Call only after :func:`verify_signed_info`, so that
    the digest of a big element is made only for a signer we trust.
    """
    signature = parts.signature
    index = element.index(signature)
    tail = signature.tail
    previous = signature.getprevious()
    before = previous.tail if previous is not None else element.text
    # lxml's remove() takes the tail text along, but that text is outside the
    # Signature (the enveloped transform keeps it): it goes to the previous node
    signature.tail = None
    element.remove(signature)
    if tail:
        if previous is not None:
            previous.tail = (before or "") + tail
        else:
            element.text = (before or "") + tail
    try:
        hasher = _HASHES[parts.digest_algorithm]()
        _digest(element, hasher, parts.digest_prefixes)
        actual = hasher.digest()
    finally:
        if previous is not None:
            previous.tail = before
        else:
            element.text = before
        element.insert(index, signature)
        signature.tail = tail
    if not hmac.compare_digest(actual, parts.digest_value):
        raise _fail(ErrorCode.SIGNATURE_INVALID, "the signed element's digest does not match DigestValue")


def verify_enveloped(
    element: etree._Element, keys: Sequence[PublicKey], crypto: XmlCrypto | None = None, *, schema: bool = False
) -> None:
    """Verify the enveloped signature of ``element`` with one of ``keys``.

    The signature must be a direct child and pass :func:`signature_parts`.
    The order bounds what a forged message can cost: the signature value over
    SignedInfo is checked first, with each key (IdP rollover), and only a
    key that verifies it leads to the digest of the whole element, made by
    ``crypto`` (default: in process, :func:`verify_digest`).  Keys carried
    in the message are never used.  With ``schema`` the element is validated
    (:func:`check_schema`) after the profile check and before the
    cryptography.  Does **not** decide *whether* the element must be signed:
    callers do (:func:`signature_of`).
    """
    signature = signature_of(element)
    if signature is None:
        raise _fail(ErrorCode.RESPONSE_NOT_SIGNED, f"{etree.QName(element).localname} is not signed")
    parts = signature_parts(element, signature)
    if schema:
        check_schema(element)
    if not keys:
        raise _fail(ErrorCode.NO_TRUSTED_KEY, "the issuer has no signing key in metadata")
    key = verify_signed_info(parts, keys)
    (crypto or IN_PROCESS).verify(element, parts, key)


def sign_enveloped(
    element: etree._Element,
    key: PrivateKey,
    cert: PublicKey | None = None,
    *,
    algorithm: str = RSA_SHA256,
    digest: str = SHA256,
) -> etree._Element:
    """Add and compute an enveloped signature as the element's first child after Issuer.

    SAML's schema puts ``ds:Signature`` right after ``saml:Issuer``.
    """
    sig_transform = SIGNATURE_ALGORITHMS[algorithm]
    digest_transform = _DIGEST_TRANSFORMS[digest]
    signature = xmlsec.template.create(element, xmlsec.Transform.EXCL_C14N, sig_transform, ns="ds")
    issuer = element.find("saml:Issuer", NS)
    if issuer is not None:
        issuer.addnext(signature)
    else:
        element.insert(0, signature)
    ref = xmlsec.template.add_reference(signature, digest_transform, uri="#" + element.get("ID"))
    xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
    if cert is not None:
        key_info = xmlsec.template.ensure_key_info(signature)
        x509_data = xmlsec.template.add_x509_data(key_info)
        etree.SubElement(x509_data, DS + "X509Certificate").text = cert.base64
    xmlsec.tree.add_ids(element, ["ID"])
    ctx = xmlsec.SignatureContext()
    ctx.key = key.key
    ctx.sign(signature)
    return signature


def sign_bytes(data: bytes, key: PrivateKey, algorithm: str = RSA_SHA256) -> bytes:
    """Raw signature (HTTP-Redirect binding: the query string is signed)."""
    ctx = xmlsec.SignatureContext()
    ctx.key = key.key
    return ctx.sign_binary(data, SIGNATURE_ALGORITHMS[algorithm])


def verify_bytes(data: bytes, signature: bytes, keys: Iterable[PublicKey], algorithm: str) -> bool:
    """Verify a raw (HTTP-Redirect) signature against any of ``keys``."""
    transform = SIGNATURE_ALGORITHMS.get(algorithm)
    if transform is None:
        return False
    for public_key in keys:
        ctx = xmlsec.SignatureContext()
        ctx.key = public_key.key
        try:
            ctx.verify_binary(data, transform, signature)
            return True
        except xmlsec.Error:
            continue
    return False


# ---------------------------------------------------------------- encryption


def _check_encryption_method(el: etree._Element, allowed, what: str) -> str:
    method = child(el, XENC + "EncryptionMethod")
    algorithm = method.get("Algorithm") if method is not None else None
    if algorithm is None or algorithm not in allowed:
        raise _fail(ErrorCode.ENCRYPTION_ALGORITHM_FORBIDDEN, f"{what} algorithm {algorithm!r}")
    if algorithm == RSA_OAEP_MGF1P or what == "key transport":
        digest = child(method, DS + "DigestMethod")
        if digest is not None and digest.get("Algorithm") not in OAEP_DIGESTS:
            raise _fail(ErrorCode.ENCRYPTION_ALGORITHM_FORBIDDEN, f"OAEP digest {digest.get('Algorithm')!r}")
    return algorithm


_CONTAINER_CHILDREN = (XENC + "EncryptedData", XENC + "EncryptedKey")


def _check_cipher_data(el: etree._Element, what: str) -> None:
    # xmlsec follows an xenc:CipherReference (it opened a local file the
    # message named, in a test), so the cipher text must be carried inline:
    # one CipherData holding exactly one CipherValue and nothing else.
    cipher_data = children(el, XENC + "CipherData")
    if len(cipher_data) != 1 or len(cipher_data[0]) != 1 or cipher_data[0][0].tag != XENC + "CipherValue":
        raise _fail(
            ErrorCode.ENCRYPTION_PROFILE_VIOLATION, f"{what} must carry exactly one CipherValue, no CipherReference"
        )


def decrypt_element(
    container: etree._Element, keys: Sequence[PrivateKey], crypto: XmlCrypto | None = None
) -> etree._Element:
    """Decrypt the one ``xenc:EncryptedData`` in ``container`` in place; return the new element.

    ``container`` is an EncryptedAssertion (or similar).  The EncryptedKey may
    sit inside EncryptedData's KeyInfo or beside it.  Every private key (our
    rollover set) is tried on every EncryptedKey.  rsa-1_5 key transport,
    3DES/unknown data encryption, a child of ``container`` other than
    EncryptedData/EncryptedKey, and cipher text that is not an inline
    CipherValue (ENCRYPTION_PROFILE_VIOLATION) are refused *before* any
    decryption: this is the structural check of the wrapper, whose cipher
    text no schema check sees.  One error code for every decryption
    failure, so no padding oracle is exposed.
    ``crypto`` does the decryption after these checks (default: in process).
    The decrypted subtree (entities, namespaces), and every ID of the
    document, are then checked as :func:`parse_xml` checks a document; the
    rest of the document is **not** walked again: it must come from
    :func:`parse_xml`.
    """
    data_nodes = children(container, XENC + "EncryptedData")
    if len(data_nodes) != 1:
        raise _fail(ErrorCode.ENCRYPTION_PROFILE_VIOLATION, f"expected one EncryptedData, found {len(data_nodes)}")
    for item in container:
        if item.tag not in _CONTAINER_CHILDREN:
            raise _fail(
                ErrorCode.ENCRYPTION_PROFILE_VIOLATION, f"{etree.QName(container).localname} holds {item.tag!r}"
            )
    enc_data = data_nodes[0]
    data_alg = _check_encryption_method(enc_data, DATA_ENCRYPTION_ALGORITHMS, "data encryption")
    _check_cipher_data(enc_data, "EncryptedData")
    key_nodes = children_at(enc_data, DS + "KeyInfo", XENC + "EncryptedKey") + children(
        container, XENC + "EncryptedKey"
    )
    if not key_nodes:
        raise _fail(ErrorCode.DECRYPTION_FAILED, "no EncryptedKey")
    for key_node in key_nodes:
        _check_encryption_method(key_node, KEY_TRANSPORT_ALGORITHMS, "key transport")
        _check_cipher_data(key_node, "EncryptedKey")
    result = (crypto or IN_PROCESS).decrypt(
        container, enc_data, key_nodes, DATA_ENCRYPTION_ALGORITHMS[data_alg][1], keys
    )
    # As parse_xml checks a document, without walking again what it
    # checked: the new subtree's nodes, and every ID in the document.
    _check_nodes(result)
    _check_ids(container.getroottree().getroot())
    return result


def encrypt_element(
    element: etree._Element,
    recipient: PublicKey,
    *,
    data_encryption: str = "aes256-gcm",
    oaep_digest: str | None = SHA256,
) -> etree._Element:
    """Replace ``element`` by an ``xenc:EncryptedData`` (RSA-OAEP key transport, AES data).

    The element is serialised on its own first, so that it carries every
    namespace it uses and decrypts to the same exclusive canonical form: a
    signature made before encryption stays valid (see pysaml2-notes).
    The EncryptedKey is put inside EncryptedData's KeyInfo.
    """
    parent = element.getparent()
    standalone = etree.tostring(element)
    enc_data = xmlsec.template.encrypted_data_create(
        parent, _ENCRYPTION_TRANSFORMS[data_encryption], type=xmlsec.EncryptionType.ELEMENT, ns="xenc"
    )
    xmlsec.template.encrypted_data_ensure_cipher_value(enc_data)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(enc_data, ns="ds")
    enc_key = xmlsec.template.add_encrypted_key(key_info, xmlsec.Transform.RSA_OAEP)
    xmlsec.template.encrypted_data_ensure_cipher_value(enc_key)
    if oaep_digest:
        method = enc_key.find("xenc:EncryptionMethod", NS)
        etree.SubElement(method, DS + "DigestMethod", Algorithm=oaep_digest)
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_memory(recipient.der, xmlsec.KeyFormat.CERT_DER, None))
    ctx = xmlsec.EncryptionContext(manager)
    bits = int(data_encryption[3:6])
    ctx.key = xmlsec.Key.generate(xmlsec.constants.KeyDataAes, bits, xmlsec.constants.KeyDataTypeSession)
    encrypted = ctx.encrypt_binary(enc_data, standalone)
    parent.replace(element, encrypted)
    return encrypted


# ---------------------------------------------------------------- the cryptographic step


class XmlCrypto:
    """Who does the cryptography once our checks have passed: python-xmlsec, in process.

    :func:`verify_enveloped` and :func:`decrypt_element` make every check
    (profile, algorithms, counts, keys from metadata only, the signature
    value over SignedInfo) and then call :meth:`verify` or :meth:`decrypt`.  A subclass may hand these two steps
    to another engine (``ekn_saml.pysaml2_bridge.Xmlsec1Crypto`` runs
    pysaml2's xmlsec1 program, for comparison); it must not skip a check.
    This class keeps no per-message state and is shared by threads.
    """

    name = "xmlsec"

    def verify(self, element: etree._Element, parts: SignatureParts, key: PublicKey) -> None:
        """The rest of a signature check whose SignedInfo ``key`` has verified: the Reference's digest.

        Raises SIGNATURE_INVALID if the digest of ``element`` differs.  An
        engine that verifies whole signatures (the xmlsec1 program) checks
        the signature value again with ``key``, and nothing but ``key``.
        """
        verify_digest(element, parts)

    def decrypt(
        self,
        container: etree._Element,
        enc_data: etree._Element,
        key_nodes: Sequence[etree._Element],
        bits: int,
        keys: Sequence[PrivateKey],
    ) -> etree._Element:
        """Decrypt ``enc_data`` (algorithms already checked) in place; else DECRYPTION_FAILED.

        ``bits`` is the AES key size the data algorithm needs: a transported
        key of another size is refused.
        """
        session_key = None
        for key_node in key_nodes:
            for private_key in keys:
                ctx = xmlsec.EncryptionContext()
                ctx.key = private_key.key
                try:
                    candidate = ctx.decrypt(key_node)
                except xmlsec.Error:
                    continue
                if isinstance(candidate, bytes) and len(candidate) * 8 == bits:
                    session_key = candidate
                    break
            if session_key is not None:
                break
        if session_key is None:
            raise _fail(ErrorCode.DECRYPTION_FAILED, "no key of ours decrypts the EncryptedKey")
        ctx = xmlsec.EncryptionContext()
        # The session key is set, so EncryptedData's KeyInfo is not followed.
        ctx.key = xmlsec.Key.from_binary_data(xmlsec.constants.KeyDataAes, session_key)
        try:
            result = ctx.decrypt(enc_data)
        except xmlsec.Error:
            raise _fail(ErrorCode.DECRYPTION_FAILED, "EncryptedData does not decrypt") from None
        if not isinstance(result, etree._Element):
            raise _fail(ErrorCode.DECRYPTION_FAILED, "EncryptedData is not an XML element")
        return result


IN_PROCESS = XmlCrypto()
