"""`pyloader token create|list|revoke`: API tokens of the planner API.

Run as the operator (DATABASE_URL). `create` prints the new token, once, on
stdout; only its hash is stored.
"""
from __future__ import annotations

from pyloader.cli import UsageError, print_json
from pyloader.config import validate_client_id

ROLE_KINDS = ("planner", "viewer")  # pyloader.api.tokens checks the same names


def register(sub) -> None:
    p = sub.add_parser("token", help="API tokens of the planner API (create, list, revoke)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    c = actions.add_parser("create", help="a new token for a tenant, printed once on stdout")
    c.add_argument("client_id")
    c.add_argument("--name", required=True, help="what updated_by and decided_by record")
    c.add_argument("--role", choices=ROLE_KINDS, default="planner",
                   help="planner (the tenant's UI role, the default) or viewer (read only)")
    c.set_defaults(func=_create)
    l = actions.add_parser("list", help="names, roles, created, last used (never the token)")
    l.add_argument("client_id")
    l.add_argument("--json", action="store_true", help="one JSON document on stdout")
    l.set_defaults(func=_list)
    r = actions.add_parser("revoke", help="revoke a tenant's token by name; effective on the next request")
    r.add_argument("client_id")
    r.add_argument("name")
    r.set_defaults(func=_revoke)


def _checked(fn, *args):
    from pyloader.api import tokens

    try:
        return fn(*args)
    except tokens.TokenError as exc:
        raise UsageError(str(exc)) from exc


def _create(args) -> int:
    from pyloader import db
    from pyloader.api import tokens

    validate_client_id(args.client_id)
    with db.connect() as conn:
        print(_checked(tokens.create, conn, args.client_id, args.name, args.role))
    return 0


def _list(args) -> int:
    from pyloader import db
    from pyloader.api import tokens

    validate_client_id(args.client_id)
    with db.connect() as conn:
        db.tenant_schema(conn, args.client_id)
        rows = tokens.list_tokens(conn, args.client_id)
    if args.json:
        print_json(rows)
        return 0
    for r in rows:
        state = f"revoked {r['revoked_at']:%Y-%m-%d %H:%M}" if r["revoked_at"] else "live"
        used = f"{r['last_used_at']:%Y-%m-%d %H:%M}" if r["last_used_at"] else "never"
        print(f"{r['name']}\t{r['role']}\tcreated {r['created_at']:%Y-%m-%d %H:%M}\tlast used {used}\t{state}")
    return 0


def _revoke(args) -> int:
    from pyloader import db
    from pyloader.api import tokens

    validate_client_id(args.client_id)
    with db.connect() as conn:
        _checked(tokens.revoke, conn, args.client_id, args.name)
    print(f"revoked {args.client_id} {args.name}")
    return 0
