# SPDX-License-Identifier: Apache-2.0
"""An SP whose signing key is EC P-256: metadata publishes it, and its AuthnRequests verify with it (ecdsa-sha256).

The option that makes a login start cheaper (issue 14): the signing key's
type decides the algorithm (ekn_saml.credentials.SpCredentials.signing_algorithm).
Each request is checked against the certificate taken from the SP's own
published metadata, as an IdP would, for both bindings; then the development
IdP (our check and pysaml2's) answers it, so the whole login works.
"""

from __future__ import annotations

import base64
import os
import shutil
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from ekn_saml.keygen import write_key_pair
from ekn_saml.testing import development_settings
from ekn_saml.xmlsecurity import ECDSA_SHA256, NS, PublicKey, parse_xml, verify_bytes, verify_enveloped

from dev_app import log_in, make_testapp

BASE = "https://sp.example.test"


@pytest.fixture(scope="module")
def ec_key_dir(key_dir, tmp_path_factory):
    """The session's test keys, with the default SP profile's signing pair replaced by an EC P-256 one."""
    directory = str(tmp_path_factory.mktemp("ec-keys"))
    for name in os.listdir(key_dir):
        shutil.copy2(os.path.join(key_dir, name), directory)
    write_key_pair(directory, "sp-signing", "ekn_saml test EC signing (TEST ONLY)", key_type="ec", overwrite=True)
    return directory


def _app(ec_key_dir, tmp_path, binding):
    store = "sqlite:///" + str(tmp_path / "state.sqlite")
    return make_testapp(
        development_settings(sp_base=BASE, keys_dir=ec_key_dir, store_url=store, authn_request__binding=binding)
    )


def _published_signing_cert(app) -> PublicKey:
    root = etree.fromstring(app.get("/saml/metadata").body)
    text = root.xpath(
        "md:SPSSODescriptor/md:KeyDescriptor[@use='signing']//ds:X509Certificate/text()",
        namespaces={"md": NS["md"], "ds": NS["ds"]},
    )
    assert len(text) == 1
    return PublicKey.from_base64_der(text[0])


def test_metadata_publishes_the_ec_signing_certificate(ec_key_dir, tmp_path):
    public = _published_signing_cert(_app(ec_key_dir, tmp_path, "redirect")).cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp256r1"


def test_redirect_authn_request_verifies_with_the_published_ec_key(ec_key_dir, tmp_path):
    app = _app(ec_key_dir, tmp_path, "redirect")
    query = urlsplit(app.get("/login/bankid", status=302).location).query
    signed, _, _ = query.rpartition("&Signature=")
    params = dict(parse_qsl(query))
    assert params["SigAlg"] == ECDSA_SHA256
    signature = base64.b64decode(params["Signature"])
    assert verify_bytes(signed.encode(), signature, [_published_signing_cert(app)], ECDSA_SHA256)


def test_post_authn_request_verifies_with_the_published_ec_key(ec_key_dir, tmp_path):
    app = _app(ec_key_dir, tmp_path, "post")
    form = app.get("/login/bankid", status=200).forms[0]
    root = parse_xml(base64.b64decode(form["SAMLRequest"].value))
    verify_enveloped(root, [_published_signing_cert(app)])
    assert root.find("ds:Signature/ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm") == ECDSA_SHA256


@pytest.mark.parametrize("binding", ["redirect", "post"])
def test_a_whole_login_works_with_an_ec_signing_key(ec_key_dir, tmp_path, binding):
    app = _app(ec_key_dir, tmp_path, binding)
    if binding == "redirect":
        assert log_in(app).location.endswith("/mina-sidor")
    else:
        idp_page = app.get("/login/bankid", status=200).forms[0].submit(status=200)
        form = next(f for f in idp_page.forms.values() if "persona" in f.fields)
        form["persona"], form["outcome"] = "karin", "success"
        acs_form = next(f for f in form.submit().forms.values() if "SAMLResponse" in f.fields)
        assert acs_form.submit(status=302).location.endswith("/mina-sidor")
