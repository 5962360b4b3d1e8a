# SPDX-License-Identifier: Apache-2.0
"""The named attack corpus against the real app, through WebTest.

Every fixture of tests/attacks/generate_corpus.py (see tests/data/attacks/)
is sent to the endpoint it attacks, as a browser would send it, against the
demo app with the test federation.  A *refused* case must get its own error
code, a 4xx, the friendly error page, and leave no session; a *dropped* case
(an unsafe ``next`` on the chooser or the language switch) must not lead
off-site and leave no session; a *control* must log in, which shows that a
refusal comes from the one thing its case changes.

Steps a case may name: ``victim_first`` (the legitimate browser posts the
same response first and is logged in), ``restore_request`` (the request
record is then put back, as a restored backup would), ``on_node_b`` (the
attack goes to a second app instance on the same store).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from attacks import generate_corpus
from attacks.fixtures import HOST, REDIRECT_STANDIN, binding_cookie, browser, seed_request

REGISTRY = generate_corpus.REGISTRY
REFUSED = [d.name for d in REGISTRY if d.expect == "refused"]
DROPPED = [d.name for d in REGISTRY if d.expect == "dropped"]
CONTROLS = [d.name for d in REGISTRY if d.expect == "accepted"]
SESSION_COOKIE = "__Host-ekn_session"  # Secure, so __Host- (ekn_saml.cookies)
CODE = re.compile(r"EKN-[A-Z]+-[0-9]+")


def _send(case: generate_corpus.Case, nodes):
    """Send ``case`` as a fresh browser would; return (browser, response)."""
    node_a, node_b = nodes
    if case.endpoint != "acs":
        client = browser(node_a)
        if case.raw_query is not None:
            return client, client.get(f"{case.path}?{case.raw_query}", expect_errors=True)
        path = REDIRECT_STANDIN if case.endpoint == "redirect_binding" else case.path
        return client, client.get(path, params=case.query or {}, expect_errors=True)
    if case.seed is not None:
        seed_request(node_a, case.seed)
    if "victim_first" in case.steps:
        victim = browser(node_a)
        accepted = victim.post("/saml/acs", params=case.form, headers=binding_cookie(node_a, case.seed.browser_token))
        assert accepted.status_int == 302, "the victim's own login must succeed first"
    if "restore_request" in case.steps:
        seed_request(node_a, case.seed)
    cookie = {"seed": case.seed.browser_token if case.seed else None, "other": "browser-of-the-attacker", "none": None}[
        case.browser
    ]
    node = node_b if "on_node_b" in case.steps else node_a
    client = browser(node)
    response = client.post(
        "/saml/acs", params=case.form, headers=binding_cookie(node, cookie) if cookie else {}, expect_errors=True
    )
    return client, response


def _assert_no_session(client, response):
    set_cookies = response.headers.getall("Set-Cookie")
    assert not [c for c in set_cookies if c.startswith(SESSION_COOKIE + "=") and "Max-Age=0" not in c], set_cookies
    landing = client.get("/mina-sidor", expect_errors=True)
    assert landing.status_int == 302 and urlsplit(landing.location).path == "/login", "no identity after the attack"


@pytest.mark.parametrize("name", REFUSED)
def test_attack_is_refused_with_its_code(name, attack_corpus, corpus_nodes):
    case = generate_corpus.load_case(attack_corpus, name)
    client, response = _send(case, corpus_nodes)
    assert 400 <= response.status_int < 500, f"{name}: HTTP {response.status_int}"
    assert response.content_type == "text/html"
    assert response.html.find(class_="error-page") is not None, "the friendly error page"
    codes = CODE.findall(response.html.find("section", class_="error-ids").get_text())
    assert codes == [case.code], f"{name}: expected {case.code}, got {codes}"
    _assert_no_session(client, response)


def _local(url: str) -> bool:
    if url.startswith("#"):  # the skip link
        return True
    parts = urlsplit(url)
    return (
        not parts.scheme and not parts.netloc and url.startswith("/") and not url.startswith("//")
    ) or parts.netloc == HOST


@pytest.mark.parametrize("name", DROPPED)
def test_unsafe_target_is_dropped(name, attack_corpus, corpus_nodes):
    case = generate_corpus.load_case(attack_corpus, name)
    client, response = _send(case, corpus_nodes)
    if case.endpoint == "lang":
        assert response.status_int == 303
        assert (urlsplit(response.location).netloc, urlsplit(response.location).path) == (HOST, "/")
    else:
        assert response.status_int == 200
        targets = [a["href"] for a in response.html.find_all("a", href=True)]
        targets += [f["action"] for f in response.html.find_all("form", action=True)]
        assert targets and all(_local(t) for t in targets), targets
        starts = [t for t in targets if urlsplit(t).path.startswith("/login/")]
        assert starts and not any("next" in parse_qs(urlsplit(t).query) for t in starts), starts
    _assert_no_session(client, response)


@pytest.mark.parametrize("name", CONTROLS)
def test_control_fixture_logs_in(name, attack_corpus, corpus_nodes):
    case = generate_corpus.load_case(attack_corpus, name)
    client, response = _send(case, corpus_nodes)
    assert response.status_int == 302 and urlsplit(response.location).path == "/mina-sidor", response.text[:500]
    assert client.get("/mina-sidor").status_int == 200


def test_corpus_has_at_least_sixty_named_refusals():
    assert len(REFUSED) >= 60
    assert len(set(generate_corpus.names())) == len(generate_corpus.names())


def test_committed_manifest_matches_the_generator():
    """tests/data/attacks/MANIFEST.json is the reviewable index; regenerate with --manifest."""
    with open(generate_corpus.MANIFEST, encoding="utf-8") as fh:
        committed = json.load(fh)["cases"]
    assert committed == generate_corpus.manifest()


def test_a_path_that_is_not_utf8_gets_the_error_page(corpus_nodes):
    """/login/%ff: WebTest cannot send it (its cookie jar decodes the URL), so WebOb's request does."""
    from bs4 import BeautifulSoup
    from webob import Request

    request = Request.blank("/", environ={"wsgi.url_scheme": "https", "HTTP_HOST": HOST})
    request.environ["PATH_INFO"] = "/login/\xff"  # PEP 3333: the raw byte 0xff as latin-1
    response = request.get_response(corpus_nodes[0])
    assert response.status_int == 400
    shown = BeautifulSoup(response.text, "html.parser").find("section", class_="error-ids").get_text()
    assert CODE.findall(shown) == ["EKN-WEB-004"]
