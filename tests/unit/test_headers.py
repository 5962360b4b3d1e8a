# SPDX-License-Identifier: Apache-2.0
"""ekn_saml.headers: the security-headers tweens, host-wide (opt-in) and on the plugin's responses only."""

from __future__ import annotations

import pytest
from pyramid.config import Configurator
from pyramid.response import Response
from webtest import TestApp

from ekn_saml.errors import BadRequestError, ConfigurationError, ErrorCode
from ekn_saml.headers import FormActionOrigins, add_plugin_tween, content_security_policy
from ekn_saml.interfaces import IFormActionOrigins

HTTPS = {"wsgi.url_scheme": "https"}


def _page(request):
    return Response("<p>hello</p>", content_type="text/html")


def _json(request):
    return Response(json_body={"ok": True})


def _own_headers(request):
    response = Response("<p>framed on purpose</p>", content_type="text/html")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "private, max-age=60"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


def make_config(origins=None):
    """An app with the host-wide tween (``config.include("ekn_saml.headers")``) and ``origins`` registered."""
    config = Configurator()
    if origins is not None:
        config.registry.registerUtility(FormActionOrigins(origins), IFormActionOrigins)
    config.include("ekn_saml.headers")
    for name, view in (("page", _page), ("json", _json), ("own", _own_headers)):
        config.add_route(name, f"/{name}")
        config.add_view(view, route_name=name)
    return config


def make_app(origins=None):
    return TestApp(make_config(origins).make_wsgi_app())


def csp_directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


# --- Content-Security-Policy ---------------------------------------------------------


def test_csp_is_set():
    assert "Content-Security-Policy" in make_app().get("/page").headers


def test_csp_has_no_unsafe_inline():
    assert "unsafe-inline" not in make_app().get("/page").headers["Content-Security-Policy"]


def test_csp_has_no_unsafe_eval():
    assert "unsafe-eval" not in make_app().get("/page").headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("directive", "value"),
    [
        ("default-src", "'self'"),
        ("script-src", "'self'"),
        ("style-src", "'self'"),
        ("img-src", "'self' data:"),
        ("frame-ancestors", "'none'"),
        ("base-uri", "'none'"),
        ("object-src", "'none'"),
    ],
)
def test_csp_directive(directive, value):
    assert csp_directives(make_app().get("/page"))[directive] == value


def test_form_action_is_self_by_default():
    assert csp_directives(make_app().get("/page"))["form-action"] == "'self'"


def test_form_action_lists_the_registry_origins():
    app = make_app(["https://idp.example.se", "https://eid.example.com:8443"])
    assert csp_directives(app.get("/page"))["form-action"] == (
        "'self' https://idp.example.se https://eid.example.com:8443"
    )


def test_form_action_origin_trailing_slash_is_dropped():
    app = make_app(["https://idp.example.se/"])
    assert csp_directives(app.get("/page"))["form-action"] == "'self' https://idp.example.se"


def test_form_action_origins_are_deduplicated():
    app = make_app(["https://idp.example.se", "https://idp.example.se/"])
    assert csp_directives(app.get("/page"))["form-action"] == "'self' https://idp.example.se"


def test_form_action_follows_the_origins_of_the_moment():
    # e.g. an IdP that moved to another origin in refreshed federation metadata
    now = []
    config = Configurator()
    config.registry.registerUtility(FormActionOrigins((), lambda: now), IFormActionOrigins)
    config.include("ekn_saml.headers")
    config.add_route("page", "/page")
    config.add_view(_page, route_name="page")
    app = TestApp(config.make_wsgi_app())
    now.append("https://new-idp.example.se")
    assert csp_directives(app.get("/page"))["form-action"] == "'self' https://new-idp.example.se"


@pytest.mark.parametrize(
    "origin",
    [
        "https://idp.example.se; script-src *",  # would add a directive
        "https://idp.example.se https://evil.example",  # would add a source
        "https://idp.example.se/path",  # a path, not an origin
        "ftp://idp.example.se",
        "*",
        "'unsafe-inline'",
    ],
)
def test_a_bad_origin_fails_at_startup(origin):
    with pytest.raises(ConfigurationError):
        make_app([origin])


def test_bad_origins_are_all_reported_at_once():
    with pytest.raises(ConfigurationError) as failure:
        content_security_policy(("*", "https://ok.example.se", "ftp://x"))
    assert len(failure.value.problems) == 2


def test_csp_set_by_the_view_is_kept():
    assert make_app().get("/own").headers["Content-Security-Policy"] == "default-src 'none'"


# --- other headers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Referrer-Policy", "same-origin"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
    ],
)
def test_fixed_header(name, value):
    assert make_app().get("/page").headers[name] == value


def test_header_set_by_the_view_is_kept():
    assert make_app().get("/own").headers["X-Frame-Options"] == "SAMEORIGIN"


def test_html_is_not_stored():
    assert make_app().get("/page").headers["Cache-Control"] == "no-store"


def test_non_html_cache_control_is_left_alone():
    assert "Cache-Control" not in make_app().get("/json").headers


def test_cache_control_set_by_the_view_is_kept():
    assert make_app().get("/own").headers["Cache-Control"] == "private, max-age=60"


def test_hsts_on_https():
    res = make_app().get("/page", extra_environ=HTTPS)
    assert res.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_no_hsts_on_http():
    assert "Strict-Transport-Security" not in make_app().get("/page").headers


def test_error_pages_get_the_headers_too():
    res = make_app().get("/no-such-page", status=404)
    assert "frame-ancestors 'none'" in res.headers["Content-Security-Policy"]


def test_a_bad_origin_set_in_a_deferred_action_still_fails_at_startup():
    config = make_config()

    def set_origins():
        config.registry.registerUtility(FormActionOrigins(["not an origin"]), IFormActionOrigins)

    config.action(None, set_origins)
    with pytest.raises(ConfigurationError):
        config.make_wsgi_app()


# --- without the opt-in: the plugin's responses only -------------------------------------


def _saml_error(request):
    raise BadRequestError(ErrorCode.UNSAFE_REDIRECT, "raised on a host page")


def _error_page(exc, request):
    return Response("<p>the plugin's error page</p>", content_type="text/html", status=400)


def plugin_only_app():
    """The plugin's tween alone: a host route, a plugin-named route, and a host route that raises a SamlError."""
    config = Configurator()
    add_plugin_tween(config)
    for name, path, view in (
        ("host.page", "/page", _page),
        ("saml.page", "/saml-page", _page),
        ("host.raises", "/raises", _saml_error),
    ):
        config.add_route(name, path)
        config.add_view(view, route_name=name)
    config.add_exception_view(_error_page, context=BadRequestError)
    return TestApp(config.make_wsgi_app())


def test_a_host_page_gets_no_headers_without_the_opt_in():
    assert "Content-Security-Policy" not in plugin_only_app().get("/page").headers


def test_a_plugin_route_gets_the_headers_without_the_opt_in():
    assert "frame-ancestors 'none'" in plugin_only_app().get("/saml-page").headers["Content-Security-Policy"]


def test_the_plugin_page_for_a_saml_error_on_a_host_route_gets_the_headers():
    page = plugin_only_app().get("/raises", status=400)
    assert page.headers["X-Frame-Options"] == "DENY"
