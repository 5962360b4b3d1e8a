# SPDX-License-Identifier: Apache-2.0
"""``ekn_saml.*`` settings, parsed once into one typed, frozen object.

:func:`parse_settings` reads every ``ekn_saml.*`` key of the ini file, rejects
unknown keys (a typo must not silently fall back to a default) and raises one
:class:`~ekn_saml.errors.ConfigurationError` that lists **every** problem.
It does **not** read key files or metadata: :mod:`ekn_saml.credentials`,
:mod:`ekn_saml.server_keys` and :mod:`ekn_saml.metadata` do that, adding
their problems to the same report.

The package: :mod:`.model` (the frozen dataclasses), :mod:`.table` (every
key, its default and meaning), :mod:`.reader` (reading values, collecting
problems), :mod:`.rules` and :mod:`.profiles` (one function per section).
The names below are its interface: import them from ``ekn_saml.settings``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..constants import (
    ACS_PATH,
    DEFAULT_MAX_VALIDITY_DAYS,
    DEFAULT_SP_PROFILE,
    LOA3,
    LOA3_NONRESIDENT,
    METADATA_PATH,
    UNCERTIFIED_LOA3,
    acs_path,
)
from ..errors import ConfigurationError
from ..methods import PROFILES
from .model import (
    PREFIX,
    DevIdpSettings,
    FederationSettings,
    LoginMethod,
    OperationsSettings,
    SamlSettings,
    SpMetadataSettings,
    SpProfile,
    SupportContact,
)
from .profiles import check_https, sp_profile_names, sp_profiles_section, sp_section
from .reader import Reader
from .rules import (
    authn_request_section,
    check_known_keys,
    check_listed,
    devidp_section,
    eidas_section,
    federation_section,
    idp_section,
    methods_section,
    mode_section,
    operations_section,
    paths_section,
    security_section,
    session_section,
    status_section,
    store_section,
    support_section,
)
from .table import BINDINGS, CRYPTO_BACKENDS, DATA_ENCRYPTIONS, KEYS, KNOWN_METHODS, REQUIRED


def parse_settings(settings: dict[str, Any], *, file_exists: Callable[[str], bool] = os.path.isfile) -> SamlSettings:
    """Parse the ``ekn_saml.*`` keys of ``settings``; raise ConfigurationError listing every problem.

    Only orchestrates the sections' rules (:mod:`.rules`, :mod:`.profiles`),
    in an order where each finds what it builds on; ``file_exists`` is how
    they look for key and metadata files (none is read).
    """
    r = Reader({k[len(PREFIX) :]: v for k, v in settings.items() if k.startswith(PREFIX)})
    check_known_keys(r)  # unknown keys first: a typo is the most common mistake
    profile_names = sp_profile_names(r)
    sp = sp_section(r, file_exists)
    # the development IdP before the methods: its entityID is every method's default IdP in development
    devidp = devidp_section(r, sp["public_base_url"], file_exists)
    methods = methods_section(r, profile_names)
    check_listed(r, methods, profile_names)
    paths = paths_section(r)
    session = session_section(r)
    profiles = sp_profiles_section(r, sp, methods, profile_names, file_exists)
    result = SamlSettings(
        **sp,
        idp_metadata_files=idp_section(r, file_exists),
        methods=methods,
        **authn_request_section(r),
        **security_section(r),
        **eidas_section(r),
        **store_section(r),
        **session,
        **paths,
        devidp=devidp,
        sp_metadata=profiles[0].metadata,
        sp_profiles=profiles,
        federation=federation_section(r, file_exists),
        status_allowed_addresses=status_section(r),
        support=support_section(r, profiles[0].metadata.support_email),
        operations=operations_section(r),
        **mode_section(r, file_exists),
    )
    check_https(r, result.public_base_url, development=result.is_development)
    if r.problems:
        raise ConfigurationError(r.problems)
    return result


def operations_at_include(settings: dict[str, Any]) -> OperationsSettings:
    """The ``health.*`` and ``metrics.*`` settings as they are now, for routes added at include time.

    Reports nothing: a bad value falls back as the parser reads it, and
    :func:`parse_settings` reports it at commit (the wiring also checks that
    the routes still agree then).
    """
    r = Reader({k[len(PREFIX) :]: v for k, v in settings.items() if k.startswith(PREFIX)})
    return operations_section(r)


__all__ = [
    "ACS_PATH",
    "BINDINGS",
    "CRYPTO_BACKENDS",
    "DATA_ENCRYPTIONS",
    "DEFAULT_MAX_VALIDITY_DAYS",
    "DEFAULT_SP_PROFILE",
    "KEYS",
    "KNOWN_METHODS",
    "LOA3",
    "LOA3_NONRESIDENT",
    "METADATA_PATH",
    "PREFIX",
    "PROFILES",
    "REQUIRED",
    "UNCERTIFIED_LOA3",
    "DevIdpSettings",
    "FederationSettings",
    "LoginMethod",
    "OperationsSettings",
    "SamlSettings",
    "SpMetadataSettings",
    "SpProfile",
    "SupportContact",
    "acs_path",
    "operations_at_include",
    "parse_settings",
]
