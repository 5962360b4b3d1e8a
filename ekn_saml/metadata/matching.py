# SPDX-License-Identifier: Apache-2.0
"""Service matching of Entity Categories for the Swedish eID Framework (EC §1.3): may this IdP serve this SP?

Plain functions on category URIs, so that the service (login start,
chooser, status), the metadata refresh and ``ekn-saml check`` apply one rule:

* **service entity categories** (``…/ec/…``): at least one that the SP
  declares must be declared by the IdP (none declared by the SP: no rule);
* **service property categories** (``…/sprop/…``): every one the SP declares
  must be declared by the IdP;
* **service contract categories** (``…/contract/…``): an IdP that declares
  any serves only an SP that declares at least one of them; an IdP that
  declares none serves every SP;
* service type and general categories: no matching rule (EC §1.3); what a
  general category means for a method (secure-authenticator-binding) is the
  caller's to check.

Does **not** look at LoAs (assurance certification) or attribute release.
"""

from __future__ import annotations

from collections.abc import Collection

SERVICE_ENTITY = "service entity"
SERVICE_PROPERTY = "service property"
SERVICE_TYPE = "service type"
SERVICE_CONTRACT = "service contract"
GENERAL = "general"
OTHER = "other"

# EC §2-§6: the prefixes that tell a category's type
_PREFIXES = (
    ("http://id.elegnamnden.se/ec/", SERVICE_ENTITY),
    ("http://id.swedenconnect.se/ec/", SERVICE_ENTITY),
    ("http://id.elegnamnden.se/sprop/", SERVICE_PROPERTY),
    ("http://id.elegnamnden.se/st/", SERVICE_TYPE),
    ("http://id.swedenconnect.se/contract/", SERVICE_CONTRACT),
    ("http://id.swedenconnect.se/general-ec/", GENERAL),
)


def category_type(uri: str) -> str:
    """The EC type of ``uri`` (one of the constants above); :data:`OTHER` for a category of no known type."""
    for prefix, kind in _PREFIXES:
        if uri.startswith(prefix):
            return kind
    return OTHER


def _of_type(categories: Collection[str], kind: str) -> set[str]:
    return {c for c in categories if category_type(c) == kind}


def mismatches(sp_categories: Collection[str], idp_categories: Collection[str]) -> list[str]:
    """Why an IdP declaring ``idp_categories`` does not match an SP declaring ``sp_categories`` (EC §1.3); empty: it matches.

    Each reason is one sentence naming the categories, for a log line, the
    audit trail, ``/saml/status`` and ``ekn-saml check`` alike.
    """
    reasons = []
    wanted = _of_type(sp_categories, SERVICE_ENTITY)
    if wanted and not wanted & set(idp_categories):
        reasons.append(f"declares none of the SP's service entity categories ({', '.join(sorted(wanted))})")
    missing = _of_type(sp_categories, SERVICE_PROPERTY) - set(idp_categories)
    if missing:
        reasons.append(f"does not declare the SP's service properties {', '.join(sorted(missing))}")
    contracts = _of_type(idp_categories, SERVICE_CONTRACT)
    if contracts and not contracts & set(sp_categories):
        reasons.append(f"serves only the contracts {', '.join(sorted(contracts))}, none of which the SP declares")
    return reasons
