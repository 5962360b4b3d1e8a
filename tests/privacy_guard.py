# SPDX-License-Identifier: Apache-2.0
"""pytest plugin: no log line of the whole test run may carry a full personal identity number.

Registered by ``pytest_plugins = ["privacy_guard"]`` in tests/conftest.py.
When pytest starts, a handler goes on the root logger, and the ``ekn_saml``
loggers are set to DEBUG so that every line of ours (the INFO audit trail
included) is produced; other libraries keep their levels (root: WARNING), so
their debug chatter does not flood failure reports.  Every record the run
emits is formatted, traceback included, together with any ``extra``
fields, and checked as it is emitted.  A line fails the run if it holds:

* one of the test numbers (the development IdP's personas and the tests'
  ``PNR``) in any form: ``198001012387``, ``19800101-2387``, ``8001012387``,
  ``800101-2387``;
* the identifier part of a development IdP eIDAS persona's ``prid`` (and so
  the whole prid): it may be a foreign national number, masked as
  ``NO:0101809XXXX`` (:func:`ekn_saml.numbers.mask_prid`);
* or any 12-digit run (also ``YYYYMMDD-NNNN`` and ``YYYYMMDD+NNNN``) that is
  a plausible personnummer or samordningsnummer: a real date (day + 60 for
  a samordningsnummer, year 1870-2099) and a valid Luhn check digit.

Digits of any script count (fullwidth ``１９８０…``, Arabic-Indic ``١٩٨٠…``):
they are read as the ASCII digits they stand for.

The masked form ``YYYYMMDD-XXXX`` is what may be logged.  At the end of the
session any hit makes pytest exit non-zero and is reported with the number
itself masked (the report must not leak it either).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata

import pytest

from ekn_saml.numbers import luhn_ok

_FORMATTER = logging.Formatter("%(levelname)s %(name)s: %(message)s")
# attributes every LogRecord has; anything else came in through ``extra``
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
# \d, not [0-9]: fullwidth or Arabic-Indic digits spell the same number, and a
# log line must not carry it in those either (they are read as ASCII digits here)
_CANDIDATE = re.compile(r"(?<!\d)(\d{8})[-+]?(\d{4})(?!\d)")


def ascii_digits(text: str) -> str:
    """``text`` with every decimal digit of any script written as its ASCII digit."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)


def looks_like_personal_number(twelve: str) -> bool:
    """A 12-digit string with a real date (day + 60 allowed) and a valid check digit."""
    year, month, day = int(twelve[0:4]), int(twelve[4:6]), int(twelve[6:8])
    if day > 60:
        day -= 60
    if not 1870 <= year <= 2099:
        return False
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return luhn_ok(twelve[2:])


def known_test_numbers() -> frozenset[str]:
    """Every personal identity number the tests and the development IdP use."""
    from ekn_saml.devidp.personas import PERSONAS
    from ekn_saml.eidas import MAPPED_PERSONAL_IDENTITY_NUMBER
    from ekn_saml.identity import PERSONAL_IDENTITY_NUMBER

    numbers = {value for p in PERSONAS for value in p.attributes.get(PERSONAL_IDENTITY_NUMBER, [])}
    numbers |= {value for p in PERSONAS for value in p.attributes.get(MAPPED_PERSONAL_IDENTITY_NUMBER, [])}
    try:
        from acs_helpers import PNR

        numbers.add(PNR)
    except ImportError:  # pragma: no cover - run outside the test tree
        pass
    return frozenset(numbers)


def known_test_prids() -> frozenset[str]:
    """The identifier parts of the development IdP's eIDAS personas' prids (``CC:identifier``)."""
    from ekn_saml.devidp.personas import PERSONAS
    from ekn_saml.eidas import PRID

    return frozenset(value.partition(":")[2] for p in PERSONAS for value in p.attributes.get(PRID, []))


def _forms(number: str) -> tuple[str, ...]:
    return (number, f"{number[:8]}-{number[8:]}", number[2:], f"{number[2:8]}-{number[8:]}")


def mask_all(text: str) -> str:
    """``text`` with every 12-digit candidate shown as ``YYYYMMDD-XXXX`` (for the failure report)."""
    return _CANDIDATE.sub(lambda m: ascii_digits(m.group(1)) + "-XXXX", text)


class PersonalNumberFinder:
    """Finds full personal identity numbers in text (see the module docstring)."""

    def __init__(self, known: frozenset[str], prids: frozenset[str] = frozenset()) -> None:
        forms = sorted({form for number in known for form in _forms(number)} | prids, key=len, reverse=True)
        self._known = re.compile("(?<![0-9])(?:" + "|".join(map(re.escape, forms)) + ")(?![0-9])") if forms else None

    def find(self, text: str) -> list[str]:
        text = ascii_digits(text)
        hits = []
        if self._known is not None:
            hits += self._known.findall(text)
        hits += [
            m.group(1) + m.group(2)
            for m in _CANDIDATE.finditer(text)
            if looks_like_personal_number(m.group(1) + m.group(2))
        ]
        return hits


class PrivacyGuardHandler(logging.Handler):
    """Checks every record as it is emitted; keeps only the count and the offending lines."""

    def __init__(self, finder: PersonalNumberFinder) -> None:
        super().__init__(level=logging.DEBUG)
        self.finder = finder
        self.checked = 0
        self.leaks: list[str] = []

    def text_of(self, record: logging.LogRecord) -> str:
        text = _FORMATTER.format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        return f"{text} {extras!r}" if extras else text

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.text_of(record)
        except Exception:  # a record that cannot be formatted is logging's problem, not a leak
            self.handleError(record)
            return
        self.checked += 1
        if self.finder.find(text):
            self.leaks.append(mask_all(text)[:500])


_STATE: dict[str, object] = {}


def guard() -> PrivacyGuardHandler:
    """The session's handler (for tests of the guard itself)."""
    return _STATE["handler"]  # type: ignore[return-value]


def pytest_configure(config: pytest.Config) -> None:
    root = logging.getLogger()
    ours = logging.getLogger("ekn_saml")
    handler = PrivacyGuardHandler(PersonalNumberFinder(known_test_numbers(), known_test_prids()))
    _STATE.update(handler=handler, old_level=ours.level)
    root.addHandler(handler)
    # our INFO and DEBUG lines must be produced to be checked (root's default is WARNING)
    ours.setLevel(logging.DEBUG)


def pytest_unconfigure(config: pytest.Config) -> None:
    handler = _STATE.pop("handler", None)
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        logging.getLogger("ekn_saml").setLevel(_STATE.pop("old_level", logging.NOTSET))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    handler = _STATE.get("handler")
    if not isinstance(handler, PrivacyGuardHandler):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if handler.leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter is not None:
            reporter.write_sep("=", "privacy guard: full personal identity numbers in log lines", red=True)
            for line in handler.leaks[:20]:
                reporter.write_line(line)
            reporter.write_line(
                f"{len(handler.leaks)} of {handler.checked} log records hold a full number (shown masked)"
            )
    elif reporter is not None and session.config.option.verbose >= 0:
        reporter.write_line(
            f"privacy guard: {handler.checked} log records checked, none holds a full personal identity number"
        )
