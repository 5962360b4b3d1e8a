# SPDX-License-Identifier: Apache-2.0
"""Thin views: each reads the request, calls the ServiceProvider, renders or redirects."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound

from ..settings import DEFAULT_SP_PROFILE


def sp_profile_of_route(request) -> str:
    """The SP profile a ``saml.*`` route serves: the default one at the plain path, else ``{sp_profile}``.

    404 for a name that is not a further profile (``/saml/acs/default`` too:
    the default profile has exactly one ACS URL, the one in its metadata).
    """
    name = request.matchdict.get("sp_profile")
    if name is None:
        return DEFAULT_SP_PROFILE
    if name == DEFAULT_SP_PROFILE or name not in request.registry.ekn_saml.profiles:
        raise HTTPNotFound()
    return name
