# SPDX-License-Identifier: Apache-2.0
"""Static pages and the SP metadata document."""

from __future__ import annotations

from pyramid.response import Response
from pyramid.view import view_config

from ..interfaces import ISpMetadataDocuments
from . import sp_profile_of_route


@view_config(route_name="saml.help", request_method="GET", renderer="ekn_saml:templates/help.jinja2")
def help_page(request):
    return {}


@view_config(route_name="saml.metadata", request_method="GET")
@view_config(route_name="saml.metadata_profile", request_method="GET")
def sp_metadata(request):
    # each SP profile is its own SP entity with its own document
    body = request.registry.getUtility(ISpMetadataDocuments).document(sp_profile_of_route(request))
    return Response(body=body, content_type="application/samlmetadata+xml", charset="utf-8")
