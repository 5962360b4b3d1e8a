# SPDX-License-Identifier: Apache-2.0
"""Encrypted elements: the structural checks of the wrapper, decryption with any of our keys, and encryption.

Every algorithm is checked against the profile's lists before anything is
decrypted, and one error code covers every decryption failure, so no
padding oracle is exposed.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from ..errors import ErrorCode, ResponseValidationError
from .algorithms import (
    DATA_ENCRYPTION_ALGORITHMS,
    ENCRYPTION_TRANSFORMS,
    KEY_TRANSPORT_ALGORITHMS,
    OAEP_DIGESTS,
    RSA_OAEP_MGF1P,
    SHA256,
    xmlsec,
)
from .engine import IN_PROCESS, XmlCrypto
from .keys import PrivateKey, PublicKey
from .parse import DS, NS, XENC, check_ids, check_subtree, child, children, children_at


def _check_encryption_method(el: etree._Element, allowed, what: str) -> str:
    method = child(el, XENC + "EncryptionMethod")
    algorithm = method.get("Algorithm") if method is not None else None
    if algorithm is None or algorithm not in allowed:
        raise ResponseValidationError(ErrorCode.ENCRYPTION_ALGORITHM_FORBIDDEN, f"{what} algorithm {algorithm!r}")
    if algorithm == RSA_OAEP_MGF1P or what == "key transport":
        digest = child(method, DS + "DigestMethod")
        if digest is not None and digest.get("Algorithm") not in OAEP_DIGESTS:
            raise ResponseValidationError(
                ErrorCode.ENCRYPTION_ALGORITHM_FORBIDDEN, f"OAEP digest {digest.get('Algorithm')!r}"
            )
    return algorithm


_CONTAINER_CHILDREN = (XENC + "EncryptedData", XENC + "EncryptedKey")


def _check_cipher_data(el: etree._Element, what: str) -> None:
    # xmlsec follows an xenc:CipherReference (it opened a local file the
    # message named, in a test), so the cipher text must be carried inline:
    # one CipherData holding exactly one CipherValue and nothing else.
    cipher_data = children(el, XENC + "CipherData")
    if len(cipher_data) != 1 or len(cipher_data[0]) != 1 or cipher_data[0][0].tag != XENC + "CipherValue":
        raise ResponseValidationError(
            ErrorCode.ENCRYPTION_PROFILE_VIOLATION, f"{what} must carry exactly one CipherValue, no CipherReference"
        )


def decrypt_element(
    container: etree._Element, keys: Sequence[PrivateKey], crypto: XmlCrypto | None = None
) -> etree._Element:
    """Decrypt the one ``xenc:EncryptedData`` in ``container`` in place; return the new element.

    ``container`` is an EncryptedAssertion (or similar).  The EncryptedKey may
    sit inside EncryptedData's KeyInfo or beside it.  Every private key (our
    rollover set) is tried on every EncryptedKey.  rsa-1_5 key transport,
    3DES/unknown data encryption, a child of ``container`` other than
    EncryptedData/EncryptedKey, and cipher text that is not an inline
    CipherValue (ENCRYPTION_PROFILE_VIOLATION) are refused *before* any
    decryption: this is the structural check of the wrapper, whose cipher
    text no schema check sees.  One error code for every decryption
    failure, so no padding oracle is exposed.
    ``crypto`` does the decryption after these checks (default: in process).
    The decrypted subtree (entities, namespaces), and every ID of the
    document, are then checked as :func:`~ekn_saml.xmlsecurity.parse.parse_xml` checks a document; the
    rest of the document is **not** walked again: it must come from
    :func:`~ekn_saml.xmlsecurity.parse.parse_xml`.
    """
    data_nodes = children(container, XENC + "EncryptedData")
    if len(data_nodes) != 1:
        raise ResponseValidationError(
            ErrorCode.ENCRYPTION_PROFILE_VIOLATION, f"expected one EncryptedData, found {len(data_nodes)}"
        )
    for item in container:
        if item.tag not in _CONTAINER_CHILDREN:
            raise ResponseValidationError(
                ErrorCode.ENCRYPTION_PROFILE_VIOLATION, f"{etree.QName(container).localname} holds {item.tag!r}"
            )
    enc_data = data_nodes[0]
    data_alg = _check_encryption_method(enc_data, DATA_ENCRYPTION_ALGORITHMS, "data encryption")
    _check_cipher_data(enc_data, "EncryptedData")
    key_nodes = children_at(enc_data, DS + "KeyInfo", XENC + "EncryptedKey") + children(
        container, XENC + "EncryptedKey"
    )
    if not key_nodes:
        raise ResponseValidationError(ErrorCode.DECRYPTION_FAILED, "no EncryptedKey")
    for key_node in key_nodes:
        _check_encryption_method(key_node, KEY_TRANSPORT_ALGORITHMS, "key transport")
        _check_cipher_data(key_node, "EncryptedKey")
    result = (crypto or IN_PROCESS).decrypt(
        container, enc_data, key_nodes, DATA_ENCRYPTION_ALGORITHMS[data_alg][1], keys
    )
    # As parse_xml checks a document, without walking again what it
    # checked: the new subtree's nodes, and every ID in the document.
    check_subtree(result)
    check_ids(container.getroottree().getroot())
    return result


def encrypt_element(
    element: etree._Element,
    recipient: PublicKey,
    *,
    data_encryption: str = "aes256-gcm",
    oaep_digest: str | None = SHA256,
) -> etree._Element:
    """Replace ``element`` by an ``xenc:EncryptedData`` (RSA-OAEP key transport, AES data).

    The element is serialised on its own first, so that it carries every
    namespace it uses and decrypts to the same exclusive canonical form: a
    signature made before encryption stays valid (see pysaml2-notes).
    The EncryptedKey is put inside EncryptedData's KeyInfo.
    """
    parent = element.getparent()
    standalone = etree.tostring(element)
    enc_data = xmlsec.template.encrypted_data_create(
        parent, ENCRYPTION_TRANSFORMS[data_encryption], type=xmlsec.EncryptionType.ELEMENT, ns="xenc"
    )
    xmlsec.template.encrypted_data_ensure_cipher_value(enc_data)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(enc_data, ns="ds")
    enc_key = xmlsec.template.add_encrypted_key(key_info, xmlsec.Transform.RSA_OAEP)
    xmlsec.template.encrypted_data_ensure_cipher_value(enc_key)
    if oaep_digest:
        method = enc_key.find("xenc:EncryptionMethod", NS)
        etree.SubElement(method, DS + "DigestMethod", Algorithm=oaep_digest)
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_memory(recipient.der, xmlsec.KeyFormat.CERT_DER, None))
    ctx = xmlsec.EncryptionContext(manager)
    bits = int(data_encryption[3:6])
    ctx.key = xmlsec.Key.generate(xmlsec.constants.KeyDataAes, bits, xmlsec.constants.KeyDataTypeSession)
    encrypted = ctx.encrypt_binary(enc_data, standalone)
    parent.replace(element, encrypted)
    return encrypted
