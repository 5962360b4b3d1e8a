# SPDX-License-Identifier: Apache-2.0
"""Decoding a SAML message sent with the HTTP-Redirect binding (SAML Bindings §3.4.4.1).

A Redirect-bound message is ``base64(raw DEFLATE(xml))`` in a query
parameter (``SAMLRequest`` or ``SAMLResponse``).  The SP sends its
AuthnRequests this way but does not receive anything this way yet; this
module is the one decoder any endpoint that does (a SingleLogoutService,
for instance) must use, so that the three classic mistakes are made nowhere:

* inflating before checking the size: the encoded value is capped first;
* inflating without a cap: DEFLATE reaches ratios of about 1000:1, so a
  16 KiB query value can become 16 MiB (a *deflate bomb*); output is capped
  while inflating, and never more than ``max_inflated + 1`` bytes are made;
* lenient base64 or DEFLATE: whitespace, the URL-safe alphabet, bad padding,
  a zlib or gzip header, a truncated stream and trailing bytes after the
  stream are all refused, so two parsers cannot read one value differently.

Every failure is a :class:`~ekn_saml.errors.ResponseValidationError` with a
specific code from the input group (EKN-IN-*).

It does **not** check the query-string signature (that is made over the raw
query string as received, see ``ekn_saml.devidp.views._redirect_request``)
and does **not** check SAML semantics; :func:`parse_redirect_message` only
adds the one safe XML parse (:func:`ekn_saml.xmlsecurity.parse_xml`).
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib

from lxml import etree

from .errors import ErrorCode, ResponseValidationError
from .xml_limits import MESSAGE_LIMITS, XmlLimits
from .xmlsecurity import parse_xml

# A browser sends a Redirect-bound message in a URL; URLs much longer than
# 8 KiB are cut by servers and proxies, so 16 KiB of base64 is generous.
MAX_ENCODED_CHARS = 16 * 1024
# A LogoutRequest or LogoutResponse inflates to a few KiB.
MAX_INFLATED_BYTES = 64 * 1024

# Standard alphabet, padding only at the end, length a multiple of four.
_STRICT_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def _reject(code: ErrorCode, detail: str) -> ResponseValidationError:
    return ResponseValidationError(code, detail)


def inflate_message(
    value: str | None, *, max_encoded: int = MAX_ENCODED_CHARS, max_inflated: int = MAX_INFLATED_BYTES
) -> bytes:
    """The XML bytes of a Redirect-bound message value (already URL-decoded).

    Checks, in this order: present (RESPONSE_MISSING); at most
    ``max_encoded`` characters (RESPONSE_TOO_LARGE); strict base64
    (RESPONSE_NOT_BASE64); one complete raw DEFLATE stream with nothing after
    it (DEFLATE_INVALID); at most ``max_inflated`` bytes once inflated
    (INFLATED_TOO_LARGE).  Memory use is bounded by the two caps whatever
    the input.
    """
    if not value:
        raise _reject(ErrorCode.RESPONSE_MISSING, "no SAML message in the query string")
    if len(value) > max_encoded:
        raise _reject(ErrorCode.RESPONSE_TOO_LARGE, f"message has {len(value)} characters, cap {max_encoded}")
    # The regular expression runs on at most max_encoded characters; it is
    # linear (no nested quantifiers on overlapping classes).
    if not value.isascii() or not _STRICT_BASE64.fullmatch(value):
        raise _reject(ErrorCode.RESPONSE_NOT_BASE64, "message is not strict base64")
    try:
        deflated = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):  # pragma: no cover - the pattern above already refused it
        raise _reject(ErrorCode.RESPONSE_NOT_BASE64, "message is not strict base64") from None
    inflater = zlib.decompressobj(wbits=-zlib.MAX_WBITS)  # raw DEFLATE: no zlib or gzip header
    try:
        # max_length bounds the output of this one call; input that would
        # inflate further stays in unconsumed_tail and is never expanded.
        xml = inflater.decompress(deflated, max_inflated + 1)
    except zlib.error as exc:
        raise _reject(ErrorCode.DEFLATE_INVALID, f"not raw DEFLATE data: {exc}") from None
    if len(xml) > max_inflated or inflater.unconsumed_tail:
        raise _reject(ErrorCode.INFLATED_TOO_LARGE, f"message inflates past {max_inflated} bytes")
    if not inflater.eof:
        raise _reject(ErrorCode.DEFLATE_INVALID, "DEFLATE stream is truncated")
    if inflater.unused_data:
        raise _reject(ErrorCode.DEFLATE_INVALID, f"{len(inflater.unused_data)} bytes after the DEFLATE stream")
    return xml


def parse_redirect_message(
    value: str | None,
    *,
    max_encoded: int = MAX_ENCODED_CHARS,
    max_inflated: int = MAX_INFLATED_BYTES,
    limits: XmlLimits = MESSAGE_LIMITS,
) -> etree._Element:
    """:func:`inflate_message` then the one safe XML parse, under ``limits``; the root element.

    Does **not** check which element the root is, nor any signature.
    """
    return parse_xml(inflate_message(value, max_encoded=max_encoded, max_inflated=max_inflated), limits=limits)


def encode_message(xml: bytes) -> str:
    """``base64(raw DEFLATE(xml))``: the inverse of :func:`inflate_message` (for senders and tests)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return base64.b64encode(compressor.compress(xml) + compressor.flush()).decode("ascii")
