# SPDX-License-Identifier: Apache-2.0
"""Every SP profile's keys are loaded once at startup and checked against their certificates."""

from __future__ import annotations

import os

from ekn_saml.credentials import load_profile_credentials
from ekn_saml.settings import parse_settings


def profile_settings(app_settings, key_dir, **orgid):
    k = lambda name: os.path.join(key_dir, name)  # noqa: E731
    raw = {
        **app_settings,
        "ekn_saml.sp_profiles": "orgid",
        "ekn_saml.sp_profile.orgid.entity_id": "https://sp.example.test/sp/orgid",
        "ekn_saml.method.expisoft.sp_profile": "orgid",
    }
    raw.update({f"ekn_saml.sp_profile.orgid.{key}": k(value) for key, value in orgid.items()})
    return parse_settings(raw)


OWN_KEYS = dict(
    signing_key="sp-orgid-signing.key",
    signing_cert="sp-orgid-signing.crt",
    encryption_keys="sp-orgid-encryption.key",
    encryption_cert="sp-orgid-encryption.crt",
)


def test_each_profile_gets_its_own_keys(app_settings, key_dir):
    creds, problems = load_profile_credentials(profile_settings(app_settings, key_dir, **OWN_KEYS))
    assert problems == []
    assert creds["default"].signing_cert.der != creds["orgid"].signing_cert.der
    assert creds["default"].encryption_cert.der != creds["orgid"].encryption_cert.der


def test_a_profile_with_the_default_files_shares_the_loaded_keys(app_settings, key_dir):
    creds, problems = load_profile_credentials(profile_settings(app_settings, key_dir))
    assert problems == [] and creds["orgid"] is creds["default"]


def test_a_certificate_of_another_key_is_reported_under_the_profiles_key_name(app_settings, key_dir):
    keys = {**OWN_KEYS, "signing_cert": "sp-signing.crt"}  # the default's certificate with the orgid key
    creds, problems = load_profile_credentials(profile_settings(app_settings, key_dir, **keys))
    assert problems == [
        "ekn_saml.sp_profile.orgid.signing_cert does not belong to ekn_saml.sp_profile.orgid.signing_key"
    ]
    assert "orgid" not in creds and "default" in creds


def _ec_pair(directory, stem, curve):
    """An EC key and its self-signed certificate on ``curve`` (keygen makes P-256 only)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(curve)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, stem)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = os.path.join(directory, stem + ".key"), os.path.join(directory, stem + ".crt")
    with open(key_path, "wb") as fh:
        fh.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    with open(cert_path, "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def test_an_ec_p256_signing_key_signs_with_ecdsa_sha256(tmp_path, key_dir):
    from cryptography.hazmat.primitives.asymmetric import ec

    from ekn_saml.credentials import load_credentials
    from ekn_saml.xmlsecurity import ECDSA_SHA256

    key, cert = _ec_pair(str(tmp_path), "ec", ec.SECP256R1())
    enc = os.path.join(key_dir, "sp-encryption")
    creds, problems = load_credentials(key, cert, [enc + ".key"], enc + ".crt")
    assert problems == [] and creds.signing_algorithm == ECDSA_SHA256


def test_an_rsa_signing_key_signs_with_rsa_sha256(key_dir):
    from ekn_saml.credentials import load_credentials
    from ekn_saml.xmlsecurity import RSA_SHA256

    sig, enc = os.path.join(key_dir, "sp-signing"), os.path.join(key_dir, "sp-encryption")
    creds, _problems = load_credentials(sig + ".key", sig + ".crt", [enc + ".key"], enc + ".crt")
    assert creds.signing_algorithm == RSA_SHA256


def test_an_ec_signing_key_on_another_curve_is_refused(tmp_path, key_dir):
    from cryptography.hazmat.primitives.asymmetric import ec

    from ekn_saml.credentials import load_credentials

    key, cert = _ec_pair(str(tmp_path), "ec384", ec.SECP384R1())
    enc = os.path.join(key_dir, "sp-encryption")
    creds, problems = load_credentials(key, cert, [enc + ".key"], enc + ".crt")
    assert creds is None and any("must be P-256" in p for p in problems)


def test_an_ec_encryption_key_is_refused(tmp_path, key_dir):
    from cryptography.hazmat.primitives.asymmetric import ec

    from ekn_saml.credentials import load_credentials

    key, cert = _ec_pair(str(tmp_path), "ec-enc", ec.SECP256R1())
    sig = os.path.join(key_dir, "sp-signing")
    creds, problems = load_credentials(sig + ".key", sig + ".crt", [key], cert)
    assert creds is None and any("encryption_cert) must be RSA" in p for p in problems)
