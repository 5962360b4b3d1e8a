# SPDX-License-Identifier: Apache-2.0
"""Static pages and the SP metadata document."""
from __future__ import annotations

from pyramid.response import Response
from pyramid.view import view_config


@view_config(route_name="saml.help", request_method="GET", renderer="ekn_saml:templates/help.jinja2")
def help_page(request):
    return {}


@view_config(route_name="saml.metadata", request_method="GET")
def sp_metadata(request):
    return Response(
        body=request.registry.ekn_saml_metadata, content_type="application/samlmetadata+xml", charset="utf-8"
    )
