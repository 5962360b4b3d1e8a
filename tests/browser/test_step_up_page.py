# SPDX-License-Identifier: Apache-2.0
"""The demo's "Signera ansökan" in Chromium: a step-up of the same person, and one answered by someone else.

The step-up request carries psc:PrincipalSelection to the development
BankID IdP (another site), so it leaves by the auto-posting form (POST
binding): the personal identity number is in no URL the browser follows.
"""

from __future__ import annotations

import pytest

from browser_flows import answer_at_idp, login, url_re

pytestmark = pytest.mark.browser


def step_up_at_idp(page, live_server, method="bankid", persona="karin", followed=None):
    """Logged in: open the sign page, which sends the browser to the IdP for a step-up.

    ``followed``, a list, gets every URL the browser requests from then on.
    """
    login(page, live_server, method, persona)
    if followed is not None:
        page.on("request", lambda request: followed.append(request.url))
    page.goto(live_server.url("/signera-ansokan"))
    page.wait_for_url(url_re(live_server.idp, f"/devidp/{method.replace('_', '-')}/sso"))


def test_step_up_of_the_same_person_lets_her_sign(page, live_server):
    step_up_at_idp(page, live_server)
    assert page.get_by_test_id("persona-karin").is_checked()  # the IdP was asked for her
    answer_at_idp(page)
    page.wait_for_url(live_server.url("/signera-ansokan"))
    page.get_by_test_id("sign").click()
    assert page.get_by_test_id("signed").is_visible()


def test_the_step_up_number_is_in_no_url(page, live_server):
    followed: list[str] = []
    step_up_at_idp(page, live_server, followed=followed)
    assert followed and not [url for url in followed if "SAMLRequest" in url or "19650615" in url]


def test_step_up_by_another_person_logs_out(page, live_server):
    step_up_at_idp(page, live_server, "mobilt_bankid", "anna")
    answer_at_idp(page, "bertil")  # another Mobilt BankID test person
    page.wait_for_url(live_server.url("/saml/acs"))
    assert "EKN-REQ-008" in page.locator(".error-page").inner_text()
    page.goto(live_server.url("/mina-sidor"))
    page.wait_for_url(url_re(live_server.sp, "/login", query=True))
