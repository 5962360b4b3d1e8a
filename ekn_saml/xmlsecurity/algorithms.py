# SPDX-License-Identifier: Apache-2.0
"""The algorithms the Swedish eID profile allows (DP §8), by URI, with python-xmlsec's transform for each.

Everything not listed here is refused: SHA-1 signatures and digests,
rsa-1_5 key transport, 3DES.  The SP metadata declares exactly these lists
(:mod:`ekn_saml.metadata.sp`), so an IdP is told what the ACS accepts.
"""

from __future__ import annotations

import base64
import hashlib

from ..xmlsec_check import load_xmlsec

# python-xmlsec, or a ConfigurationError saying how to fix it (libxml2 mismatch)
xmlsec = load_xmlsec()

SIGNATURE_ALGORITHMS = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": xmlsec.Transform.RSA_SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": xmlsec.Transform.RSA_SHA384,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": xmlsec.Transform.RSA_SHA512,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": xmlsec.Transform.ECDSA_SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": xmlsec.Transform.ECDSA_SHA384,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": xmlsec.Transform.ECDSA_SHA512,
}
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"  # an EC P-256 SP signing key signs with it
DIGEST_ALGORITHMS = {
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
}
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
# python-xmlsec's transform for each digest algorithm (signing)
DIGEST_TRANSFORMS = {
    SHA256: xmlsec.Transform.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": xmlsec.Transform.SHA384,
    "http://www.w3.org/2001/04/xmlenc#sha512": xmlsec.Transform.SHA512,
}
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
ALLOWED_TRANSFORMS = {ENVELOPED, EXC_C14N}
# SHA-256 of nothing: a digest over an empty node set ("void canonicalisation")
EMPTY_SHA256_B64 = base64.b64encode(hashlib.sha256(b"").digest()).decode()

DATA_ENCRYPTION_ALGORITHMS = {
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc": (xmlsec.constants.KeyDataAes, 128),
    "http://www.w3.org/2001/04/xmlenc#aes192-cbc": (xmlsec.constants.KeyDataAes, 192),
    "http://www.w3.org/2001/04/xmlenc#aes256-cbc": (xmlsec.constants.KeyDataAes, 256),
    "http://www.w3.org/2009/xmlenc11#aes128-gcm": (xmlsec.constants.KeyDataAes, 128),
    "http://www.w3.org/2009/xmlenc11#aes192-gcm": (xmlsec.constants.KeyDataAes, 192),
    "http://www.w3.org/2009/xmlenc11#aes256-gcm": (xmlsec.constants.KeyDataAes, 256),
}
# The same algorithms by their short names (the URI's fragment), which the
# settings, encrypt_element and the development IdP use.
DATA_ENCRYPTION_NAMES = {uri: uri.rsplit("#", 1)[1] for uri in DATA_ENCRYPTION_ALGORITHMS}
RSA_OAEP_MGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
# Only the profile's mandatory key transport. xmlenc11#rsa-oaep is not in the
# DP §8 table, so a receiver MUST refuse it unless its own metadata declares it;
# our SP metadata (metadata/sp.py) declares exactly this set.
KEY_TRANSPORT_ALGORITHMS = {RSA_OAEP_MGF1P}
# The SHA-1 *OAEP digest* is the profile's mandatory default and is accepted;
# SHA-1 signatures and reference digests are not (checklist 11).
OAEP_DIGESTS = {"http://www.w3.org/2000/09/xmldsig#sha1", SHA256, *DIGEST_ALGORITHMS}

# python-xmlsec's transform for each data encryption, by short name (encrypt_element)
ENCRYPTION_TRANSFORMS = {
    "aes128-gcm": xmlsec.Transform.AES128_GCM,
    "aes192-gcm": xmlsec.Transform.AES192_GCM,
    "aes256-gcm": xmlsec.Transform.AES256_GCM,
    "aes128-cbc": xmlsec.Transform.AES128,
    "aes192-cbc": xmlsec.Transform.AES192,
    "aes256-cbc": xmlsec.Transform.AES256,
}

# hashlib's function for each digest algorithm: the Reference digest streams the canonical form into it
DIGEST_HASHES = {
    SHA256: hashlib.sha256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": hashlib.sha384,
    "http://www.w3.org/2001/04/xmlenc#sha512": hashlib.sha512,
}
