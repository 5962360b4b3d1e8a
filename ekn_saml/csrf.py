# SPDX-License-Identifier: Apache-2.0
"""CSRF protection of the plugin's own forms (the logout), independent of the host's CSRF set-up.

Pyramid's ``require_csrf=True`` takes its token from the app's CSRF storage
policy, by default ``request.session``: in a host app that is the host's
session (maybe a signed cookie, maybe none at all), and the token in the
plugin's form would not be the one checked.  Its Origin check also trusts
the ``Host`` header, which the client chooses.  So the plugin's forms carry
a token from ekn_saml's own session and are checked here:

* the token (form field ``csrf_token`` or header ``X-CSRF-Token``) must equal
  the one in ``request.ekn_saml_session``, compared in constant time;
* the ``Origin`` header (else the ``Referer``'s origin) must be the origin of
  ``ekn_saml.sp.public_base_url``, never whatever ``Host`` says.  Without
  either header the request is refused when the public base is https (as
  Pyramid does on https); on a plain-http development base it passes.

The plugin's views that check here are registered with ``require_csrf=False``,
so that a host's default CSRF check (with its own token) does not refuse
the plugin's form first.  A failure raises Pyramid's own
``BadCSRFToken``/``BadCSRFOrigin``: the plugin's exception view for its
routes answers with ``EKN-WEB-003``.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken

from .interfaces import ISamlServiceProvider
from .session import REQUEST_ATTR

# names, not secrets (bandit's S105 reads "token" as a password)
TOKEN_FIELD = "csrf_token"  # noqa: S105
TOKEN_HEADER = "X-CSRF-Token"  # noqa: S105
_SESSION_TOKEN_KEY = "_csrft_"  # noqa: S105 - where StoreSession keeps its token


def csrf_token(request) -> str:
    """The CSRF token of the plugin's forms for ``request`` (made and stored in its ekn_saml session if new).

    Put it in a form that posts to a plugin route (``<input type="hidden"
    name="csrf_token">``), e.g. a logout button on a host page.  A new token
    makes the ekn_saml session a stored one; the plugin asks for it only when
    someone is logged in.  It is **not** the host's CSRF token.
    """
    return getattr(request, REQUEST_ATTR).get_csrf_token()


_DEFAULT_PORTS = {"https": 443, "http": 80}


def _origin_of(value: str) -> str | None:
    """``scheme://host[:port]`` of a URL, lower-cased, without the scheme's default port; ``None`` if it has none."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:  # a port that is not a number
        return None
    if not parts.scheme or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname  # lower-cased by urlsplit
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{scheme}://{host}:{port}"


def check_origin(request) -> None:
    """Raise ``BadCSRFOrigin`` unless the request's Origin (else Referer) is ``ekn_saml.sp.public_base_url``'s.

    Compared with the configured public base, not with ``Host``: behind a
    proxy that passes ``Host`` on, an attacker's site sending
    ``Host: evil.example`` and ``Origin: https://evil.example`` must not pass.
    Does **not** look at the token.
    """
    public_base = request.registry.getUtility(ISamlServiceProvider).settings.public_base_url
    origin = request.headers.get("Origin")
    if origin is not None:
        # proxies may append: the last value is the one closest to us (as Pyramid reads it)
        origin = origin.split(" ")[-1]
    else:
        origin = request.referrer
    if not origin:
        if public_base.startswith("https://"):
            raise BadCSRFOrigin("Origin checking failed - no Origin or Referer on an https base")
        return
    if _origin_of(origin) != _origin_of(public_base):
        raise BadCSRFOrigin("Origin checking failed - not the public base URL's origin")


def check_token(request) -> None:
    """Raise ``BadCSRFToken`` unless the request carries the token of its ekn_saml session.

    A session without a token (nobody logged in, or a new session) never
    matches: no token is made here.  Does **not** look at the origin.
    """
    expected = getattr(request, REQUEST_ATTR).get(_SESSION_TOKEN_KEY)
    supplied = request.POST.get(TOKEN_FIELD) or request.headers.get(TOKEN_HEADER) or ""
    if not expected or not secrets.compare_digest(supplied.encode(), str(expected).encode()):
        raise BadCSRFToken("the plugin's CSRF token is missing or wrong")


def check_plugin_form(request) -> None:
    """The plugin's check of an unsafe request to one of its forms: the origin, then the token."""
    check_origin(request)
    check_token(request)
