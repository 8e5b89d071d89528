"""Processing a tenant's queue from Python: the same procedure pg_cron calls."""
from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg

from pyloader import db, queries
from pyloader.config import validate_client_id

# a runner whose call claimed nothing while keys are still queued (claimed by
# another session: a sibling runner, pg_cron, the worker) waits this long
# before it asks again
IDLE_SECONDS = 0.2
MAX_IDLE_CALLS = 25  # about 5 s and a lock timeout or two of nothing claimable


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
    with db.open_app(url, autocommit=True) as conn:
        schema = db.tenant_schema(conn, client_id)
    busy = [runners]  # runners still calling, under `lock`
    lock = threading.Lock()

    def runner() -> list[int]:
        run_ids = []
        idle_calls = 0
        with db.tenant_session(client_id, "pipeline", url) as (conn, _):
            try:
                while True:
                    try:
                        conn.execute(queries.process_dirty(schema),
                                     {"batch": batch_size, "seconds": slice_seconds, "trigger": "pyloader run"})
                    except psycopg.Error:
                        # the run this session started: failed, not left 'running'
                        if not conn.broken:
                            try:
                                run_id = conn.execute(queries.session_run(schema)).fetchone()[0]
                                at = conn.execute(queries.CLOCK).fetchone()[0]
                                conn.execute(queries.fail_last_run(schema), {"run_id": run_id, "at": at})
                                conn.execute(queries.unlock_run(schema), {"run_id": run_id})
                            except psycopg.Error:
                                pass  # it failed before it started a run
                        raise
                    # this session's run: the last value it drew from the sequence
                    run_id = conn.execute(queries.session_run(schema)).fetchone()[0]
                    keys_done = conn.execute(queries.last_run(schema), {"run_id": run_id}).fetchone()[1]
                    run_ids.append(run_id)
                    depth = conn.execute(queries.queue_depth(schema)).fetchone()[0]
                    if progress:
                        print(f"\rrun: {depth} keys queued, {time.monotonic() - started:.1f}s", end="",
                              file=sys.stderr)
                    if depth == 0:
                        break
                    if keys_done == 0:
                        # what is queued is claimed elsewhere (a sibling still
                        # calling will finish it; the last one waits for it),
                        # or held by another transaction's locks (set aside
                        # for a later run: after a few tries, left queued)
                        idle_calls += 1
                        with lock:
                            if busy[0] > 1 or idle_calls > MAX_IDLE_CALLS:
                                break
                        time.sleep(IDLE_SECONDS)
                    else:
                        idle_calls = 0
            finally:
                with lock:
                    busy[0] -= 1
        return run_ids

    with ThreadPoolExecutor(max_workers=runners) as pool:
        futures = [pool.submit(runner) for _ in range(runners)]
        run_ids = [r for f in futures for r in f.result()]
    with db.tenant_session(client_id, "reader", url) as (conn, _):
        totals = conn.execute(queries.run_totals(schema), {"run_ids": run_ids}).fetchone()
        left = conn.execute(queries.queue_depth(schema)).fetchone()[0]
    if progress:
        print(file=sys.stderr)
    return {"schema": schema, "keys_done": int(totals[0]), "rows_written": int(totals[1]),
            "keys_failed": int(totals[2]), "feature_rows": int(totals[3]), "plan_rows": int(totals[4]),
            "keys_left": int(left), "runners": runners, "seconds": round(time.monotonic() - started, 3)}
