# SPDX-License-Identifier: Apache-2.0
"""The Reference digest of an enveloped signature: the one step whose cost grows with the signed element.

:class:`SignatureParts` is what :func:`~ekn_saml.xmlsecurity.signatures.signature_parts`
takes out of a checked signature; :func:`verify_digest` compares the digest
of the element (without its Signature) with the one SignedInfo carries.
Only ever called after SignedInfo has verified with a trusted key.
"""

from __future__ import annotations

import hmac
import itertools
from dataclasses import dataclass

from lxml import etree

from ..errors import ErrorCode, ResponseValidationError
from .algorithms import DIGEST_HASHES


@dataclass(frozen=True)
class SignatureParts:
    """An enveloped signature whose every element was checked: what verifying it needs.

    Made by :func:`~ekn_saml.xmlsecurity.signatures.signature_parts`; the elements are the message's own (the
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


def canonical_bytes(element: etree._Element, prefixes: list[str] | None) -> bytes:
    """The exclusive canonical form of ``element`` (without comments); SIGNATURE_INVALID if it has none."""
    try:
        return etree.tostring(
            element, method="c14n", exclusive=True, with_comments=False, inclusive_ns_prefixes=prefixes
        )
    except etree.C14NError:
        # libxml2 refuses a relative namespace URI anywhere in the subtree
        raise ResponseValidationError(
            ErrorCode.SIGNATURE_INVALID, "the signed element cannot be canonicalised"
        ) from None


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
            raise ResponseValidationError(
                ErrorCode.SIGNATURE_INVALID, "the signed element cannot be canonicalised"
            ) from None
        return
    hasher.update(canonical_bytes(element, prefixes))


def verify_digest(element: etree._Element, parts: SignatureParts) -> None:
    """Compare the digest of ``element`` without its Signature with ``DigestValue``; else SIGNATURE_INVALID.

    That is what the enveloped-signature then exc-c14n transforms of a
    Reference to the element's own ID produce; nothing is looked up by ID,
    so no other element (a wrapped copy) can take the signature.  The
    Signature is detached while the digest is made and put back, with its
    tail text, before returning, whatever happens: no other thread may read
    the tree meanwhile.  Call only after
    :func:`~ekn_saml.xmlsecurity.signatures.verify_signed_info`, so that
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
        hasher = DIGEST_HASHES[parts.digest_algorithm]()
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
        raise ResponseValidationError(
            ErrorCode.SIGNATURE_INVALID, "the signed element's digest does not match DigestValue"
        )
