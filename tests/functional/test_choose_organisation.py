# SPDX-License-Identifier: Apache-2.0
"""Several organisations: an Expisoft login with two orgAffiliation values and no organizationIdentifier.

The development IdP's persona "olga" is affiliated with both organisations of
its shibmd:Scope; the SP lets her choose which one to act for.
"""

from __future__ import annotations

from ekn_saml.errors import ErrorCode

from dev_app import acs_form, log_in


def log_in_as_olga(testapp):
    acs = acs_form(testapp, "expisoft", "olga").submit()
    assert acs.status_int == 302
    return acs


def picker_form(page):
    return next(f for f in page.forms.values() if "organisation" in f.fields)


def test_a_login_with_several_organisations_goes_to_the_picker(testapp):
    acs = log_in_as_olga(testapp)
    assert "/choose-organisation?next=%2Fmina-sidor" in acs.location


def test_the_picker_lists_each_asserted_organisation(testapp):
    page = log_in_as_olga(testapp).follow()
    numbers = [i["data-testid"] for i in page.html.select('input[name="organisation"]')]
    assert numbers == ["org-5560000001", "org-2021005489"]


def test_the_first_organisation_is_the_preselected_one(testapp):
    page = log_in_as_olga(testapp).follow()
    assert page.html.find(attrs={"data-testid": "org-5560000001"}).has_attr("checked")


def test_the_chosen_organisation_becomes_the_identitys(testapp):
    form = picker_form(log_in_as_olga(testapp).follow())
    form["organisation"] = "olga2@2021005489"
    mina_sidor = form.submit().follow()
    assert mina_sidor.html.find(attrs={"data-testid": "org-number"}).get_text(strip=True) == "2021005489"


def test_an_organisation_the_login_did_not_assert_is_refused(testapp):
    form = picker_form(log_in_as_olga(testapp).follow())
    form["organisation"].force_value("x1@5560000019")
    refused = form.submit(expect_errors=True)
    assert refused.status_int == 400 and ErrorCode.ORGANISATION_NOT_ASSERTED.value in refused.text


def test_the_choice_needs_the_plugins_csrf_token(testapp):
    form = picker_form(log_in_as_olga(testapp).follow())
    form["csrf_token"] = "forged"
    refused = form.submit(expect_errors=True)
    assert refused.status_int == 400 and ErrorCode.CSRF_FAILED.value in refused.text


def test_a_login_with_one_organisation_skips_the_picker(testapp):
    assert log_in(testapp, "expisoft", "eva").location.endswith("/mina-sidor")


def test_the_picker_without_several_organisations_goes_on(testapp):
    log_in(testapp, "expisoft", "eva")
    assert testapp.get("/choose-organisation").location.endswith("/mina-sidor")


def test_the_picker_needs_a_login(testapp):
    assert "/login?next=" in testapp.get("/choose-organisation").location


def test_a_step_up_keeps_the_chosen_organisation(testapp):
    form = picker_form(log_in_as_olga(testapp).follow())
    form["organisation"] = "olga2@2021005489"
    form.submit()
    idp_page = testapp.get(testapp.get("/signera-ansokan").location)
    form = next(f for f in idp_page.forms.values() if "persona" in f.fields)
    form["persona"] = "olga"
    acs = next(f for f in form.submit().forms.values() if "SAMLResponse" in f.fields).submit()
    assert acs.status_int == 302 and acs.location.endswith("/signera-ansokan")
    acs.follow()
    mina_sidor = testapp.get("/mina-sidor")
    assert mina_sidor.html.find(attrs={"data-testid": "org-number"}).get_text(strip=True) == "2021005489"
