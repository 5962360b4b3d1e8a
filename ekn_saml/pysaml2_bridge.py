# SPDX-License-Identifier: Apache-2.0
"""The only module of ekn_saml that imports pysaml2 (``saml2``).

pysaml2 is used where an independent SAML implementation is worth having:

* the embedded development IdP runs on pysaml2's IdP code (``saml2.server``),
  so our SP is tested against messages our own code did not build, and our
  AuthnRequests and SP metadata are parsed by a second implementation;
* :class:`XmlsecCryptoBackend` is a pysaml2 crypto backend on python-xmlsec,
  so none of this needs the ``xmlsec1`` program or temporary files.

The SP's response checks do not go through pysaml2: pysaml2 leaves replay,
LoA, request-to-IdP binding and required encryption to its caller, returns
``None`` for some failures (pysaml2-notes), and its object model is far
slower than lxml.  :mod:`ekn_saml.response` makes every check itself.
"""
from __future__ import annotations

import base64
import functools
import time
import hashlib

from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml, samlp
from saml2.config import IdPConfig
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.sigver import CryptoBackend, RSACrypto, SignatureError, import_rsa_key_from_file, pre_encrypt_assertion
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from . import xmlsecurity
from .xmlsecurity import NS, PrivateKey, PublicKey

_ASSERTION_PATH = "/samlp:Response/saml:EncryptedAssertion/saml:Assertion"


@functools.lru_cache(maxsize=32)
def _private_key(path: str) -> PrivateKey:
    # keys are loaded once per process, not once per message
    return PrivateKey.from_file(path)


@functools.lru_cache(maxsize=32)
def _public_key(path: str) -> PublicKey:
    with open(path, "rb") as fh:
        return PublicKey.from_pem(fh.read())


class XmlsecCryptoBackend(CryptoBackend):
    """A pysaml2 ``CryptoBackend`` on python-xmlsec and lxml, in process.

    Signing uses RSA-SHA256 over exc-c14n with one enveloped reference.
    Encryption ignores the 3DES template pysaml2 hands over and uses
    ``data_encryption`` (AES-GCM or AES-CBC) with RSA-OAEP, as Sweden Connect
    IdPs do.  Verification keeps pysaml2's xmlsec1 protections: one enveloped
    reference to the element's own ID and keys from the given certificate only.
    """

    def __init__(self, data_encryption: str = "aes256-gcm") -> None:
        super().__init__()
        self.data_encryption = data_encryption

    @property
    def version(self):
        import xmlsec

        return ".".join(str(n) for n in xmlsec.get_libxmlsec_version())

    def sign_statement(self, statement, node_name, key_file, node_id):
        root = etree.fromstring(str(statement).encode() if not isinstance(statement, bytes) else statement)
        target = root if root.get("ID") == node_id else root.xpath("//*[@ID=$id]", id=node_id)[0]
        template = target.find("ds:Signature", NS)
        if template is not None:  # pysaml2 leaves an empty template; we write our own
            target.remove(template)
        xmlsecurity.sign_enveloped(target, _private_key(key_file))
        return etree.tostring(root).decode()

    def validate_signature(self, signedtext, cert_file, cert_type, node_name, node_id):
        root = xmlsecurity.parse_xml(signedtext.encode() if isinstance(signedtext, str) else signedtext)
        target = root if root.get("ID") == node_id else root.xpath("//*[@ID=$id]", id=node_id)[0]
        if cert_type == "pem":
            key = _public_key(cert_file)
        else:
            with open(cert_file, "rb") as fh:
                key = PublicKey.from_base64_der(base64.b64encode(fh.read()).decode())
        try:
            xmlsecurity.verify_enveloped(target, [key])
        except Exception as exc:  # noqa: BLE001 - pysaml2 expects SignatureError
            raise SignatureError(str(exc)) from exc
        return True

    def encrypt_assertion(self, statement, enc_key, template, key_type="des-192", node_xpath=None, node_id=None):
        return self.encrypt_assertion_to(statement, _public_key(enc_key))

    def encrypt_assertion_to(self, statement, recipient: PublicKey) -> str:
        """Encrypt the response's assertion to ``recipient`` with ``data_encryption`` and RSA-OAEP."""
        if not isinstance(statement, (str, bytes)):
            statement = pre_encrypt_assertion(statement)
        root = etree.fromstring(statement if isinstance(statement, bytes) else str(statement).encode())
        assertion = root.xpath(_ASSERTION_PATH, namespaces=NS)[0]
        xmlsecurity.encrypt_element(assertion, recipient, data_encryption=self.data_encryption)
        return etree.tostring(root).decode()

    def decrypt(self, enctext, key_file):
        root = xmlsecurity.parse_xml(enctext.encode() if isinstance(enctext, str) else enctext)
        for container in root.xpath("//saml:EncryptedAssertion", namespaces=NS):
            xmlsecurity.decrypt_element(container, [_private_key(key_file)])
        return etree.tostring(root).decode()


class _InProcessServer(Server):
    """pysaml2's IdP with encryption handed straight to our backend.

    pysaml2's ``_encrypt_assertion`` writes the recipient certificate to a
    temporary file for the xmlsec1 program; ours needs no file.
    """

    def _encrypt_assertion(self, encrypt_cert, sp_entity_id, response, node_xpath=None):
        if not encrypt_cert:
            raise ValueError("the development IdP encrypts every assertion: give the SP's encryption certificate")
        cert = PublicKey.from_base64_der(encrypt_cert)
        return self.sec.crypto.encrypt_assertion_to(response, cert)


def _nameid_for(sp_entity_id: str, persona_id: str, idp_entity_id: str) -> str:
    # A pseudonym unique per IdP-SP pair, as DP §6.2 requires of NameID.
    return hashlib.sha256(f"{idp_entity_id}|{sp_entity_id}|{persona_id}".encode()).hexdigest()[:32]


class DevIdpEngine:
    """pysaml2's IdP, configured for development: signs, and encrypts with AES."""

    def __init__(
        self,
        *,
        entity_id: str,
        sso_url: str,
        key_file: str,
        cert_file: str,
        sp_metadata_xml: str,
        data_encryption: str = "aes256-gcm",
        scopes: tuple[str, ...] = (),
    ) -> None:
        self.entity_id = entity_id
        config = IdPConfig()
        config.load(
            {
                "entityid": entity_id,
                "crypto_backend": "XMLSecurity",  # replaced below: pysaml2 has no hook for a custom backend
                "key_file": key_file,
                "cert_file": cert_file,
                "metadata": {"inline": [sp_metadata_xml]},
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [(sso_url, BINDING_HTTP_REDIRECT), (sso_url, BINDING_HTTP_POST)]
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "want_authn_requests_signed": True,
                        "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": saml.NAME_FORMAT_URI}},
                    }
                },
            }
        )
        self.server = _InProcessServer(config=config)
        self.server.sec.crypto = XmlsecCryptoBackend(data_encryption)
        # pysaml2 checks Redirect-binding signatures with this (set only for its xmlsec1 backend)
        self.server.sec.sec_backend = RSACrypto(import_rsa_key_from_file(key_file))
        self.cert_file = cert_file

    def parse_authn_request(self, saml_request: str, binding: str, **redirect_signature):
        """pysaml2's parse of our AuthnRequest: an independent check of its form and signature.

        For the Redirect binding pass ``relay_state``, ``sigalg`` and ``signature``.
        """
        parsed = self.server.parse_authn_request(saml_request, binding, **redirect_signature)
        if parsed is None:
            raise ValueError("pysaml2 could not parse the AuthnRequest")
        return parsed.message

    def success_response(
        self,
        *,
        request_id: str,
        sp_entity_id: str,
        acs_url: str,
        persona_id: str,
        attributes: dict[str, list[str]],
        loa: str,
        sp_encryption_cert_b64: str,
    ) -> str:
        """A signed Response with a signed, AES-encrypted assertion, as Sweden Connect IdPs send."""
        name_id = NameID(format=NAMEID_FORMAT_PERSISTENT, text=_nameid_for(sp_entity_id, persona_id, self.entity_id))
        response = self.server.create_authn_response(
            # keys are full urn:oid: names, which pysaml2 passes through with NameFormat uri
            identity=attributes,
            in_response_to=request_id,
            destination=acs_url,
            sp_entity_id=sp_entity_id,
            name_id=name_id,
            authn={"class_ref": loa, "authn_instant": int(time.time())},
            sign_response=True,
            sign_assertion=True,
            encrypt_assertion=True,
            encrypt_assertion_self_contained=True,
            encrypt_cert_assertion=sp_encryption_cert_b64,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        return str(response)

    def error_response(self, *, request_id: str, acs_url: str, second_level: str, message: str) -> str:
        """A signed error Response: top-level Responder, ``second_level`` below it."""
        response = self.server.create_error_response(
            request_id,
            acs_url,
            (second_level, message),
            sign=True,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        return str(response)
