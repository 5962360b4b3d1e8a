# SPDX-License-Identifier: Apache-2.0
"""ekn_saml.csrf: the plugin's own forms are checked against its own token and the public base URL's origin.

Each rule alone, on requests built against a real plugin registry (the test
federation's settings); the logout round trips are in tests/functional.
"""

from __future__ import annotations

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from pyramid.request import Request

from ekn_saml.csrf import check_origin, check_plugin_form, check_token, csrf_token
from ekn_saml.interfaces import ISamlSessionFactory
from ekn_saml.session import REQUEST_ATTR

from testbed import SP_BASE

TOKEN = "a" * 43


def _registry(settings):
    config = Configurator(settings=settings)
    config.include("ekn_saml")
    return config.make_wsgi_app().registry


@pytest.fixture
def registry(app_settings):
    return _registry(app_settings)


def make_request(registry, *, headers=None, post=None, stored_token: str | None = TOKEN, host="sp.example.test"):
    """A POST to /logout whose ekn_saml session holds ``stored_token`` (``None``: no token)."""
    request = Request.blank(
        "/logout",
        POST=post if post is not None else {},
        headers=headers or {},
        environ={"wsgi.url_scheme": "https", "HTTP_HOST": host},
    )
    request.registry = registry
    session = registry.getUtility(ISamlSessionFactory)(request)
    if stored_token is not None:
        session["_csrft_"] = stored_token
    request.__dict__[REQUEST_ATTR] = session
    return request


# --- origin -------------------------------------------------------------------------------


def test_the_public_base_origin_passes(registry):
    check_origin(make_request(registry, headers={"Origin": SP_BASE}))


def test_another_origin_is_refused(registry):
    with pytest.raises(BadCSRFOrigin):
        check_origin(make_request(registry, headers={"Origin": "https://evil.example"}))


def test_an_origin_that_only_the_host_header_names_is_refused(registry):
    # Pyramid's check_csrf_origin trusts request.domain (the Host header); this one does not
    request = make_request(registry, headers={"Origin": "https://evil.example"}, host="evil.example")
    with pytest.raises(BadCSRFOrigin):
        check_origin(request)


def test_the_plain_http_origin_of_the_https_base_is_refused(registry):
    with pytest.raises(BadCSRFOrigin):
        check_origin(make_request(registry, headers={"Origin": "http://sp.example.test"}))


def test_the_origin_null_is_refused(registry):
    with pytest.raises(BadCSRFOrigin):
        check_origin(make_request(registry, headers={"Origin": "null"}))


def test_the_default_port_and_case_do_not_matter(registry):
    check_origin(make_request(registry, headers={"Origin": "HTTPS://SP.example.test:443"}))


def test_another_port_is_refused(registry):
    with pytest.raises(BadCSRFOrigin):
        check_origin(make_request(registry, headers={"Origin": "https://sp.example.test:8443"}))


def test_the_referer_stands_in_for_a_missing_origin(registry):
    check_origin(make_request(registry, headers={"Referer": SP_BASE + "/mina-sidor"}))


def test_a_foreign_referer_is_refused(registry):
    with pytest.raises(BadCSRFOrigin):
        check_origin(make_request(registry, headers={"Referer": "https://evil.example/page"}))


def test_no_origin_nor_referer_is_refused_on_an_https_base(registry):
    with pytest.raises(BadCSRFOrigin):
        check_origin(make_request(registry))


def test_no_origin_nor_referer_passes_on_a_plain_http_development_base(app_settings):
    registry = _registry({**app_settings, "ekn_saml.sp.public_base_url": "http://sp.example.test"})
    check_origin(make_request(registry))


# --- token --------------------------------------------------------------------------------


def test_the_session_token_in_the_form_passes(registry):
    check_token(make_request(registry, post={"csrf_token": TOKEN}))


def test_the_session_token_in_the_header_passes(registry):
    check_token(make_request(registry, headers={"X-CSRF-Token": TOKEN}))


def test_a_wrong_token_is_refused(registry):
    with pytest.raises(BadCSRFToken):
        check_token(make_request(registry, post={"csrf_token": "b" * 43}))


def test_a_missing_token_is_refused(registry):
    with pytest.raises(BadCSRFToken):
        check_token(make_request(registry))


def test_a_session_without_a_token_matches_nothing(registry):
    with pytest.raises(BadCSRFToken):
        check_token(make_request(registry, post={"csrf_token": ""}, stored_token=None))


def test_the_form_token_is_the_plugin_sessions(registry):
    request = make_request(registry, stored_token=None)
    token = csrf_token(request)
    assert getattr(request, REQUEST_ATTR)["_csrft_"] == token and len(token) >= 32


def test_the_whole_check_wants_origin_and_token(registry):
    with pytest.raises(BadCSRFToken):
        check_plugin_form(make_request(registry, headers={"Origin": SP_BASE}, post={"csrf_token": "forged"}))
