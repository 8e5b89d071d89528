"""`pyloader tenant create CLIENT_ID` and `pyloader tenant list [--json]`."""
from __future__ import annotations

from pyloader.cli import UsageError, print_json
from pyloader.config import validate_client_id


def register(sub) -> None:
    p = sub.add_parser("tenant", help="create and list tenants")
    tsub = p.add_subparsers(dest="tenant_command", required=True, metavar="ACTION", parser_class=type(p))
    c = tsub.add_parser("create", help="provision a tenant (idempotent)")
    c.add_argument("client_id")
    c.set_defaults(func=_create)
    ls = tsub.add_parser("list", help="tenants with schema, revision, queue depth and last run")
    ls.add_argument("--json", action="store_true", help="one JSON document on stdout")
    ls.set_defaults(func=_list)


def _create(args) -> int:
    from pyloader import tenants

    validate_client_id(args.client_id)  # before any SQL
    try:
        t = tenants.create_tenant(args.client_id)
    except tenants.TenantConflict as exc:
        raise UsageError(str(exc)) from exc
    print(f"tenant {t.client_id}: schema {t.schema} {'created' if t.created else 'already exists, at head'}")
    return 0


def _list(args) -> int:
    from pyloader import tenants

    rows = tenants.list_tenants()
    if args.json:
        print_json({"tenants": rows})
        return 0
    print(f"{'client_id':<24} {'schema':<26} {'revision':<9} {'queue':>7}  last run")
    for r in rows:
        last = r["last_run"] or {}
        print(
            f"{r['client_id']:<24} {r['schema']:<26} {r['revision'] or '-':<9} {r['queue_depth']:>7}  "
            f"{last.get('finished_at') or last.get('started_at') or '-'} {last.get('status') or ''}"
        )
    return 0
