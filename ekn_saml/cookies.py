# SPDX-License-Identifier: Apache-2.0
"""The names of the plugin's own cookies: ``__Host-`` whenever they are Secure.

A browser keeps a cookie named ``__Host-…`` only if it came with ``Secure``,
``Path=/`` and no ``Domain``, from a secure origin.  So a sibling subdomain
(``evil.example.se`` next to ``ekn.example.se``) or a man in the middle on a
plain-http page of the same host cannot set or overwrite it: with the plain
names, a planted session or browser-binding cookie ("cookie tossing") made
login CSRF possible.

Without ``Secure`` (``ekn_saml.session.cookie_secure = false``, a plain-http
development set-up) a browser refuses the prefix, so the plain name is kept.
Every reader and writer of these cookies takes its name from here.

This module does **not** set cookies; the callers do, always with
``path="/"``, no domain, and ``secure`` as given here.
"""

from __future__ import annotations

HOST_PREFIX = "__Host-"
# the prefixes browsers give a meaning to: a configured name may not carry one,
# because whether it applies follows from cookie_secure
RESERVED_PREFIXES = (HOST_PREFIX, "__Secure-")

# the browser-binding cookie (ekn_saml.service.BrowserBinding): ties the IdP's
# answer to the browser that started the login
BROWSER_BINDING = "ekn_saml_req"


def cookie_name(name: str, *, secure: bool) -> str:
    """``__Host-<name>`` for a Secure cookie, ``name`` as it is otherwise."""
    return HOST_PREFIX + name if secure else name
