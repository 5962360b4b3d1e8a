# SPDX-License-Identifier: Apache-2.0
"""The demo app under WebTest, as a browser on https://sp.example.test would reach it."""
from __future__ import annotations

import webtest

from ekn_saml.demo import main


def make_testapp(settings, **environ):
    extra = {"wsgi.url_scheme": "https", "HTTP_HOST": "sp.example.test", "REMOTE_ADDR": "127.0.0.1"}
    extra.update(environ)
    return webtest.TestApp(main({}, **settings), extra_environ=extra)
