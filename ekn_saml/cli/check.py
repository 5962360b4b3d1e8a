# SPDX-License-Identifier: Apache-2.0
"""``ekn-saml check``: what an operator runs from cron: configuration, keys, certificate expiry,
federation readiness and metadata, the login methods' IdPs, the store.

One line per check (``ok``, ``warn`` or ``FAIL``), then a count; exit 1 on a
problem (or, with ``--strict``, on a warning too).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os

from ..credentials import SpCredentials
from ..errors import ConfigurationError, MetadataError
from ..metadata.aggregate import MetadataDocument
from ..metadata.categories import SERVICE_TYPES, short_name
from ..metadata.fetch import load_signers
from ..metadata.idp import IdpInfo
from ..metadata.sp import load_next_signing_cert, sp_metadata_bytes
from ..service import method_unavailable_reason
from ..settings import SamlSettings, SpProfile
from ..status import cert_info, store_health
from ..storage import store_from_url
from ..timeutil import format_instant, utcnow
from ..xmlsecurity import PublicKey
from .command import OK, PROBLEMS, Out, load_settings, profile_credentials, profile_label
from .trust import federation_holder, trusted_idps

NAME = "check"
HELP = "check configuration, keys, certificate expiry, metadata and store"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--days", type=int, default=30, help="warn about certificates expiring within this many days (30)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too")


class _Report:
    def __init__(self, out: Out) -> None:
        self.out = out
        self.problems = 0
        self.warnings = 0

    def ok(self, message: str) -> None:
        self.out.say(f"ok    {message}")

    def warn(self, message: str) -> None:
        self.warnings += 1
        self.out.say(f"warn  {message}")

    def fail(self, message: str) -> None:
        self.problems += 1
        self.out.say(f"FAIL  {message}")


def run(args, out: Out) -> int:
    """``ekn-saml check``: every check below, in this order, reported line by line."""
    report = _Report(out)
    settings = load_settings(args.config)
    report.ok(f"configuration of {settings.entity_id}")
    now = utcnow()
    all_creds = profile_credentials(settings)
    for profile in settings.sp_profiles:  # the default one first, its lines worded as before there were several
        _check_profile(report, settings, profile, all_creds[profile.name], now, args.days)
    idps = trusted_idps(settings, fail=report.fail)
    doc = _check_federation(report, settings, out, now, args) if settings.federation.enabled else None
    _check_methods(report, settings, idps, doc)
    _check_store(report, settings)

    out.say(f"{report.problems} problem(s), {report.warnings} warning(s)")
    if report.problems or (args.strict and report.warnings):
        return PROBLEMS
    return OK


def _check_cert(report: _Report, what: str, cert: PublicKey, now: dt.datetime, days: int) -> None:
    info = cert_info(cert, now)
    if info["days_left"] < 0:
        # metadata certificates are key containers (DP §2.1.1.2): expired is a warning, not a failure
        report.warn(f"{what} certificate expired on {info['not_after']} (SHA-256 {info['sha256'][:16]}...)")
    elif info["days_left"] < days:
        report.warn(f"{what} certificate expires in {info['days_left']} days ({info['not_after']})")
    else:
        report.ok(f"{what} certificate valid until {info['not_after']}")


def _check_profile(
    report: _Report, settings: SamlSettings, profile: SpProfile, creds: SpCredentials, now: dt.datetime, days: int
) -> None:
    """One SP profile: its keys and certificates, its metadata against the schema, its federation readiness."""
    label = profile_label(profile)
    if not profile.is_default:
        report.ok(f"SP profile {profile.name}: {profile.entity_id}, ACS {profile.acs_url}")
    report.ok(f"{label}SP keys match their certificates ({len(creds.decryption_keys)} decryption key(s))")
    _check_cert(report, f"{label}SP signing", creds.signing_cert, now, days)
    _check_cert(report, f"{label}SP encryption", creds.encryption_cert, now, days)
    try:
        following = load_next_signing_cert(settings, profile)
        if following is not None:
            _check_cert(report, f"{label}next SP signing", following, now, days)
        sp_metadata_bytes(settings, creds, profile=profile)
        report.ok(f"{label}SP metadata is valid against the SAML metadata schema")
    except ConfigurationError as exc:
        report.fail("; ".join(exc.problems))
    _readiness(report, profile)


def _readiness(report: _Report, profile: SpProfile) -> None:
    """What the federation asks of an SP profile's metadata before it registers it (DP §2.1.1.1, TAR §3)."""
    info = profile.metadata
    own = profile.setting_prefix  # the name and categories may be the profile's own; the rest is shared (ekn_saml.sp.*)
    missing = []
    if not dict(info.display_name).get("sv"):
        missing.append(f"{own}display_name.sv")
    if not info.logo_url:
        missing.append("ekn_saml.sp.logo_url")
    for key in ("name", "url", "number"):
        if not getattr(info, f"organization_{key}"):
            missing.append(f"ekn_saml.sp.organization.{key}")
    for role in ("technical", "support"):
        if not getattr(info, f"{role}_email"):
            missing.append(f"ekn_saml.sp.contact.{role}.email")
    label = profile_label(profile)
    if missing:
        report.warn(f"{label}not ready for federation registration; set " + ", ".join(missing))
    else:
        report.ok(f"{label}SP metadata has UIInfo, Organization (with number) and contacts")
    if info.logo_url and not info.logo_url.startswith("https://"):
        report.warn("ekn_saml.sp.logo_url should be https")
    if not any(c in SERVICE_TYPES for c in info.entity_categories):
        report.warn(f"{own}entity_categories has neither public-sector-sp nor private-sector-sp (TAR §3.5.2)")


def _check_federation(
    report: _Report, settings: SamlSettings, out: Out, now: dt.datetime, args
) -> MetadataDocument | None:
    """The pinned signers' certificates, then the stored aggregate (verified again), its age and validity."""
    fed = settings.federation
    try:
        signers = load_signers(fed.signing_certs)
    except ConfigurationError as exc:
        for problem in exc.problems:
            report.fail(problem)
        signers = []
    for index, cert in enumerate(signers):
        _check_cert(report, f"federation signer #{index + 1}", cert, now, args.days)
    if not os.path.exists(fed.backing_file):
        report.fail(f"no federation metadata yet ({fed.backing_file}); run: ekn-saml fetch-metadata {args.config}")
        return None
    if not signers:
        return None
    holder = federation_holder(settings)
    out.progress("verifying the stored federation metadata ...")
    try:
        doc = holder.load_backing_file()
    except MetadataError as exc:
        report.fail(f"stored federation metadata: {exc.detail}")
        return None
    age = (now - (doc.fetched_at or doc.verified_at)).total_seconds()
    left = (doc.valid_until - now).total_seconds()
    summary = f"{doc.entity_count} entities, {len(doc.idps)} IdPs, signature ok, fetched {age / 3600:.1f} h ago"
    if age > 2 * fed.max_refresh:
        report.warn(f"federation metadata is stale: {summary}")
    else:
        report.ok(f"federation metadata: {summary}")
    if left < fed.max_refresh:
        report.warn(f"federation metadata expires soon: validUntil {format_instant(doc.valid_until)}")
    return doc


def _check_methods(
    report: _Report, settings: SamlSettings, idps: dict[str, IdpInfo], federation_doc: MetadataDocument | None
) -> None:
    """Each login method's IdP: trusted, certified for a requested LoA, and matching (EC §1.3).

    A method the app would not offer (:func:`~ekn_saml.service.method_unavailable_reason`:
    the EC §1.3 matching rules, secure-authenticator-binding) fails the check with the
    reason ``/saml/status`` and the audit line give.
    """
    for method in settings.methods:
        idp = idps.get(method.idp_entity_id)
        if idp is None and federation_doc is not None:
            idp = federation_doc.idps.get(method.idp_entity_id)
        if idp is None:
            report.fail(f"method {method.name}: {method.idp_entity_id} is in no trusted metadata")
            continue
        warnings = []
        if idp.assurance_certifications and not set(method.loa) & idp.assurance_certifications:
            loas = ", ".join(short_name(u) for u in method.loa)
            warnings.append(f"{method.idp_entity_id} certifies none of the requested LoAs ({loas})")
        profile = settings.sp_profile(method.sp_profile)
        reason = method_unavailable_reason(method, idp, profile.metadata.entity_categories if profile else ())
        if reason:
            report.fail(f"method {method.name}: unavailable: {reason}")
            continue
        if not idp.entity_categories:
            warnings.append(f"{method.idp_entity_id} declares no entity categories, so it is not matched (EC §1.3)")
        for warning in warnings:
            report.warn(f"method {method.name}: {warning}")
        if not warnings:
            report.ok(f"method {method.name}: {method.idp_entity_id}")


def _check_store(report: _Report, settings: SamlSettings) -> None:
    """The state store the app would build answers a ping."""
    try:
        store = store_from_url(
            settings.store_url,
            key_prefix=settings.store_key_prefix,
            allow_memory=True,
            backend=settings.store_backend,
        )
    except ValueError as exc:
        report.fail(f"ekn_saml.store.url: {exc}")
        return
    health = store_health(store)
    if health["ok"]:
        report.ok(f"state store answers ({settings.store_url.split('://', 1)[0]}, {health['latency_ms']} ms)")
    else:
        report.fail(f"state store does not answer ({health['error']})")
    with contextlib.suppress(Exception):  # closing is best effort: the report is made
        store.close()
