"""`pyloader migrate`: the control schema and every tenant to head."""
from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("migrate", help="upgrade the control schema and every tenant, reload sql/")
    p.set_defaults(func=_migrate)


def _migrate(args) -> int:
    from pyloader import migrate

    results = migrate.migrate_all()
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(f"pyloader: tenant schema {r.schema} failed to migrate, left at {r.revision}: {r.error}", file=sys.stderr)
    print(f"migrated control schema and {len(results) - len(failed)} of {len(results)} tenants to head")
    return 1 if failed else 0
