# SPDX-License-Identifier: Apache-2.0
"""ServiceProvider with two SP profiles: requests go out as the method's profile, and only its ACS finishes them.

Responses are really signed and encrypted (tests/saml_factory.py) for the test federation's IdPs.
"""

from __future__ import annotations

import os

import pytest

from ekn_saml.demo import main
from ekn_saml.errors import ErrorCode, SamlError
from ekn_saml.interfaces import ISamlServiceProvider
from ekn_saml.response import REQUESTS
from ekn_saml.xmlsecurity import PublicKey

from acs_helpers import begin, spec_for
from saml_factory import ResponseFactory
from testbed import SP_BASE, SP_ENTITY_ID

ORGID_ENTITY = SP_ENTITY_ID + "/orgid"
ORGID_ACS = SP_BASE + "/saml/acs/orgid"


@pytest.fixture
def sp(app_settings, key_dir):
    k = lambda name: os.path.join(key_dir, name)  # noqa: E731
    settings = {
        **app_settings,
        "ekn_saml.sp_profiles": "orgid",
        "ekn_saml.sp_profile.orgid.entity_id": ORGID_ENTITY,
        "ekn_saml.sp_profile.orgid.signing_key": k("sp-orgid-signing.key"),
        "ekn_saml.sp_profile.orgid.signing_cert": k("sp-orgid-signing.crt"),
        "ekn_saml.sp_profile.orgid.encryption_keys": k("sp-orgid-encryption.key"),
        "ekn_saml.sp_profile.orgid.encryption_cert": k("sp-orgid-encryption.crt"),
        "ekn_saml.method.expisoft.sp_profile": "orgid",
    }
    return main({}, **settings).registry.getUtility(ISamlServiceProvider)


@pytest.fixture
def orgid_factory(response_factory, key_dir):
    with open(os.path.join(key_dir, "sp-orgid-encryption.crt"), "rb") as fh:
        cert = PublicKey.from_pem(fh.read())
    return ResponseFactory(response_factory.idp_key, response_factory.idp_cert, cert)


def orgid_spec(login):
    return spec_for(login, destination=ORGID_ACS, recipient=ORGID_ACS, audience=ORGID_ENTITY)


def test_outstanding_request_names_the_methods_profile(sp):
    assert sp.store.get(REQUESTS, begin(sp, "expisoft").request_id)["sp_profile"] == "orgid"
    assert "sp_profile" not in sp.store.get(REQUESTS, begin(sp, "bankid").request_id)  # the default's, as before


def test_expisoft_finishes_at_the_orgid_acs_with_its_entity_id(sp, orgid_factory):
    login = begin(sp, "expisoft")
    identity, _ = sp.finish_login(
        orgid_factory.encoded(orgid_spec(login)), login.relay_state, login.browser_token, sp_profile="orgid"
    )
    assert (identity.kind, identity.sp_entity_id) == ("organisation", ORGID_ENTITY)


def test_bankid_finishes_at_the_default_acs_with_its_entity_id(sp, response_factory):
    login = begin(sp, "bankid")
    identity, _ = sp.finish_login(response_factory.encoded(spec_for(login)), login.relay_state, login.browser_token)
    assert (identity.kind, identity.sp_entity_id) == ("person", SP_ENTITY_ID)


def test_request_of_another_profile_is_refused_and_stays_outstanding(sp, orgid_factory):
    login = begin(sp, "expisoft")
    with pytest.raises(SamlError) as caught:
        sp.finish_login(orgid_factory.encoded(orgid_spec(login)), login.relay_state, login.browser_token)  # default ACS
    assert caught.value.code == ErrorCode.SP_PROFILE_MISMATCH
    assert caught.value.method == "expisoft"  # the audit line says which login it was
    assert sp.store.get(REQUESTS, login.request_id) is not None


def test_a_record_stored_without_a_profile_is_the_default_profiles(sp, response_factory):
    """A request stored by a node of the previous version: only the default ACS may finish it."""
    login = begin(sp, "bankid")
    record = sp.store.get(REQUESTS, login.request_id)
    assert "sp_profile" not in record
    with pytest.raises(SamlError) as caught:
        sp.finish_login(
            response_factory.encoded(spec_for(login)), login.relay_state, login.browser_token, sp_profile="orgid"
        )
    assert caught.value.code == ErrorCode.SP_PROFILE_MISMATCH


def test_each_profile_has_its_own_policy(sp):
    assert (sp.profiles["orgid"].policy.entity_id, sp.profiles["orgid"].policy.acs_url) == (ORGID_ENTITY, ORGID_ACS)
    assert sp.policy is sp.profiles["default"].policy and sp.policy.entity_id == SP_ENTITY_ID
