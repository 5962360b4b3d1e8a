# SPDX-License-Identifier: Apache-2.0
"""The one check every redirect target passes (checklist 13)."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

# The longest ``next`` a login start takes: it is stored with every
# outstanding request (anonymous, for security.request_ttl), so it is kept
# well below what is_safe_local_path allows; deep links are far shorter.
MAX_NEXT_PATH = 512


def is_safe_local_path(target: str | None) -> bool:
    """True only for a plain local path such as ``/mina-sidor?tab=2``.

    We redirect only within this site, so anything with a scheme or a host
    is refused, as are the forms browsers turn into another host:

    * ``//evil`` and ``///evil`` (protocol-relative; browsers collapse slashes);
    * ``/\\evil`` and ``\\\\evil`` (browsers read a backslash as a slash);
    * ``https:%5c%5cevil`` and other percent-encoded slashes or backslashes
      right after the leading slash (decoded by some servers and proxies);
    * ``javascript:``, ``data:`` and any other scheme;
    * control characters and whitespace, which browsers strip (``/\\t/evil``);
    * any non-ASCII character: a URL is sent percent-encoded, and a raw one
      cannot go into a ``Location`` header (it made a 500, not a redirect);
    * over-long values (2,000 characters).
    It does **not** check that the path exists or that the user may see it.
    """
    if not target or len(target) > 2000:
        return False
    if not target.isascii():
        return False
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp") for ch in target):
        return False
    if "\\" in target:
        return False
    if not target.startswith("/") or target.startswith("//"):
        return False
    decoded = unquote(target)
    if decoded.startswith("//") or "\\" in decoded:
        return False
    # a second round of decoding catches %255c-style double encoding
    if unquote(decoded).startswith("//") or "\\" in unquote(decoded):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def is_acceptable_next(target: str | None) -> bool:
    """Whether ``target`` may be the ``next`` of a login start: a safe local path of at most :data:`MAX_NEXT_PATH` characters.

    The login start refuses any other (UNSAFE_REDIRECT); the chooser drops it.
    Like :func:`is_safe_local_path`, it does **not** check that the path exists.
    """
    return is_safe_local_path(target) and len(target) <= MAX_NEXT_PATH
