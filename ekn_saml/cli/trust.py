# SPDX-License-Identifier: Apache-2.0
"""The IdPs a command trusts, found as the app finds them: the configured metadata files (through the
loader the app uses), the development IdP's own metadata, and the federation's holder."""

from __future__ import annotations

from collections.abc import Callable

from ..devidp import development_trust
from ..errors import ConfigurationError, MetadataError
from ..metadata.federation import FederationMetadata
from ..metadata.idp import IdpInfo, load_idp_metadata_files
from ..settings import SamlSettings
from ..timeutil import utcnow
from .command import USAGE, CommandError


def trusted_idps(settings: SamlSettings, fail: Callable[[str], None] | None = None) -> dict[str, IdpInfo]:
    """The IdPs of ``ekn_saml.idp.metadata_files`` and, when it is enabled, of the development IdP.

    Each file or IdP that cannot be used is left out; ``fail`` (if given)
    is told why, once per problem.  Does **not** load federation metadata
    (:func:`federation_holder`).
    """
    idps, problems = load_idp_metadata_files(settings.idp_metadata_files, now=utcnow())
    dev = settings.devidp
    if dev.enabled and dev.cert:
        try:
            idps.update(development_trust(dev.entity_id, dev.base_url, dev.cert, now=utcnow()).records)
        except (OSError, ValueError, MetadataError) as exc:
            problems.append(f"development IdP: {exc}")
    if fail is not None:
        for problem in problems:
            fail(problem)
    return idps


def federation_holder(settings: SamlSettings) -> FederationMetadata:
    """The federation metadata holder the app would build (nothing loaded yet); a usage error without one."""
    if not settings.federation.enabled:
        raise CommandError(USAGE, "ekn_saml.federation.metadata_url is not set")
    try:
        return FederationMetadata(settings.federation, eager=[m.idp_entity_id for m in settings.methods])
    except ConfigurationError as exc:
        raise CommandError(USAGE, "\n  - ".join(exc.problems)) from None
