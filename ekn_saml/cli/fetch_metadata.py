# SPDX-License-Identifier: Apache-2.0
"""``ekn-saml fetch-metadata``: the federation aggregate, downloaded, verified and stored as the backing file."""

from __future__ import annotations

import argparse
import time

from ..errors import MetadataError
from ..metadata.fetch import read_source
from ..timeutil import format_instant
from .command import OK, PROBLEMS, Out, load_settings, megabytes, progress_printer
from .trust import federation_holder, trusted_idps

NAME = "fetch-metadata"
HELP = "download and verify the federation metadata, store the backing file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true", help="exit 1 if a method's IdP is not in the metadata")


def run(args, out: Out) -> int:
    """``ekn-saml fetch-metadata``: download, verify and store the aggregate, as the app's refresher would.

    Never replaces a newer document in the backing file; a method whose IdP
    is in no trusted metadata is a warning (a problem with ``--strict``).
    """
    settings = load_settings(args.config)
    federation = federation_holder(settings)
    fed = settings.federation
    out.say(f"fetching {fed.metadata_url}")
    started = time.monotonic()
    try:
        data = read_source(fed, progress=progress_printer(out))
        out.say(
            f"read {megabytes(len(data))} in {time.monotonic() - started:.1f} s; verifying the signature and the schema ..."
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
    configured = trusted_idps(settings)
    missing = [m for m in settings.methods if m.idp_entity_id not in doc.idps and m.idp_entity_id not in configured]
    for method in missing:
        out.say(f"warning: method {method.name}: {method.idp_entity_id} is not in this metadata")
    return PROBLEMS if missing and args.strict else OK
