# SPDX-License-Identifier: Apache-2.0
"""Fuzzing the logout endpoint: only the user's own CSRF-protected POST may end a session.

A browser logs in through the real ACS (a fresh signed response from the
test IdP each time it has to).  Each input is then one request, from a
fresh client with an explicit Cookie header, to /logout (or a neighbour):
the method, the CSRF token (the real one, mutated, random, absent, in the
X-CSRF-Token header), extra form fields, Origin and Referer, and the session
cookie (real, absent, garbage) are all drawn.

Every answer must be handled (no 5xx).  A logout (302 to the logged-out
page) is a forgery unless the request carried the session's own token and
cookie from the site's own origin; after one the session is gone, after
anything else it is still alive.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import webtest
from hypothesis import given
from hypothesis import strategies as st

from ekn_saml.interfaces import ISamlServiceProvider

from attacks import generate_corpus
from attacks.fixtures import ENVIRON, binding_cookie, browser, make_corpus_app, seed_request
from fuzzing import XML_TEXT, byte_mutant, fuzz_settings, tally

pytestmark = pytest.mark.fuzz
TARGET = tally("logout")
ORIGIN = "https://sp.example.test"
SESSION = "__Host-ekn_session"  # Secure, so __Host- (ekn_saml.cookies)
CODE = re.compile(r"EKN-[A-Z]+-[0-9]+")


class LoggedIn:
    """One logged-in browser, logged in again whenever a fuzzed request logged it out."""

    def __init__(self, app, ctx) -> None:
        self.app, self.ctx, self.count = app, ctx, 0
        self.cookie = self.token = None

    def ensure(self) -> None:
        if self.cookie is not None:
            return
        self.count += 1
        seed = self.ctx.seed(f"logout-fuzz-{self.count}")
        seed_request(self.app, seed)
        client = browser(self.app)
        xml = self.ctx.idp.build(self.ctx.spec(seed))
        form = {"SAMLResponse": generate_corpus.b64(generate_corpus.tostring(xml)), "RelayState": seed.relay_state}
        assert (
            client.post("/saml/acs", params=form, headers=binding_cookie(self.app, seed.browser_token)).status_int
            == 302
        )
        page = client.get("/mina-sidor")
        self.token = page.html.find("form", class_="logout-form").find("input", attrs={"name": "csrf_token"})["value"]
        self.cookie = next(c.value for c in client.cookiejar if c.name == SESSION)

    def alive(self) -> bool:
        client = webtest.TestApp(self.app, extra_environ=ENVIRON)
        return (
            client.get("/mina-sidor", headers={"Cookie": f"{SESSION}={self.cookie}"}, expect_errors=True).status_int
            == 200
        )


@pytest.fixture(scope="module")
def logout_app(corpus_settings, attack_corpus):
    app = make_corpus_app(
        {**corpus_settings, "ekn_saml.store.url": "memory://", "ekn_saml.logged_out_path": "/logged-out"}
    )
    now = generate_corpus.corpus_now(attack_corpus)
    app.registry.getUtility(ISamlServiceProvider).clock = lambda: now
    return app


@pytest.fixture(scope="module")
def user(logout_app, key_dir, attack_corpus):
    ctx = generate_corpus.Ctx(generate_corpus.KeySet.from_dir(key_dir), generate_corpus.corpus_now(attack_corpus))
    return LoggedIn(logout_app, ctx)


def _choice(data, label, options):
    return data.draw(st.sampled_from(options), label=label)


@fuzz_settings(short_examples=1200)
@given(data=st.data())
def test_only_the_users_own_post_logs_out(data, logout_app, user):
    user.ensure()
    method = _choice(data, "method", ["POST"] * 10 + ["GET", "PUT", "DELETE"])
    path = _choice(
        data, "path", ["/logout"] * 12 + ["/logout/", "/logout?next=//evil.example", "/LOGOUT", "/logged-out"]
    )
    token_how = _choice(data, "token", ["real", "real", "header", "absent", "empty", "mutated", "random", "twice"])
    fields: list[tuple[str, str]] = []
    headers: dict[str, str] = {}
    if token_how == "real":
        fields.append(("csrf_token", user.token))
    elif token_how == "header":
        headers["X-CSRF-Token"] = user.token
    elif token_how == "empty":
        fields.append(("csrf_token", ""))
    elif token_how == "mutated":
        fields.append(("csrf_token", data.draw(byte_mutant(user.token.encode())).decode("latin-1")))
    elif token_how == "random":
        fields.append(("csrf_token", data.draw(XML_TEXT)))
    elif token_how == "twice":
        fields += [("csrf_token", data.draw(XML_TEXT)), ("csrf_token", user.token)]
    fields += data.draw(st.lists(st.tuples(XML_TEXT, XML_TEXT), max_size=3), label="extra fields")
    origin_how = _choice(data, "origin", ["same", "same-referer", "evil", "evil-referer", "null", "absent", "random"])
    if origin_how == "same":
        headers["Origin"] = ORIGIN
    elif origin_how == "same-referer":
        headers["Referer"] = ORIGIN + "/mina-sidor"
    elif origin_how == "evil":
        headers["Origin"] = "https://evil.example"
    elif origin_how == "evil-referer":
        headers["Referer"] = "https://evil.example/mina-sidor"
    elif origin_how == "null":
        headers["Origin"] = "null"
    elif origin_how == "random":
        headers["Origin"] = data.draw(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=30))
    cookie_how = _choice(data, "cookie", ["real", "real", "absent", "garbage", "real+garbage"])
    garbage = data.draw(
        st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters=";,"), max_size=120)
    )
    cookie = {
        "real": f"{SESSION}={user.cookie}",
        "absent": "",
        "garbage": f"{SESSION}={garbage}",
        "real+garbage": f"{SESSION}={user.cookie}; x={garbage}",
    }[cookie_how]
    if cookie:
        headers["Cookie"] = cookie

    client = webtest.TestApp(logout_app, extra_environ=ENVIRON)
    response = TARGET.response_of(
        lambda: client.request(
            path,
            method=method,
            body=_form(fields) if method != "GET" else b"",
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
            environ=dict(ENVIRON),  # request() does not apply extra_environ: https, as in production
            expect_errors=True,
        ),
        f"{method} {path}",
    )
    status = response.status_int
    logged_out = status == 302 and urlsplit(response.location).path == "/logged-out"
    if logged_out:
        own = (
            method == "POST"
            and urlsplit(path).path == "/logout"
            and _sent_token(token_how, fields, headers) == user.token
            and cookie_how.startswith("real")
            and (
                headers.get("Origin") == ORIGIN
                or ("Origin" not in headers and headers.get("Referer", "").startswith(ORIGIN + "/"))
            )
        )
        if not own:
            TARGET.forgeries += 1
            pytest.fail(
                f"logged out by a forged request: token {token_how}, origin {origin_how}, cookie {cookie_how}, {method} {path} {headers} {fields}"
            )
        assert not user.alive(), "the session must be gone after logout"
        user.cookie = None
        TARGET.add("302 logout by the user")
        return
    if status == 200:
        assert path == "/logged-out" and method == "GET"
        TARGET.add("200 logged-out page")
    else:
        assert 400 <= status < 500, f"HTTP {status}"
        codes = CODE.findall(response.text)
        assert codes, "the error page shows a code"
        TARGET.add(f"{status} {codes[0]}")
    assert user.alive(), "a refused or unrelated request must not end the session"


def _sent_token(how, fields, headers):
    if how == "header":
        return headers.get("X-CSRF-Token")
    values = [v for k, v in fields if k == "csrf_token"]
    return values[-1] if values else None  # WebOb, like most form parsers, reads the last of repeated fields


def _form(fields) -> bytes:
    from urllib.parse import urlencode

    return urlencode(fields).encode()
