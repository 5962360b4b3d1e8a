# SPDX-License-Identifier: Apache-2.0
"""A Pyramid 2 security policy on ekn_saml's login state, usable alone or wrapped by a host's policy.

:class:`SamlSecurityPolicy` is what the opt-in
``config.include("ekn_saml.host_wide.security_policy")`` sets for the whole
app (the demo).  A host with a policy of its own calls the same building
blocks from its methods (:func:`~ekn_saml.login_state.identity_of`,
:func:`principals_of`, :func:`~ekn_saml.login_state.remember_identity`,
:func:`~ekn_saml.login_state.forget_identity`), or wraps an instance of this
class and delegates to it for SAML identities (``tests/host_app``).
"""

from __future__ import annotations

from pyramid.authorization import ACLHelper, Authenticated, Everyone
from pyramid.interfaces import ISecurityPolicy
from zope.interface import implementer

from .identity import Identity
from .login_state import forget_identity, identity_of, remember_identity


def principals_of(identity: Identity | None) -> list[str]:
    """The ACL principals of ``identity``: ``Everyone``, and when logged in ``Authenticated`` and its own.

    Its own are :attr:`Identity.principals`: ``ekn:authenticated``,
    ``ekn:method:<name>``, ``ekn:kind:person|organisation|foreign_person``,
    ``ekn:org:<orgnr>`` (organisations), ``ekn:country:<CC>`` (foreign e-IDs) and ``ekn:loa:<uri>``.
    ``None`` (nobody logged in) gives ``[Everyone]``.
    """
    if identity is None:
        return [Everyone]
    return [Everyone, Authenticated, *identity.principals]


@implementer(ISecurityPolicy)
class SamlSecurityPolicy:
    """Identity from ekn_saml's server-side session; permissions from ACLs on the context.

    Every method delegates to a building block, so a host's policy that
    wraps this one behaves the same for SAML identities.  It reads and
    writes ekn_saml's own session only (``request.ekn_saml_session``), never
    the host's ``request.session``.
    """

    def __init__(self) -> None:
        self._acl = ACLHelper()

    def identity(self, request) -> Identity | None:
        """The logged-in SAML identity (:func:`~ekn_saml.login_state.identity_of`)."""
        return identity_of(request)

    def authenticated_userid(self, request) -> str | None:
        """The identity's :attr:`~Identity.subject`, or ``None``."""
        identity = identity_of(request)
        return identity.subject if identity else None

    def permits(self, request, context, permission):
        """ACL check of ``context`` against :func:`principals_of` the SAML identity."""
        return self._acl.permits(context, principals_of(identity_of(request)), permission)

    def remember(self, request, userid, **kw):
        """Log ``kw['identity']`` in (:func:`~ekn_saml.login_state.remember_identity`); ``userid`` is not used.

        Returns no headers: the session cookie is set when the response leaves.
        """
        remember_identity(request, kw["identity"])
        return []

    def forget(self, request, **kw):
        """Log out of ekn_saml's state (:func:`~ekn_saml.login_state.forget_identity`); returns no headers."""
        forget_identity(request)
        return []
