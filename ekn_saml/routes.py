# SPDX-License-Identifier: Apache-2.0
"""Every route of the plugin, and how to tell them from the host's."""


def includeme(config):
    # user-facing pages
    config.add_route("saml.login", "/login")
    config.add_route("saml.login_start", "/login/{method}")
    # after an organisation login with several organisations: pick one
    config.add_route("saml.choose_organisation", "/choose-organisation")
    config.add_route("saml.help", "/help")
    config.add_route("saml.logout", "/logout")
    config.add_route("saml.logged_out", "/logged-out")
    # "stay logged in": a CSRF-checked POST that restarts the session's idle timer
    config.add_route("saml.session_extend", "/session/extend")
    # the page of a login whose request state is gone, after the ACS redirects there
    config.add_route("saml.login_expired", "/login-expired")
    # an error page again, in the language now chosen (its language switch leads here)
    config.add_route("saml.error_page", "/login-error")
    # SAML endpoints; their paths are part of the published metadata.  The
    # default SP profile answers at the plain paths, every further profile
    # (ekn_saml.sp_profiles) at /<name> below them (other names are a 404).
    config.add_route("saml.acs", "/saml/acs")
    config.add_route("saml.acs_profile", "/saml/acs/{sp_profile}")
    config.add_route("saml.metadata", "/saml/metadata")
    config.add_route("saml.metadata_profile", "/saml/metadata/{sp_profile}")
    # operators only: answers configured client addresses, 404 for everyone else
    config.add_route("saml.status", "/saml/status")


def add_operations_routes(config, operations) -> None:
    """The operators' endpoints that are on: health checks, metrics (paths from ``ekn_saml.health.*``, ``metrics.*``).

    ``operations`` is :class:`~ekn_saml.settings.OperationsSettings`, read at
    include time; the wiring checks at commit that the settings still agree.
    """
    for name, path in operations.routes:
        config.add_route(name, path)


# Every route of the plugin is named so (ekn_saml.i18n adds saml.lang,
# ekn_saml.devidp its devidp.* ones); add_static_view names its route "__" + the
# static view's name.  A host must not name its own routes so.
PLUGIN_ROUTE_PREFIXES = ("saml.", "devidp.", "__ekn_saml_static/")


def is_plugin_route(request) -> bool:
    """Whether ``request`` matched one of the plugin's routes (``False`` before or without routing)."""
    route = getattr(request, "matched_route", None)
    return route is not None and route.name.startswith(PLUGIN_ROUTE_PREFIXES)
