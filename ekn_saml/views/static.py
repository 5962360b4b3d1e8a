# SPDX-License-Identifier: Apache-2.0
"""The plugin's static files (``/ekn_saml_static/``), with every redirect on the public base URL.

Pyramid's static view answers a directory URL without its trailing slash
(``/ekn_saml_static/logos``) with a 301 to ``request.path_url + "/"``, which
WebOb builds from the ``Host`` header: a client-chosen host in a redirect
of the plugin.  :class:`PublicStaticView` builds it on
``ekn_saml.sp.public_base_url`` instead (:func:`~ekn_saml.public_url.public_url`),
as every other redirect of the plugin.
"""

from __future__ import annotations

from importlib.resources import files

from pyramid.httpexceptions import HTTPMovedPermanently
from pyramid.response import Response
from pyramid.static import static_view

from ..public_url import public_url

STATIC_NAME = "ekn_saml_static"
STATIC_SPEC = "ekn_saml:static/"
CACHE_MAX_AGE = 3600
# the route add_static_view makes for STATIC_NAME
STATIC_ROUTE = f"__{STATIC_NAME}/"


class PublicStaticView(static_view):
    """Pyramid's static view, whose add-a-slash redirect is absolute on the public base URL."""

    def add_slash_redirect(self, request):
        # request.path is the path the browser asked for (script name included)
        location = public_url(request, request.path + "/")
        if request.query_string:
            location += "?" + request.query_string
        return HTTPMovedPermanently(location)


def _static_assets(config) -> None:
    # An include of its own, so that the view added by add_static_view sits
    # one include deeper than the one add_static_files adds for the same
    # route: by Pyramid's conflict resolution the shallower one wins, and
    # the URL generation add_static_view sets up (request.static_path) stays.
    config.add_static_view(STATIC_NAME, STATIC_SPEC, cache_max_age=CACHE_MAX_AGE)


def add_static_files(config) -> None:
    """Serve ``ekn_saml:static/`` at ``/ekn_saml_static/`` through :class:`PublicStaticView`."""
    config.include(_static_assets)
    config.add_view(
        PublicStaticView(STATIC_SPEC, cache_max_age=CACHE_MAX_AGE, use_subpath=True), route_name=STATIC_ROUTE
    )


FAVICON_MAX_AGE = 86400  # a day: browsers ask for it on every page otherwise
_FAVICON = files("ekn_saml").joinpath("static", "favicon.svg")


def favicon(request) -> Response:
    """``/favicon.ico``: the plugin's icon (an SVG, which browsers accept at that path), cacheable for a day.

    Browsers that read the pages' ``<link rel="icon">`` never ask for it;
    others (and tools) do on every visit, and would otherwise get the 404 page.
    """
    response = Response(body=_FAVICON.read_bytes(), content_type="image/svg+xml")
    response.cache_control.public = True
    response.cache_control.max_age = FAVICON_MAX_AGE
    return response


def add_favicon(config) -> None:
    """Opt-in, host-wide (``ekn_saml.host_wide.favicon``): serve :func:`favicon` at ``/favicon.ico``."""
    config.add_route("saml.favicon", "/favicon.ico")
    config.add_view(favicon, route_name="saml.favicon", request_method=("GET", "HEAD"))
