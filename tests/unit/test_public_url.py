# SPDX-License-Identifier: Apache-2.0
"""ekn_saml.public_url: absolute Locations on the public base URL (the routes are in tests/functional/test_redirects.py)."""

from __future__ import annotations

import pytest
from pyramid.request import Request

from ekn_saml.demo import main
from ekn_saml.public_url import public_url

from testbed import SP_BASE


@pytest.fixture
def request_(app_settings):
    request = Request.blank("/", environ={"HTTP_HOST": "evil.example"})
    request.registry = main({}, **app_settings).registry
    return request


def test_a_local_path_is_put_on_the_public_base(request_):
    assert public_url(request_, "/mina-sidor?tab=2") == SP_BASE + "/mina-sidor?tab=2"


@pytest.mark.parametrize("path", ["evil.example/x", ".evil.example/", "@evil.example/", ""])
def test_a_path_without_a_leading_slash_is_refused(request_, path):
    # appended to the base it would name another host (https://sp.example.test.evil.example/)
    with pytest.raises(ValueError):
        public_url(request_, path)
