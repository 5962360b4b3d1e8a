# SPDX-License-Identifier: Apache-2.0
"""The signature over a whole federation aggregate, checked without resolving any ID.

The checks themselves live in :mod:`ekn_saml.xmlsecurity` (``signature_parts``,
``verify_signed_info``, ``verify_digest``), where SAML Responses and
assertions use them too; this module is the metadata's way in, and says why.

Why not python-xmlsec's ``SignatureContext.verify``, as for a SAML Response:
its reference processing canonicalises through a node-set filter, which on a
24 MB aggregate costs 0.23 s of a 0.42 s load, 2.5 times what libxml2's own
exclusive canonicalisation of the same tree costs.  Federation metadata has
one shape of signature (SAML metadata interoperability profile, Swedish eID
DP §8): an enveloped exc-c14n signature, a direct child of the root, whose
one Reference is the root's own ID.  For that shape the reference is simply
the root, and the digest input is the root canonicalised without its
Signature element.  So this module

1. checks the signature profile of :mod:`ekn_saml.xmlsecurity` (algorithms,
   one Reference to the root's ID, KeyInfo never used) and, beyond it, that
   Signature, SignedInfo, Reference and Transforms hold exactly the
   elements this profile allows, in the XML Signature schema's order,
   with no comment or processing instruction among them, and that the
   Transforms are enveloped-signature then exc-c14n (so what is read here
   is what the signed bytes say);
2. canonicalises ``SignedInfo`` (exc-c14n, libxml2 through lxml) and checks
   the signature value against the pinned keys with python-xmlsec
   (OpenSSL): a wrong signer costs no digest of 24 MB;
3. canonicalises the root without the Signature element (exc-c14n, with the
   Transform's InclusiveNamespaces) into the digest, and compares it in
   constant time with ``DigestValue``.

Nothing is looked up by ID, so a wrapped copy of the root cannot take the
signature, whatever the IDs in the document.  libxml2's canonicalisation
refuses a relative namespace declaration on any element it walks (probed at
startup by :func:`ekn_saml.xmlsec_check.canonicalisation_problems`); the
Signature element, which it does not walk for the digest, is checked here.
tests/unit/metadata/test_root_signature.py checks each accepted shape, and
a real third-party signature, against python-xmlsec's full verification;
tests/fuzz/test_fuzz_root_signature.py does so for every accepted mutant.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from ..errors import ErrorCode, ResponseValidationError
from ..xmlsecurity import PublicKey, signature_of, signature_parts, verify_digest, verify_signed_info


def verify_root_signature(root: etree._Element, keys: Sequence[PublicKey]) -> None:
    """Verify the enveloped signature over ``root`` (the whole document) with one of ``keys``.

    Raises :class:`~ekn_saml.errors.ResponseValidationError`:
    RESPONSE_NOT_SIGNED without a Signature child; SIGNATURE_PROFILE_VIOLATION
    (or SIGNATURE_ALGORITHM_FORBIDDEN, SIGNATURE_KEYINFO_FORBIDDEN) for
    anything outside the profile in the module docstring; NO_TRUSTED_KEY
    with no keys; SIGNATURE_INVALID when no key verifies SignedInfo, or the
    digest of the root differs, or the document cannot be canonicalised.
    The certificate in KeyInfo is never used.

    Does **not** check certificate expiry (metadata certificates are key
    containers), the schema, or validity dates.  The Signature element is
    detached from ``root`` while the digest is computed and put back before
    returning, whatever happens: no other thread may read ``root`` meanwhile.
    """
    signature = signature_of(root)
    if signature is None:
        raise ResponseValidationError(ErrorCode.RESPONSE_NOT_SIGNED, f"{etree.QName(root).localname} is not signed")
    parts = signature_parts(root, signature)
    if not keys:
        raise ResponseValidationError(ErrorCode.NO_TRUSTED_KEY, "no signing certificate is pinned for this document")
    # SignedInfo first: a document from another signer costs no digest of the whole tree.
    verify_signed_info(parts, keys)
    verify_digest(root, parts)
