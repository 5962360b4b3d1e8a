# SPDX-License-Identifier: Apache-2.0
"""What every ``ekn-saml`` command shares: exit codes, the error that stops a command, terminal output,
and reading the app's ini file and settings the way the app does."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TextIO

from ..credentials import SpCredentials, load_profile_credentials
from ..errors import ConfigurationError
from ..settings import DEFAULT_SP_PROFILE, SamlSettings, SpProfile, parse_settings

OK, PROBLEMS, USAGE = 0, 1, 2


class CommandError(Exception):
    """Stop the command with an exit code and a message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class Out:
    """stderr messages, with a one-line progress display on a terminal."""

    def __init__(self, stream: TextIO, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self._progress_shown = False

    def say(self, message: str) -> None:
        self._end_progress()
        if not self.quiet:
            print(message, file=self.stream)

    def error(self, message: str) -> None:
        self._end_progress()
        print(f"error: {message}", file=self.stream)

    def progress(self, text: str) -> None:
        if self.quiet or not self.tty:
            return
        print("\r" + text.ljust(60), end="", file=self.stream, flush=True)
        self._progress_shown = True

    def _end_progress(self) -> None:
        if self._progress_shown:
            print(file=self.stream)
            self._progress_shown = False


def megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def progress_printer(out: Out) -> Callable[[int, int | None], None]:
    """A download's progress (bytes so far, of how many if known) as one terminal line."""

    def show(size: int, total: int | None) -> None:
        out.progress(
            f"downloading {megabytes(size)}" + (f" of {megabytes(total)} ({100 * size // total}%)" if total else "")
        )

    return show


def read_ini(config_uri: str) -> dict:
    """The ``[app:main]`` settings of ``config_uri``; a usage error if it cannot be read."""
    from pyramid.paster import get_appsettings

    path = config_uri.split("#", 1)[0]
    if not os.path.isfile(path):
        raise CommandError(USAGE, f"{path}: no such ini file")
    try:
        return dict(get_appsettings(config_uri))
    except Exception as exc:  # noqa: BLE001 - any paste/ini failure is a usage error with its message
        raise CommandError(
            USAGE, f"{config_uri}: cannot read the [app:main] section ({exc.__class__.__name__}: {exc})"
        ) from None


def load_settings(config_uri: str) -> SamlSettings:
    """The app's settings, parsed as the app parses them; a usage error listing every problem."""
    try:
        return parse_settings(read_ini(config_uri))
    except ConfigurationError as exc:
        raise CommandError(USAGE, "invalid configuration:\n  - " + "\n  - ".join(exc.problems)) from None


def profile_credentials(settings: SamlSettings) -> dict[str, SpCredentials]:
    """Every SP profile's keys by profile name, each checked against its certificate."""
    creds, problems = load_profile_credentials(settings)
    if problems:
        raise CommandError(USAGE, "the SP keys cannot be used:\n  - " + "\n  - ".join(problems))
    return creds


def chosen_profile(settings: SamlSettings, name: str | None) -> SpProfile:
    """The SP profile ``--profile`` names (default: the default profile); a usage error for another name."""
    profile = settings.sp_profile(name or DEFAULT_SP_PROFILE)
    if profile is None:
        known = ", ".join(p.name for p in settings.sp_profiles)
        raise CommandError(USAGE, f"no SP profile {name!r}; the profiles are: {known}")
    return profile


def profile_label(profile: SpProfile) -> str:
    """How a report line names an SP profile: nothing for the default one (as before there were several)."""
    return "" if profile.is_default else f"SP profile {profile.name}: "
