# SPDX-License-Identifier: Apache-2.0
"""Static pages and the SP metadata document."""

from __future__ import annotations

from types import SimpleNamespace

from pyramid.response import Response
from pyramid.view import view_config

from ..i18n import method_label
from ..interfaces import ISpMetadataDocuments
from ..methods import built_in
from . import service_provider, sp_profile_of_route


@view_config(route_name="saml.help", request_method="GET", renderer="ekn_saml:templates/help.jinja2")
def help_page(request):
    # the configured methods, in chooser order; a built-in one has its section and its issuer's support link
    configured = service_provider(request).settings.methods
    methods, support_links = [], {}
    for method in configured:
        spec = built_in(method.name)
        methods.append(
            SimpleNamespace(
                label=method.label or method_label(request, method.name),
                anchor=method.name.replace("_", "-"),
                help_template=spec.help_template if spec is not None else None,
            )
        )
        if spec is not None:  # one link per issuer (both BankID methods share BankID's)
            support_links.setdefault(spec.support_url, request.localizer.translate(spec.support_label))
    return {"methods": methods, "support_links": [(label, url) for url, label in support_links.items()]}


@view_config(route_name="saml.metadata", request_method="GET")
@view_config(route_name="saml.metadata_profile", request_method="GET")
def sp_metadata(request):
    # each SP profile is its own SP entity with its own document
    body = request.registry.getUtility(ISpMetadataDocuments).document(sp_profile_of_route(request))
    return Response(body=body, content_type="application/samlmetadata+xml", charset="utf-8")
