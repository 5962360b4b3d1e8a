# SPDX-License-Identifier: Apache-2.0
"""The SP metadata we publish (Swedish eID DP §2, federation rules TAR §3).

Built from :class:`~ekn_saml.settings.SamlSettings` and the loaded keys,
validated against the SAML metadata schema every time it is built, and
optionally signed with the SP signing key (then with ``validUntil``).
Each SP profile (:class:`~ekn_saml.settings.SpProfile`) is its own SP entity
with its own document; the functions take the profile (default: the
default profile, the ``ekn_saml.sp.*`` keys) and that profile's credentials.
"""

from __future__ import annotations

import datetime as dt
import secrets

from lxml import etree
from zope.interface import implementer

from ..credentials import SpCredentials
from ..errors import ConfigurationError, MetadataError
from ..interfaces import ISpMetadataDocuments
from ..settings import SamlSettings, SpMetadataSettings, SpProfile
from ..timeutil import format_instant, utcnow
from ..xmlsecurity import (
    DIGEST_ALGORITHMS,
    KEY_TRANSPORT_ALGORITHMS,
    NS,
    SHA256,
    SIGNATURE_ALGORITHMS,
    PublicKey,
    sign_enveloped,
)
from .categories import ATTRIBUTE_FRIENDLY_NAMES, ENTITY_CATEGORY_ATTRIBUTE, URI_NAME_FORMAT
from .schema import validate_metadata

MDORGEXT = "http://id.swedenconnect.se/authn/1.0/md-org-ext/ns"
_NSMAP = {
    "md": NS["md"],
    "ds": NS["ds"],
    "saml": NS["saml"],
    "mdattr": NS["mdattr"],
    "mdui": NS["mdui"],
    "alg": NS["alg"],
    "mdorgext": MDORGEXT,
}
_E = {k: f"{{{v}}}" for k, v in _NSMAP.items()}
_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
# What we can decrypt, in order of preference (DP §8.3, §8.4).
ENCRYPTION_METHODS = (
    "http://www.w3.org/2009/xmlenc11#aes256-gcm",
    "http://www.w3.org/2009/xmlenc11#aes128-gcm",
    "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
)
NAMEID_FORMATS = (
    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
)


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    prefix, local = tag.split(":")
    el = etree.SubElement(parent, _E[prefix] + local, attrs)
    if text is not None:
        el.text = text
    return el


def _localized(parent: etree._Element, tag: str, texts: tuple[tuple[str, str], ...]) -> None:
    for lang, text in texts:
        _sub(parent, tag, text).set(_LANG, lang)


def _key_descriptor(parent: etree._Element, use: str, cert: PublicKey) -> etree._Element:
    kd = _sub(parent, "md:KeyDescriptor", use=use)
    x509 = _sub(_sub(kd, "ds:KeyInfo"), "ds:X509Data")
    _sub(x509, "ds:X509Certificate", cert.base64)
    return kd


def _profile(settings: SamlSettings, profile: SpProfile | None) -> SpProfile:
    return profile if profile is not None else settings.default_sp_profile


def load_next_signing_cert(settings: SamlSettings, profile: SpProfile | None = None) -> PublicKey | None:
    """The profile's configured next signing certificate, or ``None``; ConfigurationError if unreadable."""
    profile = _profile(settings, profile)
    path = profile.metadata.next_signing_cert
    if not path:
        return None
    try:
        with open(path, "rb") as fh:
            return PublicKey.from_pem(fh.read())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            [f"{profile.setting_prefix}next_signing_cert {path}: cannot be read ({exc})"]
        ) from None


def build_sp_metadata(
    settings: SamlSettings,
    credentials: SpCredentials,
    *,
    next_signing_cert: PublicKey | None = None,
    profile: SpProfile | None = None,
) -> etree._Element:
    """An unsigned EntityDescriptor for the SP ``profile`` (default: the default profile).

    Carries, where configured: entity categories, the algorithms we accept
    (MetaAlgSupport), mdui:UIInfo, separate signing and encryption
    KeyDescriptors (plus the next signing key during a rollover), the
    encryption methods we decrypt, the HTTP-POST ACS, RequestedAttributes,
    Organization with the organisation number, and contacts.  Only the newest
    encryption key is published (DP §2.1.1.2).  ``credentials`` must be the
    profile's (not checked here).  Does **not** sign or validate.
    Each part is added by its own function, in the order the schema wants.
    """
    profile = _profile(settings, profile)
    info = profile.metadata
    entity = etree.Element(_E["md"] + "EntityDescriptor", nsmap=_NSMAP, entityID=profile.entity_id)
    _add_entity_extensions(entity, info)
    sp = _sub(
        entity,
        "md:SPSSODescriptor",
        AuthnRequestsSigned="true",
        WantAssertionsSigned="false",
        protocolSupportEnumeration=PROTOCOL,
    )
    _add_ui_info(sp, info)
    _add_key_descriptors(sp, credentials, next_signing_cert)
    for name_format in NAMEID_FORMATS:
        _sub(sp, "md:NameIDFormat", name_format)
    _sub(sp, "md:AssertionConsumerService", Binding=BINDING_POST, Location=profile.acs_url, index="0", isDefault="true")
    _add_requested_attributes(sp, info, profile)
    _add_organization(entity, info)
    for role, email in (("technical", info.technical_email), ("support", info.support_email)):
        if email:
            _sub(_sub(entity, "md:ContactPerson", contactType=role), "md:EmailAddress", "mailto:" + email)
    return entity


def _add_entity_extensions(entity: etree._Element, info: SpMetadataSettings) -> None:
    """md:Extensions: our entity categories, and what we accept from IdPs (exactly the allow-lists of xmlsecurity)."""
    extensions = _sub(entity, "md:Extensions")
    if info.entity_categories:
        attrs = _sub(extensions, "mdattr:EntityAttributes")
        attribute = _sub(attrs, "saml:Attribute", Name=ENTITY_CATEGORY_ATTRIBUTE, NameFormat=URI_NAME_FORMAT)
        for uri in info.entity_categories:
            _sub(attribute, "saml:AttributeValue", uri)
    for digest in (SHA256, *sorted(DIGEST_ALGORITHMS - {SHA256})):
        _sub(extensions, "alg:DigestMethod", Algorithm=digest)
    for algorithm in SIGNATURE_ALGORITHMS:
        attrs = {"MinKeySize": "2048"} if "#rsa-" in algorithm else {}
        _sub(extensions, "alg:SigningMethod", Algorithm=algorithm, **attrs)
    if not len(extensions):
        entity.remove(extensions)


def _add_ui_info(sp: etree._Element, info: SpMetadataSettings) -> None:
    """mdui:UIInfo (display name, description, logo), if any of them is configured."""
    if not (info.display_name or info.description or info.logo_url):
        return
    ui = _sub(_sub(sp, "md:Extensions"), "mdui:UIInfo")
    _localized(ui, "mdui:DisplayName", info.display_name)
    _localized(ui, "mdui:Description", info.description)
    if info.logo_url:
        _sub(ui, "mdui:Logo", info.logo_url, height=str(info.logo_height), width=str(info.logo_width))


def _add_key_descriptors(sp: etree._Element, credentials: SpCredentials, next_signing_cert: PublicKey | None) -> None:
    """The signing key (and the next one during a rollover), then the encryption key with what we decrypt."""
    _key_descriptor(sp, "signing", credentials.signing_cert)
    if next_signing_cert is not None and next_signing_cert.der != credentials.signing_cert.der:
        # published before it signs anything, so IdPs already trust it on the day of the switch
        _key_descriptor(sp, "signing", next_signing_cert)
    enc = _key_descriptor(sp, "encryption", credentials.encryption_cert)
    for algorithm in ENCRYPTION_METHODS:
        _sub(enc, "md:EncryptionMethod", Algorithm=algorithm)
    # Exactly the key transports the ACS accepts: DP §8 lets a receiver accept one
    # outside the profile's table only if its own metadata declares it.
    # SHA-256 as the OAEP digest instead of the SHA-1 default (DP §8.4).
    for algorithm in sorted(KEY_TRANSPORT_ALGORITHMS):
        oaep = _sub(enc, "md:EncryptionMethod", Algorithm=algorithm)
        _sub(oaep, "ds:DigestMethod", Algorithm=SHA256)


def _add_requested_attributes(sp: etree._Element, info: SpMetadataSettings, profile: SpProfile) -> None:
    """md:AttributeConsumingService with the extra attributes configured, if any."""
    if not info.requested_attributes:
        return
    acs = _sub(sp, "md:AttributeConsumingService", index="0", isDefault="true")
    _localized(acs, "md:ServiceName", info.display_name or (("en", profile.entity_id),))
    for name in info.requested_attributes:
        attrs = {"NameFormat": URI_NAME_FORMAT}
        if name in ATTRIBUTE_FRIENDLY_NAMES:
            attrs["FriendlyName"] = ATTRIBUTE_FRIENDLY_NAMES[name]
        # isRequired only for what every IdP can deliver, which no extra attribute is (BID §6.1)
        _sub(acs, "md:RequestedAttribute", Name=name, isRequired="false", **attrs)


def _add_organization(entity: etree._Element, info: SpMetadataSettings) -> None:
    """md:Organization (with the organisation number), when its name and URL are configured."""
    if not (info.organization_name and info.organization_url):
        return
    org = _sub(entity, "md:Organization")
    if info.organization_number:
        _sub(_sub(org, "md:Extensions"), "mdorgext:OrganizationNumber", info.organization_number)
    both = lambda text: (("sv", text), ("en", text))  # noqa: E731 - one registered name in both languages
    _localized(org, "md:OrganizationName", both(info.organization_name))
    _localized(org, "md:OrganizationDisplayName", both(info.organization_display_name))
    _localized(org, "md:OrganizationURL", both(info.organization_url))


def sign_sp_metadata(
    entity: etree._Element, credentials: SpCredentials, *, valid_days: int, now: dt.datetime | None = None
) -> etree._Element:
    """Set ``ID`` and ``validUntil`` and add an enveloped signature with the SP signing key (its algorithm)."""
    moment = now or utcnow()
    entity.set("ID", "_" + secrets.token_hex(16))
    entity.set("validUntil", format_instant(moment + dt.timedelta(days=valid_days)))
    sign_enveloped(entity, credentials.signing_key, credentials.signing_cert, algorithm=credentials.signing_algorithm)
    return entity


def sp_metadata_bytes(
    settings: SamlSettings,
    credentials: SpCredentials,
    *,
    sign: bool = False,
    now: dt.datetime | None = None,
    profile: SpProfile | None = None,
) -> bytes:
    """The metadata document of the SP ``profile`` (default: the default profile), schema-validated.

    Signed, with ``validUntil``, if ``sign`` (with the profile's signing key:
    ``credentials`` must be the profile's).  The document served at
    ``/saml/metadata`` (``/saml/metadata/<profile>``) is unsigned: the
    federation operator signs the aggregate (DP §2), and a signed document
    with a ``validUntil`` fixed at startup would expire in a long-running process.
    Raises ConfigurationError if the settings yield schema-invalid metadata.
    """
    profile = _profile(settings, profile)
    entity = build_sp_metadata(
        settings, credentials, next_signing_cert=load_next_signing_cert(settings, profile), profile=profile
    )
    if sign:
        # indent first: whitespace added after signing would break the signature
        entity = etree.fromstring(etree.tostring(entity, pretty_print=True))
        sign_sp_metadata(entity, credentials, valid_days=profile.metadata.valid_days, now=now)
    try:
        validate_metadata(
            entity, source="SP metadata" if profile.is_default else f"SP metadata of profile {profile.name!r}"
        )
    except MetadataError as exc:
        raise ConfigurationError([exc.detail]) from None
    return etree.tostring(entity, xml_declaration=True, encoding="UTF-8", pretty_print=not sign)


@implementer(ISpMetadataDocuments)
class SpMetadataDocuments:
    """Every SP profile's metadata document, built once (see :func:`sp_metadata_bytes`) and served as built."""

    def __init__(self, documents: dict[str, bytes]) -> None:
        self._documents = dict(documents)

    def document(self, sp_profile: str) -> bytes:
        """The unsigned, schema-checked document of ``sp_profile``; KeyError for a profile that is not configured."""
        return self._documents[sp_profile]
