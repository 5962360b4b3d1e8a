# SPDX-License-Identifier: Apache-2.0
"""The demo app under WebTest, as a browser on https://sp.example.test would reach it, and its logins.

The login helpers drive the chooser, the signed Redirect AuthnRequest and
the development IdP's persona page, so every response is really signed and
encrypted by the IdP.
"""

from __future__ import annotations

import webtest

from ekn_saml.demo import main

ENVIRON = {"wsgi.url_scheme": "https", "HTTP_HOST": "sp.example.test", "REMOTE_ADDR": "127.0.0.1"}
# the cookies' names in the development settings (Secure, so __Host-; ekn_saml.cookies)
SESSION_COOKIE = "__Host-ekn_session"
BINDING_COOKIE = "__Host-ekn_saml_req"


def browser(app, **environ) -> webtest.TestApp:
    """A new browser (its own cookies) on an app already made."""
    return webtest.TestApp(app, extra_environ={**ENVIRON, **environ})


def make_testapp(settings, **environ) -> webtest.TestApp:
    return browser(main({}, **settings), **environ)


def idp_page(client, method, next_path=None):
    """Chooser -> AuthnRequest (signed Redirect) -> the development IdP's persona page."""
    url = f"/login/{method}" + (f"?next={next_path}" if next_path else "")
    to_idp = client.get(url)
    assert to_idp.status_int == 302
    assert to_idp.location.startswith("https://sp.example.test/devidp/")
    return client.get(to_idp.location)


def answer(client, page, persona=None, outcome="success"):
    """The IdP's answer on ``page`` (its first form), auto-posted to the ACS; the ACS's response."""
    form = page.forms[0]
    if persona:
        form["persona"] = persona
    form["outcome"] = outcome
    autopost = form.submit()
    assert autopost.status_int == 200
    return autopost.forms[0].submit(expect_errors=True)  # the browser's auto-submit to the ACS


def acs_form(client, method="bankid", persona="karin"):
    """Chooser -> IdP -> the auto-post form the development IdP answers with (not yet submitted).

    The IdP's form is picked by its fields: a logged-in user's page also has the logout form.
    """
    form = next(f for f in idp_page(client, method).forms.values() if "persona" in f.fields)
    form["persona"] = persona
    form["outcome"] = "success"
    return next(f for f in form.submit().forms.values() if "SAMLResponse" in f.fields)


def log_in(client, method="bankid", persona="karin"):
    """A whole login; the ACS's redirect to /mina-sidor."""
    acs = acs_form(client, method, persona).submit()
    assert acs.status_int == 302 and acs.location.endswith("/mina-sidor")
    return acs
