# SPDX-License-Identifier: Apache-2.0
"""Security headers on every response.

A tween adds, unless the view already set them:

* a strict ``Content-Security-Policy`` (no inline script or style anywhere);
  ``form-action`` also lists the origins in
  ``registry.ekn_saml_form_action_origins`` and those the callable
  ``registry.ekn_saml_dynamic_form_action_origins`` gives at the time of the
  response (IdPs of refreshed metadata), because the HTTP-POST binding
  posts a form to the IdP and browsers apply ``form-action`` to that post and
  to redirects that follow a form post (logout to an IdP, for instance);
* ``Referrer-Policy``, ``X-Content-Type-Options``, ``X-Frame-Options``;
* ``Cache-Control: no-store`` on HTML (pages show personal data and one-time
  SAML messages);
* ``Strict-Transport-Security`` on HTTPS requests only.
"""

from __future__ import annotations

import functools
import re

from pyramid.tweens import EXCVIEW

from .errors import ConfigurationError

REGISTRY_ATTR = "ekn_saml_form_action_origins"
# a callable giving origins that may change while the app runs (IdP SSO
# endpoints from refreshed federation metadata); read on every response
DYNAMIC_REGISTRY_ATTR = "ekn_saml_dynamic_form_action_origins"

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
            [f"{REGISTRY_ATTR}: {origin} is not an origin (scheme://host[:port])" for origin in bad]
        )
    form_action = " ".join(["'self'", *dict.fromkeys(cleaned)])
    return _CSP_TEMPLATE.format(form_action=form_action)


def is_origin(value: str) -> bool:
    """Whether ``value`` is a bare ``scheme://host[:port]`` (http or https), safe to put in the policy."""
    return bool(_ORIGIN.match(value))


def _origins(registry) -> tuple[str, ...]:
    static = tuple(getattr(registry, REGISTRY_ATTR, None) or ())
    dynamic = getattr(registry, DYNAMIC_REGISTRY_ATTR, None)
    # the dynamic ones are origins already (is_origin), so they cannot make the policy raise
    return static + tuple(dynamic()) if dynamic is not None else static


def security_headers_tween_factory(handler, registry):
    """Wrap ``handler`` so every response carries the security headers."""
    # Built now so that a bad origin stops the app at startup.  The list is
    # read again per request (metadata refreshes may change it); the cache
    # makes that a dictionary lookup.
    content_security_policy(_origins(registry))

    def security_headers_tween(request):
        response = handler(request)
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


def includeme(config) -> None:
    """Add the security-headers tween above the exception view.

    Placing it over ``EXCVIEW`` means error pages rendered by exception views
    get the same headers as ordinary pages.
    """
    config.add_tween("ekn_saml.headers.security_headers_tween_factory", over=EXCVIEW)
