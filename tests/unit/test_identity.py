# SPDX-License-Identifier: Apache-2.0
import datetime as dt
import json

import pytest

from ekn_saml.errors import ErrorCode, ResponseValidationError
from ekn_saml.identity import Identity, check_org_number, check_personal_number, luhn_ok, mask_personal_number


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


def _identity(**kw):
    base = dict(
        kind="person",
        method="bankid",
        idp="https://idp",
        loa="loa3",
        authn_instant=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        name_id="n",
        name_id_format="f",
        session_index="s",
        transaction_id=None,
        display_name="Anna",
        personal_number="198001012387",
    )
    base.update(kw)
    return Identity(**base)


def test_repr_never_shows_the_full_personal_number():
    assert "198001012387" not in repr(_identity())


def test_identity_round_trips_through_the_session_form():
    identity = _identity()
    assert Identity.from_dict(identity.to_dict()) == identity


def test_principals_carry_method_kind_loa_and_organisation():
    principals = _identity(
        kind="organisation", personal_number=None, org_number="5560000001", org_unique_id="u"
    ).principals
    assert {"ekn:method:bankid", "ekn:kind:organisation", "ekn:loa:loa3", "ekn:org:5560000001"} <= set(principals)


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


def _organisation(**kw):
    base = dict(
        kind="organisation",
        personal_number=None,
        org_number="5560000118",
        org_unique_id="b2",
        org_affiliations=(("a1", "5560000001"), ("b2", "5560000118")),
    )
    base.update(kw)
    return _identity(**base)


def test_organisation_identity_round_trips_through_json():
    # the session store keeps identities as JSON, which turns tuples into lists
    identity = _organisation()
    assert Identity.from_dict(json.loads(json.dumps(identity.to_dict()))) == identity


def test_organisation_session_written_before_org_affiliations_keeps_its_one_organisation():
    data = _organisation(org_affiliations=()).to_dict()
    del data["org_affiliations"]
    assert Identity.from_dict(data).org_affiliations == (("b2", "5560000118"),)


def test_person_session_written_before_org_affiliations_has_none():
    data = _identity().to_dict()
    del data["org_affiliations"]
    assert Identity.from_dict(data).org_affiliations == ()


def test_only_the_chosen_organisation_is_a_principal():
    principals = _organisation().principals
    assert "ekn:org:5560000118" in principals and "ekn:org:5560000001" not in principals
