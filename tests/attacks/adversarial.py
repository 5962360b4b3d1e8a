# SPDX-License-Identifier: Apache-2.0
"""Forged SAML Responses shaped to cost the SP as much as possible before anything verifies.

A security review found that one anonymous POST could hold a CPU for
seconds: a Response naming a trusted IdP, with a Signature of the right
shape but a made-up SignatureValue, and some 19,000 attributes on its root
(canonicalisation sorts attributes in quadratic time, and xmlsec digested the
whole Response before it looked at the SignatureValue).  These builders make
that message and its relatives, each as large as the SAMLResponse size cap
allows, from a really signed Response (or from its signed SignedInfo, for
the cases that keep a valid signature over another body):

* used by the attack corpus (tests/attacks/generate_corpus.py, the
  ``cost-*`` cases), which checks the code each one is refused with;
* used by ``make bench`` (bench/bench_forged.py), which times each one
  through the ACS beside valid responses (``acs_forged_worst_ratio``).

Every builder takes the parsed Response and returns the bytes to post.
"""

from __future__ import annotations

import base64
import copy
import secrets
from collections.abc import Callable

from lxml import etree

DS = "{http://www.w3.org/2000/09/xmldsig#}"
SAMLP = "{urn:oasis:names:tc:SAML:2.0:protocol}"
# base64 grows 3 bytes to 4 characters; keep a margin under the cap for the rest of the message
_MARGIN = 64


def _budget(max_response_chars: int, message: bytes) -> int:
    """How many more bytes of XML fit before the base64 form passes the SAMLResponse cap."""
    return max_response_chars * 3 // 4 - len(message) - _MARGIN


def forge_signature_value(root: etree._Element) -> None:
    """Replace the Response's SignatureValue by random bytes of the same length: no key made it."""
    value = root.find(DS + "Signature/" + DS + "SignatureValue")
    value.text = base64.b64encode(secrets.token_bytes(len(base64.b64decode(value.text)))).decode()


def _fill_start_tag(
    root: etree._Element, item: Callable[[int], bytes], max_response_chars: int, count: int | None = None
) -> bytes:
    """The message with ``count`` ``item(i)`` (as many as fit without ``count``) added to the root's start tag."""
    message = etree.tostring(root)
    budget = _budget(max_response_chars, message)
    items, used, i = [], 0, 0
    while count is None or i < count:
        piece = b" " + item(i)
        if used + len(piece) > budget:
            break
        items.append(piece)
        used += len(piece)
        i += 1
    end = message.index(b">")
    if message[end - 1 : end] == b"/":
        end -= 1
    return message[:end] + b"".join(items) + message[end:]


def sorted_attributes(root: etree._Element, max_response_chars: int, count: int | None = None) -> bytes:
    """The reported attack: a forged SignatureValue and the root full of attributes, in sorted order."""
    forge_signature_value(root)
    return _fill_start_tag(root, lambda i: b'a%06d=""' % i, max_response_chars, count)


def namespaced_attributes(root: etree._Element, max_response_chars: int) -> bytes:
    """As :func:`sorted_attributes` with namespaced attributes, which the schema allows on a Response."""
    forge_signature_value(root)
    message = _fill_start_tag(root, lambda i: b'x:a%06d=""' % i, max_response_chars - 40)
    end = message.index(b" ")
    return message[:end] + b' xmlns:x="urn:x"' + message[end:]


def namespace_declarations(root: etree._Element, max_response_chars: int, count: int | None = None) -> bytes:
    """A forged SignatureValue and the root full of namespace declarations."""
    forge_signature_value(root)
    return _fill_start_tag(root, lambda i: b'xmlns:p%06d="urn:p:%06d"' % (i, i), max_response_chars, count)


def _insert_before_end(root: etree._Element, content: bytes) -> bytes:
    message = etree.tostring(root)
    end = message.rindex(b"</")
    return message[:end] + content + message[end:]


def deep_nesting(root: etree._Element, max_response_chars: int, depth: int | None = None) -> bytes:
    """A forged SignatureValue and elements nested ``depth`` deep (as deep as fits without ``depth``)."""
    forge_signature_value(root)
    budget = _budget(max_response_chars, etree.tostring(root))
    depth = depth if depth is not None else budget // len(b"<a></a>")
    return _insert_before_end(root, b"<a>" * depth + b"</a>" * depth)


def many_signatures(root: etree._Element, max_response_chars: int, count: int | None = None) -> bytes:
    """The Response's Signature repeated ``count`` times beside itself (as often as fits without ``count``)."""
    signature = etree.tostring(copy.deepcopy(root.find(DS + "Signature")))
    budget = _budget(max_response_chars, etree.tostring(root))
    count = count if count is not None else budget // len(signature)
    return _insert_before_end(root, signature * count)


def grown_body(root: etree._Element, max_response_chars: int, nodes: int, *, forge: bool) -> bytes:
    """The Response with ``nodes`` elements (and text up to the size cap) added to its Status, once signed.

    With ``forge`` the SignatureValue is forged too.

    With ``forge=False`` the Signature stays as the IdP made it: SignedInfo
    verifies, and only the digest of the whole, grown, Response can tell.
    That is the most an attacker holding one signed Response of his own can
    make the SP do; ``nodes`` keeps it under the node cap so that it gets there.
    """
    if forge:
        forge_signature_value(root)
    status = root.find(SAMLP + "Status")
    detail = etree.SubElement(status, SAMLP + "StatusDetail")
    added = [etree.SubElement(detail, "x") for _ in range(nodes)]
    budget = _budget(max_response_chars, etree.tostring(root))
    if budget < 0:
        raise ValueError(f"{nodes} nodes do not fit under the SAMLResponse cap")
    # and text up to the cap: the digest's canonicalisation reads every byte
    for element in added:
        element.text = "t" * (budget // nodes - len(b"<x></x>") + len(b"<x/>"))
    return etree.tostring(root)
