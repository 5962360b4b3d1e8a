# SPDX-License-Identifier: Apache-2.0
"""``ekn-saml keygen``: the SP's key pairs (a profile's, the next ones for a rollover) or the server key file."""

from __future__ import annotations

import argparse
import os

from pyramid.settings import aslist

from ..keygen import KEY_TYPES, write_key_pair
from ..server_keys import write_key_file
from ..settings import DEFAULT_SP_PROFILE
from ..xmlsecurity import PublicKey
from .command import OK, PROBLEMS, USAGE, CommandError, Out, read_ini

NAME = "keygen"
HELP = "make SP signing and encryption keys with self-signed certificates"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="make the keys of this SP profile of ekn_saml.sp_profiles (sp-NAME-*; default: the sp.* keys)",
    )
    parser.add_argument("--dir", help="directory for the files (default: certs/ beside the ini file)")
    parser.add_argument(
        "--bits", type=int, default=3072, choices=(2048, 3072, 4096), help="RSA key size (default 3072)"
    )
    parser.add_argument(
        "--signing-key-type",
        choices=KEY_TYPES,
        default="rsa",
        help="the signing key: rsa (default) or ec (P-256, ecdsa-sha256: a cheaper AuthnRequest signature); "
        "the encryption key is always RSA",
    )
    parser.add_argument("--next", action="store_true", help="make the next keys for a rollover (sp-*-next.*)")
    parser.add_argument("--force", action="store_true", help="replace existing files")
    parser.add_argument(
        "--server-keys",
        action="store_true",
        help="make the server key file instead (ekn_saml.server_keys: store index keys, encrypted identities)",
    )
    parser.add_argument(
        "--rotate", action="store_true", help="with --server-keys: put a new key first in the existing file"
    )


_KEY_USES = ("signing", "encryption")


def _keygen_profile(raw: dict, name: str | None) -> tuple[str, str, str]:
    """``(setting prefix, file stem prefix, entityID)`` of the profile ``keygen --profile`` names.

    Read from the raw ini, not the parsed settings: the keys being made may
    be the very files the settings name.  The profile must be listed in
    ``ekn_saml.sp_profiles`` (a typo would make keys nobody uses).
    """
    if not name or name == DEFAULT_SP_PROFILE:
        return "ekn_saml.sp.", "sp", raw.get("ekn_saml.sp.entity_id", "").strip() or "ekn_saml SP"
    listed = aslist(raw.get("ekn_saml.sp_profiles", ""), flatten=True)
    if name not in listed:
        raise CommandError(
            USAGE, f"no SP profile {name!r} in ekn_saml.sp_profiles ({' '.join(listed) or 'empty'}); add it there first"
        )
    prefix = f"ekn_saml.sp_profile.{name}."
    return prefix, f"sp-{name}", raw.get(prefix + "entity_id", "").strip() or f"ekn_saml SP {name}"


def _keygen_server_keys(args, raw: dict, out: Out) -> int:
    """``keygen --server-keys``: write the file ``ekn_saml.server_keys`` names (or certs/server-keys.key)."""
    configured = raw.get("ekn_saml.server_keys", "").strip()
    directory = args.dir or os.path.join(os.path.dirname(os.path.abspath(args.config.split("#")[0])), "certs")
    path = configured or os.path.join(directory, "server-keys.key")
    try:
        key_id = write_key_file(path, rotate=args.rotate)
    except FileExistsError:
        raise CommandError(
            PROBLEMS,
            f"refusing to replace {path}: it holds the keys of every stored session (use --rotate to add a new key)",
        ) from None
    except FileNotFoundError:
        raise CommandError(PROBLEMS, f"--rotate needs an existing key file; {path} does not exist") from None
    except OSError as exc:
        raise CommandError(PROBLEMS, f"cannot write {path}: {exc}") from None
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


def run(args, out: Out) -> int:
    """``ekn-saml keygen``: a profile's signing and encryption key pairs, or (``--server-keys``) the server key file."""
    raw = read_ini(args.config)
    if args.server_keys or args.rotate:
        return _keygen_server_keys(args, raw, out)
    prefix, stem_prefix, entity_id = _keygen_profile(raw, args.profile)
    directory = args.dir or os.path.join(os.path.dirname(os.path.abspath(args.config.split("#")[0])), "certs")
    suffix = "-next" if args.next else ""
    stems = [f"{stem_prefix}-{use}" for use in _KEY_USES]
    targets = [(stem + suffix, os.path.join(directory, stem + suffix)) for stem in stems]
    existing = [path + ext for _stem, path in targets for ext in (".key", ".crt") if os.path.exists(path + ext)]
    if existing and not args.force:
        raise CommandError(PROBLEMS, "refusing to overwrite " + ", ".join(existing) + " (use --force to replace them)")
    written = {}
    for use, (stem, _path) in zip(_KEY_USES, targets, strict=False):
        # IdPs encrypt to the encryption key, and the profile's key transport is RSA-OAEP: only signing may be EC
        key_type = args.signing_key_type if use == "signing" else "rsa"
        out.say(f"generating {'an EC P-256' if key_type == 'ec' else f'a {args.bits}-bit RSA'} key for {use} ...")
        key_path, cert_path = write_key_pair(
            directory, stem, f"{entity_id} {use}{suffix}", bits=args.bits, overwrite=True, key_type=key_type
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
