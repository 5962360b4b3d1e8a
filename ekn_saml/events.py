# SPDX-License-Identifier: Apache-2.0
"""Events a host app can subscribe to with ``config.add_subscriber``."""

from __future__ import annotations

from dataclasses import dataclass

from .identity import Identity


@dataclass(frozen=True)
class LoginSucceeded:
    """Notified after a login is checked and the session is made, before the redirect."""

    request: object
    identity: Identity


@dataclass(frozen=True)
class LogoutCompleted:
    """Notified after the local session is ended."""

    request: object
    identity: Identity | None
