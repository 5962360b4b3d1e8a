# SPDX-License-Identifier: Apache-2.0
"""The only module of ekn_saml that imports pysaml2 (``saml2``).

pysaml2 is used where an independent SAML implementation is worth having:

* the embedded development IdP runs on pysaml2's IdP code (``saml2.server``),
  so our SP is tested against messages our own code did not build, and our
  AuthnRequests and SP metadata are parsed by a second implementation;
* :class:`XmlsecCryptoBackend` is a pysaml2 crypto backend on python-xmlsec,
  so none of this needs the ``xmlsec1`` program or temporary files;
* :class:`Xmlsec1Crypto` lets the SP's checks hand their cryptographic steps
  to pysaml2's xmlsec1 backend instead (``ekn_saml.crypto_backend = xmlsec1``),
  only so that the two engines can be compared.

The SP's response checks do not go through pysaml2: pysaml2 leaves replay,
LoA, request-to-IdP binding and required encryption to its caller, returns
``None`` for some failures (pysaml2-notes), and its object model is far
slower than lxml.  :mod:`ekn_saml.response` makes every check itself.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import os
import shutil
import tempfile
import threading
import time
import weakref

import xmlsec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.config import IdPConfig
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.sigver import (
    SIGNER_ALGS,
    CryptoBackend,
    CryptoBackendXmlSec1,
    DecryptError,
    EncryptError,
    RSACrypto,
    SignatureError,
    Signer,
    SigverError,
    XmlsecError,
    get_xmlsec_binary,
    import_rsa_key_from_file,
    pre_encrypt_assertion,
)
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from . import xmlsecurity
from .errors import ConfigurationError, ErrorCode, ResponseValidationError, SamlError
from .xmlsecurity import ECDSA_SHA256, NS, PrivateKey, PublicKey

_ASSERTION_PATH = "/samlp:Response/saml:EncryptedAssertion/saml:Assertion"
_A = "{{{}}}".format(NS["saml"])
_P = "{{{}}}".format(NS["samlp"])
# Containers of EncryptedData in SAML (core §2.2.4, 2.3.4, 2.7.3.2, 3.6.1)
_ENCRYPTED_CONTAINERS = {
    _A + "EncryptedAssertion",
    _A + "EncryptedID",
    _A + "EncryptedAttribute",
    _P + "NewEncryptedID",
}
_DATA_ENCRYPTION_URIS = {name: uri for uri, name in xmlsecurity.DATA_ENCRYPTION_NAMES.items()}


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


# Keys are parsed once per process and content, not once per message.  They
# are cached by content rather than by path: pysaml2 hands over a new
# temporary file for every metadata certificate it checks, and a key file
# replaced on disk must not keep its old key.
@functools.lru_cache(maxsize=64)
def _private_key_from(pem: bytes) -> PrivateKey:
    return PrivateKey(xmlsec.Key.from_memory(pem, xmlsec.KeyFormat.PEM, None), pem)


@functools.lru_cache(maxsize=256)
def _certificate_from(data: bytes, cert_type: str) -> PublicKey:
    # x509 certificates only: a bare public key or anything else is refused
    # (pysaml2's xmlsec1 path: --pubkey-cert-pem/der and --enabled-key-data raw-x509-cert).
    if cert_type == "pem":
        return PublicKey.from_pem(data)
    if cert_type == "der":
        return PublicKey.from_base64_der(base64.b64encode(data).decode())
    raise ValueError(f"certificate type {cert_type!r} is not pem or der")


def _private_key(path: str) -> PrivateKey:
    return _private_key_from(_read(path))


def _public_key(path: str, cert_type: str = "pem") -> PublicKey:
    return _certificate_from(_read(path), cert_type)


def _node_name(element: etree._Element) -> str:
    # pysaml2's node names are "<namespace>:<local name>", e.g. urn:oasis:names:tc:SAML:2.0:assertion:Assertion
    name = etree.QName(element)
    return f"{name.namespace}:{name.localname}"


def _as_bytes(text) -> bytes:
    return text if isinstance(text, bytes) else str(text).encode("utf-8")


def _target(root: etree._Element, node_name: str, node_id: str | None) -> etree._Element:
    """The one element called ``node_name`` whose ``ID`` is ``node_id`` (the root when no ID is given).

    Like xmlsec1's ``--id-attr:ID <node_name> --node-id <id>``: an ID counts
    only on an element of the expected type.  IDs are unique (parse_xml).
    """
    if node_id is None:
        candidates = [root]
    else:
        candidates = root.xpath("descendant-or-self::*[@ID=$id]", id=node_id)
    if len(candidates) != 1 or _node_name(candidates[0]) != node_name:
        raise LookupError(f"no {node_name} with ID {node_id!r}")
    return candidates[0]


class XmlsecCryptoBackend(CryptoBackend):
    """A pysaml2 ``CryptoBackend`` on python-xmlsec and lxml, in process: no xmlsec1, no files.

    * ``sign_statement`` signs the element of the given type and ID with one
      enveloped reference (RSA-SHA256 over exc-c14n unless pysaml2's template
      asks for another algorithm of the profile), keeping the template's
      certificate in KeyInfo;
    * ``validate_signature`` keeps every protection of pysaml2's xmlsec1 path
      (CVE-2021-21238, CVE-2021-21239): the element must be of the named
      type, its signature must have exactly one Reference, to its own ID
      (so no external or second reference), only the enveloped and exc-c14n
      transforms, and the key is the given x509 certificate's, never a
      KeyValue or a certificate carried in the message (KeyValue and
      RetrievalMethod are refused outright); the signed element must pass
      the SAML schema.  It is stricter than xmlsec1 where our profile is:
      SHA-1, ``ds:Object`` and void digests are refused;
    * ``decrypt`` decrypts every EncryptedAssertion/ID/Attribute with any of
      the given key files, refusing rsa-1_5 and 3DES;
    * ``encrypt_assertion`` encrypts with AES-GCM or AES-CBC (the template's
      AES algorithm, else ``data_encryption``) and RSA-OAEP, never 3DES.

    Keys are parsed once per process.  What it does **not** do is what
    pysaml2's ``SecurityContext`` does around it: choose the certificates
    (from metadata) and check the rest of the message.
    """

    def __init__(self, data_encryption: str = "aes256-gcm", oaep_digest: str | None = xmlsecurity.SHA256) -> None:
        """``oaep_digest`` None means RSA-OAEP's default SHA-1 digest (no DigestMethod), the profile's
        mandatory default, which every SP (xmlsec1 1.2 included) can decrypt."""
        super().__init__()
        if data_encryption not in _DATA_ENCRYPTION_URIS:
            raise ValueError(f"data_encryption {data_encryption!r} is not an AES algorithm of the profile")
        self.data_encryption = data_encryption
        self.oaep_digest = oaep_digest

    @property
    def version(self):
        return ".".join(str(n) for n in xmlsec.get_libxmlsec_version())

    def sign_statement(self, statement, node_name, key_file, node_id):
        try:
            root = xmlsecurity.parse_xml(_as_bytes(statement))
            target = _target(root, node_name, node_id)
        except (SamlError, LookupError) as exc:
            raise SignatureError(f"cannot sign: {exc}") from exc
        algorithm, digest, cert = xmlsecurity.RSA_SHA256, xmlsecurity.SHA256, None
        template = target.find("ds:Signature", NS)
        if template is not None:  # pysaml2's empty template says which algorithms and certificate
            method = template.find("ds:SignedInfo/ds:SignatureMethod", NS)
            digest_method = template.find("ds:SignedInfo/ds:Reference/ds:DigestMethod", NS)
            if method is not None:
                algorithm = method.get("Algorithm", "")
            if digest_method is not None:
                digest = digest_method.get("Algorithm", "")
            cert_text = template.findtext("ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=NS)
            if cert_text:
                cert = _certificate_from(base64.b64decode("".join(cert_text.split())), "der")
            target.remove(template)
        if algorithm not in xmlsecurity.SIGNATURE_ALGORITHMS or digest not in xmlsecurity.DIGEST_ALGORITHMS:
            raise SignatureError(f"refusing to sign with {algorithm} / {digest}: not an algorithm of the profile")
        xmlsecurity.sign_enveloped(target, _private_key(key_file), cert, algorithm=algorithm, digest=digest)
        return etree.tostring(root).decode()

    def validate_signature(self, signedtext, cert_file, cert_type, node_name, node_id):
        """Verify the enveloped signature of the ``node_name`` element with ID ``node_id``.

        Returns True or raises ``SignatureError`` (pysaml2's contract: it then
        tries its next certificate).
        """
        try:
            key = _public_key(cert_file, cert_type)
        except (OSError, ValueError) as exc:
            raise SignatureError(f"{cert_file}: not an x509 certificate ({exc})") from exc
        try:
            root = xmlsecurity.parse_xml(_as_bytes(signedtext))
            target = _target(root, node_name, node_id)
            xmlsecurity.verify_enveloped(target, [key], schema=True)
        except (SamlError, LookupError) as exc:
            raise SignatureError(str(exc)) from exc
        return True

    def encrypt(self, text, recv_key, template, session_key_type, xpath=""):
        """Encrypt the element at ``xpath`` (not the root) to the certificate in ``recv_key``."""
        root = xmlsecurity.parse_xml(_as_bytes(text))
        found = root.xpath(xpath) if xpath else []
        if len(found) != 1 or found[0].getparent() is None:
            raise EncryptError(f"xpath {xpath!r} must select one element below the root")
        xmlsecurity.encrypt_element(
            found[0],
            _public_key(recv_key),
            data_encryption=self._data_encryption(template),
            oaep_digest=self.oaep_digest,
        )
        return etree.tostring(root).decode()

    def encrypt_assertion(self, statement, enc_key, template, key_type="des-192", node_xpath=None, node_id=None):
        return self.encrypt_assertion_to(
            statement, _public_key(enc_key), node_xpath=node_xpath, node_id=node_id, template=template
        )

    def encrypt_assertion_to(
        self, statement, recipient: PublicKey, *, node_xpath=None, node_id=None, template=None
    ) -> str:
        """Encrypt the response's assertion to ``recipient`` with AES (GCM or CBC) and RSA-OAEP.

        ``node_xpath``/``node_id`` pick the assertion as pysaml2's xmlsec1
        path does (default: the one in ``Response/EncryptedAssertion``).
        """
        if not isinstance(statement, (str, bytes)):
            statement = pre_encrypt_assertion(statement)
        root = xmlsecurity.parse_xml(_as_bytes(statement))
        if node_xpath:
            found = root.xpath(node_xpath)
        else:
            found = root.xpath(_ASSERTION_PATH, namespaces=NS)
        if node_id is not None:
            found = [el for el in found if el.get("ID") == node_id]
        if len(found) != 1:
            raise EncryptError(f"expected one assertion to encrypt, found {len(found)}")
        xmlsecurity.encrypt_element(
            found[0], recipient, data_encryption=self._data_encryption(template), oaep_digest=self.oaep_digest
        )
        return etree.tostring(root).decode()

    def _data_encryption(self, template) -> str:
        # pysaml2's template names 3DES unless told otherwise; only an AES algorithm of the profile is taken from it
        if template:
            try:
                method = etree.fromstring(_as_bytes(template)).find(".//xenc:EncryptionMethod", NS)
            except etree.XMLSyntaxError:
                method = None
            if method is not None and method.get("Algorithm") in xmlsecurity.DATA_ENCRYPTION_NAMES:
                return xmlsecurity.DATA_ENCRYPTION_NAMES[method.get("Algorithm")]
        return self.data_encryption

    def decrypt(self, enctext, key_file):
        """Decrypt every encrypted SAML element with any of ``key_file`` (one path or several).

        Raises ``DecryptError`` (pysaml2 then tries its next key) when no key
        decrypts, or the algorithms are not the profile's.
        """
        key_files = [key_file] if isinstance(key_file, (str, bytes)) else list(key_file)
        try:
            keys = [_private_key(path) for path in key_files if path]
            root = xmlsecurity.parse_xml(_as_bytes(enctext))
            containers = [el for el in root.iter() if el.tag in _ENCRYPTED_CONTAINERS]
            if not containers:
                raise DecryptError("nothing encrypted in the document")
            for container in containers:
                xmlsecurity.decrypt_element(container, keys)
        except (OSError, ValueError, xmlsec.Error) as exc:
            raise DecryptError(f"cannot decrypt: {exc}") from exc
        except SamlError as exc:
            raise DecryptError(str(exc)) from exc
        return etree.tostring(root).decode()


class Xmlsec1Crypto(xmlsecurity.XmlCrypto):
    """``ekn_saml.crypto_backend = xmlsec1``: pysaml2's xmlsec1 program makes the cryptographic steps.

    Only to compare the two engines (differential tests, the bench).  Every
    check of :mod:`ekn_saml.xmlsecurity` still runs first; then the element
    goes to pysaml2's ``CryptoBackendXmlSec1`` exactly as pysaml2 would hand
    it over (``--id-attr:ID <type> --node-id <ID>``, ``--enabled-key-data
    raw-x509-cert``, ``--enabled-reference-uris empty,same-doc``), with
    temporary files and subprocesses.  Metadata certificates are written
    once each to a private directory; private keys are used from their files.
    """

    name = "xmlsec1"

    def __init__(self, backend: CryptoBackendXmlSec1) -> None:
        self.backend = backend
        # removed with this object (or at exit), quietly: it holds only what we wrote
        self._directory = tempfile.mkdtemp(prefix="ekn_saml-xmlsec1-")
        weakref.finalize(self, shutil.rmtree, self._directory, True)
        self._files: dict[bytes, str] = {}
        self._lock = threading.Lock()

    @classmethod
    def create(cls, binary: str | None = None) -> Xmlsec1Crypto:
        """Find the program (or use ``binary``); ConfigurationError if it is not installed."""
        try:
            path = binary or get_xmlsec_binary()
        except SigverError:
            raise ConfigurationError(
                [
                    "ekn_saml.crypto_backend = xmlsec1 needs the xmlsec1 program, which is not installed: "
                    "install it (Debian/Ubuntu: apt-get install xmlsec1) or use the default, "
                    "ekn_saml.crypto_backend = xmlsec (python-xmlsec, in process)"
                ]
            ) from None
        return cls(CryptoBackendXmlSec1(path))

    def _file(self, content: bytes, suffix: str) -> str:
        with self._lock:
            path = self._files.get(content)
            if path is None:
                path = os.path.join(self._directory, f"{len(self._files)}{suffix}")
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(content)
                self._files[content] = path
            return path

    def verify(self, element, parts, key) -> None:
        # The whole signature (SignedInfo again, and the digest) with the one
        # key that verified SignedInfo.  The element on its own keeps every
        # namespace declaration it inherits, so its exclusive canonical form
        # (what was signed) is unchanged.
        text = etree.tostring(element)
        pem = key.cert.public_bytes(serialization.Encoding.PEM)
        try:
            if self.backend.validate_signature(
                text, self._file(pem, ".crt"), "pem", _node_name(element), element.get("ID")
            ):
                return
        except XmlsecError:
            pass
        raise ResponseValidationError(
            ErrorCode.SIGNATURE_INVALID, "xmlsec1: signature does not verify with the metadata key"
        )

    def decrypt(self, container, enc_data, key_nodes, bits, keys) -> etree._Element:
        text = etree.tostring(container)
        for key in keys:
            key_file = key.path or self._file(key.pem, ".key")
            try:
                output = self.backend.decrypt(text, key_file)
            except XmlsecError:
                continue
            # parsed like any message: a DOCTYPE or duplicate ID in the plaintext gets its own code
            decrypted = xmlsecurity.parse_xml(_as_bytes(output))
            # what took EncryptedData's place; an EncryptedKey beside it stays
            found = [
                el for el in decrypted if isinstance(el.tag, str) and el.tag != "{{{}}}EncryptedKey".format(NS["xenc"])
            ]
            if len(found) != 1:
                break
            # lxml rebinds prefixes by namespace when a node moves into another
            # document (pysaml2-notes), which would change the assertion's
            # exclusive canonical form and break its signature.  So the element
            # returned (verified and read) is xmlsec1's own, kept on its own;
            # a copy takes EncryptedData's place for the document-wide checks
            # (duplicate IDs, namespaces) that decrypt_element makes next.
            element = xmlsecurity.parse_xml(etree.tostring(found[0]))
            container.replace(enc_data, copy.deepcopy(element))
            return element
        raise ResponseValidationError(ErrorCode.DECRYPTION_FAILED, "xmlsec1: no key of ours decrypts the EncryptedData")


class _EcdsaSha256Signer(Signer):
    """pysaml2's Redirect-binding check of an ecdsa-sha256 signature, which pysaml2 7.5 lacks.

    The signature is the XML-DSig form (r || s, each 32 bytes for P-256),
    as python-xmlsec makes it for our AuthnRequests; it is checked with the
    ``cryptography`` package, so the development IdP's second opinion on an
    EC-signed AuthnRequest comes from another implementation than ours
    (python-xmlsec).  Verification only: pysaml2 never signs with it here.
    """

    def __init__(self) -> None:
        super().__init__(None)

    def sign(self, msg, key=None):
        raise NotImplementedError("the development IdP only verifies ecdsa-sha256")

    def verify(self, msg, sig, key=None):
        key = key or self.key
        if not isinstance(key, ec.EllipticCurvePublicKey) or len(sig) % 2:
            return False
        half = len(sig) // 2
        der = encode_dss_signature(int.from_bytes(sig[:half], "big"), int.from_bytes(sig[half:], "big"))
        try:
            key.verify(der, msg, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True


# Adds a verification pysaml2 did not have (it refused such requests): no check is weakened.
SIGNER_ALGS.setdefault(ECDSA_SHA256, _EcdsaSha256Signer())


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
    """pysaml2's IdP, configured for development: signs, and encrypts with AES.

    ``sp_metadata_xml`` is one SP metadata document or several (one per SP
    profile): pysaml2 accepts AuthnRequests only from the SPs it describes,
    each checked against its own signing keys and ACS URLs.
    """

    def __init__(
        self,
        *,
        entity_id: str,
        sso_url: str,
        key_file: str,
        cert_file: str,
        sp_metadata_xml: str | list[str] | tuple[str, ...],
        data_encryption: str = "aes256-gcm",
        scopes: tuple[str, ...] = (),
    ) -> None:
        self.entity_id = entity_id
        sp_documents = [sp_metadata_xml] if isinstance(sp_metadata_xml, str) else list(sp_metadata_xml)
        config = IdPConfig()
        config.load(
            {
                "entityid": entity_id,
                "crypto_backend": "XMLSecurity",  # replaced below: pysaml2 has no hook for a custom backend
                "key_file": key_file,
                "cert_file": cert_file,
                "metadata": {"inline": sp_documents},
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
        An ecdsa-sha256 one (an EC SP signing key) is checked by
        :class:`_EcdsaSha256Signer`, which this module adds to pysaml2's table.
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
