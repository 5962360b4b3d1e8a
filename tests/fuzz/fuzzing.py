# SPDX-License-Identifier: Apache-2.0
"""Shared by the fuzz targets: Hypothesis settings for the short and the long run, and the tally.

Short run (part of every ``pytest`` / ``make test``): a fixed number of
examples per target, derandomised so CI sees the same inputs every time,
about a minute in all.  Long run: ``EKN_FUZZ_EXAMPLES=N`` examples per
target with fresh randomness (``make fuzz``).  tests/fuzz/conftest.py
prints the tally: inputs tried per target, 5xx answers and unhandled
exceptions (must be 0: a target fails at the first) and accepted forgeries
(likewise).  ``EKN_FUZZ_REPORT=path`` also writes it as JSON.
"""

from __future__ import annotations

import collections
import os
import time

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from lxml import etree

LONG_RUN = int(os.environ.get("EKN_FUZZ_EXAMPLES", "0") or 0)


def fuzz_settings(short_examples: int):
    """Hypothesis settings for one target: ``short_examples`` in the short run, EKN_FUZZ_EXAMPLES in the long one."""
    return settings(
        max_examples=LONG_RUN or short_examples,
        deadline=None,  # the machine is shared: wall-clock limits would make the run flaky
        derandomize=not LONG_RUN,
        database=None,  # no .hypothesis directory in the tree
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


class Tally:
    """What one target saw."""

    def __init__(self) -> None:
        self.inputs = 0
        self.http_5xx = 0
        self.unhandled = 0
        self.forgeries = 0
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.started: float | None = None
        self.seconds = 0.0
        # What a failure was about, kept apart from Hypothesis's own report
        # (which a stateful target can turn into a "flaky" one).
        self.findings: list[str] = []

    def finding(self, text: str) -> None:
        if len(self.findings) < 10:
            self.findings.append(text[:4000])

    def response_of(self, send, what: str):
        """The response ``send()`` gets; an exception is counted as unhandled, a 5xx as a finding, and both fail."""
        try:
            response = send()
        except Exception:
            self.unhandled += 1
            raise
        if response.status_int >= 500:
            self.http_5xx += 1
            self.finding(f"HTTP {response.status_int}: {what}")
            pytest.fail(f"HTTP {response.status_int} for {what}")
        return response

    def add(self, outcome: str) -> None:
        if self.started is None:  # from the first input, not from import
            self.started = time.monotonic()
        self.inputs += 1
        self.outcomes[outcome] += 1
        self.seconds = time.monotonic() - self.started

    def as_dict(self) -> dict:
        return {
            "inputs": self.inputs,
            "http_5xx": self.http_5xx,
            "unhandled_exceptions": self.unhandled,
            "accepted_forgeries": self.forgeries,
            "seconds": round(self.seconds, 1),
            "outcomes": dict(self.outcomes.most_common()),
            "findings": self.findings,
        }


TALLIES: dict[str, Tally] = {}


def tally(target: str) -> Tally:
    if target not in TALLIES:
        TALLIES[target] = Tally()
    return TALLIES[target]


# ---------------------------------------------------------------- mutations, seeded from the corpus

# Fragments that XML parsers, signature code and SAML readers trip over.
TOKENS = [
    b"<!---->",
    b"<!--x-->",
    b"<?pi x?>",
    b"<![CDATA[x]]>",
    b"]]>",
    b"&lol;",
    b"&#0;",
    b"&#x110000;",
    b"<!DOCTYPE x>",
    b'<!DOCTYPE x [<!ENTITY lol "lol">]>',
    b'<!ENTITY % p SYSTEM "https://evil.example/">',
    b'xmlns:x="relative"',
    b'xmlns=""',
    b'xmlns:xml="urn:x"',
    b' ID="_dup"',
    b' samlp:ID="_x"',
    b' Id="_x"',
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\r\n",
    b"\t",
    b" ",
    b"<",
    b">",
    b"</",
    b"/>",
    b"=",
    b'"',
    b"'",
    b"&",
    b"https://evil.example/",
    b"#xpointer(/)",
    b"urn:oasis:names:tc:SAML:2.0:status:Success",
    b"http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    b"http://www.w3.org/2001/04/xmlenc#rsa-1_5",
    b'<saml:Assertion ID="_e"/>',
    b"<ds:Object/>",
    b"<ds:KeyValue/>",
    b"1970-01-01T00:00:00Z",
    b"9999-12-31T23:59:59Z",
    b"A" * 300,
]
ATTRIBUTE_NAMES = [
    "ID",
    "Id",
    "{urn:oasis:names:tc:SAML:2.0:protocol}ID",
    "InResponseTo",
    "Destination",
    "Version",
    "IssueInstant",
    "Algorithm",
    "URI",
    "Recipient",
    "NotOnOrAfter",
    "NotBefore",
    "Method",
    "Name",
    "Format",
    "Value",
    "AuthnInstant",
    "validUntil",
    "entityID",
    "Binding",
    "Location",
    "use",
    "regexp",
    "{http://www.w3.org/XML/1998/namespace}lang",
]
TAGS = [
    "{urn:oasis:names:tc:SAML:2.0:assertion}Assertion",
    "{urn:oasis:names:tc:SAML:2.0:assertion}EncryptedAssertion",
    "{urn:oasis:names:tc:SAML:2.0:protocol}Response",
    "{urn:oasis:names:tc:SAML:2.0:protocol}Extensions",
    "{http://www.w3.org/2000/09/xmldsig#}Signature",
    "{http://www.w3.org/2000/09/xmldsig#}Object",
    "{urn:oasis:names:tc:SAML:2.0:metadata}EntityDescriptor",
    "{urn:oasis:names:tc:SAML:2.0:metadata}IDPSSODescriptor",
    "{urn:oasis:names:tc:SAML:2.0:metadata}KeyDescriptor",
    "{urn:evil}Assertion",
    "Issuer",
]
# text lxml can store (no control characters, no lone surrogates)
XML_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _values(root):
    ids = [str(v) for v in root.xpath("//@ID | //@Id")]
    return st.one_of(
        st.sampled_from(ids or ["_x"]),
        st.sampled_from(
            ["", "2.0", "https://evil.example/", "#" + (ids[0] if ids else "_x"), "2026-11-28T00:00:00Z", "not a date"]
        ),
        XML_TEXT,
    )


@st.composite
def byte_mutant(draw, data: bytes) -> bytes:
    """``data`` with one to four byte-level edits (flip, insert, delete, duplicate, token, truncate)."""
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "duplicate", "token", "truncate"]))
        at = draw(st.integers(0, len(buf)))
        if op == "flip" and at < len(buf):
            buf[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            buf[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del buf[at : at + draw(st.integers(1, 64))]
        elif op == "duplicate":
            piece = bytes(buf[at : at + draw(st.integers(1, 256))])
            where = draw(st.integers(0, len(buf)))
            buf[where:where] = piece
        elif op == "token":
            buf[at:at] = draw(st.sampled_from(TOKENS))
        elif op == "truncate":
            del buf[at:]
    return bytes(buf)


@st.composite
def tree_mutant(draw, data: bytes) -> bytes:
    """``data`` with one to three structural edits (byte edits if it does not parse); no signature is recomputed."""
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError):  # the DOCTYPE, malformed and non-XML seeds
        return draw(byte_mutant(data))
    for _ in range(draw(st.integers(1, 3))):
        mutate_tree(draw, root)
    return etree.tostring(root)


def mutate_tree(draw, root) -> None:
    """One structural edit of ``root``'s tree, in place: remove, copy, move, wrap, rename, attributes, text."""
    elements = [el for el in root.iter() if isinstance(el.tag, str)]
    el = draw(st.sampled_from(elements))
    op = draw(
        st.sampled_from(
            ["remove", "copy", "move", "wrap", "rename", "set-attribute", "drop-attribute", "text", "comment", "swap"]
        )
    )
    parent = el.getparent()
    if op == "remove" and parent is not None:
        parent.remove(el)
    elif op == "copy" and parent is not None:
        el.addnext(etree.fromstring(etree.tostring(el), _PARSER))
    elif op == "move" and parent is not None:
        target = draw(st.sampled_from(elements))
        if target is not el and el not in target.iterancestors():
            target.insert(draw(st.integers(0, len(target))), el)
    elif op == "wrap" and parent is not None:
        wrapper = etree.Element(draw(st.sampled_from(TAGS)))
        el.addprevious(wrapper)
        wrapper.append(el)
    elif op == "rename":
        el.tag = draw(st.sampled_from(TAGS))
    elif op == "set-attribute":
        el.set(draw(st.sampled_from(ATTRIBUTE_NAMES)), draw(_values(root)))
    elif op == "drop-attribute" and el.attrib:
        del el.attrib[draw(st.sampled_from(sorted(el.attrib)))]
    elif op == "text" and not len(el):
        el.text = draw(_values(root))
    elif op == "comment":
        el.insert(draw(st.integers(0, len(el))), etree.Comment(""))
    elif op == "swap" and parent is not None and len(parent) > 1:
        other = draw(st.sampled_from(list(parent)))
        if other is not el:
            el_index, other_index = parent.index(el), parent.index(other)
            parent.insert(other_index, el)
            parent.insert(el_index, other)


def without_test_numbers(xml: bytes) -> bytes:
    """Plaintext seeds with the tests' personal identity numbers given a wrong check digit.

    A mutation can copy any bytes of a seed into a field that an error
    detail quotes (the issuer, say); the privacy guard would then rightly
    find a full number in the log.  The seeds' signatures break anyway.
    """
    for number in (b"198001012387", b"197512249819", b"196506151239", b"199003652386"):
        xml = xml.replace(number, number[:-1] + (b"0" if number[-1:] != b"0" else b"1"))
    return xml
