# SPDX-License-Identifier: Apache-2.0
"""EC §1.3 service matching, on the categories the two IdPs of the real test federation aggregate declare.

``sveleg-fedtest.xml`` (tests/data/metadata) holds ``https://idp.svelegtest.se/idp`` (loa3-pnr only)
and ``https://midp.svelegtest.se/idp`` (loa3-pnr, loa3-int, loa3-bext, loa2-basic and the service
property mobile-auth).  Contract shapes come from EC §5 and TAR §3.6.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ekn_saml.metadata.categories import ENTITY_CATEGORIES
from ekn_saml.metadata.idp import parse_idp_metadata
from ekn_saml.metadata.matching import (
    GENERAL,
    SERVICE_CONTRACT,
    SERVICE_ENTITY,
    SERVICE_PROPERTY,
    SERVICE_TYPE,
    category_type,
    mismatches,
)

PNR = ENTITY_CATEGORIES["loa3-pnr"]
ORGID = ENTITY_CATEGORIES["loa3-orgid"]
MOBILE = ENTITY_CATEGORIES["mobile-auth"]
PUBLIC = ENTITY_CATEGORIES["public-sector-sp"]
PREPAID = ENTITY_CATEGORIES["prepaid-auth-2021"]
SWEDEN_CONNECT = ENTITY_CATEGORIES["sweden-connect"]


@pytest.fixture(scope="module")
def federation(sveleg):
    # the aggregate's own validUntil lies in the past; the shapes are what matters here
    return parse_idp_metadata(sveleg, source="sveleg-fedtest.xml", now=dt.datetime(2015, 1, 1, tzinfo=dt.UTC))


@pytest.fixture(scope="module")
def idp(federation):
    return federation["https://idp.svelegtest.se/idp"].entity_categories


@pytest.fixture(scope="module")
def midp(federation):
    return federation["https://midp.svelegtest.se/idp"].entity_categories


@pytest.mark.parametrize(
    "uri, kind",
    [
        (PNR, SERVICE_ENTITY),
        (ORGID, SERVICE_ENTITY),
        (ENTITY_CATEGORIES["uncertified-loa3-pnr"], SERVICE_ENTITY),
        (MOBILE, SERVICE_PROPERTY),
        (PUBLIC, SERVICE_TYPE),
        (PREPAID, SERVICE_CONTRACT),
        ("http://id.swedenconnect.se/contract/Sunet/BankID-idp", SERVICE_CONTRACT),
        (ENTITY_CATEGORIES["supports-user-message"], GENERAL),
    ],
)
def test_each_category_has_its_type(uri, kind):
    assert category_type(uri) == kind


def test_an_sp_of_personal_identity_numbers_matches_both_idps(idp, midp):
    assert mismatches((PNR, PUBLIC), idp) == [] and mismatches((PNR, PUBLIC), midp) == []


def test_an_sp_of_organisation_identities_matches_neither(idp, midp):
    assert mismatches((ORGID,), idp) and mismatches((ORGID,), midp)


def test_one_shared_service_entity_category_is_enough(midp):
    assert mismatches((ORGID, PNR), midp) == []


def test_a_service_property_must_be_declared_by_the_idp(idp, midp):
    assert mismatches((PNR, MOBILE), midp) == []
    assert mismatches((PNR, MOBILE), idp) == [f"does not declare the SP's service properties {MOBILE}"]


def test_a_service_type_has_no_matching_rule(idp):
    assert mismatches((PNR, ENTITY_CATEGORIES["private-sector-sp"]), idp) == []


def test_an_idp_without_contracts_serves_every_sp(idp):
    assert mismatches((PNR, PREPAID), idp) == []


def test_an_idp_with_contracts_serves_an_sp_sharing_one(idp):
    assert mismatches((PNR, PREPAID), idp | {PREPAID, SWEDEN_CONNECT}) == []


def test_an_idp_with_contracts_refuses_an_sp_sharing_none(idp):
    reasons = mismatches((PNR, SWEDEN_CONNECT), idp | {PREPAID})
    assert len(reasons) == 1 and PREPAID in reasons[0]


def test_an_sp_without_service_entity_categories_has_no_entity_rule(midp):
    assert mismatches((PUBLIC,), midp) == []
