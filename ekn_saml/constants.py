# SPDX-License-Identifier: Apache-2.0
"""Names of the Swedish eID profile and of the SP's own endpoints, shared by every layer.

The protocol modules (AuthnRequest, ACS) need these, and so do the settings
that choose among them; keeping them here lets the protocol stay free of the
settings (and the settings free of the protocol).
"""

from __future__ import annotations

# Levels of assurance (Swedish eID framework, "Tillitsnivåer"; Sweden Connect for the two others)
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
# Not requested by default; an operator may list them for an organisational method (TAR, issue #16)
LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
LOA2_NONRESIDENT = "http://id.swedenconnect.se/loa/1.0/loa2-nonresident"
UNCERTIFIED_LOA3 = "http://id.swedenconnect.se/loa/1.0/uncertified-loa3"
LOA3_NONRESIDENT = "http://id.swedenconnect.se/loa/1.0/loa3-nonresident"
# eIDAS levels "using an eID scheme that MUST be notified" (Registry for identifiers 1.8, §3.1.1);
# only the Swedish eIDAS connector issues them.  The plain eidas-low/-sub/-high also admit
# non-notified schemes, which the eIDAS Regulation (art. 6) does not oblige us to accept.
EIDAS_NF_LOW = "http://id.elegnamnden.se/loa/1.0/eidas-nf-low"
EIDAS_NF_SUB = "http://id.elegnamnden.se/loa/1.0/eidas-nf-sub"
EIDAS_NF_HIGH = "http://id.elegnamnden.se/loa/1.0/eidas-nf-high"

# The SP profile the ekn_saml.sp.* keys define; it answers at /saml/acs and /saml/metadata.
DEFAULT_SP_PROFILE = "default"
ACS_PATH = "/saml/acs"
METADATA_PATH = "/saml/metadata"

# ekn_saml.federation.max_validity_days: a month, the longest validity federations commonly sign for
DEFAULT_MAX_VALIDITY_DAYS = 31


def acs_path(sp_profile: str) -> str:
    """The ACS path of an SP profile: /saml/acs for the default one, /saml/acs/<name> for the others."""
    return ACS_PATH if sp_profile == DEFAULT_SP_PROFILE else f"{ACS_PATH}/{sp_profile}"
