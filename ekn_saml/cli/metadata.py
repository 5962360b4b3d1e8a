# SPDX-License-Identifier: Apache-2.0
"""``ekn-saml metadata``: the SP metadata of a profile, as served at /saml/metadata, or signed for a partner."""

from __future__ import annotations

import argparse
import sys

from ..errors import ConfigurationError
from ..metadata.fetch import write_atomically
from ..metadata.sp import sp_metadata_bytes
from .command import OK, USAGE, CommandError, Out, chosen_profile, load_settings, profile_credentials

NAME = "metadata"
HELP = "print or write the SP metadata (schema-validated)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="the metadata of this SP profile (default: the default profile, the sp.* keys)",
    )
    parser.add_argument(
        "--sign", action="store_true", help="sign it with the (profile's) SP signing key and set validUntil"
    )
    parser.add_argument("--out", help="write to this file instead of stdout")


def run(args, out: Out) -> int:
    """``ekn-saml metadata``: a profile's SP metadata, schema-checked, to stdout or (atomically) to a file."""
    settings = load_settings(args.config)
    profile = chosen_profile(settings, args.profile)
    creds = profile_credentials(settings)[profile.name]
    try:
        data = sp_metadata_bytes(settings, creds, sign=args.sign, profile=profile)
    except ConfigurationError as exc:
        raise CommandError(USAGE, "the SP metadata is not valid:\n  - " + "\n  - ".join(exc.problems)) from None
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
