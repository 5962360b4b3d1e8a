# SPDX-License-Identifier: Apache-2.0
"""Who is logged in through SAML: the login state in ekn_saml's own server-side session.

The building blocks of a host app's security policy, and what the plugin's
own views and templates use, whatever the host's policy returns as
``request.identity``:

* :func:`identity_of` — the logged-in :class:`~ekn_saml.identity.Identity` of a request, or ``None``;
* :func:`remember_identity` — log an identity in (a new session id: fixation defence);
* :func:`forget_identity` — log out of ekn_saml's state.

The state lives in ``request.ekn_saml_session``, a server-side session on
the state store (:mod:`ekn_saml.session`): its cookie holds a random id and
its data is sealed in the store, so no personal identity number ever goes
to the client, whether or not the host's own ``request.session`` is a
signed cookie.  None of these functions touches the host's session.
"""

from __future__ import annotations

from .identity import Identity
from .session import IDENTITY_KEY, REQUEST_ATTR, SUBJECT_KEY


def identity_of(request) -> Identity | None:
    """The SAML identity logged in with ``request``'s ekn_saml session, or ``None``.

    Read from the session on every call (cheap: the session is opened once
    per request), so it follows :func:`remember_identity` and
    :func:`forget_identity` made earlier in the same request.  A session
    written by an incompatible version counts as logged out.  Raises
    :class:`~ekn_saml.errors.StoreUnavailableError` when the store cannot be
    read.  Does **not** check permissions, and does **not** look at the
    host's ``request.identity`` or ``request.session``.
    """
    data = getattr(request, REQUEST_ATTR).get(IDENTITY_KEY)
    if not data:
        return None
    try:
        return Identity.from_dict(data)
    except (TypeError, KeyError, ValueError):
        return None


def remember_identity(request, identity: Identity) -> None:
    """Log ``identity`` in to ``request``'s ekn_saml session, under a new session id (fixation defence).

    The data of the session is kept (pre-login data, or a login again as
    the same subject), except when it belongs to another subject: then none
    of it passes to the new user, as on a shared computer.  The new cookie
    is set when the response leaves (the plugin's session tween), so this
    returns nothing to add to a response.  Does **not** check the identity:
    it must come from :meth:`ISamlServiceProvider.finish_login`.
    """
    session = getattr(request, REQUEST_ATTR)
    if session.get(SUBJECT_KEY) not in (None, identity.subject):
        session.invalidate()
    else:
        session.rotate()
    session[IDENTITY_KEY] = identity.to_dict()
    session[SUBJECT_KEY] = identity.subject


def forget_identity(request) -> Identity | None:
    """Log out of ekn_saml's state: end ``request``'s ekn_saml session; return who was logged in.

    The whole ekn_saml session ends (its data, its id, its CSRF token); the
    cookie is deleted when the response leaves.  Other sessions of the same
    subject (other browsers) stay: :func:`~ekn_saml.session.end_sessions`
    ends those.  Does **not** touch the host's own session.
    """
    identity = identity_of(request)
    getattr(request, REQUEST_ATTR).invalidate()
    return identity
