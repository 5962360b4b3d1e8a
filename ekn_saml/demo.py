# SPDX-License-Identifier: Apache-2.0
"""A small "EKN Online" host app: the plugin plus a "Mina sidor" page behind login.

``pserve development.ini`` serves it (``use = egg:ekn_saml``).  The demo is
an app that is nothing but the plugin, so it takes every host-wide part too
(``ekn_saml.host_wide``: the plugin's session as ``request.session``, its
security policy, CSRF default, locale negotiator, error pages and security
headers).  How an existing portal adds the plugin while keeping its own:
``tests/host_app`` and README, "Adding ekn_saml to an existing Pyramid app".
"""

from __future__ import annotations

from pyramid.authorization import Allow, Authenticated
from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from .i18n import idp_name, loa_label, method_label, swedish_time
from .public_url import public_route_url


class Root:
    """Everything in the demo needs a logged-in user; ACLs can also test the plugin's principals."""

    __acl__ = ((Allow, Authenticated, "view"),)

    def __init__(self, request):
        self.request = request


@view_config(route_name="demo.home")
def home(request):
    return HTTPFound(location=public_route_url(request, "demo.mina_sidor"))


@view_config(route_name="demo.mina_sidor", permission="view", renderer="ekn_saml:templates/mina_sidor.jinja2")
def mina_sidor(request):
    identity = request.identity
    # a presentation view of the identity: the full personal number is not passed to the template
    view = {
        name: getattr(identity, name)
        for name in (
            "kind",
            "method",
            "display_name",
            "given_name",
            "surname",
            "personal_number_masked",
            "date_of_birth",
            "org_number",
            "org_name",
            "org_unique_id",
            "loa",
            "idp",
            "authn_instant",
            "transaction_id",
        )
    }
    view["method_label"] = method_label(request, identity.method)
    # the facts in words and in Swedish time; the raw values stay for the markup's attributes
    view["loa_label"] = loa_label(request, identity.loa)
    view["idp_name"], view["idp_name_lang"] = idp_name(request, identity.idp)
    view["authn_instant_local"] = swedish_time(identity.authn_instant) if identity.authn_instant else None
    return {"identity": type("IdentityView", (), view)}


def main(global_config, **settings):
    """The WSGI app factory ``pserve`` calls."""
    with Configurator(settings=settings, root_factory=Root) as config:
        config.include("ekn_saml")
        config.include("ekn_saml.host_wide")
        config.add_route("demo.home", "/")
        config.add_route("demo.mina_sidor", "/mina-sidor")
        config.scan(".demo")
        return config.make_wsgi_app()
