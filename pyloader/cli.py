"""`pyloader`: the command line of masterfile (docs/cli.md).

Every command exits 0 on success; on failure it prints one line on stderr and
exits non-zero: 2 for input refused before any SQL ran (bad client id,
settings), 1 for everything else.

Start-up stays cheap: this module and every `register()` in
`pyloader/commands/` import only the standard library and pyloader's pure
modules; a command imports the database, Alembic, pyarrow and numpy when it
runs, so `pyloader --help` costs about as much as Python itself.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from pyloader.config import ClientIdError

# each module registers its own subcommand; a missing one is a packaging bug
COMMAND_MODULES = ["tenant", "migrate", "load", "run", "status", "worker", "fake_erp", "export", "token", "serve"]

LOG_FORMATS = ("text", "json")


class UsageError(Exception):
    """Refused input: exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


class LazyChoices:
    """An argument's choices, computed when argparse first needs them (a value
    to check, a help page), so registering a command imports nothing heavy.
    Give the argument a metavar: argparse lists choices in usage otherwise."""

    def __init__(self, source):
        self._source = source
        self._values = None

    def _all(self) -> tuple:
        if self._values is None:
            self._values = tuple(self._source())
        return self._values

    def __contains__(self, value) -> bool:
        return value in self._all()

    def __iter__(self):
        return iter(self._all())


def entity_names() -> tuple[str, ...]:
    """The ERP entities, in load order (pyloader.normalize, imported on first use)."""
    from pyloader.normalize import ENTITY_ORDER

    return ENTITY_ORDER


class _Version(argparse.Action):
    """--version: the installed version and the newest migrations, looked up only when asked."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib.metadata import PackageNotFoundError, version

        from pyloader import migrate

        try:
            v = version("masterfile")
        except PackageNotFoundError:  # run from a checkout without installing
            v = "unknown (not installed)"
        print(f"pyloader (masterfile) {v}, migrations: tenant {migrate.head_revision('tenant')}, "
              f"control {migrate.head_revision('control')}")
        parser.exit(0)


def _add_log_format(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument("--log-format", choices=LOG_FORMATS, default=default,
                        help="stderr as text lines or one JSON object per line "
                             "(default: $MASTERFILE_LOG_FORMAT, else text)")


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:  # argparse keeps no public list of them
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield child
                yield from _subparsers(child)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="pyloader", description="masterfile: load, compute, inspect")
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    _add_log_format(parser, os.environ.get("MASTERFILE_LOG_FORMAT") or "text")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"pyloader.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"pyloader.commands.{name}":
                continue  # not built yet in this checkout
            raise
        module.register(sub)
    # `pyloader worker --log-format json` as well as `pyloader --log-format json worker`
    for child in _subparsers(parser):
        _add_log_format(child, argparse.SUPPRESS)
    return parser


def print_json(doc) -> None:
    import json

    json.dump(doc, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def _missing_control_schema(exc: BaseException) -> str | None:
    """The fix, when a statement failed because `pyloader migrate` never ran here."""
    from pyloader import db

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if (type(exc).__name__ in ("UndefinedTable", "InvalidSchemaName", "UndefinedFunction")
                and '"masterfile.' in str(exc) or 'schema "masterfile"' in str(exc)):
            return db.NO_CONTROL_SCHEMA
        exc = exc.__cause__ or exc.__context__
    return None


def main(argv: list[str] | None = None) -> int:
    # an ignored SIGINT is inherited across exec, and Python then installs no
    # KeyboardInterrupt handler: a command started by such a parent (a test
    # runner, a supervisor) would not stop on Ctrl-C; likewise a blocked mask
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    args = build_parser().parse_args(argv)
    from pyloader import logs

    logs.setup(args.log_format)
    try:
        try:
            status = args.func(args) or 0
            sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
            return status
        except (ClientIdError, UsageError) as exc:
            logs.fail(str(exc))
            return 2
        except KeyboardInterrupt:
            logs.fail("interrupted")
            return 130
        except BrokenPipeError:
            raise
        except Exception as exc:  # one clear line, not a traceback
            from pyloader.errors import describe

            logs.fail(_missing_control_schema(exc) or describe(exc))
            return 1
    except BrokenPipeError:
        # the reader went away (`pyloader tenant list | head -1`): end quietly,
        # with stdout pointed at nothing so the interpreter's flush at exit
        # cannot fail a second time
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
