# SPDX-License-Identifier: Apache-2.0
"""``ekn-saml``: the admin command (keys, SP metadata, federation metadata, checks, IdP list).

Every subcommand takes the application's ini file, reads the same
``ekn_saml.*`` settings as the app (through :func:`~ekn_saml.settings.parse_settings`)
and uses the same code paths, so what the command accepts the app accepts.

Exit codes: 0 all well; 1 a problem was found (or a command refused to act);
2 usage or configuration error (bad arguments, unreadable ini, invalid settings).
Messages go to stderr; documents (metadata, tables) go to stdout.

One module per command (:mod:`.keygen`, :mod:`.metadata`,
:mod:`.fetch_metadata`, :mod:`.check`, :mod:`.idps`), each with its
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args, out)``;
what they share is in :mod:`.command` and :mod:`.trust`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from . import check, fetch_metadata, idps, keygen, metadata
from .command import PROBLEMS, CommandError, Out

# in the order --help lists them
COMMANDS = (keygen, metadata, fetch_metadata, check, idps)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ekn-saml",
        description="Admin tasks of an ekn_saml SP: keys, SP metadata, federation metadata, checks.",
        epilog="Exit codes: 0 ok, 1 problems found, 2 usage or configuration error.",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors on stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    for command in COMMANDS:
        p = sub.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        p.add_argument("config", help="the application's ini file (e.g. production.ini)")
        command.add_arguments(p)
        p.set_defaults(func=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ekn-saml``; return the exit code (the console script exits with it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, message already printed)
        return int(exc.code or 0)
    out = Out(sys.stderr, quiet=args.quiet)
    # the library's warnings (e.g. an IdP entity ignored) reach the admin plainly, for this run only
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.setLevel(logging.WARNING)
    logger = logging.getLogger("ekn_saml")
    logger.addHandler(handler)
    try:
        return args.func(args, out)
    except CommandError as exc:
        out.error(str(exc))
        return exc.code
    except KeyboardInterrupt:
        out.error("interrupted")
        return PROBLEMS
    finally:
        logger.removeHandler(handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
