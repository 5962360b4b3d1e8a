# SPDX-License-Identifier: Apache-2.0
"""The chooser and the help page show the configured methods, from the registry of built-in ones."""

from __future__ import annotations

from ekn_saml.methods import BUILT_IN_METHODS

from dev_app import make_testapp


def test_the_chooser_shows_each_methods_logo(testapp):
    page = testapp.get("/login")
    for name in BUILT_IN_METHODS:
        card = page.html.find("a", attrs={"data-method": name})
        assert card.find("img")["src"].endswith(f"/logos/{name}.svg")


def test_the_help_page_has_a_section_per_configured_method(testapp):
    page = testapp.get("/help")
    for name in BUILT_IN_METHODS:
        assert page.html.find(id="help-" + name.replace("_", "-")) is not None


def test_the_help_page_links_each_issuers_support_once(testapp):
    links = [
        a["href"]
        for a in testapp.get("/help").html.select("#help-support + p + ul a, section[aria-labelledby=help-support] a")
    ]
    assert sorted(set(links)) == sorted({m.support_url for m in BUILT_IN_METHODS.values()}) and len(links) == len(
        set(links)
    )


def test_a_method_left_out_of_the_settings_is_on_neither_page(dev_settings):
    settings = {k: v for k, v in dev_settings.items() if not k.startswith("ekn_saml.method.mobilt_bankid.")}
    app = make_testapp({**settings, "ekn_saml.methods": "bankid expisoft eidas"})
    assert app.get("/login").html.find("a", attrs={"data-method": "mobilt_bankid"}) is None
    assert app.get("/help").html.find(id="help-mobilt-bankid") is None
