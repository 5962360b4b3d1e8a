# SPDX-License-Identifier: Apache-2.0
"""The app trusting IdPs from signed federation metadata, and the status endpoint."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import webtest
from pyramid.exceptions import ConfigurationExecutionError

from ekn_saml.demo import main
from ekn_saml.errors import ErrorCode
from ekn_saml.interfaces import IFederationMetadata, ISamlServiceProvider
from ekn_saml.timeutil import utcnow

from acs_helpers import assert_rejected, begin, finish
from metadata_factory import aggregate, bankid_and_expisoft, federation_idp, signed, write
from saml_factory import ResponseFactory
from testbed import BANKID_IDP, SP_BASE

ENV = {"wsgi.url_scheme": "https", "HTTP_HOST": "sp.example.test", "REMOTE_ADDR": "127.0.0.1"}


@pytest.fixture
def federation_app(federation_settings):
    app = main({}, **federation_settings)
    yield webtest.TestApp(app, extra_environ=ENV)
    app.registry.getUtility(IFederationMetadata).stop()


def test_login_goes_to_the_federation_idp(federation_app):
    response = federation_app.get("/login/bankid")
    assert response.status_int in (302, 303)
    assert response.location.startswith("https://idp.example.test/sso?SAMLRequest=")


def test_making_the_app_starts_no_refresher_thread(federation_app):
    """Under gunicorn's preload_app the app is made in the master, which must fork without threads."""
    assert federation_app.app.registry.getUtility(IFederationMetadata)._thread is None


def test_the_first_request_that_reads_the_metadata_starts_the_refresher(federation_app):
    federation_app.get("/login/bankid")
    assert federation_app.app.registry.getUtility(IFederationMetadata)._thread.is_alive()


def test_unsigned_federation_metadata_stops_startup(federation_settings, idp_keys):
    write(federation_settings["ekn_saml.federation.metadata_url"], aggregate(federation_idp(BANKID_IDP, idp_keys[1])))
    with pytest.raises(ConfigurationExecutionError) as info:
        main({}, **federation_settings)
    assert any("not signed" in p for p in info.value.evalue.problems)


def test_backing_file_serves_when_the_source_is_gone(federation_settings):
    main({}, **federation_settings).registry.getUtility(IFederationMetadata).stop()
    os.remove(federation_settings["ekn_saml.federation.metadata_url"])
    os.utime(federation_settings["ekn_saml.federation.backing_file"], (1, 1))  # old: the source is tried first
    app = main({}, **federation_settings)
    try:
        assert app.registry.getUtility(IFederationMetadata).current.origin == "backing file"
        assert webtest.TestApp(app, extra_environ=ENV).get("/login/bankid").status_int in (302, 303)
    finally:
        app.registry.getUtility(IFederationMetadata).stop()


class TestRolledBackMetadata:
    """An IdP rotated its signing key; then an older, still valid signed document is served again."""

    @pytest.fixture
    def rotated_app(self, federation_settings, federation_signer, idp_keys, idp_next_keys):
        source = federation_settings["ekn_saml.federation.metadata_url"]
        now = utcnow()
        before = signed(bankid_and_expisoft(idp_keys[1]), federation_signer[0], created=now - dt.timedelta(hours=2))
        after = signed(bankid_and_expisoft(idp_next_keys[1]), federation_signer[0], created=now - dt.timedelta(hours=1))
        write(source, before)
        app = main({}, **federation_settings)
        federation = app.registry.getUtility(IFederationMetadata)
        write(source, after)
        assert federation.refresh() is True
        write(source, before)  # an attacker on the path, or a stale mirror
        federation.refresh()
        yield app
        federation.stop()

    def test_login_signed_with_the_removed_key_is_refused(self, rotated_app, response_factory):
        sp = rotated_app.registry.getUtility(ISamlServiceProvider)
        login = begin(sp, "bankid")
        assert_rejected(ErrorCode.SIGNATURE_INVALID, sp, response_factory, login)

    def test_login_signed_with_the_current_key_still_works(self, rotated_app, idp_next_keys, response_factory):
        sp = rotated_app.registry.getUtility(ISamlServiceProvider)
        login = begin(sp, "bankid")
        current = ResponseFactory(idp_next_keys[0], idp_next_keys[1], response_factory.sp_encryption_cert)
        assert finish(sp, current, login)[0].kind == "person"


class TestStatus:
    def test_report_for_an_allowed_address(self, federation_app):
        report = federation_app.get("/saml/status").json
        assert report["status"] == "ok"
        assert report["store"]["ok"] is True
        metadata = report["federation_metadata"]
        assert metadata["loaded"] and metadata["idps"] == 2 and metadata["age_seconds"] >= 0
        assert metadata["next_refresh"] and metadata["valid_until"]
        assert report["certificates"]["signing"]["not_after"]

    def test_not_cached(self, federation_app):
        assert "no-store" in federation_app.get("/saml/status").headers["Cache-Control"]

    def test_other_addresses_get_404(self, federation_app):
        federation_app.get("/saml/status", extra_environ={"REMOTE_ADDR": "192.0.2.10"}, status=404)

    def test_forwarded_for_header_is_not_believed(self, federation_app):
        federation_app.get(
            "/saml/status",
            extra_environ={"REMOTE_ADDR": "192.0.2.10"},
            headers={"X-Forwarded-For": "127.0.0.1"},
            status=404,
        )

    def test_configured_network_is_allowed(self, app_settings):
        app = webtest.TestApp(
            main({}, **{**app_settings, "ekn_saml.status.allowed_addresses": "192.0.2.0/24"}), extra_environ=ENV
        )
        assert app.get("/saml/status", extra_environ={"REMOTE_ADDR": "192.0.2.10"}).json["status"] == "ok"
        app.get("/saml/status", status=404)  # 127.0.0.1 is no longer listed

    def test_store_down_is_503(self, app_settings):
        # a real Redis client pointed at a port where nothing listens
        app = webtest.TestApp(
            main({}, **{**app_settings, "ekn_saml.store.url": "redis://127.0.0.1:1/0"}), extra_environ=ENV
        )
        response = app.get("/saml/status", status=503)
        assert response.json["status"] == "failing" and response.json["store"] == {"ok": False, "error": "EKN-OPS-001"}

    def test_failing_refresh_is_degraded_but_healthy(self, federation_app, federation_settings):
        write(federation_settings["ekn_saml.federation.metadata_url"], b"<garbage/>")
        assert federation_app.app.registry.getUtility(IFederationMetadata).refresh() is False
        report = federation_app.get("/saml/status").json
        assert report["status"] == "degraded" and report["federation_metadata"]["consecutive_failures"] == 1


def test_sp_metadata_is_served(federation_app):
    from lxml import etree

    from ekn_saml.metadata.schema import schema_errors

    response = federation_app.get("/saml/metadata")
    assert response.content_type == "application/samlmetadata+xml"
    root = etree.fromstring(response.body)
    assert root.get("entityID") == f"{SP_BASE}/sp" and schema_errors(root) == []


def _republish(settings, idp_keys, federation_signer, sso: str) -> None:
    # both IdPs move to ``sso``
    write(
        settings["ekn_saml.federation.metadata_url"],
        signed(bankid_and_expisoft(idp_keys[1], sso=sso), federation_signer[0]),
    )


def _form_action(response) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    return next(part for part in policy.split(";") if part.strip().startswith("form-action")).split()[1:]


def test_form_action_follows_a_refresh_that_moves_an_idp(
    federation_app, federation_settings, idp_keys, federation_signer
):
    assert "https://idp.example.test" in _form_action(federation_app.get("/login"))
    _republish(federation_settings, idp_keys, federation_signer, "https://moved-idp.example.test/sso")
    assert federation_app.app.registry.getUtility(IFederationMetadata).refresh() is True
    origins = _form_action(federation_app.get("/login"))
    assert "https://moved-idp.example.test" in origins and "https://idp.example.test" not in origins


def test_an_sso_endpoint_that_is_not_a_plain_origin_is_left_out(
    federation_app, federation_settings, idp_keys, federation_signer
):
    _republish(federation_settings, idp_keys, federation_signer, "https://someone@odd-idp.example.test/sso")
    assert federation_app.app.registry.getUtility(IFederationMetadata).refresh() is True
    response = federation_app.get("/login")
    assert response.status_int == 200
    assert not any("odd-idp" in origin for origin in _form_action(response))
