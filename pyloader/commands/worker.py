"""`pyloader worker [CLIENT_ID]`: process queues as soon as they are marked dirty.

Runs until SIGTERM or SIGINT (it finishes the slice in progress, then exits
0). `--once` empties the queues once and exits, for tests and scripts.
`--metrics-port N` serves Prometheus metrics on http://HOST:N/metrics while
it runs (pyloader/metrics.py).
"""
from __future__ import annotations

import signal

from pyloader.cli import UsageError, print_json
from pyloader.config import validate_client_id


def register(sub) -> None:
    p = sub.add_parser("worker", help="LISTEN for dirty marks and process the queues at once (all tenants, or one)")
    p.add_argument("client_id", nargs="?", help="serve only this tenant (default: every tenant)")
    p.add_argument("--once", action="store_true", help="empty the queues once, then exit")
    p.add_argument("--poll", type=float, default=10.0, metavar="SECONDS",
                   help="look at every queue this often even without a notification (default %(default)s)")
    p.add_argument("--batch-size", type=int, default=500, help="keys per committed batch (default %(default)s)")
    p.add_argument("--slice", type=float, default=5.0, metavar="SECONDS",
                   help="longest run for one tenant before the next gets its turn (default %(default)s)")
    p.add_argument("--metrics-port", type=int, default=None, metavar="N",
                   help="serve Prometheus metrics on this port while running (0 picks a free one)")
    p.add_argument("--metrics-host", default="127.0.0.1",
                   help="address the metrics endpoint listens on (default %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no log lines on stderr")
    p.add_argument("--json", action="store_true", help="totals as one JSON document on stdout at exit")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from pyloader import logs, worker

    if args.client_id is not None:
        validate_client_id(args.client_id)  # before any SQL
    if args.poll <= 0 or args.slice <= 0 or args.batch_size < 1:
        raise UsageError("--poll and --slice must be positive and --batch-size at least 1")
    if args.metrics_port is not None and not 0 <= args.metrics_port <= 65535:
        raise UsageError("--metrics-port must be 0..65535")
    log = logs.get("worker")
    say = None if args.quiet else log.info
    w = worker.Worker(client_id=args.client_id, poll_seconds=args.poll, batch_size=args.batch_size,
                      slice_seconds=args.slice, log=say)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: w.stop())
    server = None
    if args.metrics_port is not None:
        from pyloader import metrics

        # every tenant of the database, whichever the worker serves: the operator's view
        server = metrics.serve(args.metrics_host, args.metrics_port)
        # always said, even with --quiet: with port 0 it is the only way to learn the port
        log.warning(f"worker: metrics on {server.url}", extra={"metrics_url": server.url})
    try:
        if say and not args.once:
            say(f"worker: listening on {worker.CHANNEL} ({args.client_id or 'every tenant'}, "
                f"poll every {args.poll:g}s)")
        totals = w.run(once=args.once)
    finally:
        if server is not None:
            server.close()
    if args.json:
        print_json(totals)
    elif say:
        say(f"worker: stopped; {totals['keys_done']} keys processed, "
            f"{totals['rows_written']} rows written in {totals['calls']} calls",
            extra={k: totals[k] for k in ("keys_done", "rows_written", "calls")})
    return 0
