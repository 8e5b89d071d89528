"""Subcommands of `pyloader`; each module exposes register(subparsers)."""
