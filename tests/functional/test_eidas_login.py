# SPDX-License-Identifier: Apache-2.0
"""Foreign e-IDs: whole logins through the development IdP's eIDAS connector (pysaml2, signed and encrypted)."""

from __future__ import annotations

import pytest

from ekn_saml.errors import ErrorCode
from ekn_saml.metadata.categories import ENTITY_CATEGORIES
from ekn_saml.metadata.schema import schema_errors
from ekn_saml.testing import development_settings
from ekn_saml.xmlsecurity import NS, parse_xml

from dev_app import answer, idp_page, make_testapp

BASE = "https://sp.example.test"


def _text(page, testid):
    return page.html.find(attrs={"data-testid": testid}).get_text(" ", strip=True)


def login(testapp, persona):
    return answer(testapp, idp_page(testapp, "eidas"), persona)


@pytest.mark.parametrize(
    "persona, name, country",
    [("lena", "Lena Schneider", "DE"), ("ola", "Ola Nordmann", "NO"), ("marie", "Marie Dupont", "FR")],
)
def test_each_foreign_persona_logs_in_and_lands_on_mina_sidor(testapp, persona, name, country):
    acs = login(testapp, persona)
    assert acs.status_int == 302 and acs.location.endswith("/mina-sidor")
    page = acs.follow()
    assert (_text(page, "display-name"), _text(page, "country")[-4:]) == (name, f"({country})")


def test_mina_sidor_names_the_country_in_english(testapp):
    page = login(testapp, "lena").follow(headers={"Accept-Language": "en"})
    assert _text(page, "country") == "Germany (DE)"


def test_mina_sidor_names_the_country_in_swedish(testapp):
    page = login(testapp, "lena").follow(headers={"Accept-Language": "sv"})
    assert _text(page, "country") == "Tyskland (DE)"


def test_mina_sidor_says_the_kind_of_e_id_in_english(testapp):
    page = login(testapp, "marie").follow(headers={"Accept-Language": "en"})
    assert _text(page, "kind") == "Foreign e-ID (eIDAS)"


def test_mina_sidor_says_the_kind_of_e_id_in_swedish(testapp):
    page = login(testapp, "marie").follow(headers={"Accept-Language": "sv"})
    assert _text(page, "kind") == "Utländsk e-legitimation (eIDAS)"


def test_mina_sidor_shows_the_prid_masked_only(testapp):
    page = login(testapp, "ola").follow()
    assert _text(page, "prid") == "NO:0101809XXXX" and "01018099887" not in page.text


def test_the_mapped_number_is_not_shown_under_the_default_settings(testapp):
    """No binding is accepted by default: the connector's mapped number is dropped."""
    page = login(testapp, "ola").follow()
    assert page.html.find(attrs={"data-testid": "mapped-personal-number"}) is None


def test_an_accepted_mapped_number_is_shown_masked(key_dir, tmp_path):
    settings = development_settings(
        sp_base=BASE,
        keys_dir=key_dir,
        store_url="sqlite:///" + str(tmp_path / "state.sqlite"),
        eidas__mapped_number_bindings="populationregister",
    )
    page = login(make_testapp(settings), "ola").follow()
    assert _text(page, "mapped-personal-number") == "19790315-XXXX" and "197903150006" not in page.text


def test_no_cookie_carries_the_prid(testapp):
    login(testapp, "ola").follow()
    for cookie in testapp.cookiejar:
        assert "01018099887" not in (cookie.value or "")


def test_the_chooser_offers_the_foreign_e_id(testapp):
    chooser = testapp.get("/login", headers={"Accept-Language": "sv"})
    assert chooser.html.find("a", href=lambda h: h and h.startswith("/login/eidas")) is not None
    assert "Utländsk e-legitimation (eIDAS)" in chooser.text


def test_the_help_page_explains_the_foreign_e_id(testapp):
    page = testapp.get("/help", headers={"Accept-Language": "en"})
    assert page.html.find(id="help-eidas") is not None


def test_the_sp_metadata_declares_eidas_and_public_sector_and_is_schema_valid(testapp):
    body = testapp.get("/saml/metadata").body
    assert schema_errors(parse_xml(body)) == []
    values = {
        v.text
        for v in parse_xml(body).iterfind(
            ".//mdattr:EntityAttributes/saml:Attribute[@Name='http://macedir.org/entity-category']/saml:AttributeValue",
            NS,
        )
    }
    assert {ENTITY_CATEGORIES["eidas-naturalperson"], ENTITY_CATEGORIES["public-sector-sp"]} <= values


def test_a_login_with_configured_countries_goes_through(key_dir, tmp_path):
    """The AuthnRequest then carries Scoping (DP §5.3.2); the connector still answers it."""
    settings = development_settings(
        sp_base=BASE, keys_dir=key_dir, store_url="sqlite:///" + str(tmp_path / "state.sqlite"), eidas__countries="NO"
    )
    assert login(make_testapp(settings), "ola").location.endswith("/mina-sidor")


def test_an_answer_without_prid_gets_the_invalid_response_page_with_its_code(testapp):
    page = answer(testapp, idp_page(testapp, "eidas"), "piotr")
    assert page.status_int == 400 and page.html.find(class_="error-page--invalid_response") is not None
    assert ErrorCode.PRID_MISSING.value in page.text
