# SPDX-License-Identifier: Apache-2.0
"""A foreign e-ID login in Chromium: chooser -> the development IdP's eIDAS connector -> ACS -> "Mina sidor"."""

from __future__ import annotations

import pytest

from browser_flows import answer_at_idp, login, open_idp

pytestmark = pytest.mark.browser

EIDAS_NF_SUB = "http://id.elegnamnden.se/loa/1.0/eidas-nf-sub"


def test_a_norwegian_e_id_logs_in_and_mina_sidor_shows_country_and_kind(page, live_server, shot):
    open_idp(page, live_server, "eidas")
    shot(page, "connector")
    answer_at_idp(page, "ola")
    page.wait_for_url(live_server.url("/mina-sidor"))
    shown = {
        testid: page.get_by_test_id(testid).inner_text().strip()
        for testid in ("display-name", "country", "kind", "prid", "loa")
    }
    assert shown == {
        "display-name": "Ola Nordmann",
        "country": "Norge (NO)",  # the live server speaks Swedish
        "kind": "Utländsk e-legitimation (eIDAS)",
        "prid": "NO:0101809XXXX",
        "loa": "eIDAS-nivå väsentlig, anmäld e-legitimation",
    }
    assert page.get_by_test_id("loa").get_attribute("data-loa") == EIDAS_NF_SUB


def test_a_foreign_login_shows_no_personal_identity_number(page, live_server):
    login(page, live_server, "eidas", "lena")
    assert (page.get_by_test_id("personal-number").count(), page.get_by_test_id("mapped-personal-number").count()) == (
        0,
        0,
    )
