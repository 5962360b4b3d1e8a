# SPDX-License-Identifier: Apache-2.0
"""ekn_saml with nothing else: no session factory, no security policy, no CSRF policy in the app.

Pyramid's ``require_csrf`` would need the app's session or a CSRF storage
policy; the plugin keeps its login and its form token in its own session,
so it logs in and out in an app that has neither.
"""

from __future__ import annotations

import pytest
import webtest
from pyramid.config import Configurator

from dev_app import ENVIRON, log_in

BASE = "https://sp.example.test"


@pytest.fixture
def client(dev_settings):
    config = Configurator(settings=dev_settings)
    config.include("ekn_saml")
    return webtest.TestApp(config.make_wsgi_app(), extra_environ=ENVIRON)


def logout_form(client):
    # any page of the plugin shows the logout button to a logged-in user
    return next(f for f in client.get("/help").forms.values() if f.action == "/logout")


def test_a_login_lands_without_an_app_session(client):
    assert log_in(client).location == BASE + "/mina-sidor"


def test_the_plugins_pages_know_the_login_without_an_app_policy(client):
    log_in(client)
    assert logout_form(client) is not None


def test_logout_works_without_an_app_session_or_csrf_policy(client):
    log_in(client)
    assert logout_form(client).submit().location == BASE + "/logged-out"


def test_after_logout_the_plugin_shows_nobody_logged_in(client):
    log_in(client)
    logout_form(client).submit()
    assert client.get("/help").html.select_one("form.logout-form") is None
