# SPDX-License-Identifier: Apache-2.0
"""Session fixtures of the attack corpus, shared by the corpus test and the fuzzers.

Registered as a plugin in tests/conftest.py (``pytest_plugins``), so that
tests/functional and tests/fuzz use one corpus, generated once per session
from the session's test keys (no key is committed).
"""

from __future__ import annotations

import datetime as dt

import pytest
import webtest
from pyramid.config import Configurator
from pyramid.response import Response

from ekn_saml import demo
from ekn_saml.interfaces import ISamlServiceProvider
from ekn_saml.redirect_binding import parse_redirect_message
from ekn_saml.response import REQUESTS
from ekn_saml.service import BROWSER_BINDING_PURPOSE

from attacks import generate_corpus
from testbed import federation_sp_settings

HOST = "sp.example.test"
ENVIRON = {"wsgi.url_scheme": "https", "HTTP_HOST": HOST, "REMOTE_ADDR": "192.0.2.10"}
REDIRECT_STANDIN = "/_test/saml/redirect"


def redirect_binding_standin(request):
    """Stands in for a future Redirect-binding endpoint (SingleLogoutService).

    The SP receives nothing over the Redirect binding yet; this test-only
    view runs the one decoder such an endpoint must use, behind the SP's
    real error views, so the Redirect-binding cases get the same HTTP checks
    as every other case.
    """
    root = parse_redirect_message(request.GET.get("SAMLRequest"))
    return Response(f"decoded {root.tag}", content_type="text/plain")


def make_corpus_app(settings: dict):
    """The demo app (ekn_saml, its host-wide parts, "Mina sidor") plus the Redirect-binding stand-in route."""
    with Configurator(settings=settings, root_factory=demo.Root) as config:
        config.include("ekn_saml")
        config.include("ekn_saml.host_wide")
        config.add_route("demo.home", "/")
        config.add_route("demo.mina_sidor", "/mina-sidor")
        config.add_route("demo.sign", "/signera-ansokan")  # the demo's step-up page
        config.scan("ekn_saml.demo")
        config.add_route("test.redirect_binding", REDIRECT_STANDIN)
        config.add_view(redirect_binding_standin, route_name="test.redirect_binding", request_method="GET")
        return config.make_wsgi_app()


@pytest.fixture(scope="session")
def attack_corpus(key_dir, tmp_path_factory) -> str:
    """The corpus directory: every fixture of tests/attacks/generate_corpus.py, made with this session's keys."""
    out = str(tmp_path_factory.mktemp("attack-corpus"))
    generate_corpus.generate(out, generate_corpus.KeySet.from_dir(key_dir), dt.datetime.now(dt.UTC))
    return out


@pytest.fixture(scope="session")
def corpus_settings(key_dir, idp_metadata_file, tmp_path_factory) -> dict:
    """The test federation's settings with a SQLite store that two app instances ("nodes") share."""
    store = tmp_path_factory.mktemp("corpus-store") / "state.sqlite"
    settings = federation_sp_settings(key_dir, idp_metadata_file, store_url=f"sqlite:///{store}")
    # The corpus and the fuzzers start logins from one address for the whole session;
    # the login-start limit has its own tests (tests/functional/test_login_rate_limit.py).
    return {**settings, "ekn_saml.security.login_start_limit": "0"}


@pytest.fixture(scope="session")
def corpus_nodes(attack_corpus, corpus_settings):
    """Two app instances on one store, their SP clocks pinned to the corpus's ``now``."""
    now = generate_corpus.corpus_now(attack_corpus)
    nodes = []
    for _ in range(2):
        app = make_corpus_app(corpus_settings)
        app.registry.getUtility(ISamlServiceProvider).clock = lambda: now
        nodes.append(app)
    return tuple(nodes)


def browser(app, **environ) -> webtest.TestApp:
    """A fresh browser (empty cookie jar) on ``app``."""
    return webtest.TestApp(app, extra_environ={**ENVIRON, **environ})


def seed_request(app, seed: generate_corpus.Seed) -> None:
    """Store the outstanding request a fixture answers, as start_login does."""
    app.registry.getUtility(ISamlServiceProvider).store.put(REQUESTS, seed.request_id, seed.record(), 600)


def binding_cookie(app, token: str) -> dict[str, str]:
    """The Cookie header of a browser whose binding token is ``token``, signed as ``app`` signs it (a seed's record holds its hash)."""
    sp = app.registry.getUtility(ISamlServiceProvider)
    return {"Cookie": f"{sp.browser_cookie_name}={sp.server_keys.sign(BROWSER_BINDING_PURPOSE, token)}"}
