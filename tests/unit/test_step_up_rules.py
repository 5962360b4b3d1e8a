# SPDX-License-Identifier: Apache-2.0
"""The step-up pieces that need no app: freshness, PrincipalSelection values, and the stored records."""

from __future__ import annotations

import datetime as dt

import pytest

from ekn_saml.facts import OutstandingRequest
from ekn_saml.identity import (
    ORG_AFFILIATION,
    ORGANIZATION_IDENTIFIER,
    PERSONAL_IDENTITY_NUMBER,
    TRANSACTION_IDENTIFIER,
    Identity,
)
from ekn_saml.views.step_up import require_step_up, stepped_up_within

from testbed import person_identity

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def organisation_identity(**fields):
    return person_identity(
        None, kind="organisation", method="expisoft", org_number="5560000001", org_unique_id="stbj1006", **fields
    )


def test_never_stepped_up_is_not_recent():
    assert not stepped_up_within(person_identity(), 5, now=NOW)


def test_nobody_logged_in_is_not_recent():
    assert not stepped_up_within(None, 5, now=NOW)


def test_a_step_up_inside_the_window_is_recent():
    assert stepped_up_within(person_identity(stepped_up_at=NOW - dt.timedelta(minutes=4)), 5, now=NOW)


def test_a_step_up_outside_the_window_is_not_recent():
    assert not stepped_up_within(person_identity(stepped_up_at=NOW - dt.timedelta(minutes=6)), 5, now=NOW)


def test_a_step_up_far_in_the_future_is_not_trusted():
    assert not stepped_up_within(person_identity(stepped_up_at=NOW + dt.timedelta(minutes=10)), 5, now=NOW)


def test_require_step_up_needs_a_positive_window():
    with pytest.raises(ValueError):
        require_step_up(within_minutes=0)


def test_a_person_offers_the_personal_identity_number():
    names = (PERSONAL_IDENTITY_NUMBER,)
    assert person_identity("198001012387").match_values(names) == ((PERSONAL_IDENTITY_NUMBER, "198001012387"),)


def test_only_requested_names_are_offered():
    assert person_identity("198001012387").match_values((TRANSACTION_IDENTIFIER,)) == ()


def test_an_organisation_identity_offers_no_personal_identity_number():
    assert organisation_identity().match_values((PERSONAL_IDENTITY_NUMBER,)) == ()


def test_an_organisation_identity_offers_its_affiliation_and_organisation():
    values = organisation_identity().match_values((ORG_AFFILIATION, ORGANIZATION_IDENTIFIER))
    assert values == ((ORG_AFFILIATION, "stbj1006@5560000001"), (ORGANIZATION_IDENTIFIER, "5560000001"))


def test_the_step_up_instant_survives_the_session_store():
    identity = person_identity(stepped_up_at=NOW)
    assert Identity.from_dict(identity.to_dict()).stepped_up_at == NOW


def test_an_identity_that_never_stepped_up_is_stored_as_before():
    assert "stepped_up_at" not in person_identity().to_dict()


def test_the_step_up_subject_is_stored_with_the_request():
    request = OutstandingRequest(
        request_id="_r",
        method="bankid",
        idp_entity_id="i",
        loa=("l",),
        issued_at=1.0,
        browser="b",
        relay_state="s",
        step_up_subject="mac",
    )
    assert OutstandingRequest.from_dict("_r", request.to_dict()).step_up_subject == "mac"


def test_a_plain_request_stores_no_step_up_field():
    request = OutstandingRequest(
        request_id="_r", method="bankid", idp_entity_id="i", loa=("l",), issued_at=1.0, browser="b", relay_state="s"
    )
    assert "step_up_subject" not in request.to_dict()
