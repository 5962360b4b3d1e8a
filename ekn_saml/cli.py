# SPDX-License-Identifier: Apache-2.0
"""``ekn-saml``: the admin command (keys, SP metadata, federation metadata, checks, IdP list).

Every subcommand takes the application's ini file, reads the same
``ekn_saml.*`` settings as the app (through :func:`~ekn_saml.settings.parse_settings`)
and uses the same code paths, so what the command accepts the app accepts.

Exit codes: 0 all well; 1 a problem was found (or a command refused to act);
2 usage or configuration error (bad arguments, unreadable ini, invalid settings).
Messages go to stderr; documents (metadata, tables) go to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

from .errors import ConfigurationError, MetadataError

OK, PROBLEMS, USAGE = 0, 1, 2


class _CommandError(Exception):
    """Stop the command with an exit code and a message."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class _Out:
    """stderr messages, with a one-line progress display on a terminal."""

    def __init__(self, stream: TextIO, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self._progress_shown = False

    def say(self, message: str) -> None:
        self._end_progress()
        if not self.quiet:
            print(message, file=self.stream)

    def error(self, message: str) -> None:
        self._end_progress()
        print(f"error: {message}", file=self.stream)

    def progress(self, text: str) -> None:
        if self.quiet or not self.tty:
            return
        print("\r" + text.ljust(60), end="", file=self.stream, flush=True)
        self._progress_shown = True

    def _end_progress(self) -> None:
        if self._progress_shown:
            print(file=self.stream)
            self._progress_shown = False


def _read_ini(config_uri: str) -> dict:
    from pyramid.paster import get_appsettings

    path = config_uri.split("#", 1)[0]
    if not os.path.isfile(path):
        raise _CommandError(USAGE, f"{path}: no such ini file")
    try:
        return dict(get_appsettings(config_uri))
    except Exception as exc:  # noqa: BLE001 - any paste/ini failure is a usage error with its message
        raise _CommandError(
            USAGE, f"{config_uri}: cannot read the [app:main] section ({exc.__class__.__name__}: {exc})"
        ) from None


def _settings(config_uri: str):
    from .settings import parse_settings

    try:
        return parse_settings(_read_ini(config_uri))
    except ConfigurationError as exc:
        raise _CommandError(USAGE, "invalid configuration:\n  - " + "\n  - ".join(exc.problems)) from None


def _profile_credentials(settings) -> dict:
    """Every SP profile's keys by profile name, each checked against its certificate."""
    from .credentials import load_profile_credentials

    creds, problems = load_profile_credentials(settings)
    if problems:
        raise _CommandError(USAGE, "the SP keys cannot be used:\n  - " + "\n  - ".join(problems))
    return creds


def _chosen_profile(settings, name: str | None):
    """The SP profile ``--profile`` names (default: the default profile); a usage error for another name."""
    from .settings import DEFAULT_SP_PROFILE

    profile = settings.sp_profile(name or DEFAULT_SP_PROFILE)
    if profile is None:
        known = ", ".join(p.name for p in settings.sp_profiles)
        raise _CommandError(USAGE, f"no SP profile {name!r}; the profiles are: {known}")
    return profile


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


# ---------------------------------------------------------------- keygen

_KEY_USES = ("signing", "encryption")


def _keygen_profile(raw: dict, name: str | None) -> tuple[str, str, str]:
    """``(setting prefix, file stem prefix, entityID)`` of the profile ``keygen --profile`` names.

    Read from the raw ini, not the parsed settings: the keys being made may
    be the very files the settings name.  The profile must be listed in
    ``ekn_saml.sp_profiles`` (a typo would make keys nobody uses).
    """
    from pyramid.settings import aslist

    from .settings import DEFAULT_SP_PROFILE

    if not name or name == DEFAULT_SP_PROFILE:
        return "ekn_saml.sp.", "sp", raw.get("ekn_saml.sp.entity_id", "").strip() or "ekn_saml SP"
    listed = aslist(raw.get("ekn_saml.sp_profiles", ""), flatten=True)
    if name not in listed:
        raise _CommandError(
            USAGE, f"no SP profile {name!r} in ekn_saml.sp_profiles ({' '.join(listed) or 'empty'}); add it there first"
        )
    prefix = f"ekn_saml.sp_profile.{name}."
    return prefix, f"sp-{name}", raw.get(prefix + "entity_id", "").strip() or f"ekn_saml SP {name}"


def _keygen_server_keys(args, raw: dict, out: _Out) -> int:
    """``keygen --server-keys``: write the file ``ekn_saml.server_keys`` names (or certs/server-keys.key)."""
    from .server_keys import write_key_file

    configured = raw.get("ekn_saml.server_keys", "").strip()
    directory = args.dir or os.path.join(os.path.dirname(os.path.abspath(args.config.split("#")[0])), "certs")
    path = configured or os.path.join(directory, "server-keys.key")
    try:
        key_id = write_key_file(path, rotate=args.rotate)
    except FileExistsError:
        raise _CommandError(
            PROBLEMS,
            f"refusing to replace {path}: it holds the keys of every stored session (use --rotate to add a new key)",
        ) from None
    except FileNotFoundError:
        raise _CommandError(PROBLEMS, f"--rotate needs an existing key file; {path} does not exist") from None
    except OSError as exc:
        raise _CommandError(PROBLEMS, f"cannot write {path}: {exc}") from None
    if args.rotate:
        out.say(
            f"added key {key_id} first in {path} (mode 0600); the older keys stay readable.\n"
            "Restart every process; remove an old key once the session absolute timeout has passed."
        )
    else:
        out.say(f"wrote {path} (mode 0600) with key {key_id}")
    if not configured:
        out.say(f"Put this in the [app:main] section:\n  ekn_saml.server_keys = {path}")
    return OK


def cmd_keygen(args, out: _Out) -> int:
    from .keygen import write_key_pair
    from .xmlsecurity import PublicKey

    raw = _read_ini(args.config)
    if args.server_keys or args.rotate:
        return _keygen_server_keys(args, raw, out)
    prefix, stem_prefix, entity_id = _keygen_profile(raw, args.profile)
    directory = args.dir or os.path.join(os.path.dirname(os.path.abspath(args.config.split("#")[0])), "certs")
    suffix = "-next" if args.next else ""
    stems = [f"{stem_prefix}-{use}" for use in _KEY_USES]
    targets = [(stem + suffix, os.path.join(directory, stem + suffix)) for stem in stems]
    existing = [path + ext for _stem, path in targets for ext in (".key", ".crt") if os.path.exists(path + ext)]
    if existing and not args.force:
        raise _CommandError(PROBLEMS, "refusing to overwrite " + ", ".join(existing) + " (use --force to replace them)")
    written = {}
    for use, (stem, _path) in zip(_KEY_USES, targets, strict=False):
        out.say(f"generating a {args.bits}-bit RSA key for {use} ...")
        key_path, cert_path = write_key_pair(
            directory, stem, f"{entity_id} {use}{suffix}", bits=args.bits, overwrite=True
        )
        with open(cert_path, "rb") as fh:
            fingerprint = PublicKey.from_pem(fh.read()).sha256_fingerprint
        out.say(f"  {key_path} (mode 0600)\n  {cert_path} (SHA-256 {fingerprint})")
        written[use] = (key_path, cert_path)
    if args.next:
        out.say(
            "Rollover, step by step:\n"
            f"  1. publish the next signing certificate: {prefix}next_signing_cert = {written['signing'][1]}\n"
            "     and send the new SP metadata to the federation; wait until it is in the aggregate.\n"
            f"  2. switch: {prefix}signing_key/_cert = {written['signing'][0]} / {written['signing'][1]};\n"
            f"     {prefix}encryption_keys = {written['encryption'][0]} <the current key> (new first, old kept)\n"
            f"     {prefix}encryption_cert = {written['encryption'][1]}; remove next_signing_cert.\n"
            "  3. publish the metadata again; drop the old decryption key once the federation has it."
        )
    else:
        out.say(
            "Put these in the [app:main] section:\n"
            f"  {prefix}signing_key = {written['signing'][0]}\n"
            f"  {prefix}signing_cert = {written['signing'][1]}\n"
            f"  {prefix}encryption_keys = {written['encryption'][0]}\n"
            f"  {prefix}encryption_cert = {written['encryption'][1]}"
        )
    return OK


# ---------------------------------------------------------------- metadata


def cmd_metadata(args, out: _Out) -> int:
    from .metadata.federation import write_atomically
    from .metadata.sp import sp_metadata_bytes

    settings = _settings(args.config)
    profile = _chosen_profile(settings, args.profile)
    creds = _profile_credentials(settings)[profile.name]
    try:
        data = sp_metadata_bytes(settings, creds, sign=args.sign, profile=profile)
    except ConfigurationError as exc:
        raise _CommandError(USAGE, "the SP metadata is not valid:\n  - " + "\n  - ".join(exc.problems)) from None
    what = f"signed, valid for {profile.metadata.valid_days} days" if args.sign else "unsigned"
    if args.out:
        write_atomically(args.out, data)
        out.say(
            f"wrote the SP metadata of {profile.entity_id} (profile {profile.name}) to {args.out} ({what}, schema-valid)"
        )
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return OK


# ---------------------------------------------------------------- fetch-metadata


def _federation(settings):
    from .metadata.federation import FederationMetadata

    if not settings.federation.enabled:
        raise _CommandError(USAGE, "ekn_saml.federation.metadata_url is not set")
    try:
        return FederationMetadata(settings.federation, eager=[m.idp_entity_id for m in settings.methods])
    except ConfigurationError as exc:
        raise _CommandError(USAGE, "\n  - ".join(exc.problems)) from None


def _progress_printer(out: _Out) -> Callable[[int, int | None], None]:
    def show(size: int, total: int | None) -> None:
        out.progress(f"downloading {_mb(size)}" + (f" of {_mb(total)} ({100 * size // total}%)" if total else ""))

    return show


def cmd_fetch_metadata(args, out: _Out) -> int:
    from .metadata.federation import read_source
    from .timeutil import format_instant

    settings = _settings(args.config)
    federation = _federation(settings)
    fed = settings.federation
    out.say(f"fetching {fed.metadata_url}")
    started = time.monotonic()
    try:
        data = read_source(fed, progress=_progress_printer(out))
        out.say(
            f"read {_mb(len(data))} in {time.monotonic() - started:.1f} s; verifying the signature and the schema ..."
        )
        started = time.monotonic()
        doc = federation.verify(data, source=fed.metadata_url, origin="source")
    except MetadataError as exc:
        out.error(f"{exc.detail}\nnothing was stored; the backing file {fed.backing_file} is unchanged")
        return PROBLEMS
    out.say(
        f"verified in {time.monotonic() - started:.1f} s: {doc.entity_count} entities, {len(doc.idps)} IdPs, "
        f"valid until {format_instant(doc.valid_until)}"
    )
    try:
        # never replaces a newer document in the backing file (workers may have stored one)
        federation.store_backing_file(data, doc, source=fed.metadata_url)
    except MetadataError as exc:
        out.error(f"{exc.detail}\nnothing was stored; the backing file {fed.backing_file} is unchanged")
        return PROBLEMS
    except OSError as exc:
        out.error(f"cannot write the backing file {fed.backing_file}: {exc.strerror or exc}")
        return PROBLEMS
    out.say(f"stored as {fed.backing_file}")
    configured = _static_idps(settings)
    missing = [m for m in settings.methods if m.idp_entity_id not in doc.idps and m.idp_entity_id not in configured]
    for method in missing:
        out.say(f"warning: method {method.name}: {method.idp_entity_id} is not in this metadata")
    return PROBLEMS if missing and args.strict else OK


# ---------------------------------------------------------------- check


class _Report:
    def __init__(self, out: _Out) -> None:
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


def _check_cert(report: _Report, what: str, cert, now, days: int) -> None:
    from .status import cert_info

    info = cert_info(cert, now)
    if info["days_left"] < 0:
        # metadata certificates are key containers (DP §2.1.1.2): expired is a warning, not a failure
        report.warn(f"{what} certificate expired on {info['not_after']} (SHA-256 {info['sha256'][:16]}...)")
    elif info["days_left"] < days:
        report.warn(f"{what} certificate expires in {info['days_left']} days ({info['not_after']})")
    else:
        report.ok(f"{what} certificate valid until {info['not_after']}")


def _static_idps(settings, report: _Report | None = None) -> dict:
    from .metadata.idp import parse_idp_metadata
    from .timeutil import utcnow

    idps = {}
    for path in settings.idp_metadata_files:
        try:
            with open(path, "rb") as fh:
                idps.update(parse_idp_metadata(fh.read(), source=path, now=utcnow()))
        except (OSError, MetadataError) as exc:
            if report is not None:
                report.fail(f"ekn_saml.idp.metadata_files: {getattr(exc, 'detail', exc)}")
    if settings.devidp.enabled and settings.devidp.cert:
        from .devidp import dev_idp_metadata, dev_idps
        from .xmlsecurity import PublicKey

        try:
            with open(settings.devidp.cert, "rb") as fh:
                cert = PublicKey.from_pem(fh.read())
            metadata = dev_idp_metadata(dev_idps(settings.devidp.entity_id, settings.devidp.base_url), cert)
            idps.update(parse_idp_metadata(metadata, source="development IdP", now=utcnow()))
        except (OSError, ValueError, MetadataError) as exc:
            if report is not None:
                report.fail(f"development IdP: {exc}")
    return idps


def _profile_label(profile) -> str:
    """How a report line names an SP profile: nothing for the default one (as before there were several)."""
    return "" if profile.is_default else f"SP profile {profile.name}: "


def _readiness(report: _Report, profile) -> None:
    """What the federation asks of an SP profile's metadata before it registers it (DP §2.1.1.1, TAR §3)."""
    from .metadata.categories import SERVICE_TYPES

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
    label = _profile_label(profile)
    if missing:
        report.warn(f"{label}not ready for federation registration; set " + ", ".join(missing))
    else:
        report.ok(f"{label}SP metadata has UIInfo, Organization (with number) and contacts")
    if info.logo_url and not info.logo_url.startswith("https://"):
        report.warn("ekn_saml.sp.logo_url should be https")
    if not any(c in SERVICE_TYPES for c in info.entity_categories):
        report.warn(f"{own}entity_categories has neither public-sector-sp nor private-sector-sp (TAR §3.5.2)")


def _check_methods(report: _Report, settings, idps: dict, federation_doc) -> None:
    from .metadata.categories import short_name

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
        # service entity categories (".../ec/..."): the IdP must declare one of the method's SP profile's (EC §1.3)
        service = {c for c in settings.sp_profile(method.sp_profile).metadata.entity_categories if "/ec/" in c}
        if service and idp.entity_categories and not service & idp.entity_categories:
            warnings.append(f"{method.idp_entity_id} declares none of our service entity categories")
        for warning in warnings:
            report.warn(f"method {method.name}: {warning}")
        if not warnings:
            report.ok(f"method {method.name}: {method.idp_entity_id}")


def cmd_check(args, out: _Out) -> int:  # noqa: C901 - to be split with cli/ (issue 13)
    from .metadata.federation import load_signers
    from .metadata.sp import load_next_signing_cert, sp_metadata_bytes
    from .timeutil import format_instant, utcnow

    report = _Report(out)
    settings = _settings(args.config)
    report.ok(f"configuration of {settings.entity_id}")
    now = utcnow()
    all_creds = _profile_credentials(settings)
    for profile in settings.sp_profiles:  # the default one first, its lines worded as before there were several
        creds = all_creds[profile.name]
        label = _profile_label(profile)
        if not profile.is_default:
            report.ok(f"SP profile {profile.name}: {profile.entity_id}, ACS {profile.acs_url}")
        report.ok(f"{label}SP keys match their certificates ({len(creds.decryption_keys)} decryption key(s))")
        _check_cert(report, f"{label}SP signing", creds.signing_cert, now, args.days)
        _check_cert(report, f"{label}SP encryption", creds.encryption_cert, now, args.days)
        try:
            following = load_next_signing_cert(settings, profile)
            if following is not None:
                _check_cert(report, f"{label}next SP signing", following, now, args.days)
            sp_metadata_bytes(settings, creds, profile=profile)
            report.ok(f"{label}SP metadata is valid against the SAML metadata schema")
        except ConfigurationError as exc:
            report.fail("; ".join(exc.problems))
        _readiness(report, profile)

    idps = _static_idps(settings, report)
    doc = None
    if settings.federation.enabled:
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
        elif signers:
            federation = _federation(settings)
            out.progress("verifying the stored federation metadata ...")
            try:
                doc = federation.load_backing_file()
            except MetadataError as exc:
                report.fail(f"stored federation metadata: {exc.detail}")
            else:
                age = (now - doc.fetched_at).total_seconds()
                left = (doc.valid_until - now).total_seconds()
                summary = (
                    f"{doc.entity_count} entities, {len(doc.idps)} IdPs, signature ok, fetched {age / 3600:.1f} h ago"
                )
                if age > 2 * fed.max_refresh:
                    report.warn(f"federation metadata is stale: {summary}")
                else:
                    report.ok(f"federation metadata: {summary}")
                if left < fed.max_refresh:
                    report.warn(f"federation metadata expires soon: validUntil {format_instant(doc.valid_until)}")
    _check_methods(report, settings, idps, doc)
    _check_store(report, settings)

    out.say(f"{report.problems} problem(s), {report.warnings} warning(s)")
    if report.problems or (args.strict and report.warnings):
        return PROBLEMS
    return OK


def _check_store(report: _Report, settings) -> None:
    from .status import store_health
    from .storage import store_from_url

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


# ---------------------------------------------------------------- idps


def cmd_idps(args, out: _Out) -> int:
    from .metadata.categories import short_name

    settings = _settings(args.config)
    idps = dict(_static_idps(settings))
    if settings.federation.enabled:
        federation = _federation(settings)
        try:
            if args.fetch:
                out.say(f"fetching {settings.federation.metadata_url}")
                doc = federation.load_from_source(progress=_progress_printer(out))
            else:
                out.progress("verifying the stored federation metadata ...")
                doc = federation.load_backing_file()
        except MetadataError as exc:
            out.error(f"{exc.detail}\n(run: ekn-saml fetch-metadata {args.config})")
            return PROBLEMS
        for info in doc.idps.all():
            idps.setdefault(info.entity_id, info)
    used = {}
    for method in settings.methods:
        used.setdefault(method.idp_entity_id, []).append(method.name)
    rows = [("entityID", "name", "categories", "LoAs", "methods")]
    for entity_id in sorted(idps):
        info = idps[entity_id]
        name = (
            info.display_names.get("sv") or info.display_names.get("en") or next(iter(info.display_names.values()), "")
        )
        rows.append(
            (
                entity_id,
                name,
                ",".join(sorted(short_name(c) for c in info.entity_categories)) or "-",
                ",".join(sorted(short_name(c) for c in info.assurance_certifications)) or "-",
                ",".join(used.get(entity_id, [])) or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip())
    out.say(f"{len(rows) - 1} IdP(s)")
    missing = [m for m in settings.methods if m.idp_entity_id not in idps]
    for method in missing:
        out.say(f"warning: method {method.name}: {method.idp_entity_id} is not among these IdPs")
    return PROBLEMS if missing else OK


# ---------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ekn-saml",
        description="Admin tasks of an ekn_saml SP: keys, SP metadata, federation metadata, checks.",
        epilog="Exit codes: 0 ok, 1 problems found, 2 usage or configuration error.",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    def command(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("config", help="the application's ini file (e.g. production.ini)")
        p.set_defaults(func=func)
        return p

    p = command("keygen", cmd_keygen, "make SP signing and encryption keys with self-signed certificates")
    p.add_argument(
        "--profile",
        metavar="NAME",
        help="make the keys of this SP profile of ekn_saml.sp_profiles (sp-NAME-*; default: the sp.* keys)",
    )
    p.add_argument("--dir", help="directory for the files (default: certs/ beside the ini file)")
    p.add_argument("--bits", type=int, default=3072, choices=(2048, 3072, 4096), help="RSA key size (default 3072)")
    p.add_argument("--next", action="store_true", help="make the next keys for a rollover (sp-*-next.*)")
    p.add_argument("--force", action="store_true", help="replace existing files")
    p.add_argument(
        "--server-keys",
        action="store_true",
        help="make the server key file instead (ekn_saml.server_keys: store index keys, encrypted identities)",
    )
    p.add_argument("--rotate", action="store_true", help="with --server-keys: put a new key first in the existing file")

    p = command("metadata", cmd_metadata, "print or write the SP metadata (schema-validated)")
    p.add_argument(
        "--profile",
        metavar="NAME",
        help="the metadata of this SP profile (default: the default profile, the sp.* keys)",
    )
    p.add_argument("--sign", action="store_true", help="sign it with the (profile's) SP signing key and set validUntil")
    p.add_argument("--out", help="write to this file instead of stdout")

    p = command(
        "fetch-metadata", cmd_fetch_metadata, "download and verify the federation metadata, store the backing file"
    )
    p.add_argument("--strict", action="store_true", help="exit 1 if a method's IdP is not in the metadata")

    p = command("check", cmd_check, "check configuration, keys, certificate expiry, metadata and store")
    p.add_argument("--days", type=int, default=30, help="warn about certificates expiring within this many days (30)")
    p.add_argument("--strict", action="store_true", help="exit 1 on warnings too")

    p = command("idps", cmd_idps, "list the trusted IdPs with names, entity categories and LoAs")
    p.add_argument("--fetch", action="store_true", help="use the federation source instead of the backing file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ekn-saml``; return the exit code (the console script exits with it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, message already printed)
        return int(exc.code or 0)
    out = _Out(sys.stderr, quiet=args.quiet)
    # the library's warnings (e.g. an IdP entity ignored) reach the admin plainly, for this run only
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.setLevel(logging.WARNING)
    logger = logging.getLogger("ekn_saml")
    logger.addHandler(handler)
    try:
        return args.func(args, out)
    except _CommandError as exc:
        out.error(str(exc))
        return exc.code
    except KeyboardInterrupt:
        out.error("interrupted")
        return PROBLEMS
    finally:
        logger.removeHandler(handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
