# SPDX-License-Identifier: Apache-2.0
"""The portal's own security policy: its staff in its cookie session, its customers through ekn_saml.

It wraps :class:`ekn_saml.SamlSecurityPolicy` for the SAML identity and uses
ekn_saml's building blocks for the rest, so a customer's login lives in
ekn_saml's server-side state and never in the portal's cookie.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyramid.authorization import ACLHelper, Allow, Authenticated, Everyone

from ekn_saml import Identity, SamlSecurityPolicy, forget_identity, principals_of, remember_identity

STAFF_KEY = "portal.staff"  # the portal's own login, in its own (cookie) session
CUSTOMER = "portal:customer"  # the principal the portal gives every SAML login
STAFF = "portal:staff"


@dataclass(frozen=True)
class StaffUser:
    """A member of the portal's staff, logged in with the portal's own form."""

    name: str


class Root:
    """Customers (any SAML login) may see their account; the portal's staff their own pages."""

    __acl__ = (
        (Allow, CUSTOMER, "customer"),
        (Allow, STAFF, "staff"),
    )

    def __init__(self, request):
        self.request = request


class PortalSecurityPolicy:
    """The portal's ISecurityPolicy: ``request.identity`` is a :class:`StaffUser` or an ekn_saml Identity."""

    def __init__(self) -> None:
        self.saml = SamlSecurityPolicy()  # wrapped: the SAML identity of a request
        self.acl = ACLHelper()

    def identity(self, request):
        staff = request.session.get(STAFF_KEY)
        if staff:
            return StaffUser(staff)
        return self.saml.identity(request)

    def authenticated_userid(self, request):
        identity = request.identity
        if isinstance(identity, StaffUser):
            return f"staff:{identity.name}"
        return self.saml.authenticated_userid(request)

    def permits(self, request, context, permission):
        identity = request.identity
        if isinstance(identity, StaffUser):
            principals = [Everyone, Authenticated, STAFF]
        else:
            # ekn_saml's principals (method, kind, organisation, LoA), plus the portal's own
            principals = principals_of(identity) + ([CUSTOMER] if identity is not None else [])
        return self.acl.permits(context, principals, permission)

    def remember(self, request, userid, **kw):
        identity = kw.get("identity")
        if isinstance(identity, Identity):
            # a SAML identity goes to ekn_saml's server-side state, never into the cookie
            remember_identity(request, identity)
        else:
            request.session[STAFF_KEY] = userid
        return []

    def forget(self, request, **kw):
        request.session.pop(STAFF_KEY, None)
        forget_identity(request)
        return []
