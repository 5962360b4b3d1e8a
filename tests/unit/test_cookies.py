# SPDX-License-Identifier: Apache-2.0
"""Cookie names (ekn_saml.cookies): ``__Host-`` exactly when the cookie is Secure."""

from __future__ import annotations

from ekn_saml.cookies import cookie_name


def test_a_secure_cookie_gets_the_host_prefix():
    assert cookie_name("ekn_session", secure=True) == "__Host-ekn_session"


def test_a_cookie_without_secure_keeps_its_plain_name():
    # browsers refuse a __Host- cookie without Secure, so it would never be kept
    assert cookie_name("ekn_session", secure=False) == "ekn_session"
