# SPDX-License-Identifier: Apache-2.0
"""Fuzzing every ``next`` parameter: /login, /login/{method} and /lang/{code}.

Inputs are built from the corpus's open-redirect strings and from pieces
browsers and servers read as separators (slashes, backslashes, their
percent-encodings, schemes, hosts, whitespace, non-ASCII look-alikes), or are
raw query bytes that need not be UTF-8.  Every answer must be handled
(no 5xx), and no answer may send the browser to another host than the SP
or, for the start of a login, the IdP's SSO endpoint.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attacks import generate_corpus
from attacks.fixtures import HOST, browser
from fuzzing import XML_TEXT, fuzz_settings, tally

pytestmark = pytest.mark.fuzz
TARGET = tally("next_parameter")
IDP_HOST = "idp.example.test"  # the test federation's SSO endpoint (tests/testbed.py)
PIECES = [
    "/",
    "//",
    "\\",
    "%2f",
    "%2F",
    "%5c",
    "%5C",
    "%252f",
    "%255c",
    "%09",
    "%0a",
    "%00",
    "\t",
    "\n",
    " ",
    "@",
    ":",
    "?",
    "#",
    "http:",
    "https:",
    "javascript:",
    "data:",
    "evil.example",
    "sp.example.test",
    ".",
    "..",
    "mina-sidor",
    "\u2215",
    "\uff0f",
    "\u3000",
    "\u202e",
    "%E2%88%95",
    "\x00",
]
ENDPOINTS = ["/login", "/login/bankid", "/login/nosuch", "/lang/en", "/lang/de"]


@st.composite
def next_values(draw):
    how = draw(st.sampled_from(["corpus", "pieces", "text"]))
    if how == "corpus":
        return draw(st.sampled_from([t for _, t in generate_corpus.OPEN_REDIRECTS]))
    if how == "pieces":
        return "".join(draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=8)))
    return draw(XML_TEXT)


@fuzz_settings(short_examples=2000)
@given(data=st.data())
def test_no_next_leads_off_site(data, corpus_nodes):
    endpoint = data.draw(st.sampled_from(ENDPOINTS), label="endpoint")
    client = browser(corpus_nodes[0])
    if data.draw(st.booleans(), label="raw bytes"):
        raw = data.draw(st.binary(max_size=24), label="next bytes")
        url = f"{endpoint}?next={quote(raw, safe='')}"
    else:
        url = f"{endpoint}?next={quote(data.draw(next_values(), label='next'), safe='')}"
    response = TARGET.response_of(lambda: client.get(url, expect_errors=True), url)
    status = response.status_int
    location = response.headers.get("Location")
    if location is not None:
        allowed = {HOST, IDP_HOST} if endpoint == "/login/bankid" else {HOST}
        if urlsplit(location).netloc not in allowed or location.startswith("//"):
            TARGET.forgeries += 1
            pytest.fail(f"open redirect: {url} -> {location}")
    TARGET.add(str(status))
