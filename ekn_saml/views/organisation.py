# SPDX-License-Identifier: Apache-2.0
"""Several organisations: after an organisation login with several ``orgAffiliation`` values, the user picks one.

The ACS sends the browser here (:func:`needs_organisation_choice`) when the
IdP vouched for several organisations and did not name one with
``organizationIdentifier``.  Until the user picks, the identity's
organisation is the first in the IdP's order (as before this page existed).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from ..csrf import check_plugin_form
from ..errors import BadRequestError, ErrorCode
from ..identity import Identity
from ..login_state import identity_of, remember_identity
from ..public_url import login_url, public_route_url, public_url
from ..safe_url import is_acceptable_next, is_safe_local_path
from . import service_provider

log = logging.getLogger("ekn_saml")


def needs_organisation_choice(identity: Identity) -> bool:
    """Whether the user should pick the organisation: several affiliations, and the IdP named none."""
    return identity.kind == "organisation" and len(identity.org_affiliations) > 1 and identity.org_identifier is None


def organisation_choice_url(request, next_path: str | None) -> str:
    """The absolute URL of the picker, coming back to ``next_path`` (a checked local path) afterwards."""
    return public_route_url(request, "saml.choose_organisation", _query={"next": next_path} if next_path else {})


def _next_path(request, value: str | None) -> str:
    if value and is_acceptable_next(value) and is_safe_local_path(value):
        return value
    return service_provider(request).settings.landing_path


@view_config(
    route_name="saml.choose_organisation",
    request_method="GET",
    renderer="ekn_saml:templates/choose_organisation.jinja2",
)
def choose_organisation(request):
    identity = identity_of(request)
    next_path = _next_path(request, request.params.get("next"))
    if identity is None:
        return HTTPFound(location=login_url(request, request.path_qs))
    if len(identity.org_affiliations) < 2:
        return HTTPFound(location=public_url(request, next_path))
    return {
        "affiliations": [
            {"value": f"{uid}@{orgnr}", "org_number": orgnr, "uid": uid, "current": orgnr == identity.org_number}
            for uid, orgnr in identity.org_affiliations
        ],
        "next": next_path,
    }


# require_csrf=False: the form carries ekn_saml's own token, checked here (ekn_saml.csrf)
@view_config(route_name="saml.choose_organisation", request_method="POST", require_csrf=False)
def organisation_chosen(request):
    """Make the chosen affiliation the identity's organisation; only one the IdP asserted can be chosen.

    The choice changes the identity's subject (``org:<uid>@<orgnr>``), so it
    is logged in again under a new session id; ``org_name`` (the IdP's one
    ``o`` value, for its first organisation) is dropped for another one.
    Does **not** check anything the IdP did not assert.
    """
    check_plugin_form(request)
    identity = identity_of(request)
    if identity is None:
        return HTTPFound(location=login_url(request))
    value = request.POST.get("organisation", "")
    chosen = next(((uid, orgnr) for uid, orgnr in identity.org_affiliations if f"{uid}@{orgnr}" == value), None)
    if chosen is None:
        raise BadRequestError(ErrorCode.ORGANISATION_NOT_ASSERTED, "the chosen organisation is none of the login's")
    uid, orgnr = chosen
    if (uid, orgnr) != (identity.org_unique_id, identity.org_number):
        first = identity.org_affiliations[0]
        name = identity.org_name if (uid, orgnr) == first else None
        remember_identity(request, replace(identity, org_unique_id=uid, org_number=orgnr, org_name=name))
        log.info("organisation chosen method=%s org=%s", identity.method, orgnr)
    return HTTPFound(location=public_url(request, _next_path(request, request.POST.get("next"))))
