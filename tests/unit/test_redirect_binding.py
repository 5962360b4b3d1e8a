# SPDX-License-Identifier: Apache-2.0
"""The HTTP-Redirect decoder: caps before and during inflation, strict base64 and DEFLATE."""

from __future__ import annotations

import base64
import zlib

import pytest

from ekn_saml.errors import ErrorCode, ResponseValidationError
from ekn_saml.redirect_binding import (
    MAX_ENCODED_CHARS,
    MAX_INFLATED_BYTES,
    encode_message,
    inflate_message,
    parse_redirect_message,
)

XML = b'<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1" Version="2.0"/>'


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def _code(value, **caps):
    with pytest.raises(ResponseValidationError) as caught:
        inflate_message(value, **caps)
    return caught.value.code


def test_a_message_round_trips():
    assert inflate_message(encode_message(XML)) == XML


def test_parse_gives_the_root_element():
    assert parse_redirect_message(encode_message(XML)).get("ID") == "_1"


@pytest.mark.parametrize("value", [None, ""])
def test_missing_message(value):
    assert _code(value) is ErrorCode.RESPONSE_MISSING


def test_the_encoded_cap_comes_before_decoding():
    assert _code("!" * (MAX_ENCODED_CHARS + 1)) is ErrorCode.RESPONSE_TOO_LARGE


@pytest.mark.parametrize(
    "value",
    [
        "not*base64",
        encode_message(XML)[:-1],  # bad padding
        encode_message(XML)[:8] + " " + encode_message(XML)[9:],  # a '+' read back as a space
        "QQ==QQ==",  # padding in the middle
        "ñÑ==",
        " " + encode_message(XML),
    ],
)
def test_only_strict_base64_is_accepted(value):
    assert _code(value) is ErrorCode.RESPONSE_NOT_BASE64


def test_url_safe_alphabet_is_refused():
    assert _code(base64.urlsafe_b64encode(b"\xfb\xff" + _raw_deflate(XML)).decode()) is ErrorCode.RESPONSE_NOT_BASE64


def test_a_deflate_bomb_stops_at_the_cap():
    bomb = encode_message(b"\0" * (20 * MAX_INFLATED_BYTES))
    assert len(bomb) < MAX_ENCODED_CHARS
    assert _code(bomb) is ErrorCode.INFLATED_TOO_LARGE


def test_exactly_the_cap_inflates():
    assert len(inflate_message(encode_message(b" " * 1000), max_inflated=1000)) == 1000


def test_one_byte_over_the_cap_is_refused():
    assert _code(encode_message(b" " * 1001), max_inflated=1000) is ErrorCode.INFLATED_TOO_LARGE


@pytest.mark.parametrize(
    "deflated",
    [
        XML,  # not compressed at all
        zlib.compress(XML),  # zlib header and checksum
        _raw_deflate(XML)[:-4],  # truncated
        _raw_deflate(XML) + b"<evil/>",  # bytes after the stream
    ],
    ids=["plain", "zlib-header", "truncated", "trailing-bytes"],
)
def test_only_one_complete_raw_deflate_stream_is_accepted(deflated):
    assert _code(base64.b64encode(deflated).decode()) is ErrorCode.DEFLATE_INVALID


def test_the_xml_goes_through_the_safe_parser():
    doctype = b'<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'
    with pytest.raises(ResponseValidationError) as caught:
        parse_redirect_message(encode_message(doctype))
    assert caught.value.code is ErrorCode.XML_DTD_FORBIDDEN
