# SPDX-License-Identifier: Apache-2.0
"""Absolute URLs on ``ekn_saml.sp.public_base_url``: the ``Location`` of every redirect the plugin sends.

A relative ``Location`` is made absolute by WebOb with the request's ``Host``
header, which the client chooses.  Behind a proxy that passes ``Host`` on,
or a cache that keys on something else, ``Host: evil.example`` then turns the
plugin's redirects (after login, to the chooser, after logout …) into
redirects to evil.example.  Built from the configured public base URL, a
``Location`` does not depend on ``Host`` at all.
"""

from __future__ import annotations

from .interfaces import ISamlServiceProvider


def public_url(request, path: str) -> str:
    """``ekn_saml.sp.public_base_url`` followed by ``path``.

    ``path`` is a path on the public host as the browser sees it: what
    ``request.route_path(...)`` and ``request.path_qs`` give (both already
    include ``request.script_name`` when the app is mounted under a prefix),
    a local path from the settings (``landing_path``, ``logged_out_path``)
    or a ``next`` target that passed :func:`~ekn_saml.safe_url.is_safe_local_path`.

    Raises ValueError for a ``path`` that does not start with ``/`` (appended
    to the base it could name another host): callers pass checked paths, so
    that is a bug, never user input.  It does **not** check that ``path`` is a
    safe redirect target otherwise; :func:`is_safe_local_path` does.
    """
    if not path.startswith("/"):
        raise ValueError(f"not a local path: {path[:64]!r}")
    return request.registry.getUtility(ISamlServiceProvider).settings.public_base_url + path


def public_route_url(request, route_name: str, **kw) -> str:
    """The absolute public URL of route ``route_name``: :func:`public_url` of ``request.route_path(route_name, **kw)``."""
    return public_url(request, request.route_path(route_name, **kw))


def login_url(request, next_path: str | None = None) -> str:
    """The absolute public URL of the login chooser, coming back to ``next_path`` after the login.

    For a host's forbidden view: ``HTTPFound(location=login_url(request,
    request.path_qs))``.  ``next_path`` is passed on as it is; the chooser
    drops it, and a login start refuses it, unless it is a safe local path
    (:func:`~ekn_saml.safe_url.is_acceptable_next`), so this does **not**
    check it.
    """
    return public_route_url(request, "saml.login", _query={"next": next_path} if next_path else {})
