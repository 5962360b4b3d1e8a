# SPDX-License-Identifier: Apache-2.0
"""Reading raw ``ekn_saml.*`` values: the :class:`Reader` that collects problems, and value checks the rules share."""

from __future__ import annotations

import builtins
from typing import Any
from urllib.parse import urlsplit

from pyramid.settings import asbool, aslist

from .model import PREFIX


class Reader:
    """Reads ``ekn_saml.*`` values, collecting problems instead of stopping at the first.

    ``raw`` holds the keys without their ``ekn_saml.`` prefix.  Each reading
    method returns the value, or ``default`` (after recording the problem)
    when the value is missing or bad; :attr:`problems` is the report.
    """

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.problems: list[str] = []

    def str(self, key: builtins.str, default: builtins.str | None = None) -> builtins.str:
        value = self.raw.get(key)
        if value is None or str(value).strip() == "":
            if default is None:
                self.problems.append(f"{PREFIX}{key} is required")
                return ""
            return default
        return str(value).strip()

    def bool(self, key: builtins.str, default: builtins.bool) -> builtins.bool:
        value = self.raw.get(key)
        if value is None:
            return default
        text = str(value).strip().lower()
        if text not in ("true", "false", "yes", "no", "on", "off", "1", "0"):
            self.problems.append(f"{PREFIX}{key} must be true or false, not {value!r}")
            return default
        return asbool(text)

    def int(self, key: builtins.str, default: builtins.int, low: builtins.int, high: builtins.int) -> builtins.int:
        value = self.raw.get(key)
        if value is None:
            return default
        try:
            number = int(str(value).strip())
        except ValueError:
            self.problems.append(f"{PREFIX}{key} must be a whole number, not {value!r}")
            return default
        if not low <= number <= high:
            self.problems.append(f"{PREFIX}{key} must be between {low} and {high}, not {number}")
            return default
        return number

    def list(self, key: builtins.str, default: tuple[builtins.str, ...] = ()) -> tuple[builtins.str, ...]:
        value = self.raw.get(key)
        if value is None:
            return default
        return tuple(aslist(value, flatten=True))

    def choice(self, key: builtins.str, default: builtins.str, choices: tuple[builtins.str, ...]) -> builtins.str:
        value = self.str(key, default)
        if value not in choices:
            self.problems.append(f"{PREFIX}{key} must be one of {', '.join(choices)}, not {value!r}")
            return default
        return value

    def check(self, ok: builtins.bool, message: builtins.str) -> None:
        if not ok:
            self.problems.append(message)


def is_absolute_uri(value: str) -> bool:
    """Whether ``value`` is an absolute URI: a scheme and a host, or a URN."""
    parts = urlsplit(value)
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme == "urn")


def base_url_problem(key: str, value: str) -> str | None:
    """What is wrong with ``value`` as a base URL (http(s), a host, no path, query or fragment); ``None`` if nothing."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{PREFIX}{key} must be an http(s) URL, not {value!r}"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return f"{PREFIX}{key} must have no path, query or fragment: {value!r}"
    return None


def local_path_problem(key: str, value: str) -> str | None:
    """What is wrong with ``value`` as a local redirect path; ``None`` if nothing.  The safe-URL rule is stricter."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return f"{PREFIX}{key} must be a local path starting with a single '/', not {value!r}"
    return None


def quiet_bool(raw: dict[str, Any], key: str) -> bool:
    """A boolean another part of the parser reports on; read here without a second report."""
    return str(raw.get(key, "")).strip().lower() in ("true", "yes", "on", "1")


def http_url_problem(key: str, value: str) -> str | None:
    """What is wrong with ``value`` as an http(s) URL with a host; ``None`` if nothing."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{PREFIX}{key} must be an http(s) URL, not {value!r}"
    return None


def per_language(r: Reader, stem: str, inherited: tuple[tuple[str, str], ...] = ()) -> tuple[tuple[str, str], ...]:
    """``<stem>.sv`` and ``<stem>.en``; English falls back to Swedish, both to ``inherited`` when neither is set."""
    given = dict(inherited)
    sv = r.str(f"{stem}.sv", given.get("sv", ""))
    en = r.str(f"{stem}.en", sv if r.raw.get(f"{stem}.sv") else given.get("en", ""))
    return tuple((lang, text) for lang, text in (("sv", sv), ("en", en)) if text)
