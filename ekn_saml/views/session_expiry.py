# SPDX-License-Identifier: Apache-2.0
"""Session expiry as the user meets it: "stay logged in", and why the chooser says you were logged out.

The warning itself is in every page of a logged-in user
(templates/parts/session_expiry.jinja2, static/session-expiry.js); its
values come from :func:`session_end_values`, given to the plugin's
templates by :func:`ekn_saml.views.template_values`.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ..csrf import check_plugin_form
from ..i18n import swedish_time
from ..interfaces import ISamlSessionFactory
from ..login_state import identity_of
from ..public_url import public_url
from ..safe_url import is_acceptable_next
from ..session import ABSOLUTE, REQUEST_ATTR, StoreSession
from . import service_provider

# The warning comes this long before the session ends, at most half the idle
# timeout: WCAG 2.2.1 asks for at least 20 seconds to answer it.
WARN_BEFORE = 120


def session_end_values(request):
    """What the expiry warning of a logged-in user's page needs; ``None`` for anyone else.

    ``seconds_left`` (the page's script counts down from it, so the
    browser's clock does not matter), ``warn_before`` (seconds), ``at`` (the
    end in Swedish time, for the note without script) and ``by`` (which
    timeout: only the idle one can be put off).
    """
    session = getattr(request, REQUEST_ATTR, None)
    if not isinstance(session, StoreSession) or identity_of(request) is None:
        return None
    factory = request.registry.getUtility(ISamlSessionFactory)
    ends_at, by = session.ends()
    left = max(0, int(ends_at - factory.clock()))
    return SimpleNamespace(
        seconds_left=left,
        warn_before=min(WARN_BEFORE, factory.idle_timeout // 2),
        at=swedish_time(_instant(ends_at)),
        by=by,
        extendable=by != ABSOLUTE,
    )


def _instant(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


# require_csrf=False: the form carries ekn_saml's own token, checked here (ekn_saml.csrf)
@view_config(route_name="saml.session_extend", request_method="POST", require_csrf=False)
def stay_logged_in(request):
    """Restart the idle timer of the logged-in session and go back to ``next`` (a safe local path).

    Not logged in any more (the session ended meanwhile): to the chooser,
    which says why.
    """
    check_plugin_form(request)
    settings = service_provider(request).settings
    if identity_of(request) is None:
        return HTTPSeeOther(location=public_url(request, request.route_path("saml.login")))
    getattr(request, REQUEST_ATTR).changed()  # saved, so accessed = now: the idle timer starts again
    target = request.POST.get("next", "")
    return HTTPSeeOther(location=public_url(request, target if is_acceptable_next(target) else settings.landing_path))
