"""`pyloader status CLIENT_ID [--json]`: queue, runs, loads, rejects, conflicts."""
from __future__ import annotations

from pyloader.cli import print_json
from pyloader.config import validate_client_id


def register(sub) -> None:
    p = sub.add_parser("status", help="queue depth, last runs and loads, rejects, conflicts")
    p.add_argument("client_id")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(func=_status)


def _status(args) -> int:
    from pyloader import db, queries

    validate_client_id(args.client_id)
    with db.connect() as conn:
        schema = db.tenant_schema(conn, args.client_id)
        doc = {"client_id": args.client_id, "schema": schema, **conn.execute(queries.tenant_status(schema)).fetchone()[0]}
    if args.json:
        print_json(doc)
        return 0
    age = doc["oldest_dirty_age_seconds"]
    print(f"tenant {args.client_id} ({schema}), end week {doc['end_week']}")
    print(f"  queue: {doc['queue_depth']} keys ({doc['queued_marks']} marks)"
          + (f", oldest {age:.0f}s" if age is not None else ""))
    print(f"  keys: {doc['keys']} known, {doc['failed_keys']} set aside after errors")
    print(f"  rejects: {doc['rejects']}, conflicts: {doc['conflicts']}")
    for r in doc["last_runs"]:
        print(f"  run {r['run_id']} ({r['trigger']}) {r['status']}: {r['keys_done']} keys, "
              f"{r['rows_written']} rows, {r['keys_failed']} failed, started {r['started_at']}")
    for l in doc["last_loads"]:
        print(f"  load {l['load_id']} {l['source']} {l['entity']} {l['status']}: read {l['read_count']}, "
              f"applied {l['applied_count']}, unchanged {l['unchanged_count']}, stale {l['stale_count']}, "
              f"rejected {l['rejected_count']}")
    return 0
