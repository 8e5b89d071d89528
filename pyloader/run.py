"""Processing a tenant's queue from Python: the same procedure pg_cron calls."""
from __future__ import annotations

import sys
import time

import psycopg

from pyloader import db, queries
from pyloader.config import tenant_roles, validate_client_id


def run_until_empty(client_id: str, url: str | None = None, *, batch_size: int = 500,
                    slice_seconds: float = 5.0, progress: bool | None = None) -> dict:
    """CALL process_dirty as the tenant's pipeline role until no key is queued.

    The procedure commits per batch; it is called in short slices only so a
    terminal can show progress between them.
    """
    validate_client_id(client_id)
    if progress is None:
        progress = sys.stderr.isatty()
    started = time.monotonic()
    with db.connect(url, autocommit=True) as conn:
        schema = db.tenant_schema(conn, client_id)
        conn.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(tenant_roles(schema)["pipeline"])))
        first_run = None
        while True:
            conn.execute(queries.process_dirty(schema),
                         {"batch": batch_size, "seconds": slice_seconds, "trigger": "pyloader run"})
            run_id = conn.execute(psycopg.sql.SQL("SELECT max(run_id) FROM {}.runs").format(
                psycopg.sql.Identifier(schema))).fetchone()[0]
            first_run = first_run or run_id
            depth = conn.execute(queries.queue_depth(schema)).fetchone()[0]
            if progress:
                print(f"\rrun: {depth} keys queued, {time.monotonic() - started:.1f}s", end="", file=sys.stderr)
            if depth == 0:
                break
        totals = conn.execute(
            psycopg.sql.SQL(
                "SELECT coalesce(sum(keys_done), 0), coalesce(sum(rows_written), 0), coalesce(sum(keys_failed), 0),"
                " coalesce(sum(feature_rows), 0), coalesce(sum(plan_rows), 0)"
                " FROM {}.runs WHERE run_id >= %s"
            ).format(psycopg.sql.Identifier(schema)),
            (first_run,),
        ).fetchone()
    if progress:
        print(file=sys.stderr)
    return {"schema": schema, "keys_done": int(totals[0]), "rows_written": int(totals[1]),
            "keys_failed": int(totals[2]), "feature_rows": int(totals[3]), "plan_rows": int(totals[4]), "seconds": round(time.monotonic() - started, 3)}
