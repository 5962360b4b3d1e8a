# SPDX-License-Identifier: Apache-2.0
"""Security headers: on the plugin's own responses always, on every response of the app by opt-in.

A tween adds, unless the view already set them:

* a strict ``Content-Security-Policy`` (no inline script or style anywhere);
  ``form-action`` also lists the origins the registered
  :class:`~ekn_saml.interfaces.IFormActionOrigins` gives at the time of the
  response (the public base, the development IdP, IdPs of refreshed
  metadata), because the HTTP-POST binding posts a form to the IdP and
  browsers apply ``form-action`` to that post and to redirects that follow
  a form post (logout to an IdP, for instance);
* ``Referrer-Policy``, ``X-Content-Type-Options``, ``X-Frame-Options``;
* ``Cache-Control: no-store`` on HTML (pages show personal data and one-time
  SAML messages);
* ``Strict-Transport-Security`` on HTTPS requests only.

Two tweens, one function: ``config.include("ekn_saml")`` adds
:func:`plugin_security_headers_tween_factory`, which sets them on the
plugin's responses only (its routes and static files, and its error pages
wherever a :class:`~ekn_saml.errors.SamlError` is raised), so a host's own
pages keep the host's headers.  ``config.include("ekn_saml.headers")`` (part
of the opt-in ``ekn_saml.host_wide``, as the demo does) adds
:func:`security_headers_tween_factory`, which sets them on every response.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from pyramid.tweens import EXCVIEW
from zope.interface import implementer

from .errors import ConfigurationError, SamlError
from .interfaces import IFormActionOrigins
from .routes import is_plugin_route

_CSP_TEMPLATE = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action {form_action}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

# scheme://host[:port] and nothing else: a space, ';' or ',' would let a
# setting add sources or whole directives to the policy.
_ORIGIN = re.compile(r"^https?://(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")

_STATIC_HEADERS = (
    ("Referrer-Policy", "same-origin"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
)
HSTS = "max-age=31536000"


@functools.lru_cache(maxsize=32)
def content_security_policy(origins: tuple[str, ...] = ()) -> str:
    """The policy, with ``origins`` allowed as form targets besides ``'self'``.

    Raises :class:`~ekn_saml.errors.ConfigurationError` listing every origin
    that is not a bare ``scheme://host[:port]``.
    """
    cleaned = [origin.rstrip("/") for origin in origins]
    bad = [repr(origin) for origin, clean in zip(origins, cleaned, strict=False) if not _ORIGIN.match(clean)]
    if bad:
        raise ConfigurationError(
            [f"form-action origin {origin} is not an origin (scheme://host[:port])" for origin in bad]
        )
    form_action = " ".join(["'self'", *dict.fromkeys(cleaned)])
    return _CSP_TEMPLATE.format(form_action=form_action)


def is_origin(value: str) -> bool:
    """Whether ``value`` is a bare ``scheme://host[:port]`` (http or https), safe to put in the policy."""
    return bool(_ORIGIN.match(value))


@implementer(IFormActionOrigins)
class FormActionOrigins:
    """Fixed origins (from the settings) plus, optionally, a callable giving those that change while the app runs.

    The callable's (IdP SSO endpoints from refreshed federation metadata)
    must be bare origins already (:func:`is_origin`), so they cannot make
    the policy raise once the app runs; the fixed ones are checked when the
    tween is made, at startup.
    """

    def __init__(self, fixed: Iterable[str] = (), dynamic: Callable[[], Iterable[str]] | None = None) -> None:
        self._fixed = tuple(fixed)
        self._dynamic = dynamic

    def origins(self) -> tuple[str, ...]:
        return self._fixed + tuple(self._dynamic()) if self._dynamic is not None else self._fixed


def _origins(registry) -> tuple[str, ...]:
    # none registered (the tween without the plugin's services): form-action 'self' only
    source = registry.queryUtility(IFormActionOrigins)
    return source.origins() if source is not None else ()


def is_plugin_response(request) -> bool:
    """Whether the response to ``request`` is the plugin's: one of its routes, or its page for a SamlError.

    The exception is read after the exception view ran (the tweens that
    call this sit over ``EXCVIEW``): a host page that raised a SamlError
    (the store down while reading the login) gets the plugin's error page,
    and with it the plugin's headers.
    """
    return is_plugin_route(request) or isinstance(getattr(request, "exception", None), SamlError)


def _headers_tween(handler, registry, applies: Callable[[object], bool]):
    # Built now so that a bad origin stops the app at startup.  The list is
    # read again per request (metadata refreshes may change it); the cache
    # makes that a dictionary lookup.
    content_security_policy(_origins(registry))

    def security_headers_tween(request):
        response = handler(request)
        if not applies(request):
            return response
        headers = response.headers
        headers.setdefault("Content-Security-Policy", content_security_policy(_origins(registry)))
        for name, value in _STATIC_HEADERS:
            headers.setdefault(name, value)
        if response.content_type == "text/html":
            headers.setdefault("Cache-Control", "no-store")
        if request.scheme == "https":
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    return security_headers_tween


def security_headers_tween_factory(handler, registry):
    """Wrap ``handler`` so every response of the app carries the security headers (the host-wide opt-in)."""
    return _headers_tween(handler, registry, lambda request: True)


def plugin_security_headers_tween_factory(handler, registry):
    """Wrap ``handler`` so the plugin's responses (:func:`is_plugin_response`) carry the security headers."""
    return _headers_tween(handler, registry, is_plugin_response)


def add_plugin_tween(config) -> None:
    """Add the tween of the plugin's own responses (``config.include("ekn_saml")`` calls it)."""
    # over EXCVIEW: error pages rendered by exception views get the headers too
    config.add_tween("ekn_saml.headers.plugin_security_headers_tween_factory", over=EXCVIEW)


def includeme(config) -> None:
    """Opt-in, host-wide: add the security-headers tween for every response of the app.

    Part of ``ekn_saml.host_wide`` (the demo takes it).  Placed over
    ``EXCVIEW``, so error pages rendered by exception views get the same
    headers as ordinary pages.  Without it only the plugin's responses get
    them (:func:`add_plugin_tween`).
    """
    config.add_tween("ekn_saml.headers.security_headers_tween_factory", over=EXCVIEW)
