# SPDX-License-Identifier: Apache-2.0
"""ekn_saml.security: principals of an identity, and the policy that delegates to the building blocks."""

from __future__ import annotations

import pytest
from pyramid.authorization import ALL_PERMISSIONS, Allow, Authenticated, Deny, Everyone
from pyramid.interfaces import ISecurityPolicy
from zope.interface.verify import verifyObject

from ekn_saml.security import SamlSecurityPolicy, principals_of

from testbed import person_identity as person


class Context:
    def __init__(self, *acl):
        self.__acl__ = acl


def test_nobody_has_only_everyone():
    assert principals_of(None) == [Everyone]


def test_a_person_has_authenticated_and_the_ekn_principals():
    assert principals_of(person()) == [
        Everyone,
        Authenticated,
        "ekn:authenticated",
        "ekn:method:bankid",
        "ekn:kind:person",
        "ekn:loa:http://id.elegnamnden.se/loa/1.0/loa3",
    ]


def test_an_organisation_has_its_org_principal():
    org = person(None, kind="organisation", org_number="5560000001", org_unique_id="u1")
    assert "ekn:org:5560000001" in principals_of(org)


def test_the_policy_is_a_pyramid_security_policy():
    assert verifyObject(ISecurityPolicy, SamlSecurityPolicy())


def test_the_policy_identity_is_identity_of(plugin_request):
    SamlSecurityPolicy().remember(plugin_request, "ignored", identity=person())
    assert SamlSecurityPolicy().identity(plugin_request) == person()


def test_the_authenticated_userid_is_the_subject(plugin_request):
    SamlSecurityPolicy().remember(plugin_request, "ignored", identity=person())
    assert SamlSecurityPolicy().authenticated_userid(plugin_request) == "pnr:198001012387"


def test_remember_and_forget_return_no_headers(plugin_request):
    policy = SamlSecurityPolicy()
    assert (policy.remember(plugin_request, "x", identity=person()), policy.forget(plugin_request)) == ([], [])


def test_forget_logs_out(plugin_request):
    policy = SamlSecurityPolicy()
    policy.remember(plugin_request, "x", identity=person())
    policy.forget(plugin_request)
    assert policy.identity(plugin_request) is None


@pytest.mark.parametrize(
    ("acl", "permitted"),
    [
        (((Allow, "ekn:method:bankid", "view"),), True),
        (((Allow, "ekn:method:expisoft", "view"),), False),
        (((Deny, "ekn:kind:person", ALL_PERMISSIONS), (Allow, Authenticated, "view")), False),
    ],
)
def test_permits_checks_the_acl_against_the_principals(plugin_request, acl, permitted):
    policy = SamlSecurityPolicy()
    policy.remember(plugin_request, "x", identity=person())
    assert bool(policy.permits(plugin_request, Context(*acl), "view")) is permitted


def test_nobody_is_permitted_what_only_the_logged_in_are(plugin_request):
    assert not SamlSecurityPolicy().permits(plugin_request, Context((Allow, Authenticated, "view")), "view")
