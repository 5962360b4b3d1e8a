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
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from .csrf import csrf_token
from .eidas import country_name
from .i18n import idp_name, loa_label, method_label, swedish_time
from .public_url import public_route_url
from .views.step_up import require_step_up

# how fresh the step-up before signing must be
SIGN_STEP_UP_MINUTES = 5

_ = TranslationStringFactory("ekn_saml")


class Root:
    """Everything in the demo needs a logged-in user; ACLs can also test the plugin's principals."""

    __acl__ = ((Allow, Authenticated, "view"),)

    def __init__(self, request):
        self.request = request


# the kind of e-ID in words (Mina sidor): a host app tells them apart by Identity.kind
KIND_LABELS = {
    "person": _("Swedish e-ID"),
    "organisation": _("E-service ID for an organisation"),
    "foreign_person": _("Foreign e-ID (eIDAS)"),
}


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
            "country",
            "prid_masked",
            "mapped_personal_number_masked",
        )
    }
    view["method_label"] = method_label(request, identity.method)
    name = country_name(identity.country)
    view["country_name"] = request.localizer.translate(name) if name else None
    view["kind_label"] = request.localizer.translate(KIND_LABELS.get(identity.kind, identity.kind))
    # the facts in words and in Swedish time; the raw values stay for the markup's attributes
    view["loa_label"] = loa_label(request, identity.loa)
    view["idp_name"], view["idp_name_lang"] = idp_name(request, identity.idp)
    view["authn_instant_local"] = swedish_time(identity.authn_instant) if identity.authn_instant else None
    return {"identity": type("IdentityView", (), view)}


def _sign_page(request, *, signed: bool) -> dict:
    identity = request.identity
    return {
        "display_name": identity.display_name,
        "method_label": method_label(request, identity.method),
        "stepped_up_at": identity.stepped_up_at,
        "within_minutes": SIGN_STEP_UP_MINUTES,
        "signed": signed,
        "csrf_token": csrf_token(request),
        "back_url": request.route_path("demo.mina_sidor"),
    }


@view_config(
    route_name="demo.sign",
    request_method=("GET", "POST"),
    permission="view",
    renderer="ekn_saml:templates/sign_application.jinja2",
    decorator=require_step_up(within_minutes=SIGN_STEP_UP_MINUTES),
)
def sign_application(request):
    """ "Signera ansökan": shown only within a few minutes of a step-up of the logged-in person.

    The form posts back here; the step-up is checked again then, and the
    demo's "signature" stores nothing.
    """
    return _sign_page(request, signed=request.method == "POST")


def main(global_config, **settings):
    """The WSGI app factory ``pserve`` calls."""
    with Configurator(settings=settings, root_factory=Root) as config:
        config.include("ekn_saml")
        config.include("ekn_saml.host_wide")
        config.add_route("demo.home", "/")
        config.add_route("demo.mina_sidor", "/mina-sidor")
        config.add_route("demo.sign", "/signera-ansokan")
        config.scan(".demo")
        return config.make_wsgi_app()
