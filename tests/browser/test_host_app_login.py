# SPDX-License-Identifier: Apache-2.0
"""A whole login in Chromium through tests/host_app: the portal's page, ekn_saml's login, the portal's cookie.

The portal keeps its own signed-cookie session, policy and pages; the
chooser, the development IdP (another site) and the ACS are ekn_saml's.
"""

from __future__ import annotations

import base64

import pytest

from browser_flows import login

pytestmark = pytest.mark.browser

KARIN = "196506151239"  # the development IdP's BankID test person


def test_a_login_through_the_portal_lands_on_its_own_page(page, host_app_server):
    page.goto(host_app_server.url("/"))  # the portal's cookie session starts here
    login(page, host_app_server, "bankid", "karin", landing="/portal/konto")
    assert page.get_by_test_id("display-name").inner_text() == "Karin Karlsson"
    # the portal's session went through the login (its counter), and never holds the number
    assert page.get_by_test_id("visits").inner_text() == "2"
    [portal] = [c for c in page.context.cookies() if c["name"] == "portal_session"]
    assert KARIN.encode() not in base64.urlsafe_b64decode(portal["value"].strip('"') + "==")
