# SPDX-License-Identifier: Apache-2.0
"""Enveloped signatures: the strict profile, verification in a bounded order, and signing.

A signature is checked element by element before any cryptography
(:func:`signature_parts`); SignedInfo is verified with each trusted key
(:func:`verify_signed_info`); only then is the digest of the whole element
made (:mod:`~ekn_saml.xmlsecurity.digest`).  Keys carried in a message are
never used.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence

from lxml import etree

from ..errors import ErrorCode, ResponseValidationError
from ..xml_schema import check_schema
from .algorithms import (
    ALLOWED_TRANSFORMS,
    DIGEST_ALGORITHMS,
    DIGEST_TRANSFORMS,
    EMPTY_SHA256_B64,
    ENVELOPED,
    EXC_C14N,
    RSA_SHA256,
    SHA256,
    SIGNATURE_ALGORITHMS,
    xmlsec,
)
from .digest import SignatureParts, canonical_bytes
from .engine import IN_PROCESS, XmlCrypto
from .keys import PrivateKey, PublicKey
from .parse import DS, NS, check_namespaces, child, children, children_at


def _one(parent: etree._Element, tag: str, what: str) -> etree._Element:
    found = children(parent, tag)
    if len(found) != 1:
        raise ResponseValidationError(
            ErrorCode.SIGNATURE_PROFILE_VIOLATION, f"expected exactly one {what}, found {len(found)}"
        )
    return found[0]


def signature_of(element: etree._Element) -> etree._Element | None:
    """The enveloped ``ds:Signature`` child of ``element``; more than one is a profile violation."""
    sigs = children(element, DS + "Signature")
    if len(sigs) > 1:
        raise ResponseValidationError(ErrorCode.SIGNATURE_PROFILE_VIOLATION, "more than one Signature")
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
        raise ResponseValidationError(ErrorCode.SIGNATURE_PROFILE_VIOLATION, "signed element has no ID")
    signed_info = _one(signature, DS + "SignedInfo", "SignedInfo")
    if child(signature, DS + "Object") is not None:
        raise ResponseValidationError(ErrorCode.SIGNATURE_PROFILE_VIOLATION, "ds:Object is not allowed")
    c14n = _one(signed_info, DS + "CanonicalizationMethod", "CanonicalizationMethod").get("Algorithm")
    if c14n != EXC_C14N:
        raise ResponseValidationError(ErrorCode.SIGNATURE_PROFILE_VIOLATION, f"canonicalisation {c14n!r} not allowed")
    sig_alg = _one(signed_info, DS + "SignatureMethod", "SignatureMethod").get("Algorithm")
    if sig_alg not in SIGNATURE_ALGORITHMS:
        raise ResponseValidationError(ErrorCode.SIGNATURE_ALGORITHM_FORBIDDEN, f"signature algorithm {sig_alg!r}")
    reference = _one(signed_info, DS + "Reference", "Reference")
    if reference.get("URI") != "#" + element_id:
        raise ResponseValidationError(
            ErrorCode.SIGNATURE_PROFILE_VIOLATION,
            f"Reference URI {reference.get('URI')!r} is not the signed element's ID",
        )
    for transform in children_at(reference, DS + "Transforms", DS + "Transform"):
        if transform.get("Algorithm") not in ALLOWED_TRANSFORMS:
            raise ResponseValidationError(
                ErrorCode.SIGNATURE_PROFILE_VIOLATION, f"transform {transform.get('Algorithm')!r}"
            )
    digest_alg = _one(reference, DS + "DigestMethod", "DigestMethod").get("Algorithm")
    if digest_alg not in DIGEST_ALGORITHMS:
        raise ResponseValidationError(ErrorCode.SIGNATURE_ALGORITHM_FORBIDDEN, f"digest algorithm {digest_alg!r}")
    digest_value = "".join((_one(reference, DS + "DigestValue", "DigestValue").text or "").split())
    if digest_value == EMPTY_SHA256_B64:
        raise ResponseValidationError(ErrorCode.SIGNATURE_PROFILE_VIOLATION, "digest of an empty node set")
    key_info = child(signature, DS + "KeyInfo")
    if key_info is not None:
        for item in key_info:
            if not isinstance(item.tag, str):
                continue
            if item.tag not in (DS + "X509Data", DS + "KeyName"):
                raise ResponseValidationError(
                    ErrorCode.SIGNATURE_KEYINFO_FORBIDDEN, f"KeyInfo child {etree.QName(item).localname} is not allowed"
                )
    return sig_alg


# At most this many prefixes in an InclusiveNamespaces PrefixList: each one
# is a namespace that canonicalisation must render and sort on the apex
# element, and SignedInfo is canonicalised before any key has verified it.
MAX_INCLUSIVE_PREFIXES = 16
_EC = f"{{{EXC_C14N}}}"  # the InclusiveNamespaces element's namespace is the algorithm URI


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
        raise ResponseValidationError(
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
        raise ResponseValidationError(
            ErrorCode.SIGNATURE_PROFILE_VIOLATION, f"{what} may only carry an empty InclusiveNamespaces"
        )
    prefixes = found[0].get("PrefixList", "").split()
    if len(prefixes) > MAX_INCLUSIVE_PREFIXES:
        raise ResponseValidationError(
            ErrorCode.SIGNATURE_PROFILE_VIOLATION,
            f"{what} lists {len(prefixes)} prefixes, at most {MAX_INCLUSIVE_PREFIXES}",
        )
    return prefixes


def _base64_of(element: etree._Element, what: str) -> bytes:
    try:
        return base64.b64decode("".join((element.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise ResponseValidationError(ErrorCode.SIGNATURE_INVALID, f"{what} is not base64") from None


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
        raise ResponseValidationError(
            ErrorCode.SIGNATURE_PROFILE_VIOLATION, "the Transforms must be enveloped-signature, then exc-c14n"
        )
    for leaf in (enveloped, signature_method, digest_method, digest_value, signature_value):
        if len(leaf):
            raise ResponseValidationError(
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


def verify_signed_info(parts: SignatureParts, keys: Sequence[PublicKey]) -> PublicKey:
    """The key of ``keys`` whose signature SignedInfo carries; else SIGNATURE_INVALID.

    SignedInfo is a few hundred bytes whatever the message, so this costs one
    small canonicalisation and one public-key operation per key: the bounded
    work an unauthenticated message can cause.  Does **not** check the
    Reference's digest (:func:`~ekn_saml.xmlsecurity.digest.verify_digest` does, and only after this).
    """
    signed = canonical_bytes(parts.signed_info, parts.info_prefixes)
    for key in keys:
        if verify_bytes(signed, parts.signature_value, (key,), parts.algorithm):
            return key
    raise ResponseValidationError(ErrorCode.SIGNATURE_INVALID, "signature does not verify with any metadata key")


def verify_enveloped(
    element: etree._Element, keys: Sequence[PublicKey], crypto: XmlCrypto | None = None, *, schema: bool = False
) -> None:
    """Verify the enveloped signature of ``element`` with one of ``keys``.

    The signature must be a direct child and pass :func:`signature_parts`.
    The order bounds what a forged message can cost: the signature value over
    SignedInfo is checked first, with each key (IdP rollover), and only a
    key that verifies it leads to the digest of the whole element, made by
    ``crypto`` (default: in process, :func:`~ekn_saml.xmlsecurity.digest.verify_digest`).  Keys carried
    in the message are never used.  With ``schema`` the element is validated
    (:func:`~ekn_saml.xml_schema.check_schema`) after the profile check and before the
    cryptography.  Does **not** decide *whether* the element must be signed:
    callers do (:func:`signature_of`).
    """
    signature = signature_of(element)
    if signature is None:
        raise ResponseValidationError(ErrorCode.RESPONSE_NOT_SIGNED, f"{etree.QName(element).localname} is not signed")
    parts = signature_parts(element, signature)
    if schema:
        check_schema(element)
    if not keys:
        raise ResponseValidationError(ErrorCode.NO_TRUSTED_KEY, "the issuer has no signing key in metadata")
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
    digest_transform = DIGEST_TRANSFORMS[digest]
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
