"""`pyloader`: the command line of masterfile (interface.md, "Command line").

Every command exits 0 on success; on failure it prints one line on stderr and
exits non-zero: 2 for input refused before any SQL ran (bad client id,
settings), 1 for everything else.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys

from pyloader.config import ClientIdError

# each module registers its own subcommand; a missing one is a packaging bug
COMMAND_MODULES = ["tenant", "migrate", "load", "run", "status", "worker", "fake_erp", "export", "token", "serve"]


class UsageError(Exception):
    """Refused input: exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="pyloader", description="masterfile: load, compute, inspect")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"pyloader.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"pyloader.commands.{name}":
                continue  # not built yet in this checkout
            raise
        module.register(sub)
    return parser


def print_json(doc) -> None:
    json.dump(doc, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except (ClientIdError, UsageError) as exc:
        print(f"pyloader: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("pyloader: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line, not a traceback
        from pyloader.errors import describe

        print(f"pyloader: {describe(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
