# SPDX-License-Identifier: Apache-2.0
"""Fuzzing the HTTP-Redirect decoder (ekn_saml.redirect_binding), seeded from the corpus.

Inputs: the corpus's Redirect-binding values, DEFLATE streams of corpus
messages and of bombs, each possibly mutated (byte edits on the DEFLATE
bytes, on the base64 text, or on the XML before compression), and random
text.  Every input must give either the XML (at most the cap, equal to what
zlib itself inflates: a differential check) or a ResponseValidationError
with an input-group code; nothing else may escape, whatever the input.
"""

from __future__ import annotations

import base64
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ekn_saml.errors import ResponseValidationError
from ekn_saml.redirect_binding import MAX_INFLATED_BYTES, encode_message, inflate_message, parse_redirect_message

from attacks import generate_corpus
from fuzzing import XML_TEXT, byte_mutant, fuzz_settings, tally, without_test_numbers

pytestmark = pytest.mark.fuzz
TARGET = tally("redirect_binding_decoder")
INPUT_CODES = {
    "EKN-IN-001",
    "EKN-IN-002",
    "EKN-IN-003",
    "EKN-IN-004",
    "EKN-IN-005",
    "EKN-IN-006",
    "EKN-IN-008",
    "EKN-IN-010",
    "EKN-IN-011",
    "EKN-IN-012",
    "EKN-IN-013",
    "EKN-IN-014",
    "EKN-IN-015",
}


@pytest.fixture(scope="module")
def redirect_seeds(attack_corpus):
    values, messages = [], []
    for name in generate_corpus.names():
        case = generate_corpus.load_case(attack_corpus, name)
        if case.endpoint == "redirect_binding" and case.query:
            values.append(case.query["SAMLRequest"])
        elif case.xml is not None and len(case.xml) < 50_000:
            messages.append(without_test_numbers(case.xml))
    # bombs just under, at and over the cap, which a mutation can push either way
    messages += [
        b"\0" * (MAX_INFLATED_BYTES - 1),
        b"\0" * MAX_INFLATED_BYTES,
        b"<a>" + b" " * MAX_INFLATED_BYTES + b"</a>",
    ]
    return values, messages


def _raw_deflate(xml: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(xml) + compressor.flush()


@st.composite
def redirect_value(draw, seeds):
    values, messages = seeds
    how = draw(st.sampled_from(["corpus-value", "message", "mutated-xml", "mutated-deflate", "mutated-base64", "text"]))
    if how == "corpus-value":
        return draw(st.sampled_from(values))
    if how == "text":
        return draw(XML_TEXT)
    message = draw(st.sampled_from(messages))
    if how == "message":
        return encode_message(message)
    if how == "mutated-xml":
        return encode_message(draw(byte_mutant(message)))
    if how == "mutated-deflate":
        return base64.b64encode(draw(byte_mutant(_raw_deflate(message)))).decode()
    return draw(byte_mutant(encode_message(message).encode())).decode("latin-1")


@fuzz_settings(short_examples=5000)
@given(data=st.data())
def test_every_redirect_value_decodes_or_is_refused_with_an_input_code(data, redirect_seeds):
    value = data.draw(redirect_value(redirect_seeds))
    try:
        xml = inflate_message(value)
    except ResponseValidationError as exc:
        assert exc.code.value in INPUT_CODES, exc.code
        TARGET.add(exc.code.value)
        return
    except Exception:
        TARGET.unhandled += 1
        raise
    assert len(xml) <= MAX_INFLATED_BYTES
    # differential: zlib, given the whole stream, agrees byte for byte
    assert zlib.decompress(base64.b64decode(value), -zlib.MAX_WBITS) == xml
    try:
        parse_redirect_message(value)
    except ResponseValidationError as exc:
        assert exc.code.value in INPUT_CODES, exc.code
        TARGET.add(exc.code.value)
        return
    except Exception:
        TARGET.unhandled += 1
        raise
    TARGET.add("decoded")
