# SPDX-License-Identifier: Apache-2.0
"""XML security in-process, on lxml and python-xmlsec: one parser, strict profiles.

This package holds the primitives every signed or encrypted message goes
through: the safe parse (:mod:`.parse`), the algorithm allow-lists
(:mod:`.algorithms`), keys (:mod:`.keys`), the signature-profile check and
verification (:mod:`.signatures`, :mod:`.digest`), the decryption and, for
the development IdP and for POST-bound requests, signing and encryption
(:mod:`.encryption`), and the engine that makes the cryptographic steps
after the checks (:mod:`.engine`).  It knows nothing of SAML semantics
beyond element names; the ACS rules live in :mod:`ekn_saml.response`.

Keys are loaded once (:class:`PublicKey`, :class:`PrivateKey`) and reused;
nothing here writes temporary files or starts a process.  The names below
are the package's interface: import them from ``ekn_saml.xmlsecurity``.
"""

from __future__ import annotations

from ..xml_schema import check_schema, saml_schema, schema_directory
from .algorithms import (
    ALLOWED_TRANSFORMS,
    DATA_ENCRYPTION_ALGORITHMS,
    DATA_ENCRYPTION_NAMES,
    DIGEST_ALGORITHMS,
    ECDSA_SHA256,
    EMPTY_SHA256_B64,
    ENVELOPED,
    EXC_C14N,
    KEY_TRANSPORT_ALGORITHMS,
    OAEP_DIGESTS,
    RSA_OAEP_MGF1P,
    RSA_SHA256,
    SHA256,
    SIGNATURE_ALGORITHMS,
    xmlsec,
)
from .digest import SignatureParts, verify_digest
from .encryption import decrypt_element, encrypt_element
from .engine import IN_PROCESS, XmlCrypto
from .keys import PrivateKey, PublicKey
from .parse import DS, NS, XENC, check_namespaces, child, children, children_at, parse_xml, strict_text
from .signatures import (
    MAX_INCLUSIVE_PREFIXES,
    check_signature_profile,
    sign_bytes,
    sign_enveloped,
    signature_of,
    signature_parts,
    verify_bytes,
    verify_enveloped,
    verify_signed_info,
)

__all__ = [
    "ALLOWED_TRANSFORMS",
    "DATA_ENCRYPTION_ALGORITHMS",
    "DATA_ENCRYPTION_NAMES",
    "DIGEST_ALGORITHMS",
    "DS",
    "ECDSA_SHA256",
    "EMPTY_SHA256_B64",
    "ENVELOPED",
    "EXC_C14N",
    "IN_PROCESS",
    "KEY_TRANSPORT_ALGORITHMS",
    "MAX_INCLUSIVE_PREFIXES",
    "NS",
    "OAEP_DIGESTS",
    "RSA_OAEP_MGF1P",
    "RSA_SHA256",
    "SHA256",
    "SIGNATURE_ALGORITHMS",
    "XENC",
    "PrivateKey",
    "PublicKey",
    "SignatureParts",
    "XmlCrypto",
    "check_namespaces",
    "check_schema",
    "check_signature_profile",
    "child",
    "children",
    "children_at",
    "decrypt_element",
    "encrypt_element",
    "parse_xml",
    "saml_schema",
    "schema_directory",
    "sign_bytes",
    "sign_enveloped",
    "signature_of",
    "signature_parts",
    "strict_text",
    "verify_bytes",
    "verify_digest",
    "verify_enveloped",
    "verify_signed_info",
    "xmlsec",
]
