# SPDX-License-Identifier: Apache-2.0
"""Self-signed keys and certificates (SP keys, and the development IdP's TEST keys): RSA, or EC P-256 for signing.

In SAML metadata a certificate is only a key container, so self-signed
long-lived certificates are what the Swedish DP recommends (§2.1.1.2).
"""

from __future__ import annotations

import datetime as dt
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

KEY_TYPES = ("rsa", "ec")


def make_key_pair(
    common_name: str, *, bits: int = 3072, days: int = 3650, key_type: str = "rsa"
) -> tuple[bytes, bytes]:
    """``(private_key_pem, certificate_pem)``; SHA-256-signed self-signed certificate.

    ``key_type`` ``"ec"`` makes a P-256 key (``bits`` is then ignored): a
    signing key only (ecdsa-sha256, DP §8); IdPs encrypt to RSA keys.
    """
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if key_type == "ec":
        key = ec.generate_private_key(ec.SECP256R1())
    elif key_type == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    else:
        raise ValueError(f"key_type must be one of {', '.join(KEY_TYPES)}, not {key_type!r}")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def write_key_pair(
    directory: str, stem: str, common_name: str, *, bits: int = 3072, overwrite: bool = False, key_type: str = "rsa"
) -> tuple[str, str]:
    """Write ``<stem>.key`` (mode 0600) and ``<stem>.crt``; keep existing files unless ``overwrite``."""
    os.makedirs(directory, exist_ok=True)
    key_path = os.path.join(directory, stem + ".key")
    cert_path = os.path.join(directory, stem + ".crt")
    if not overwrite and os.path.exists(key_path) and os.path.exists(cert_path):
        return key_path, cert_path
    key_pem, cert_pem = make_key_pair(common_name, bits=bits, key_type=key_type)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_pem)
    os.chmod(key_path, 0o600)
    with open(cert_path, "wb") as fh:
        fh.write(cert_pem)
    return key_path, cert_path


DEV_KEYS = (
    ("dev-sp-signing", "ekn_saml development SP signing (TEST ONLY)"),
    ("dev-sp-encryption", "ekn_saml development SP encryption (TEST ONLY)"),
    # development.ini's second SP profile, "orgid" (Expisoft logins), has keys of its own
    ("dev-sp-orgid-signing", "ekn_saml development SP orgid signing (TEST ONLY)"),
    ("dev-sp-orgid-encryption", "ekn_saml development SP orgid encryption (TEST ONLY)"),
    ("dev-idp", "ekn_saml development IdP (TEST ONLY)"),
)


DEV_SERVER_KEYS = "dev-server-keys.key"  # *.key: git-ignored like the other secrets


def make_dev_keys(directory: str = "certs") -> None:
    """The keys development.ini names (both SP profiles', the development IdP's, the server keys); existing ones are kept."""
    from .server_keys import write_key_file

    for stem, cn in DEV_KEYS:
        write_key_pair(directory, stem, cn)
    server_keys = os.path.join(directory, DEV_SERVER_KEYS)
    if not os.path.exists(server_keys):
        write_key_file(server_keys)


if __name__ == "__main__":  # python -m ekn_saml.keygen [directory]
    import sys

    make_dev_keys(sys.argv[1] if len(sys.argv) > 1 else "certs")
    print("development keys are in", sys.argv[1] if len(sys.argv) > 1 else "certs")  # noqa: T201 - says where they went
