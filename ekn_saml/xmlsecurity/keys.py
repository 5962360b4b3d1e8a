# SPDX-License-Identifier: Apache-2.0
"""Keys, loaded once: verification keys from metadata (:class:`PublicKey`) and the SP's private keys."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .algorithms import xmlsec

if TYPE_CHECKING:  # python-xmlsec is loaded through the startup check (algorithms.py); its types are named here
    from xmlsec import Key as XmlsecKey


def _bare_public_key(cert: x509.Certificate) -> XmlsecKey:
    # The certificate is only a key container (DP 2.1.1.2): xmlsec gets the
    # bare public key.  Each signature check copies the context's key, and a
    # key without X.509 data copies in ~1 us instead of ~40 us.
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return xmlsec.Key.from_memory(spki, xmlsec.KeyFormat.DER, None)


@dataclass(frozen=True)
class PublicKey:
    """A verification key from metadata: the xmlsec key and its certificate, loaded once.

    ``key`` holds only the public key (no certificate data); ``der`` is the
    certificate, for metadata, fingerprints and encryption templates.
    """

    key: XmlsecKey
    der: bytes
    cert: x509.Certificate

    @classmethod
    def from_pem(cls, pem: bytes) -> PublicKey:
        """Load a PEM certificate; any unreadable certificate is a ValueError."""
        try:
            cert = x509.load_pem_x509_certificate(pem)
        except Exception as exc:  # noqa: BLE001 - cryptography raises several types (e.g. InvalidVersion)
            raise ValueError(f"unreadable certificate: {exc}") from None
        der = cert.public_bytes(serialization.Encoding.DER)
        return cls(_bare_public_key(cert), der, cert)

    @classmethod
    def from_base64_der(cls, text: str) -> PublicKey:
        """Load a base64 DER certificate (metadata); any unreadable certificate is a ValueError.

        cryptography raises ``InvalidVersion`` (not a ValueError) for a bad
        version field, which the metadata fuzzer found escaping as a 500.
        """
        try:
            der = base64.b64decode("".join(text.split()))
            cert = x509.load_der_x509_certificate(der)
            public_key = _bare_public_key(cert)
        except Exception as exc:  # noqa: BLE001 - see above
            raise ValueError(f"unreadable certificate: {exc}") from None
        return cls(public_key, der, cert)

    @property
    def base64(self) -> str:
        return base64.b64encode(self.der).decode()

    @property
    def sha256_fingerprint(self) -> str:
        return hashlib.sha256(self.der).hexdigest()


@dataclass(frozen=True)
class PrivateKey:
    """A private key (signing or decryption), loaded once, with its PEM for cryptography use."""

    key: XmlsecKey
    pem: bytes
    path: str = ""

    @classmethod
    def from_file(cls, path: str) -> PrivateKey:
        with open(path, "rb") as fh:
            pem = fh.read()
        return cls(xmlsec.Key.from_memory(pem, xmlsec.KeyFormat.PEM, None), pem, path)

    def public_numbers(self):
        return serialization.load_pem_private_key(self.pem, None).public_key().public_numbers()
