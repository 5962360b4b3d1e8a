# SPDX-License-Identifier: Apache-2.0
"""Startup checks of the XML security stack: one libxml2 for lxml and xmlsec, every algorithm we need.

lxml and python-xmlsec hand libxml2 trees to each other, so both must run
the *same* libxml2; with two different ones the result is python-xmlsec's
"lxml & xmlsec libxml2 library version mismatch" at import, or crashes that
are hard to trace.  The PyPI wheels of both bundle libxml2 (lxml 6.1 and
xmlsec 1.3.17 both bundle 2.14), so ``pip install`` of matching wheels is
the fix; building either from source against another libxml2 breaks it.

:func:`load_xmlsec` imports python-xmlsec and turns its import failure into
an actionable :class:`~ekn_saml.errors.ConfigurationError`;
:func:`check_xmlsec` (called by :func:`ekn_saml.includeme`, once per
process) checks the versions, the algorithms of the Swedish eID profile,
the canonicalisation behaviour metadata loading relies on, and the compiled
SAML schemas.  Neither checks keys or settings.
"""

from __future__ import annotations

import io
import secrets
import threading
from types import ModuleType

from lxml import etree

from .errors import ConfigurationError
from .xml_schema import saml_schema

# The pair this release is tested with; both wheels bundle libxml2 2.14.
KNOWN_GOOD = "lxml>=6.1,<6.2 xmlsec==1.3.17"
_FIX = (
    f"install wheels that bundle the same libxml2, e.g. `pip install --force-reinstall --only-binary=:all: "
    f"'{KNOWN_GOOD.split()[0]}' '{KNOWN_GOOD.split()[1]}'`; or build BOTH from source against one system "
    "libxml2 (`pip install --force-reinstall --no-binary=lxml,xmlsec lxml xmlsec`, with libxml2-dev, "
    "libxmlsec1-dev and libxmlsec1-openssl installed)"
)

# Transform name in python-xmlsec -> what the Swedish eID profile uses it for.
REQUIRED_TRANSFORMS = {
    "RSA_SHA256": "signatures (rsa-sha256)",
    "SHA256": "reference digests (sha256)",
    "EXCL_C14N": "exclusive canonicalisation",
    "ENVELOPED": "enveloped signatures",
    "RSA_OAEP": "key transport (rsa-oaep-mgf1p)",
    "AES128_GCM": "assertion encryption (aes128-gcm)",
    "AES256_GCM": "assertion encryption (aes256-gcm)",
    "AES128": "assertion encryption (aes128-cbc)",
    "AES256": "assertion encryption (aes256-cbc)",
}


def _major_minor(version) -> tuple[int, int]:
    return tuple(int(part) for part in tuple(version)[:2])  # type: ignore[return-value]


def _dotted(version) -> str:
    return ".".join(str(part) for part in version)


def load_xmlsec() -> ModuleType:
    """Import python-xmlsec; ConfigurationError with the fix if it cannot load.

    python-xmlsec refuses to import when its libxml2 is not lxml's (since
    1.3.14); other failures are a missing package or system library.
    """
    try:
        import xmlsec
    except Exception as exc:
        if "version mismatch" in str(exc):
            problem = (
                f"python-xmlsec and lxml run different libxml2 libraries (lxml has {_dotted(etree.LIBXML_VERSION)}): "
                f"{exc}. Fix: {_FIX}"
            )
        else:
            problem = (
                f"python-xmlsec cannot be imported ({exc.__class__.__name__}: {exc}). "
                f"Fix: `pip install '{KNOWN_GOOD.split()[1]}'` (its wheel bundles libxmlsec1 and libxml2)"
            )
        raise ConfigurationError([problem]) from exc
    return xmlsec


def version_problems(xmlsec: ModuleType) -> list[str]:
    """Differences between the libxml2 lxml runs and the one python-xmlsec runs (and was built with)."""
    problems = []
    lxml_runtime = tuple(etree.LIBXML_VERSION)
    xmlsec_runtime = tuple(xmlsec.get_libxml_version())
    if _major_minor(lxml_runtime) != _major_minor(xmlsec_runtime):
        problems.append(
            f"lxml & xmlsec libxml2 library version mismatch: lxml {_dotted(etree.LXML_VERSION)} runs libxml2 "
            f"{_dotted(lxml_runtime)}, python-xmlsec {getattr(xmlsec, '__version__', '?')} runs libxml2 "
            f"{_dotted(xmlsec_runtime)}. Fix: {_FIX}"
        )
    for who, compiled, runtime in (
        ("lxml", tuple(etree.LIBXML_COMPILED_VERSION), lxml_runtime),
        ("python-xmlsec", tuple(xmlsec.get_libxml_compiled_version()), xmlsec_runtime),
    ):
        if _major_minor(compiled) != _major_minor(runtime):
            problems.append(
                f"{who} was built against libxml2 {_dotted(compiled)} but runs libxml2 {_dotted(runtime)}. Fix: {_FIX}"
            )
    return problems


def algorithm_problems(xmlsec: ModuleType) -> list[str]:
    """Algorithms of the profile that this python-xmlsec build lacks or cannot run."""
    problems = []
    for name, use in REQUIRED_TRANSFORMS.items():
        if not hasattr(xmlsec.Transform, name):
            problems.append(
                f"python-xmlsec {getattr(xmlsec, '__version__', '?')} (libxmlsec1 {_dotted(xmlsec.get_libxmlsec_version())}) "
                f"has no {name} transform, needed for {use}. Fix: `pip install --force-reinstall "
                f"--only-binary=:all: '{KNOWN_GOOD.split()[1]}'` (its wheel has libxmlsec1 1.3 with OpenSSL)"
            )
    if not problems:
        try:
            _aes_gcm_round_trip(xmlsec)
        except Exception as exc:  # noqa: BLE001 - any failure means the crypto engine cannot do it
            problems.append(
                f"python-xmlsec cannot run AES-256-GCM ({exc.__class__.__name__}: {exc}): its crypto engine lacks it. "
                f"Fix: `pip install --force-reinstall --only-binary=:all: '{KNOWN_GOOD.split()[1]}'`"
            )
    return problems


def _aes_gcm_round_trip(xmlsec: ModuleType) -> None:
    # Presence of the constant is not enough: a libxmlsec1 built on a crypto
    # engine without GCM still names it.  Encrypt and decrypt a tiny element.
    doc = etree.fromstring(b"<r><secret>ok</secret></r>")
    template = xmlsec.template.encrypted_data_create(
        doc, xmlsec.Transform.AES256_GCM, type=xmlsec.EncryptionType.ELEMENT
    )
    xmlsec.template.encrypted_data_ensure_cipher_value(template)
    key = secrets.token_bytes(32)
    ctx = xmlsec.EncryptionContext()
    ctx.key = xmlsec.Key.from_binary_data(xmlsec.constants.KeyDataAes, key)
    encrypted = ctx.encrypt_xml(template, doc[0])
    ctx = xmlsec.EncryptionContext()
    ctx.key = xmlsec.Key.from_binary_data(xmlsec.constants.KeyDataAes, key)
    decrypted = ctx.decrypt(encrypted)
    if decrypted.tag != "secret" or decrypted.text != "ok":
        raise ValueError("AES-256-GCM round trip gave another element")


def _canonicalises(xml: bytes) -> bool:
    """Whether lxml's exclusive canonicalisation accepts ``xml``, written as the metadata digest writes it."""
    try:
        etree.ElementTree(etree.fromstring(xml)).write_c14n(io.BytesIO(), exclusive=True, with_comments=False)
        return True
    except etree.C14NError:
        return False


def canonicalisation_problems() -> list[str]:
    """Whether lxml's libxml2 refuses to canonicalise a relative namespace declaration.

    :func:`ekn_saml.xmlsecurity.parse_xml` with ``whole_document_signed``
    leaves the namespace check of a federation aggregate to the digest of
    its root signature (:mod:`ekn_saml.metadata.root_signature`).  That is
    sound only if exclusive canonicalisation fails on a relative namespace
    declaration on any element, even one it would not output.  Microseconds.
    """
    if not _canonicalises(b'<r ID="_r"><c xmlns:p="urn:unused">x</c></r>'):
        return [f"libxml2 {_dotted(etree.LIBXML_VERSION)} cannot canonicalise a plain test document. Fix: " + _FIX]
    if _canonicalises(b'<r ID="_r"><c xmlns:p="relative">x</c></r>'):
        return [
            f"libxml2 {_dotted(etree.LIBXML_VERSION)} canonicalises a relative namespace declaration instead of "
            "refusing it; federation metadata would need its own namespace walk. Fix: " + _FIX
        ]
    return []


def schema_problems() -> list[str]:
    """Compile the SAML schemas now, so the first login does not, and a broken install shows at startup."""
    try:
        saml_schema()
    except Exception as exc:  # noqa: BLE001 - every failure is reported as a configuration problem
        return [
            f"the SAML XML schemas (shipped with pysaml2) cannot be compiled ({exc.__class__.__name__}: {exc}). "
            "Fix: `pip install --force-reinstall 'pysaml2>=7.5,<8'`"
        ]
    return []


_lock = threading.Lock()
_result: list[str] | None = None


def check_xmlsec(*, again: bool = False) -> None:
    """Run every check once per process; raise ConfigurationError listing each problem.

    Later calls reuse the first result (``again`` runs the checks anew; for tests).
    """
    global _result
    with _lock:
        if _result is None or again:
            xmlsec = load_xmlsec()
            problems = version_problems(xmlsec) + algorithm_problems(xmlsec)
            if not problems:
                problems = canonicalisation_problems() + schema_problems()
            _result = problems
        problems = list(_result)
    if problems:
        raise ConfigurationError(problems)
