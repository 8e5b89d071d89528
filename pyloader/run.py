"""Processing a tenant's queue from Python: the same procedure pg_cron calls."""
from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from psycopg import sql

from pyloader import db, queries
from pyloader.config import tenant_roles, validate_client_id

# a runner whose call claimed nothing while keys are still queued (claimed by
# another session: a sibling runner, pg_cron, the worker) waits this long
# before it asks again
IDLE_SECONDS = 0.2


def run_until_empty(client_id: str, url: str | None = None, *, batch_size: int = 500,
                    slice_seconds: float = 5.0, runners: int = 1, progress: bool | None = None) -> dict:
    """CALL process_dirty as the tenant's pipeline role until no key is queued.

    The procedure commits per batch; it is called in short slices only so a
    terminal can show progress between them. With `runners` above one, that
    many sessions call it at once (claims keep them apart: each key is
    computed once), so a full rebuild uses more than one core of the server.
    """
    validate_client_id(client_id)
    if batch_size < 1 or runners < 1:
        raise ValueError(f"batch_size and runners must be at least 1, got {batch_size} and {runners}")
    if progress is None:
        progress = sys.stderr.isatty()
    started = time.monotonic()
    with db.connect(url, autocommit=True) as conn:
        schema = db.tenant_schema(conn, client_id)
    role = tenant_roles(schema)["pipeline"]
    busy = [runners]  # runners still calling, under `lock`
    lock = threading.Lock()

    def runner() -> list[int]:
        run_ids = []
        with db.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
            try:
                while True:
                    conn.execute(queries.process_dirty(schema),
                                 {"batch": batch_size, "seconds": slice_seconds, "trigger": "pyloader run"})
                    # this session's run: the last value it drew from the sequence
                    run_id, keys_done = conn.execute(queries.last_run(schema)).fetchone()
                    run_ids.append(run_id)
                    depth = conn.execute(queries.queue_depth(schema)).fetchone()[0]
                    if progress:
                        print(f"\rrun: {depth} keys queued, {time.monotonic() - started:.1f}s", end="",
                              file=sys.stderr)
                    if depth == 0:
                        break
                    if keys_done == 0:
                        # what is queued is claimed elsewhere: a sibling still
                        # calling will finish it; the last one waits for it
                        with lock:
                            if busy[0] > 1:
                                break
                        time.sleep(IDLE_SECONDS)
            finally:
                with lock:
                    busy[0] -= 1
        return run_ids

    with ThreadPoolExecutor(max_workers=runners) as pool:
        futures = [pool.submit(runner) for _ in range(runners)]
        run_ids = [r for f in futures for r in f.result()]
    with db.connect(url, autocommit=True) as conn:
        totals = conn.execute(queries.run_totals(schema), {"run_ids": run_ids}).fetchone()
    if progress:
        print(file=sys.stderr)
    return {"schema": schema, "keys_done": int(totals[0]), "rows_written": int(totals[1]),
            "keys_failed": int(totals[2]), "feature_rows": int(totals[3]), "plan_rows": int(totals[4]),
            "runners": runners, "seconds": round(time.monotonic() - started, 3)}
