"""`pyloader tenant create|list|disable|enable|distribute|drop`: provisioning and the operator's switches."""
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
    for action, text in (("disable", "stop scheduling the tenant (its data and queue stay)"),
                         ("enable", "resume scheduling the tenant")):
        a = tsub.add_parser(action, help=text)
        a.add_argument("client_id")
        a.set_defaults(func=_switch, enabled=action == "enable")
    ds = tsub.add_parser("distribute", help="make the tenant a Citus distributed schema (on a Citus coordinator)")
    ds.add_argument("client_id")
    ds.set_defaults(func=_distribute)
    d = tsub.add_parser("drop", help="drop the tenant: schema, roles, hints and registry row, in one transaction")
    d.add_argument("client_id")
    d.add_argument("--yes", action="store_true", help="required: the tenant's data is gone for good")
    d.add_argument("--json", action="store_true", help="one JSON document on stdout")
    d.set_defaults(func=_drop)


def _create(args) -> int:
    from pyloader import tenants

    validate_client_id(args.client_id)  # before any SQL
    try:
        t = tenants.create_tenant(args.client_id)
    except tenants.TenantConflict as exc:
        raise UsageError(str(exc)) from exc
    print(f"tenant {t.client_id}: schema {t.schema} {'created' if t.created else 'already exists, at head'}")
    return 0


def _distribute(args) -> int:
    from pyloader import tenants

    validate_client_id(args.client_id)  # before any SQL
    try:
        out = tenants.distribute_tenant(args.client_id)
    except tenants.NotCitus as exc:
        raise UsageError(str(exc)) from exc
    state = "distributed" if out["distributed"] else "already distributed"
    print(f"tenant {out['client_id']}: schema {out['schema']} {state}")
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


def _switch(args) -> int:
    from pyloader import tenants

    validate_client_id(args.client_id)
    schema = tenants.set_enabled(args.client_id, args.enabled)
    print(f"tenant {args.client_id}: scheduling {'enabled' if args.enabled else 'disabled'} ({schema})")
    return 0


def _drop(args) -> int:
    from pyloader import tenants

    validate_client_id(args.client_id)
    if not args.yes:
        raise UsageError(f"dropping tenant {args.client_id!r} deletes all its data; repeat with --yes")
    result = tenants.drop_tenant(args.client_id)
    if args.json:
        print_json(result)
    else:
        kept = f"; roles kept (used in another database): {', '.join(result['roles_kept'])}" \
            if result["roles_kept"] else ""
        print(f"tenant {args.client_id}: dropped schema {result['schema']} and "
              f"{len(result['roles_dropped'])} roles{kept}")
    return 0
