# SPDX-License-Identifier: Apache-2.0
"""The chooser and the start of a login."""

from __future__ import annotations

from types import SimpleNamespace

from pyramid.view import view_config

from ..i18n import method_description, method_label
from ..interfaces import ISamlSessionFactory
from ..login_state import identity_of
from ..methods import built_in
from ..safe_url import is_acceptable_next
from ..session import current_session_key
from . import redirect, render_autopost, service_provider


def _logo(request, name: str) -> str | None:
    """The path of a built-in method's logo (ekn_saml.methods), or ``None``."""
    spec = built_in(name)
    return request.static_path(spec.logo) if spec is not None and spec.logo else None


@view_config(route_name="saml.login", request_method="GET", renderer="ekn_saml:templates/chooser.jinja2")
def chooser(request):
    next_path = request.params.get("next", "")
    if not is_acceptable_next(next_path):
        next_path = ""  # an unsafe or over-long target is dropped here and refused if it reaches login_start
    sp = service_provider(request)
    methods = [
        SimpleNamespace(
            name=m.name,
            label=m.label or method_label(request, m.name),
            description=method_description(request, m.name),
            logo=_logo(request, m.name),
            url=request.route_path("saml.login_start", method=m.name, _query={"next": next_path} if next_path else {}),
            # its IdP does not match now (EC 1.3, secure-authenticator-binding): shown, without a link
            unavailable=sp.method_problem(m) is not None,
        )
        for m in sp.settings.methods
    ]
    return {"methods": methods, "next": next_path, **_timed_out(request)}


def _timed_out(request) -> dict:
    """Why the browser's last session ended, told once: ``timed_out`` ("idle", "absolute" or None) and its minutes.

    From the signed session-end cookie (:meth:`~ekn_saml.session.StoreSessionFactory.ended_by`);
    the chooser deletes it once it has told.
    """
    factory = request.registry.getUtility(ISamlSessionFactory)
    if identity_of(request) is not None:
        return {"timed_out": None}
    reason = factory.ended_by(request)
    if reason is None:
        return {"timed_out": None}
    factory.delete_session_end_cookie(request.response)
    seconds = factory.idle_timeout if reason == "idle" else factory.absolute_timeout
    return {"timed_out": reason, "timeout_minutes": max(1, round(seconds / 60))}


@view_config(route_name="saml.login_start", request_method="GET")
def login_start(request):
    return start_login_response(request, request.matchdict["method"], request.params.get("next"))


def start_login_response(request, method, next_path, *, step_up=None):
    """Start a login of ``method`` (see :meth:`ServiceProvider.start_login`): the response that sends the browser to the IdP.

    Also sets the browser-binding cookie.  ``step_up`` is the logged-in
    identity for a step-up (:func:`ekn_saml.views.step_up.step_up`).
    """
    sp = service_provider(request)
    # an existing binding is reused only if the SP signed it (ServiceProvider.browser_binding)
    binding = sp.browser_binding(request.cookies.get(sp.browser_cookie_name))
    start = sp.start_login(
        method,
        next_path,
        binding.token,
        # this same-site GET carries the session cookie, the IdP's POST to the ACS will not
        previous_session=current_session_key(request),
        # REMOTE_ADDR as the WSGI server sets it, never X-Forwarded-For (anyone can send that)
        client_address=request.remote_addr,
        step_up=step_up,
    )
    if start.binding == "redirect":
        response = redirect(start.url)
    else:
        response = render_autopost(request, start.url, start.fields)
    # SameSite=None: the IdP's answer is a cross-site POST, and this cookie is
    # what binds it to this browser (sp-checklist §3.1).  Secure is required
    # for SameSite=None; browsers accept it on http://localhost too.
    response.set_cookie(
        sp.browser_cookie_name,
        binding.cookie,
        max_age=sp.settings.request_ttl,
        # Path "/" so that the next login start sees and reuses it: logins
        # started in two tabs must both be able to finish.  It grants nothing
        # on its own; it only ties a response to the browser that asked.
        path="/",
        httponly=True,
        secure=sp.settings.session_cookie_secure,
        samesite="None" if sp.settings.session_cookie_secure else "Lax",
    )
    return response
