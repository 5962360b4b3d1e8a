# SPDX-License-Identifier: Apache-2.0
"""Foreign e-IDs through the Swedish eIDAS connector (ekn_saml.eidas): really signed and encrypted responses.

The connector here is the test federation's OTHER_IDP: what matters is that
the eidas method's requests go to it and its answers pass every ACS check.
"""

from __future__ import annotations

import base64
import json
import logging
import zlib
from urllib.parse import parse_qsl, urlsplit

import pytest
from lxml import etree

from ekn_saml.audit import identity_fields
from ekn_saml.constants import EIDAS_NF_HIGH, EIDAS_NF_SUB
from ekn_saml.demo import main
from ekn_saml.devidp.personas import personas_for
from ekn_saml.eidas import (
    BINDING_PROCESSES,
    COUNTRY,
    MAPPED_PERSONAL_IDENTITY_NUMBER,
    PERSONAL_IDENTITY_NUMBER_BINDING,
    PRID,
    PRID_PERSISTENCE,
)
from ekn_saml.errors import ErrorCode
from ekn_saml.identity import Identity
from ekn_saml.interfaces import ISamlServiceProvider
from ekn_saml.numbers import mask_prid
from ekn_saml.xmlsecurity import NS, saml_schema

from acs_helpers import assert_rejected, begin, finish, spec_for
from testbed import OTHER_IDP

CONNECTOR = OTHER_IDP
EIDAS_LOW = "http://id.elegnamnden.se/loa/1.0/eidas-low"  # also non-notified schemes: never asked for
POPULATION_REGISTER = BINDING_PROCESSES["populationregister"]
SWEDISH_EID = BINDING_PROCESSES["swedish-eid"]
PERSONAS = {p.id: p for p in personas_for("eidas")}


def _sp(app_settings, **extra):
    settings = {
        **app_settings,
        "ekn_saml.methods": "mobilt_bankid bankid expisoft eidas",
        "ekn_saml.method.eidas.idp": CONNECTOR,
        **{"ekn_saml." + key.replace("__", "."): value for key, value in extra.items()},
    }
    return main({}, **settings).registry.getUtility(ISamlServiceProvider)


@pytest.fixture
def sp(app_settings):
    return _sp(app_settings)


@pytest.fixture
def factory(response_factory):
    return response_factory


def _answer(login, persona="ola", **overrides):
    """The connector's answer for a development persona; ``attributes`` edits: None removes one."""
    chosen = PERSONAS[persona]
    attributes = {name: list(values) for name, values in chosen.attributes.items()}
    for name, value in overrides.pop("edit", {}).items():
        if value is None:
            attributes.pop(name, None)
        else:
            attributes[name] = value
    return spec_for(login, **{"issuer": CONNECTOR, "loa": chosen.loa, "attributes": attributes, **overrides})


def _login(sp, factory, persona="ola", **overrides):
    login = begin(sp, "eidas")
    return finish(sp, factory, login, _answer(login, persona, **overrides))[0]


# ------------------------------------------------------------ the identity


@pytest.mark.parametrize(
    ("persona", "country", "prid", "persistence"),
    [
        ("lena", "DE", "DE:4f2a9c81d07e3b56", "C"),
        ("ola", "NO", "NO:01018099887", "A"),
        ("marie", "FR", "FR:fr-7730-2291-5468", "B"),
    ],
)
def test_each_connector_persona_logs_in_as_a_foreign_person(sp, factory, persona, country, prid, persistence):
    identity = _login(sp, factory, persona)
    assert (identity.kind, identity.country, identity.prid, identity.prid_persistence) == (
        "foreign_person",
        country,
        prid,
        persistence,
    )


def test_the_foreign_person_carries_names_and_date_of_birth(sp, factory):
    identity = _login(sp, factory, "lena")
    assert (identity.given_name, identity.surname, identity.display_name, identity.date_of_birth) == (
        "Lena",
        "Schneider",
        "Lena Schneider",
        "1984-06-02",
    )


def test_the_foreign_person_is_keyed_on_the_prid(sp, factory):
    assert _login(sp, factory, "ola").subject == "prid:NO:01018099887"


def test_the_same_prid_under_another_name_is_the_same_subject(sp, factory):
    """Keyed on prid, never on the name: a changed surname is the same person."""
    renamed = _login(sp, factory, "ola", edit={"urn:oid:2.5.4.4": ["Nordmann-Hansen"]})
    assert renamed.subject == _login(sp, factory, "ola").subject


def test_principals_name_the_kind_and_the_country(sp, factory):
    principals = _login(sp, factory, "marie").principals
    assert {"ekn:kind:foreign_person", "ekn:country:FR", "ekn:method:eidas"} <= set(principals)


def test_the_foreign_person_has_no_personal_identity_number(sp, factory):
    assert _login(sp, factory, "lena").personal_number is None


def test_an_upper_case_prid_identifier_is_matched_case_insensitively(sp, factory):
    """CONSTR §2.1: upper-case letters are matched as lower-case ones."""
    identity = _login(sp, factory, "lena", edit={PRID: ["DE:4F2A9C81D07E3B56"]})
    assert identity.prid == "DE:4f2a9c81d07e3b56"


def test_the_identity_survives_the_session_store(sp, factory):
    identity = _login(sp, factory, "ola", edit={})
    assert Identity.from_dict(json.loads(json.dumps(identity.to_dict()))) == identity


# ------------------------------------------------------------ refusals


def test_an_assertion_without_prid_is_refused(sp, factory):
    login = begin(sp, "eidas")
    assert_rejected(ErrorCode.PRID_MISSING, sp, factory, login, _answer(login, edit={PRID: None}))


def test_a_loa_that_was_not_requested_is_refused(sp, factory):
    """eidas-low admits non-notified schemes; only the notified levels asked for pass (exact)."""
    login = begin(sp, "eidas")
    assert_rejected(ErrorCode.LOA_NOT_REQUESTED, sp, factory, login, _answer(login, loa=EIDAS_LOW))


def test_a_swedish_loa_from_the_connector_is_refused(sp, factory):
    login = begin(sp, "eidas")
    assert_rejected(
        ErrorCode.LOA_NOT_REQUESTED, sp, factory, login, _answer(login, loa="http://id.elegnamnden.se/loa/1.0/loa3")
    )


@pytest.mark.parametrize("prid", ["NO:1234", "no:01018099887", "NO01018099887", "NO:-1018099887", "NO:1-2-3-4-5-6"])
def test_a_malformed_prid_is_refused(sp, factory, prid):
    login = begin(sp, "eidas")
    assert_rejected(ErrorCode.ATTRIBUTE_VALUE_MALFORMED, sp, factory, login, _answer(login, edit={PRID: [prid]}))


def test_a_prid_of_another_country_than_c_is_refused(sp, factory):
    login = begin(sp, "eidas")
    assert_rejected(ErrorCode.ATTRIBUTE_VALUE_MALFORMED, sp, factory, login, _answer(login, edit={COUNTRY: ["DK"]}))


def test_an_unknown_prid_persistence_is_refused(sp, factory):
    login = begin(sp, "eidas")
    assert_rejected(
        ErrorCode.ATTRIBUTE_VALUE_MALFORMED, sp, factory, login, _answer(login, edit={PRID_PERSISTENCE: ["D"]})
    )


def test_a_missing_prid_persistence_is_refused(sp, factory):
    login = begin(sp, "eidas")
    assert_rejected(ErrorCode.ATTRIBUTE_MISSING, sp, factory, login, _answer(login, edit={PRID_PERSISTENCE: None}))


def test_a_missing_date_of_birth_is_refused(sp, factory):
    login = begin(sp, "eidas")
    assert_rejected(
        ErrorCode.ATTRIBUTE_MISSING, sp, factory, login, _answer(login, edit={"urn:oid:1.3.6.1.5.5.7.9.1": None})
    )


def test_a_malformed_date_of_birth_is_refused(sp, factory):
    login = begin(sp, "eidas")
    spec = _answer(login, edit={"urn:oid:1.3.6.1.5.5.7.9.1": ["15/03/1979"]})
    assert_rejected(ErrorCode.ATTRIBUTE_VALUE_MALFORMED, sp, factory, login, spec)


# ------------------------------------------------------------ the mapped personal identity number


def test_a_mapped_number_under_no_accepted_binding_is_dropped(sp, factory):
    """The default accepts no binding: ATTR §3.3.2 "SHOULD NOT use" it, the login itself stands."""
    identity = _login(sp, factory, "ola")
    assert (identity.mapped_personal_number, identity.mapped_number_dropped) == (None, True)


def test_a_mapped_number_under_an_accepted_binding_is_kept(app_settings, factory):
    sp = _sp(app_settings, eidas__mapped_number_bindings="populationregister")
    identity = _login(sp, factory, "ola")
    assert (identity.mapped_personal_number, identity.personal_number_binding) == (
        "197903150006",
        (POPULATION_REGISTER,),
    )


def test_one_accepted_process_of_several_is_enough(app_settings, factory):
    sp = _sp(app_settings, eidas__mapped_number_bindings="swedish-eid")
    binding = f"{POPULATION_REGISTER};{SWEDISH_EID}"
    identity = _login(sp, factory, "ola", edit={PERSONAL_IDENTITY_NUMBER_BINDING: [binding]})
    assert identity.mapped_personal_number == "197903150006"


def test_another_binding_than_the_accepted_one_drops_the_number(app_settings, factory):
    sp = _sp(app_settings, eidas__mapped_number_bindings="swedish-eid")
    assert _login(sp, factory, "ola").mapped_personal_number is None


def test_a_mapped_number_without_a_binding_is_dropped(app_settings, factory):
    sp = _sp(app_settings, eidas__mapped_number_bindings="populationregister")
    identity = _login(sp, factory, "ola", edit={PERSONAL_IDENTITY_NUMBER_BINDING: None})
    assert (identity.mapped_personal_number, identity.mapped_number_dropped) == (None, True)


def test_a_kept_mapped_number_is_not_the_identitys_key(app_settings, factory):
    sp = _sp(app_settings, eidas__mapped_number_bindings="populationregister")
    identity = _login(sp, factory, "ola")
    assert (identity.subject, identity.personal_number) == ("prid:NO:01018099887", None)


def test_a_mapped_coordination_number_is_refused_unless_accepted(app_settings, factory):
    """EC §2.2.1 note, §6.2: a samordningsnummer only to an SP that accepts coordination numbers."""
    sp = _sp(app_settings, eidas__mapped_number_bindings="populationregister")
    login = begin(sp, "eidas")
    spec = _answer(login, edit={MAPPED_PERSONAL_IDENTITY_NUMBER: ["199003652386"]})
    assert_rejected(ErrorCode.COORDINATION_NUMBER_NOT_ACCEPTED, sp, factory, login, spec)


def test_a_malformed_accepted_mapped_number_is_refused(app_settings, factory):
    sp = _sp(app_settings, eidas__mapped_number_bindings="populationregister")
    login = begin(sp, "eidas")
    spec = _answer(login, edit={MAPPED_PERSONAL_IDENTITY_NUMBER: ["197903150007"]})  # wrong check digit
    assert_rejected(ErrorCode.PERSONAL_NUMBER_INVALID, sp, factory, login, spec)


# ------------------------------------------------------------ the request and the logs


def _authn_request(start):
    query = dict(parse_qsl(urlsplit(start.url).query))
    return etree.fromstring(zlib.decompress(base64.b64decode(query["SAMLRequest"]), -15))


def test_the_authn_request_asks_for_the_notified_levels_exactly(sp):
    binding = sp.browser_binding(None)
    request = _authn_request(sp.start_login("eidas", None, binding.token))
    context = request.find("samlp:RequestedAuthnContext", NS)
    refs = [ref.text for ref in context.findall("saml:AuthnContextClassRef", NS)]
    assert (context.get("Comparison"), refs) == ("exact", [EIDAS_NF_SUB, EIDAS_NF_HIGH])


def test_the_authn_request_goes_to_the_connector(sp):
    binding = sp.browser_binding(None)
    start = sp.start_login("eidas", None, binding.token)
    assert start.url.startswith("https://idp.example.test/sso?")


def test_the_audit_fields_mask_the_prid(sp, factory):
    fields = identity_fields(_login(sp, factory, "ola"))
    assert (fields["prid"], fields["country"], fields["prid_persistence"]) == ("NO:0101809XXXX", "NO", "A")


def test_the_audit_fields_carry_no_unmasked_identifier(sp, factory):
    text = json.dumps(identity_fields(_login(sp, factory, "ola")))
    assert "01018099887" not in text and "197903150006" not in text


def test_the_audit_fields_say_a_mapped_number_was_dropped(sp, factory):
    assert identity_fields(_login(sp, factory, "ola"))["mapped_number_dropped"] is True


def test_no_log_line_of_a_foreign_login_holds_the_prid(sp, factory, caplog):
    with caplog.at_level(logging.DEBUG, logger="ekn_saml"):
        _login(sp, factory, "ola")
    assert "01018099887" not in caplog.text


def test_the_repr_shows_the_prid_masked(sp, factory):
    assert "prid:NO:0101809XXXX" in repr(_login(sp, factory, "ola"))


@pytest.mark.parametrize(
    ("prid", "masked"),
    [("NO:01018099887", "NO:0101809XXXX"), ("DK:09208-2002-2-194967071622", "DK:09208-2002-2-19496707XXXX")],
)
def test_a_prid_is_masked_like_a_personal_number(prid, masked):
    assert mask_prid(prid) == masked


# ------------------------------------------------------------ country selection (DP §5.3.2)


def test_without_countries_the_request_has_no_scoping(sp):
    binding = sp.browser_binding(None)
    assert _authn_request(sp.start_login("eidas", None, binding.token)).find("samlp:Scoping", NS) is None


def test_configured_countries_go_out_as_proxy_service_aliases(app_settings):
    sp = _sp(app_settings, eidas__countries="NO dk")
    binding = sp.browser_binding(None)
    request = _authn_request(sp.start_login("eidas", None, binding.token))
    entries = request.findall("samlp:Scoping/samlp:IDPList/samlp:IDPEntry", NS)
    assert [e.get("ProviderID") for e in entries] == [
        "http://id.swedenconnect.se/eidas/1.0/proxy-service/no",
        "http://id.swedenconnect.se/eidas/1.0/proxy-service/dk",
    ]


def test_a_request_with_scoping_is_schema_valid(app_settings):
    sp = _sp(app_settings, eidas__countries="NO")
    binding = sp.browser_binding(None)
    assert saml_schema().validate(_authn_request(sp.start_login("eidas", None, binding.token)))


def test_a_swedish_method_never_carries_the_countries(app_settings):
    sp = _sp(app_settings, eidas__countries="NO")
    binding = sp.browser_binding(None)
    assert _authn_request(sp.start_login("bankid", None, binding.token)).find("samlp:Scoping", NS) is None


def test_map_identity_never_maps_a_foreign_person_as_an_organisation():
    """The eidas method's identities are ekn_saml.eidas's: the generic mapper refuses the profile."""
    from ekn_saml.identity import map_identity

    with pytest.raises(ValueError):
        map_identity(None, profile="foreign_person", accept_coordination_number=False)  # type: ignore[arg-type]
