# SPDX-License-Identifier: Apache-2.0
"""Every route of the plugin, and nothing else."""


def includeme(config):
    # user-facing pages
    config.add_route("saml.login", "/login")
    config.add_route("saml.login_start", "/login/{method}")
    config.add_route("saml.help", "/help")
    config.add_route("saml.logout", "/logout")
    config.add_route("saml.logged_out", "/logged-out")
    # SAML endpoints; their paths are part of the published metadata
    config.add_route("saml.acs", "/saml/acs")
    config.add_route("saml.metadata", "/saml/metadata")
    # operators only: answers configured client addresses, 404 for everyone else
    config.add_route("saml.status", "/saml/status")
