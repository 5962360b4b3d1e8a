# SPDX-License-Identifier: Apache-2.0
"""Fuzzing the ACS (HTTP-POST body), seeded from the attack corpus.

Each input is one POST to /saml/acs of the real app: a corpus fixture as
is, or mutated at the byte level, at the tree level, at the tree level and
re-signed with the attacker's key, or rebuilt with tree edits and then
signed and encrypted by the test IdP (a broken or hostile IdP, reaching
the checks after the signature); or random text or bytes.  RelayState and
the binding cookie are drawn too.  The outstanding request of the seed is
stored before each post, so inputs can get past the request checks.

Every answer must be a handled 4xx with the error page and a code, or a
302 for a login.  A login is a forgery unless what was accepted is, in
exclusive canonical form without its enveloped Signature, a valid login for
the seed's request that the test IdP signed while the corpus was made
(``Case.authorised``: a control, or the captured Response inside an XSW
case, which a mutation may unwrap again), with that request's RelayState
and binding cookie.  For inputs the test IdP signs in the fuzzer itself
(mode ``idp-signed``) a login is allowed: the IdP vouches for them.
"""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given, note, reject
from hypothesis import strategies as st
from lxml import etree

from ekn_saml.interfaces import ISamlServiceProvider
from ekn_saml.xmlsecurity import NS

from attacks import generate_corpus
from attacks.fixtures import binding_cookie, browser, make_corpus_app, seed_request
from fuzzing import XML_TEXT, byte_mutant, fuzz_settings, mutate_tree, tally, tree_mutant, without_test_numbers
from saml_factory import custom_sign

pytestmark = pytest.mark.fuzz
TARGET = tally("acs_post")
CODE = re.compile(r"EKN-[A-Z]+-[0-9]+")
MODES = ("as-is", "bytes", "tree", "tree-attacker-signed", "idp-signed", "text", "binary")


@pytest.fixture(scope="module")
def acs_app(corpus_settings, attack_corpus):
    app = make_corpus_app({**corpus_settings, "ekn_saml.store.url": "memory://"})
    now = generate_corpus.corpus_now(attack_corpus)
    app.registry.getUtility(ISamlServiceProvider).clock = lambda: now
    return app


@pytest.fixture(scope="module")
def acs_seeds(attack_corpus):
    cases = [generate_corpus.load_case(attack_corpus, name) for name in generate_corpus.names()]
    return [c for c in cases if c.endpoint == "acs" and c.form is not None and len(c.xml or b"") < 100_000]


@pytest.fixture(scope="module")
def corpus_ctx(key_dir, attack_corpus):
    return generate_corpus.Ctx(generate_corpus.KeySet.from_dir(key_dir), generate_corpus.corpus_now(attack_corpus))


def _idp_signed(data, ctx, case) -> bytes:
    """A fresh message for the case's request with drawn tree edits, then signed and encrypted by the test IdP."""
    edits = data.draw(st.integers(1, 3))
    where = data.draw(st.sampled_from(["assertion", "response"]))

    def mutate(element):
        for _ in range(edits):
            mutate_tree(data.draw, element)

    spec = ctx.spec(
        case.seed, **({"mutate_assertion": mutate} if where == "assertion" else {"mutate_response": mutate})
    )
    try:
        return etree.tostring(ctx.idp.build(spec))
    except Exception:  # an edit our factory cannot sign or encrypt: not an input the SP sees
        reject()


def _attacker_signed(data, ctx, xml: bytes) -> bytes:
    try:
        root = etree.fromstring(data.draw(tree_mutant(xml)))
    except (etree.XMLSyntaxError, ValueError):
        reject()
    for signature in root.findall("ds:Signature", NS):
        root.remove(signature)
    if not root.get("ID"):
        reject()
    try:
        custom_sign(root, ctx.keys.attacker_key, key_info_cert=ctx.keys.attacker_cert)
    except Exception:  # xmlsec cannot sign this tree (say, an ID it cannot resolve): not an input
        reject()
    return etree.tostring(root)


def _encode(data, xml: bytes) -> str:
    value = base64.b64encode(xml).decode()
    how = data.draw(st.sampled_from(["plain", "plain", "wrapped", "truncated"]))
    if how == "wrapped":  # line breaks, as some IdPs send (the SP strips whitespace)
        value = "\r\n".join(value[i : i + 76] for i in range(0, len(value), 76))
    elif how == "truncated":
        value = value[: data.draw(st.integers(0, len(value)))]
    return value


@fuzz_settings(short_examples=1700)
@given(data=st.data())
def test_every_acs_post_gets_a_handled_answer(data, acs_seeds, acs_app, corpus_ctx):
    case = data.draw(st.sampled_from(acs_seeds), label="seed")
    mode = data.draw(st.sampled_from(MODES if case.xml is not None else ("as-is", "text", "binary")), label="mode")
    form = dict(case.form)
    posted: bytes | None = case.xml
    if mode == "bytes":
        posted = data.draw(byte_mutant(without_test_numbers(case.xml)))
    elif mode == "tree":
        posted = data.draw(tree_mutant(without_test_numbers(case.xml)))
    elif mode == "tree-attacker-signed":
        posted = _attacker_signed(data, corpus_ctx, without_test_numbers(case.xml))
    elif mode == "idp-signed":
        if case.seed is None:
            reject()
        posted = _idp_signed(data, corpus_ctx, case)
    elif mode == "text":
        posted = None
        form["SAMLResponse"] = data.draw(XML_TEXT)
    elif mode == "binary":
        posted = data.draw(st.binary(max_size=2048))
    if mode not in ("as-is", "text"):
        form["SAMLResponse"] = _encode(data, posted)

    relay = data.draw(st.sampled_from(["seed", "seed", "absent", "random", "redirect"]), label="relay")
    if relay == "absent":
        form.pop("RelayState", None)
    elif relay == "random":
        form["RelayState"] = data.draw(XML_TEXT)
    elif relay == "redirect":
        form["RelayState"] = data.draw(st.sampled_from([t for _, t in generate_corpus.OPEN_REDIRECTS]))
    # "unsigned": the seed's own token without the SP's signature, which must bind nothing
    cookie_choice = data.draw(st.sampled_from(["seed", "seed", "none", "other", "unsigned"]), label="cookie")
    token = {"seed": case.seed.browser_token if case.seed else None, "none": None, "other": "browser-fuzz"}.get(
        cookie_choice
    )
    if cookie_choice == "unsigned":
        headers = (
            {
                "Cookie": f"{acs_app.registry.getUtility(ISamlServiceProvider).browser_cookie_name}={case.seed.browser_token}"
            }
            if case.seed
            else {}
        )
    else:
        headers = binding_cookie(acs_app, token) if token else {}

    if case.seed is not None:
        seed_request(acs_app, case.seed)
    client = browser(acs_app)
    response = TARGET.response_of(
        lambda: client.post("/saml/acs", params=form, headers=headers, expect_errors=True),
        f"mode {mode} on seed {case.name}: {form.get('SAMLResponse', '')}",
    )
    status = response.status_int
    if status == 302:
        if mode == "idp-signed":
            TARGET.add("302 login signed by the test IdP")
            return
        authorised = (
            posted is not None
            and generate_corpus.content_digest(posted) in case.authorised
            and form.get("RelayState") == case.seed.relay_state
            and cookie_choice == "seed"
        )
        if not authorised:
            TARGET.forgeries += 1
            TARGET.finding(
                f"accepted: mode {mode}, seed {case.name}, relay {relay}, cookie {cookie_choice}: {form.get('SAMLResponse', '')}"
            )
            note(f"accepted: {posted!r}")
            pytest.fail(f"accepted forgery: mode {mode}, seed {case.name}, relay {relay}, cookie {cookie_choice}")
        TARGET.add("302 login the IdP signed")
        return
    assert 400 <= status < 500, f"HTTP {status} for mode {mode} on seed {case.name}"
    assert response.html.find(class_="error-page") is not None
    codes = CODE.findall(response.html.find("section", class_="error-ids").get_text())
    assert len(codes) == 1
    TARGET.add(codes[0])
