# SPDX-License-Identifier: Apache-2.0
"""A request on a real plugin registry, for the building blocks of the login state and the policy."""

from __future__ import annotations

import pytest
from pyramid.config import Configurator
from pyramid.request import Request

from ekn_saml.interfaces import ISamlSessionFactory
from ekn_saml.session import REQUEST_ATTR


@pytest.fixture
def plugin_registry(app_settings):
    """The registry of an app that includes ekn_saml only (the test federation's settings, memory store)."""
    config = Configurator(settings=app_settings)
    config.include("ekn_saml")
    return config.make_wsgi_app().registry


@pytest.fixture
def plugin_request(plugin_registry):
    """A request with a new ekn_saml session; its host ``request.session`` is a plain dict, to show any write."""
    request = Request.blank("/", environ={"wsgi.url_scheme": "https", "HTTP_HOST": "sp.example.test"})
    request.registry = plugin_registry
    request.__dict__[REQUEST_ATTR] = plugin_registry.getUtility(ISamlSessionFactory)(request)
    request.__dict__["session"] = {}
    return request
