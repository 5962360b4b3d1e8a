# SPDX-License-Identifier: Apache-2.0
"""Personal and organisation numbers: check digits, digits only, the masked form."""

import datetime as dt

import pytest

from ekn_saml.errors import ErrorCode, ResponseValidationError
from ekn_saml.numbers import check_org_number, check_personal_number, luhn_ok, mask_personal_number


def test_luhn_accepts_a_valid_number():
    assert luhn_ok("8001012387")


def test_luhn_refuses_a_wrong_check_digit():
    assert not luhn_ok("8001012388")


def test_personal_number_gives_the_date_of_birth():
    assert check_personal_number("198001012387", accept_coordination=False) == dt.date(1980, 1, 1)


@pytest.mark.parametrize("value", ["8001012387", "19800101-2387", "198013012385", "19800101238X"])
def test_malformed_personal_number_is_refused(value):
    with pytest.raises(ResponseValidationError) as caught:
        check_personal_number(value, accept_coordination=False)
    assert caught.value.code == ErrorCode.PERSONAL_NUMBER_INVALID


def test_org_number_needs_ten_digits():
    with pytest.raises(ResponseValidationError) as caught:
        check_org_number("556000-0001")
    assert caught.value.code == ErrorCode.ORG_NUMBER_INVALID


def test_mask_keeps_only_the_date():
    assert mask_personal_number("198001012387") == "19800101-XXXX"


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("digits", [FULLWIDTH, ARABIC_INDIC], ids=["fullwidth", "arabic-indic"])
def test_a_personal_number_in_other_digits_is_refused(digits):
    """int() reads them as the same number: accepted, one person would have two subjects."""
    with pytest.raises(ResponseValidationError) as caught:
        check_personal_number("198001012387".translate(digits), accept_coordination=False)
    assert caught.value.code == ErrorCode.PERSONAL_NUMBER_INVALID


@pytest.mark.parametrize("digits", [FULLWIDTH, ARABIC_INDIC], ids=["fullwidth", "arabic-indic"])
def test_an_organisation_number_in_other_digits_is_refused(digits):
    with pytest.raises(ResponseValidationError) as caught:
        check_org_number("5560000001".translate(digits))
    assert caught.value.code == ErrorCode.ORG_NUMBER_INVALID


def test_a_personal_number_with_a_line_break_after_it_is_refused():
    """``$`` in a pattern matches before a final line break; the whole value must be digits."""
    with pytest.raises(ResponseValidationError) as caught:
        check_personal_number("198001012387\n", accept_coordination=False)
    assert caught.value.code == ErrorCode.PERSONAL_NUMBER_INVALID


def test_an_organisation_number_with_a_line_break_after_it_is_refused():
    with pytest.raises(ResponseValidationError) as caught:
        check_org_number("5560000001\n")
    assert caught.value.code == ErrorCode.ORG_NUMBER_INVALID
