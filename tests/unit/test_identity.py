# SPDX-License-Identifier: Apache-2.0
import datetime as dt
import json

from ekn_saml.identity import Identity


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
