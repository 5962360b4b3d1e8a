# SPDX-License-Identifier: Apache-2.0
"""IdP matching kept true (EC §1.3): a refresh that makes an IdP stop matching disables its methods, not the app.

The app trusts the testbed's BankID and Expisoft IdPs through signed
federation metadata; each test republishes the aggregate with other
categories and refreshes, as the refresher thread would.
"""

from __future__ import annotations

import json
import logging

import pytest
import webtest

from ekn_saml.demo import main
from ekn_saml.errors import ErrorCode
from ekn_saml.interfaces import IFederationMetadata, IStateStore
from ekn_saml.keygen import write_key_pair
from ekn_saml.metadata.refresher import LEASES
from ekn_saml.xmlsecurity import PrivateKey

from metadata_factory import aggregate, federation_idp, signed, write
from testbed import BANKID_IDP, EXPISOFT_IDP, EXPISOFT_SCOPE

ENV = {"wsgi.url_scheme": "https", "HTTP_HOST": "sp.example.test", "REMOTE_ADDR": "127.0.0.1"}
PNR = "http://id.elegnamnden.se/ec/1.0/loa3-pnr"
NAME_ONLY = "http://id.swedenconnect.se/ec/1.0/loa3-name"
ORGID = "http://id.swedenconnect.se/ec/1.0/loa3-orgid"
CONTRACT = "http://id.swedenconnect.se/contract/EKN/bankid"


@pytest.fixture(scope="module")
def federation_signer(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("fed"))
    key, cert = write_key_pair(directory, "federation-signer", "ekn_saml test federation signer (TEST ONLY)", bits=2048)
    return PrivateKey.from_file(key), cert


def publish(settings, idp_keys, federation_signer, bankid_categories) -> None:
    document = aggregate(
        federation_idp(BANKID_IDP, idp_keys[1], name="BankID", categories=bankid_categories),
        federation_idp(EXPISOFT_IDP, idp_keys[1], scopes=(EXPISOFT_SCOPE,), name="Expisoft", categories=(ORGID,)),
    )
    write(settings["ekn_saml.federation.metadata_url"], signed(document, federation_signer[0]))


@pytest.fixture
def settings(app_settings, idp_keys, federation_signer, tmp_path):
    result = dict(app_settings)
    del result["ekn_saml.idp.metadata_files"]  # every IdP comes from the federation
    result.update(
        {
            "ekn_saml.federation.metadata_url": str(tmp_path / "federation.xml"),
            "ekn_saml.federation.signing_cert": federation_signer[1],
            "ekn_saml.federation.backing_file": str(tmp_path / "var" / "federation.xml"),
        }
    )
    publish(result, idp_keys, federation_signer, (PNR,))
    return result


def start(settings):
    app = main({}, **settings)
    return webtest.TestApp(app, extra_environ=ENV)


@pytest.fixture
def client(settings):
    client = start(settings)
    yield client
    client.app.registry.getUtility(IFederationMetadata).stop()


def refresh_with(client, settings, idp_keys, federation_signer, bankid_categories):
    """Republish and refresh, as the refresher does in its next interval."""
    publish(settings, idp_keys, federation_signer, bankid_categories)
    federation = client.app.registry.getUtility(IFederationMetadata)
    # one download per machine and interval (a lease in the store): the next interval's lease is free
    client.app.registry.getUtility(IStateStore).delete(LEASES, federation._lease_key())
    assert federation.refresh() is True


def test_a_matching_idp_is_offered(client):
    assert client.get("/login/bankid").status_int == 302


def test_a_refresh_that_removes_the_category_disables_the_method(client, settings, idp_keys, federation_signer):
    refresh_with(client, settings, idp_keys, federation_signer, (NAME_ONLY,))
    refused = client.get("/login/bankid", expect_errors=True)
    assert refused.status_int == 503 and ErrorCode.METHOD_UNAVAILABLE.value in refused.text


def test_the_other_methods_still_log_in(client, settings, idp_keys, federation_signer):
    refresh_with(client, settings, idp_keys, federation_signer, (NAME_ONLY,))
    assert client.get("/login/expisoft").status_int == 302


def test_the_chooser_shows_the_disabled_method_without_a_link(client, settings, idp_keys, federation_signer):
    refresh_with(client, settings, idp_keys, federation_signer, (NAME_ONLY,))
    chooser = client.get("/login").html
    assert chooser.select_one('[data-method="bankid"]').has_attr("data-unavailable")
    assert chooser.select_one('a[data-method="bankid"]') is None
    assert chooser.select_one('a[data-method="expisoft"]') is not None


def test_status_says_why(client, settings, idp_keys, federation_signer):
    refresh_with(client, settings, idp_keys, federation_signer, (NAME_ONLY,))
    report = client.get("/saml/status", expect_errors=True).json
    bankid = next(m for m in report["methods"] if m["name"] == "bankid")
    assert bankid["available"] is False and "service entity categories" in bankid["reason"]
    assert report["status"] == "degraded"


def test_the_audit_trail_says_why(client, settings, idp_keys, federation_signer, caplog):
    with caplog.at_level(logging.INFO, logger="ekn_saml.audit"):
        refresh_with(client, settings, idp_keys, federation_signer, (NAME_ONLY,))
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ekn_saml.audit"]
    changes = [line for line in lines if line["event"] == "method_availability"]
    assert {line["method"] for line in changes} == {"bankid", "mobilt_bankid"}
    assert all(line["available"] is False and "service entity categories" in line["reason"] for line in changes)


def test_a_refresh_that_restores_the_category_enables_the_method(client, settings, idp_keys, federation_signer):
    refresh_with(client, settings, idp_keys, federation_signer, (NAME_ONLY,))
    refresh_with(client, settings, idp_keys, federation_signer, (PNR,))
    assert client.get("/login/bankid").status_int == 302


def test_an_unmatched_idp_at_startup_does_not_stop_the_app(settings, idp_keys, federation_signer):
    publish(settings, idp_keys, federation_signer, (NAME_ONLY,))
    client = start(settings)
    try:
        assert client.get("/login/expisoft").status_int == 302
        assert client.get("/login/bankid", expect_errors=True).status_int == 503
    finally:
        client.app.registry.getUtility(IFederationMetadata).stop()


def test_an_idp_bound_to_a_contract_serves_only_an_sp_declaring_it(settings, idp_keys, federation_signer):
    publish(settings, idp_keys, federation_signer, (PNR, CONTRACT))
    for contracts, status in (("", 503), (CONTRACT, 302)):
        client = start({**settings, "ekn_saml.sp.contract_categories": contracts})
        try:
            assert client.get("/login/bankid", expect_errors=True).status_int == status
        finally:
            client.app.registry.getUtility(IFederationMetadata).stop()
