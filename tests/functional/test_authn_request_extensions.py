# SPDX-License-Identifier: Apache-2.0
"""The AuthnRequest's Extensions as the demo sends them: umsg:UserMessage, and secure-authenticator-binding.

The development BankID IdPs declare supports-user-message and
secure-authenticator-binding in their metadata; the development Expisoft IdP
declares neither.  Every request is parsed with the published psc/umsg schemas.
"""

from __future__ import annotations

import base64
import zlib
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from ekn_saml.errors import ErrorCode
from ekn_saml.xml_schema import request_schema_problem

from dev_app import make_testapp

UMSG = {"umsg": "http://id.swedenconnect.se/authn/1.0/user-message/ns"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def redirect_request(to_idp) -> etree._Element:
    fields = {k: v[0] for k, v in parse_qs(urlsplit(to_idp.location).query).items()}
    return etree.fromstring(zlib.decompressobj(-15).decompress(base64.b64decode(fields["SAMLRequest"])))


def messages(request: etree._Element) -> dict[str, str]:
    return {
        m.get(XML_LANG): base64.b64decode(m.text).decode("utf-8")
        for m in request.findall(".//umsg:UserMessage/umsg:Message", UMSG)
    }


def test_user_message_goes_to_an_idp_that_declares_support(testapp):
    request = redirect_request(testapp.get("/login/bankid"))
    assert messages(request) == {"sv": "Logga in på EKN Online", "en": "Log in to EKN Online"}


def test_user_message_is_plain_text(testapp):
    request = redirect_request(testapp.get("/login/mobilt_bankid"))
    assert request.find(".//umsg:UserMessage", UMSG).get("mimeType") == "text/plain"


def test_user_message_passes_the_user_message_schema(testapp):
    assert request_schema_problem(redirect_request(testapp.get("/login/bankid"))) is None


def test_no_user_message_goes_to_an_idp_without_support(testapp):
    request = redirect_request(testapp.get("/login/expisoft"))
    assert request.find("samlp:Extensions", {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol"}) is None


def test_user_message_texts_come_from_the_settings(dev_settings):
    app = make_testapp({**dev_settings, "ekn_saml.user_message.sv": "Logga in hos EKN", "ekn_saml.user_message.en": ""})
    assert messages(redirect_request(app.get("/login/bankid"))) == {"sv": "Logga in hos EKN"}


def test_no_user_message_when_both_texts_are_empty(dev_settings):
    app = make_testapp({**dev_settings, "ekn_saml.user_message.sv": "", "ekn_saml.user_message.en": ""})
    assert redirect_request(app.get("/login/bankid")).find(".//umsg:UserMessage", UMSG) is None


def test_the_development_idp_shows_the_user_message(testapp):
    page = testapp.get(testapp.get("/login/bankid").location, headers={"Accept-Language": "en"})
    shown = page.html.find(attrs={"data-testid": "user-message"})
    assert shown is not None and "Log in to EKN Online" in shown.get_text()


def test_a_method_requiring_secure_authenticator_binding_logs_in_where_the_idp_declares_it(dev_settings):
    app = make_testapp({**dev_settings, "ekn_saml.method.bankid.secure_authenticator_binding": "true"})
    to_idp = app.get("/login/bankid")
    assert to_idp.status_int == 302 and "/devidp/bankid/" in to_idp.location


def test_a_method_requiring_secure_authenticator_binding_is_unavailable_where_the_idp_lacks_it(dev_settings):
    app = make_testapp({**dev_settings, "ekn_saml.method.expisoft.secure_authenticator_binding": "true"})
    refused = app.get("/login/expisoft", expect_errors=True)
    assert refused.status_int == 503
    assert ErrorCode.METHOD_UNAVAILABLE.value in refused.text


def test_secure_authenticator_binding_is_declared_in_the_sp_metadata_when_required(dev_settings):
    app = make_testapp({**dev_settings, "ekn_saml.method.bankid.secure_authenticator_binding": "true"})
    assert "http://id.swedenconnect.se/general-ec/1.0/secure-authenticator-binding" in app.get("/saml/metadata").text


def test_secure_authenticator_binding_is_not_declared_unless_required(testapp):
    assert "secure-authenticator-binding" not in testapp.get("/saml/metadata").text
