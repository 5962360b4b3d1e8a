# SPDX-License-Identifier: Apache-2.0
"""Who makes the cryptographic steps once every check has passed: :class:`XmlCrypto` (python-xmlsec, in process).

The ``ekn_saml.crypto_backend`` setting may choose another engine
(``ekn_saml.pysaml2_bridge.Xmlsec1Crypto``, for comparison); the wiring
builds it and hands it to the service provider.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from ..errors import ErrorCode, ResponseValidationError
from .algorithms import xmlsec
from .digest import SignatureParts, verify_digest
from .keys import PrivateKey, PublicKey


class XmlCrypto:
    """Who does the cryptography once our checks have passed: python-xmlsec, in process.

    :func:`~ekn_saml.xmlsecurity.signatures.verify_enveloped` and
    :func:`~ekn_saml.xmlsecurity.encryption.decrypt_element` make every check
    (profile, algorithms, counts, keys from metadata only, the signature
    value over SignedInfo) and then call :meth:`verify` or :meth:`decrypt`.
    A subclass may hand these two steps to another engine (``ekn_saml.pysaml2_bridge.Xmlsec1Crypto`` runs
    pysaml2's xmlsec1 program, for comparison); it must not skip a check.
    This class keeps no per-message state and is shared by threads.
    """

    name = "xmlsec"

    def verify(self, element: etree._Element, parts: SignatureParts, key: PublicKey) -> None:
        """The rest of a signature check whose SignedInfo ``key`` has verified: the Reference's digest.

        Raises SIGNATURE_INVALID if the digest of ``element`` differs.  An
        engine that verifies whole signatures (the xmlsec1 program) checks
        the signature value again with ``key``, and nothing but ``key``.
        """
        verify_digest(element, parts)

    def decrypt(
        self,
        container: etree._Element,
        enc_data: etree._Element,
        key_nodes: Sequence[etree._Element],
        bits: int,
        keys: Sequence[PrivateKey],
    ) -> etree._Element:
        """Decrypt ``enc_data`` (algorithms already checked) in place; else DECRYPTION_FAILED.

        ``bits`` is the AES key size the data algorithm needs: a transported
        key of another size is refused.
        """
        session_key = None
        for key_node in key_nodes:
            for private_key in keys:
                ctx = xmlsec.EncryptionContext()
                ctx.key = private_key.key
                try:
                    candidate = ctx.decrypt(key_node)
                except xmlsec.Error:
                    continue
                if isinstance(candidate, bytes) and len(candidate) * 8 == bits:
                    session_key = candidate
                    break
            if session_key is not None:
                break
        if session_key is None:
            raise ResponseValidationError(ErrorCode.DECRYPTION_FAILED, "no key of ours decrypts the EncryptedKey")
        ctx = xmlsec.EncryptionContext()
        # The session key is set, so EncryptedData's KeyInfo is not followed.
        ctx.key = xmlsec.Key.from_binary_data(xmlsec.constants.KeyDataAes, session_key)
        try:
            result = ctx.decrypt(enc_data)
        except xmlsec.Error:
            raise ResponseValidationError(ErrorCode.DECRYPTION_FAILED, "EncryptedData does not decrypt") from None
        if not isinstance(result, etree._Element):
            raise ResponseValidationError(ErrorCode.DECRYPTION_FAILED, "EncryptedData is not an XML element")
        return result


IN_PROCESS = XmlCrypto()
