# SPDX-License-Identifier: Apache-2.0
"""Thin views: each reads the request, calls the ServiceProvider, renders or redirects.

They reach the plugin's services through the registry
(``request.registry.getUtility(ISamlServiceProvider)``, see
:mod:`ekn_saml.interfaces`) and who is logged in through the building blocks
of :mod:`ekn_saml.login_state`, never through ``request.identity``,
``request.session`` or Pyramid's ``remember``/``forget``: those are the
host's, and may be another policy's.
"""

from __future__ import annotations

from functools import partial

from pyramid.httpexceptions import HTTPNotFound
from pyramid.renderers import render_to_response
from pyramid.response import Response

from ..constants import DEFAULT_SP_PROFILE
from ..csrf import csrf_token
from ..i18n import _
from ..interfaces import ISamlServiceProvider
from ..login_state import identity_of


def service_provider(request) -> ISamlServiceProvider:
    """The app's :class:`~ekn_saml.interfaces.ISamlServiceProvider` (registered at commit)."""
    return request.registry.getUtility(ISamlServiceProvider)


def sp_profile_of_route(request) -> str:
    """The SP profile a ``saml.*`` route serves: the default one at the plain path, else ``{sp_profile}``.

    404 for a name that is not a further profile (``/saml/acs/default`` too:
    the default profile has exactly one ACS URL, the one in its metadata).
    """
    name = request.matchdict.get("sp_profile")
    if name is None:
        return DEFAULT_SP_PROFILE
    if name == DEFAULT_SP_PROFILE or name not in service_provider(request).profiles:
        raise HTTPNotFound()
    return name


def redirect(location: str) -> Response:
    """A 302 to ``location`` with an empty body: what ``HTTPFound`` answers, without its page.

    ``HTTPFound`` renders a "302 Found" page for the body at every redirect
    (about 60 us; three or four per login), which no browser shows.  Does
    **not** check ``location``: callers pass a URL built from
    ``sp.public_base_url`` or an IdP endpoint from trusted metadata.
    """
    return Response(status=302, location=location)


def render_autopost(request, action: str, fields: dict[str, str]):
    """The page whose form posts ``fields`` to ``action`` by itself (HTTP-POST binding); a button without script.

    Does **not** check ``action``: callers pass an IdP's endpoint from
    trusted metadata or an ACS URL of the SP.
    """
    return render_to_response(
        "ekn_saml:templates/autopost.jinja2",
        {"action": action, "fields": fields, "button_label": request.localizer.translate(_("Continue"))},
        request=request,
    )


# the plugin's templates (and only they) get these besides their view's values
_TEMPLATE_PREFIX = "ekn_saml:templates/"


def template_values(event) -> None:
    """``BeforeRender`` subscriber: who is logged in and the plugin's CSRF token, for the plugin's templates.

    ``saml_identity`` is :func:`~ekn_saml.login_state.identity_of` the request
    (the header shows the logout button when it is set); ``saml_csrf_token``
    is a callable (:func:`~ekn_saml.csrf.csrf_token`), called only where a
    form needs it, so an anonymous page stores no session.  ``saml_support``
    is EKN's customer service (:class:`~ekn_saml.settings.SupportContact`,
    ``None`` before the SP is set up) and ``saml_landing_path`` where a
    logged-in user goes back to; ``saml_session_end`` what the session-expiry
    warning needs (:func:`~ekn_saml.views.session_expiry.session_end_values`).  Templates of the
    host are left alone.  A view's own values of the same names win.
    """
    name = event.get("renderer_name") or ""
    request = event.get("request")
    if request is None or not name.startswith(_TEMPLATE_PREFIX):
        return
    event["saml_identity"] = identity_of(request)
    event["saml_csrf_token"] = partial(csrf_token, request)
    sp = request.registry.queryUtility(ISamlServiceProvider)
    # EKN's customer service (ekn_saml.support.*) and where a logged-in user goes back to
    event["saml_support"] = sp.settings.support if sp is not None else None
    event["saml_landing_path"] = sp.settings.landing_path if sp is not None else "/"
    # the session-expiry warning of a logged-in user's page (None for anyone else)
    from .session_expiry import session_end_values

    event["saml_session_end"] = session_end_values(request) if event["saml_identity"] is not None else None
