# SPDX-License-Identifier: Apache-2.0
"""Step-up for the same person: a fresh login (ForceAuthn) of the logged-in subject, for host apps.

* :func:`step_up` — the response that starts it, with the logged-in identity's method;
* :func:`require_step_up` — a Pyramid view decorator (``view_config(decorator=...)``)
  that lets a view run only within N minutes of a step-up, and starts one otherwise;
* :func:`stepped_up_within` — the test itself, for a host's own checks.

What is checked where: the ACS refuses an answer for another subject
(``EKN-REQ-008``, the session that asked is ended) and records the
step-up's AuthnInstant as ``identity.stepped_up_at``
(:meth:`ServiceProvider.finish_login`).  The IdP is asked for the same
person with ``psc:PrincipalSelection`` only where its metadata asks for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pyramid.httpexceptions import HTTPForbidden, HTTPFound

from ..identity import Identity
from ..login_state import identity_of
from ..public_url import login_url
from ..safe_url import is_acceptable_next
from ..timeutil import utcnow
from .login import start_login_response


def stepped_up_within(identity: Identity | None, minutes: float, *, now: dt.datetime | None = None) -> bool:
    """Whether ``identity`` stepped up no more than ``minutes`` ago (and not in the future beyond a minute).

    ``None`` (nobody logged in) and an identity that never stepped up are
    ``False``.  Does **not** check which page or action the step-up was for:
    any step-up of this session counts.
    """
    if identity is None or identity.stepped_up_at is None:
        return False
    age = (now or utcnow()) - identity.stepped_up_at
    # a small negative age is clock skew between the IdP and us; a large one is not trusted
    return dt.timedelta(minutes=-1) <= age <= dt.timedelta(minutes=minutes)


def step_up(request, next_path: str | None = None):
    """The response that starts a step-up of the logged-in identity, returning to ``next_path`` after it.

    A new AuthnRequest with ForceAuthn, by the identity's own login method,
    to that method's IdP (see :meth:`ServiceProvider.start_login`); the
    browser comes back to ``next_path`` (a safe local path, else
    ``landing_path``) once the ACS has checked that the same subject logged
    in.  Nobody logged in: a redirect to the ordinary login, returning to
    ``next_path``.  Raises :class:`~ekn_saml.errors.SamlError` as a login
    start does (rate limit, unknown or unavailable method), which the
    plugin's error views turn into pages.  Does **not** keep the host's data
    of the session: like every login, the step-up makes a new session.
    """
    if next_path and not is_acceptable_next(next_path):
        next_path = None
    identity = identity_of(request)
    if identity is None:
        return HTTPFound(location=login_url(request, next_path))
    return start_login_response(request, identity.method, next_path, step_up=identity)


def require_step_up(within_minutes: float) -> Callable:
    """A view decorator: the view runs only if the identity stepped up within ``within_minutes``.

    Use it as Pyramid's ``decorator`` argument, which hands it the view as
    ``view(context, request)``::

        @view_config(route_name="sign", decorator=require_step_up(within_minutes=5))

    Nobody logged in: ``HTTPForbidden`` (the app's forbidden view decides,
    e.g. ``ekn_saml.host_wide``'s sends to the login).  No recent step-up:
    :func:`step_up`, back to this URL for GET and HEAD, back to this path
    without its query for other methods (a form cannot be sent again after
    a login: the user sees the page again and sends it anew).  Does **not**
    replace the view's own permission check.
    """
    if within_minutes <= 0:
        raise ValueError("within_minutes must be positive")

    def decorate(view):
        def stepped_up_view(context, request):
            identity = identity_of(request)
            if identity is None:
                raise HTTPForbidden()
            if stepped_up_within(identity, within_minutes):
                return view(context, request)
            back = request.path_qs if request.method in ("GET", "HEAD") else request.path
            return step_up(request, back)

        stepped_up_view.__name__ = getattr(view, "__name__", "stepped_up_view")
        stepped_up_view.__doc__ = getattr(view, "__doc__", None)
        return stepped_up_view

    return decorate
