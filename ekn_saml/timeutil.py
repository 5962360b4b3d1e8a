# SPDX-License-Identifier: Apache-2.0
"""xs:dateTime in UTC, as SAML uses it."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def parse_instant(value: str) -> dt.datetime:
    """Parse a SAML instant; a value without a time zone is refused (ValueError)."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"instant {value!r} has no time zone")
    return parsed.astimezone(dt.UTC)


def format_instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
