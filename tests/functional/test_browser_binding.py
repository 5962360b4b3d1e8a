# SPDX-License-Identifier: Apache-2.0
"""The browser-binding cookie through whole logins: the SP reuses only a binding it issued.

The attack of the security review: an attacker plants a binding value of his
choice in the victim's browser, starts a login of his own with the same value,
and posts his IdP's answer from the victim's browser, which then carries a
matching cookie and logs in as the attacker (login CSRF).
"""

from __future__ import annotations

from ekn_saml.demo import main
from ekn_saml.errors import ErrorCode
from ekn_saml.interfaces import ISamlServiceProvider

from dev_app import BINDING_COOKIE, answer, browser, idp_page

PLANTED = "a-value-the-attacker-chose"


def binding_of(client) -> str:
    return {c.name: c.value for c in client.cookiejar}[BINDING_COOKIE]


def test_a_second_login_start_reuses_the_binding_the_sp_issued(testapp):
    idp_page(testapp, "bankid")
    first = binding_of(testapp)
    idp_page(testapp, "mobilt_bankid")
    assert binding_of(testapp) == first


def test_a_planted_binding_is_replaced_by_one_the_sp_signs(testapp):
    testapp.set_cookie(BINDING_COOKIE, PLANTED)
    idp_page(testapp, "bankid")
    issued = binding_of(testapp)
    assert issued != PLANTED
    assert testapp.app.registry.getUtility(ISamlServiceProvider).browser_binding(issued).cookie == issued  # it verifies


def test_an_attackers_answer_bound_to_a_planted_value_does_not_log_the_victim_in(dev_settings):
    app = main({}, **dev_settings)
    attacker, victim = browser(app), browser(app)
    attacker.set_cookie(BINDING_COOKIE, PLANTED)
    victim.set_cookie(BINDING_COOKIE, PLANTED)
    # the attacker logs in as himself at the IdP; the answer is not posted by his browser ...
    form = idp_page(attacker, "bankid").forms[0]
    form["persona"] = "karin"
    acs_form = form.submit().forms[0]
    # ... but from the victim's, which carries the planted value
    acs = victim.post(acs_form.action, params=dict(acs_form.submit_fields()), expect_errors=True)
    assert acs.status_int == 400 and ErrorCode.REQUEST_BROWSER_MISMATCH.value in acs.text
    assert victim.get("/mina-sidor").status_int == 302


def test_the_attackers_answer_still_finishes_in_his_own_browser(dev_settings):
    # the refusal above is the binding's doing, not a broken answer
    app = main({}, **dev_settings)
    attacker = browser(app)
    attacker.set_cookie(BINDING_COOKIE, PLANTED)
    assert answer(attacker, idp_page(attacker, "bankid"), "karin").status_int == 302
