# SPDX-License-Identifier: Apache-2.0
"""Pyramid 2 security policy: ``request.identity`` is the SAML login's :class:`Identity`."""

from __future__ import annotations

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.interfaces import ISecurityPolicy
from zope.interface import implementer

from .identity import Identity

IDENTITY_KEY = "ekn_saml.identity"
SUBJECT_KEY = "ekn_saml.subject"


@implementer(ISecurityPolicy)
class SamlSecurityPolicy:
    """Identity from the server-side session; permissions from ACLs on the context.

    Principals are :attr:`Identity.principals` (method, kind, organisation
    number, LoA) plus Pyramid's ``Everyone`` and ``Authenticated``.
    """

    def __init__(self) -> None:
        self._acl = ACLHelper()

    def identity(self, request) -> Identity | None:
        data = request.session.get(IDENTITY_KEY)
        if not data:
            return None
        try:
            return Identity.from_dict(data)
        except (TypeError, KeyError, ValueError):
            # a session written by an incompatible version: treat as logged out
            return None

    def authenticated_userid(self, request) -> str | None:
        identity = request.identity
        return identity.subject if identity else None

    def permits(self, request, context, permission):
        principals = [Everyone]
        identity = request.identity
        if identity is not None:
            principals += [Authenticated, *identity.principals]
        return self._acl.permits(context, principals, permission)

    def remember(self, request, userid, **kw):
        """Log ``kw['identity']`` in under a new session id (fixation defence).

        The data of the session is kept (pre-login data, or a login again as
        the same subject), except when it belongs to another subject: then
        none of it passes to the new user, as on a shared computer.
        """
        identity: Identity = kw["identity"]
        session = request.session
        if session.get(SUBJECT_KEY) not in (None, identity.subject):
            session.invalidate()
        else:
            session.rotate()
        request.session[IDENTITY_KEY] = identity.to_dict()
        request.session[SUBJECT_KEY] = identity.subject
        return []

    def forget(self, request, **kw):
        request.session.invalidate()
        return []
