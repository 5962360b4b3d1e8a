# SPDX-License-Identifier: Apache-2.0
"""Swedish personal and organisation numbers: their checks, and the masked form logs and pages may show.

Kept apart from :mod:`ekn_saml.identity` because the settings check the SP's
own organisation number with the same rule, and the audit trail masks with
the same function: neither should need the ACS to do it.
"""

from __future__ import annotations

import datetime as dt
import re

from .errors import ErrorCode, ResponseValidationError

# [0-9], not \d: \d also matches fullwidth and Arabic-Indic digits, which int() reads as
# the same number, so one person would get two different subjects
_PNR = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})([0-9]{4})")
_ORGNR = re.compile(r"[0-9]{10}")


def luhn_ok(digits: str) -> bool:
    """The Luhn check Swedish personal and organisation numbers use (on 10 digits).

    Does **not** check that ``digits`` are ASCII digits: callers match them first.
    """
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def check_personal_number(value: str, *, accept_coordination: bool) -> dt.date:
    """Validate a 12-digit personnummer (SKV 704) or samordningsnummer (SKV 707, day + 60).

    Returns the date of birth.  Does **not** check that the number exists.
    """
    match = _PNR.fullmatch(value)
    if not match:
        raise ResponseValidationError(ErrorCode.PERSONAL_NUMBER_INVALID, "personalIdentityNumber is not 12 digits")
    year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
    coordination = day > 60
    if coordination:
        day -= 60
    try:
        born = dt.date(year, month, day)
    except ValueError:
        raise ResponseValidationError(
            ErrorCode.PERSONAL_NUMBER_INVALID, "personalIdentityNumber has no valid date"
        ) from None
    if not luhn_ok(value[2:]):
        raise ResponseValidationError(ErrorCode.PERSONAL_NUMBER_INVALID, "personalIdentityNumber check digit is wrong")
    if coordination and not accept_coordination:
        raise ResponseValidationError(
            ErrorCode.COORDINATION_NUMBER_NOT_ACCEPTED, "a samordningsnummer was given and is not accepted"
        )
    return born


def check_org_number(value: str) -> str:
    """Validate a 10-digit organisationsnummer (SKV 709) with its check digit."""
    if not _ORGNR.fullmatch(value) or not luhn_ok(value):
        raise ResponseValidationError(
            ErrorCode.ORG_NUMBER_INVALID, "organisation number is not 10 digits with a valid check digit"
        )
    return value


def mask_personal_number(value: str | None) -> str | None:
    """``YYYYMMDD-XXXX``: the form allowed in logs and pages."""
    if not value:
        return None
    return f"{value[:8]}-XXXX" if len(value) == 12 else "XXXXXXXX-XXXX"


def mask_prid(value: str | None) -> str | None:
    """An eIDAS prid as logs and pages may show it: ``NO:2907853XXXX``.

    Masked as a personal identity number is: its last four characters
    hidden, which in a Nordic number (often the identifier part) are the
    individual digits and the check digit.  The country stays.
    """
    if not value:
        return None
    country, _, ident = value.partition(":")
    return f"{country}:{ident[:-4]}XXXX" if len(ident) > 4 else f"{country}:XXXX"
