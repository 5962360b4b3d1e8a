# SPDX-License-Identifier: Apache-2.0
"""``ekn-saml idps``: the trusted IdPs (files, development IdP, federation) with names, categories and LoAs."""

from __future__ import annotations

import argparse

from ..errors import MetadataError
from ..metadata.categories import short_name
from .command import OK, PROBLEMS, Out, load_settings, progress_printer
from .trust import federation_holder, trusted_idps

NAME = "idps"
HELP = "list the trusted IdPs with names, entity categories and LoAs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fetch", action="store_true", help="use the federation source instead of the backing file")


def run(args, out: Out) -> int:
    """``ekn-saml idps``: a table of every trusted IdP, and which login methods use it."""
    settings = load_settings(args.config)
    idps = dict(trusted_idps(settings))
    if settings.federation.enabled:
        federation = federation_holder(settings)
        try:
            if args.fetch:
                out.say(f"fetching {settings.federation.metadata_url}")
                doc = federation.load_from_source(progress=progress_printer(out))
            else:
                out.progress("verifying the stored federation metadata ...")
                doc = federation.load_backing_file()
        except MetadataError as exc:
            out.error(f"{exc.detail}\n(run: ekn-saml fetch-metadata {args.config})")
            return PROBLEMS
        for info in doc.idps.all():
            idps.setdefault(info.entity_id, info)
    used: dict[str, list[str]] = {}
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
