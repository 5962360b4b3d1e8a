# SPDX-License-Identifier: Apache-2.0
"""The built-in login methods: one entry each, which the settings, the pages and the development IdP read.

A new built-in method is one :class:`BuiltInMethod` in :data:`BUILT_IN_METHODS`
plus its texts and assets:

* its label and description (English msgids, Swedish in the catalogue: ``make catalogues``);
* its section of the help page, ``templates/help/<name>.jinja2``;
* its logo, ``static/logos/<name>.svg`` (optional: the chooser leaves the space empty);
* for the development IdP, its test personas in ``ekn_saml/devidp/personas.py``.

The settings take their defaults from here (``ekn_saml.method.<name>.*``
overrides them); a method that is not built in is configured whole in the
settings (IdP, profile, LoAs, label) and gets no help section, logo or
development IdP.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyramid.i18n import TranslationString, TranslationStringFactory

from .constants import EIDAS_NF_HIGH, EIDAS_NF_SUB, LOA3, LOA3_NONRESIDENT, UNCERTIFIED_LOA3

_ = TranslationStringFactory("ekn_saml")

PERSON = "person"  # identified by a personal identity number
ORGANISATION = "organisation"  # identified by an organisation number and a unique number in it
# identified by the eIDAS connector's provisional ID (prid), never by a Swedish number (ATTR §2.5)
FOREIGN_PERSON = "foreign_person"
PROFILES = (PERSON, ORGANISATION, FOREIGN_PERSON)


@dataclass(frozen=True)
class BuiltInMethod:
    """What ekn_saml knows of a built-in login method without any setting."""

    name: str  # its name in ekn_saml.methods and /login/<name>
    profile: str  # PERSON or ORGANISATION: which attributes the identity is made of
    loa: tuple[
        str, ...
    ]  # the LoAs its AuthnRequests ask for (Comparison exact) unless method.<name>.loa says otherwise
    label: TranslationString
    description: TranslationString
    # where the help page sends someone who has trouble with this e-ID (the issuer's support page)
    support_url: str
    support_label: TranslationString
    logo: str | None = None  # asset spec of its logo on the chooser
    dev_slug: str = ""  # the development IdP's path (/devidp/<slug>); empty: no development IdP
    # in the default ekn_saml.methods; False for a method an operator must first join (the eIDAS connector)
    on_by_default: bool = True

    @property
    def help_template(self) -> str:
        """Its section of the help page."""
        return f"ekn_saml:templates/help/{self.name}.jinja2"


# BankID IdPs often issue only uncertified-loa3, so both are asked for.
_BANKID_LOA = (LOA3, UNCERTIFIED_LOA3)
# BankID's own support site (questions and answers, how to get and renew a BankID)
_BANKID_SUPPORT = "https://support.bankid.com/"

BUILT_IN_METHODS: dict[str, BuiltInMethod] = {
    method.name: method
    for method in (
        BuiltInMethod(
            name="mobilt_bankid",
            profile=PERSON,
            loa=_BANKID_LOA,
            label=_("Mobile BankID"),
            description=_("Use the BankID app on your phone or tablet."),
            support_url=_BANKID_SUPPORT,
            support_label=_("BankID support"),
            logo="ekn_saml:static/logos/mobilt_bankid.svg",
            dev_slug="mobilt-bankid",
        ),
        BuiltInMethod(
            name="bankid",
            profile=PERSON,
            loa=_BANKID_LOA,
            label=_("BankID on file or card"),
            description=_("Use BankID installed on this computer, as a file or on a card."),
            support_url=_BANKID_SUPPORT,
            support_label=_("BankID support"),
            logo="ekn_saml:static/logos/bankid.svg",
            dev_slug="bankid",
        ),
        BuiltInMethod(
            name="expisoft",
            profile=ORGANISATION,
            # organisational e-IDs carry no personal identity number: the nonresident LoA too
            loa=(LOA3, LOA3_NONRESIDENT, UNCERTIFIED_LOA3),
            label=_("Expisoft e-service ID"),
            description=_("For people who act for an organisation: log in with an e-service ID from Expisoft."),
            support_url="https://eid.expisoft.se/",
            support_label=_("Expisoft support"),
            logo="ekn_saml:static/logos/expisoft.svg",
            dev_slug="expisoft",
        ),
        BuiltInMethod(
            name="eidas",
            profile=FOREIGN_PERSON,
            # Substantial or high from a notified scheme: what the eIDAS Regulation (art. 6) obliges a
            # public body to accept for a service at loa3 (Registry 1.8 §3.1.1 for the URIs).
            loa=(EIDAS_NF_SUB, EIDAS_NF_HIGH),
            label=_("Foreign e-ID (eIDAS)"),
            description=_("For people with an e-ID from another EU or EEA country."),
            support_url="https://www.swedenconnect.se/",
            support_label=_("About eIDAS at Sweden Connect"),
            logo="ekn_saml:static/logos/eidas.svg",
            dev_slug="eidas",
            # the SP must first be registered with the Swedish eIDAS connector (README, "Foreign e-IDs")
            on_by_default=False,
        ),
    )
}
# ekn_saml.methods when it is not set: the built-in methods that need no joining first
DEFAULT_METHODS = tuple(name for name, method in BUILT_IN_METHODS.items() if method.on_by_default)


def built_in(name: str) -> BuiltInMethod | None:
    """The built-in method of that name, or ``None`` (a method configured whole in the settings)."""
    return BUILT_IN_METHODS.get(name)
