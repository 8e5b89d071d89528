"""`pyloader migrate`: the control schema and every tenant to head."""
from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("migrate", help="upgrade the control schema and every tenant, reload sql/")
    p.add_argument("--tenant", metavar="CLIENT_ID", help="only this tenant (after the control schema)")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout: each tenant's outcome")
    p.add_argument("--reload", action="store_true",
                   help="re-apply sql/ even to tenants already at this code (default: only where it changed)")
    p.set_defaults(func=_migrate)


def _migrate(args) -> int:
    import dataclasses

    from pyloader import migrate
    from pyloader.cli import print_json
    from pyloader.config import validate_client_id

    if args.tenant is not None:
        validate_client_id(args.tenant)  # before any SQL
    results = migrate.migrate_all(client_id=args.tenant, reload=args.reload)
    if results:
        from pyloader import scheduler

        scheduler.schedule_database()  # the dispatcher jobs (and no job of an older layout)
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(f"pyloader: tenant schema {r.schema} failed to migrate, left at {r.revision}: {r.error}", file=sys.stderr)
    if args.json:
        print_json({"ok": not failed, "tenants": [dataclasses.asdict(r) for r in results],
                    "failed": [r.schema for r in failed]})
    else:
        print(f"migrated control schema and {len(results) - len(failed)} of {len(results)} tenants to head")
    return 1 if failed else 0
