# SPDX-License-Identifier: Apache-2.0
"""The signature over a whole federation aggregate, checked without resolving any ID.

Why not python-xmlsec's ``SignatureContext.verify``, as for a SAML Response:
its reference processing canonicalises through a node-set filter, which on a
24 MB aggregate costs 0.23 s of a 0.42 s load, 2.5 times what libxml2's own
exclusive canonicalisation of the same tree costs.  Federation metadata has
one shape of signature (SAML metadata interoperability profile, Swedish eID
DP §8): an enveloped exc-c14n signature, a direct child of the root, whose
one Reference is the root's own ID.  For that shape the reference is simply
the root, and the digest input is the root canonicalised without its
Signature element.  So this module

1. checks the signature profile of :mod:`ekn_saml.xmlsecurity` (algorithms,
   one Reference to the root's ID, KeyInfo never used) and, beyond it, that
   Signature, SignedInfo, Reference and Transforms hold exactly the
   elements this profile allows, in the XML Signature schema's order,
   with no comment or processing instruction among them, and that the
   Transforms are enveloped-signature then exc-c14n (so what is read here
   is what the signed bytes say);
2. canonicalises ``SignedInfo`` (exc-c14n, libxml2 through lxml) and checks
   the signature value against the pinned keys with python-xmlsec
   (OpenSSL): a wrong signer costs no digest of 24 MB;
3. canonicalises the root without the Signature element (exc-c14n, with the
   Transform's InclusiveNamespaces) into the digest, and compares it in
   constant time with ``DigestValue``.

Nothing is looked up by ID, so a wrapped copy of the root cannot take the
signature, whatever the IDs in the document.  libxml2's canonicalisation
refuses a relative namespace declaration on any element it walks (probed at
startup by :func:`ekn_saml.xmlsec_check.canonicalisation_problems`); the
Signature element, which it does not walk for the digest, is checked here.
tests/unit/metadata/test_root_signature.py checks each accepted shape, and
a real third-party signature, against python-xmlsec's full verification;
tests/fuzz/test_fuzz_root_signature.py does so for every accepted mutant.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
from typing import Sequence

from lxml import etree

from ..errors import ErrorCode, ResponseValidationError
from ..xmlsecurity import (
    DS,
    ENVELOPED,
    EXC_C14N,
    PublicKey,
    check_namespaces,
    check_signature_profile,
    signature_of,
    verify_bytes,
)

_EC = "{%s}" % EXC_C14N  # the InclusiveNamespaces element's namespace is the algorithm URI
_HASHES = {
    "http://www.w3.org/2001/04/xmlenc#sha256": hashlib.sha256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": hashlib.sha384,
    "http://www.w3.org/2001/04/xmlenc#sha512": hashlib.sha512,
}


def _fail(code: ErrorCode, detail: str) -> ResponseValidationError:
    return ResponseValidationError(code, detail)


def _children(element: etree._Element, what: str, *names: str, optional: str | None = None) -> list[etree._Element]:
    """The element children of ``element``, which must be ``names`` in this order (then ``optional``).

    The XML Signature schema fixes the order; python-xmlsec refuses another.
    Reading by name alone would accept, say, SignatureValue before SignedInfo.
    A comment or processing instruction is a child too, so it is refused:
    what is read here is then exactly what the signed bytes say.
    """
    children = list(element)
    tags = [child.tag for child in children]
    expected = [DS + name for name in names]
    if tags != expected and (optional is None or tags != expected + [DS + optional]):
        raise _fail(
            ErrorCode.SIGNATURE_PROFILE_VIOLATION,
            f"{what} must hold {', '.join(names)}{f' (and {optional})' if optional else ''} in this order",
        )
    return children[: len(names)]


def _inclusive_prefixes(method: etree._Element, what: str) -> list[str] | None:
    """The PrefixList of an exc-c14n method's InclusiveNamespaces child; nothing else may be there."""
    children = list(method)
    if not children:
        return None
    if len(children) != 1 or children[0].tag != _EC + "InclusiveNamespaces":
        raise _fail(ErrorCode.SIGNATURE_PROFILE_VIOLATION, f"{what} may only carry InclusiveNamespaces")
    return children[0].get("PrefixList", "").split()


def _base64(element: etree._Element, what: str) -> bytes:
    try:
        return base64.b64decode("".join((element.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise _fail(ErrorCode.SIGNATURE_INVALID, f"{what} is not base64") from None


def _canonical(element: etree._Element, prefixes: list[str] | None) -> bytes:
    try:
        return etree.tostring(element, method="c14n", exclusive=True, with_comments=False, inclusive_ns_prefixes=prefixes)
    except etree.C14NError:
        # libxml2 refuses a relative namespace URI anywhere in the subtree
        raise _fail(ErrorCode.SIGNATURE_INVALID, "the signed document cannot be canonicalised") from None


def _processing_instruction_beside(root: etree._Element) -> bool:
    siblings = itertools.chain(root.itersiblings(preceding=True), root.itersiblings())
    return any(node.tag is etree.ProcessingInstruction for node in siblings)


class _HashWriter:
    """The file lxml's ``write_c14n`` writes to: each chunk goes into the hash."""

    __slots__ = ("write",)

    def __init__(self, hasher) -> None:
        self.write = hasher.update


def _digest_without(root: etree._Element, signature: etree._Element, hash_factory, prefixes) -> bytes:
    """Digest of ``root``'s exc-c14n with ``signature`` left out; the tree is as before on return.

    lxml's ``remove`` takes an element's tail text with it, and that text is
    outside the Signature (the enveloped-signature transform keeps it), so it
    is moved to the previous node for the canonicalisation and moved back.
    """
    index = root.index(signature)
    tail = signature.tail
    previous = signature.getprevious()
    before = previous.tail if previous is not None else root.text
    signature.tail = None
    root.remove(signature)
    if tail:
        if previous is not None:
            previous.tail = (before or "") + tail
        else:
            root.text = (before or "") + tail
    try:
        hasher = hash_factory()
        if _processing_instruction_beside(root):
            # write_c14n would canonicalise the document, with that PI; the
            # Reference is the root element alone.
            hasher.update(_canonical(root, prefixes))
            return hasher.digest()
        try:  # streamed into the hash: no 20 MB canonical copy
            etree.ElementTree(root).write_c14n(
                _HashWriter(hasher), exclusive=True, with_comments=False, inclusive_ns_prefixes=prefixes
            )
        except etree.C14NError:
            raise _fail(ErrorCode.SIGNATURE_INVALID, "the signed document cannot be canonicalised") from None
        return hasher.digest()
    finally:
        if previous is not None:
            previous.tail = before
        else:
            root.text = before
        root.insert(index, signature)
        signature.tail = tail


def verify_root_signature(root: etree._Element, keys: Sequence[PublicKey]) -> None:
    """Verify the enveloped signature over ``root`` (the whole document) with one of ``keys``.

    Raises :class:`~ekn_saml.errors.ResponseValidationError`:
    RESPONSE_NOT_SIGNED without a Signature child; SIGNATURE_PROFILE_VIOLATION
    (or SIGNATURE_ALGORITHM_FORBIDDEN, SIGNATURE_KEYINFO_FORBIDDEN) for
    anything outside the profile in the module docstring; NO_TRUSTED_KEY
    with no keys; SIGNATURE_INVALID when no key verifies SignedInfo, or the
    digest of the root differs, or the document cannot be canonicalised.
    The certificate in KeyInfo is never used.

    Does **not** check certificate expiry (metadata certificates are key
    containers), the schema, or validity dates.  The Signature element is
    detached from ``root`` while the digest is computed and put back before
    returning, whatever happens: no other thread may read ``root`` meanwhile.
    """
    signature = signature_of(root)
    if signature is None:
        raise _fail(ErrorCode.RESPONSE_NOT_SIGNED, f"{etree.QName(root).localname} is not signed")
    algorithm = check_signature_profile(root, signature)
    check_namespaces(signature)  # the digest's canonicalisation does not walk it
    signed_info, signature_value = _children(signature, "Signature", "SignedInfo", "SignatureValue", optional="KeyInfo")
    c14n_method, signature_method, reference = _children(
        signed_info, "SignedInfo", "CanonicalizationMethod", "SignatureMethod", "Reference"
    )
    transforms, digest_method, digest_value = _children(reference, "Reference", "Transforms", "DigestMethod", "DigestValue")
    enveloped, exclusive = _children(transforms, "Transforms", "Transform", "Transform")
    if (enveloped.get("Algorithm"), exclusive.get("Algorithm")) != (ENVELOPED, EXC_C14N):
        raise _fail(ErrorCode.SIGNATURE_PROFILE_VIOLATION, "the Transforms must be enveloped-signature, then exc-c14n")
    for leaf in (enveloped, signature_method, digest_method, digest_value, signature_value):
        if len(leaf):
            raise _fail(ErrorCode.SIGNATURE_PROFILE_VIOLATION, f"{etree.QName(leaf).localname} may not have child elements")
    digest_prefixes = _inclusive_prefixes(exclusive, "the exc-c14n Transform")
    info_prefixes = _inclusive_prefixes(c14n_method, "CanonicalizationMethod")
    if not keys:
        raise _fail(ErrorCode.NO_TRUSTED_KEY, "no signing certificate is pinned for this document")

    # SignedInfo first: a document from another signer costs no digest of the whole tree.
    if not verify_bytes(_canonical(signed_info, info_prefixes), _base64(signature_value, "SignatureValue"), keys, algorithm):
        raise _fail(ErrorCode.SIGNATURE_INVALID, "signature does not verify with any pinned key")
    expected = _base64(digest_value, "DigestValue")
    actual = _digest_without(root, signature, _HASHES[digest_method.get("Algorithm")], digest_prefixes)
    if not hmac.compare_digest(actual, expected):
        raise _fail(ErrorCode.SIGNATURE_INVALID, "the document's digest does not match the signed one")
