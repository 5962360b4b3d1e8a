# SPDX-License-Identifier: Apache-2.0
"""The SP's own keys, loaded once at startup and checked against their certificates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .xmlsecurity import ECDSA_SHA256, RSA_SHA256, PrivateKey, PublicKey


@dataclass(frozen=True)
class SpCredentials:
    signing_key: PrivateKey
    signing_cert: PublicKey
    decryption_keys: tuple[PrivateKey, ...]  # newest first; older ones kept for rollover
    encryption_cert: PublicKey

    @property
    def signing_algorithm(self) -> str:
        """The signature algorithm of the signing key: ecdsa-sha256 for an EC P-256 key, else rsa-sha256.

        The key decides, so the two cannot disagree; :func:`load_credentials`
        refuses any other EC curve.  An ECDSA signature costs a small fraction
        of an RSA-3072 one (the AuthnRequest at every login start).
        """
        if isinstance(self.signing_cert.cert.public_key(), ec.EllipticCurvePublicKey):
            return ECDSA_SHA256
        return RSA_SHA256


def _matches(key: PrivateKey, cert: PublicKey) -> bool:
    return key.public_numbers() == cert.cert.public_key().public_numbers()


def load_credentials(
    signing_key: str, signing_cert: str, encryption_keys, encryption_cert: str, *, setting_prefix: str = "ekn_saml.sp."
) -> tuple[SpCredentials | None, list[str]]:
    """Load every key; return ``(credentials, problems)``.

    Checks that each certificate belongs to its key, that RSA keys have at
    least 2048 bits (DP §8), that an EC signing key is on P-256 (signed with
    ecdsa-sha256) and that the encryption key is RSA (IdPs encrypt to it
    with RSA-OAEP).  Does **not** check certificate expiry: in SAML
    metadata a certificate is only a key container.  ``setting_prefix`` names
    the keys in messages (an SP profile's are ``ekn_saml.sp_profile.<name>.``).
    """
    problems: list[str] = []
    p = setting_prefix

    def load(loader, path, what):
        try:
            return loader(path)
        except Exception as exc:  # noqa: BLE001 - every unreadable key becomes a reported problem
            problems.append(f"{what} {path}: cannot be read ({exc.__class__.__name__}: {exc})")
            return None

    def load_cert(path):
        with open(path, "rb") as fh:
            return PublicKey.from_pem(fh.read())

    sk = load(PrivateKey.from_file, signing_key, f"{p}signing_key")
    sc = load(load_cert, signing_cert, f"{p}signing_cert")
    dks = [load(PrivateKey.from_file, path, f"{p}encryption_keys") for path in encryption_keys]
    ec_cert = load(load_cert, encryption_cert, f"{p}encryption_cert")
    if sk and sc and not _matches(sk, sc):
        problems.append(f"{p}signing_cert does not belong to {p}signing_key")
    if dks and dks[0] and ec_cert and not _matches(dks[0], ec_cert):
        problems.append(f"{p}encryption_cert does not belong to the first of {p}encryption_keys")
    for cert, what in ((sc, "signing"), (ec_cert, "encryption")):
        if cert is not None:
            public = cert.cert.public_key()
            if isinstance(public, rsa.RSAPublicKey) and public.key_size < 2048:
                problems.append(
                    f"the SP {what} key ({p}{what}_cert) has {public.key_size} bits; at least 2048 are required"
                )
    if sc is not None:
        public = sc.cert.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey) and not isinstance(public.curve, ec.SECP256R1):
            problems.append(
                f"the SP signing key ({p}signing_cert) is on EC curve {public.curve.name}; an EC signing key "
                "must be P-256 (secp256r1, signed with ecdsa-sha256)"
            )
        elif not isinstance(public, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            problems.append(f"the SP signing key ({p}signing_cert) must be RSA or EC P-256")
    if ec_cert is not None and not isinstance(ec_cert.cert.public_key(), rsa.RSAPublicKey):
        problems.append(f"the SP encryption key ({p}encryption_cert) must be RSA: IdPs encrypt to it with RSA-OAEP")
    if problems:
        return None, problems
    return SpCredentials(sk, sc, tuple(dks), ec_cert), []


class ProfileKeyFiles(Protocol):
    """Where one SP profile's keys are: what this module reads of an :class:`ekn_saml.settings.SpProfile`.

    A protocol, so that the protocol layer (which needs :class:`SpCredentials`)
    does not depend on the settings package: the settings are the service's.
    """

    @property
    def name(self) -> str: ...
    @property
    def signing_key(self) -> str: ...
    @property
    def signing_cert(self) -> str: ...
    @property
    def encryption_keys(self) -> tuple[str, ...]: ...
    @property
    def encryption_cert(self) -> str: ...
    @property
    def setting_prefix(self) -> str: ...


class ProfilesKeyFiles(Protocol):
    """Every SP profile's key files: what this module reads of :class:`ekn_saml.settings.SamlSettings`."""

    @property
    def sp_profiles(self) -> Sequence[ProfileKeyFiles]: ...


def load_profile_credentials(settings: ProfilesKeyFiles) -> tuple[dict[str, SpCredentials], list[str]]:
    """Every SP profile's keys, by profile name, loaded once at startup; ``(credentials, problems)``.

    Each profile is checked as :func:`load_credentials` checks the default
    one.  Profiles with the very same four files share one object.  When
    there are problems the mapping holds only the profiles that loaded.
    """
    loaded: dict[tuple, SpCredentials | None] = {}
    result: dict[str, SpCredentials] = {}
    problems: list[str] = []
    for profile in settings.sp_profiles:
        files = (profile.signing_key, profile.signing_cert, profile.encryption_keys, profile.encryption_cert)
        if files not in loaded:  # the same files are read (and their problems reported) once
            loaded[files], found = load_credentials(*files, setting_prefix=profile.setting_prefix)
            problems += found
        if loaded[files] is not None:
            result[profile.name] = loaded[files]
    return result, problems
