"""`pyloader serve [--host H] [--port P]`: the planner API and console.

Serves planner-api.md: the API under /v1/tenants/{client_id}, the console at
/, /healthz and /openapi.json. Reads DATABASE_URL like every command; the
server itself logs in as the authenticator role. Unless --no-worker, it runs
the worker loop too, so edits reach the recommendations with nothing else
started. Stops on SIGINT or SIGTERM.
"""
from __future__ import annotations

from pyloader.cli import UsageError


def register(sub) -> None:
    p = sub.add_parser("serve", help="serve the planner API and console")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default %(default)s)")
    p.add_argument("--pool-size", type=int, default=10, help="database connections at most (default %(default)s)")
    p.add_argument("--no-worker", action="store_true", help="do not run the worker loop in this process")
    p.add_argument("--status-seconds", type=float, default=10.0,
                   help="a status event on /events this often (default %(default)s, at most 15)")
    # the tenants' metrics are the operator's: their own port, loopback by
    # default, never a path of the API that planners reach
    p.add_argument("--metrics-port", type=int, default=None, metavar="N",
                   help="serve Prometheus metrics on this port while running (0 picks a free one)")
    p.add_argument("--metrics-host", default="127.0.0.1",
                   help="address the metrics endpoint listens on (default %(default)s)")
    p.set_defaults(func=_serve)


def _serve(args) -> int:
    if not 0 < args.port < 65536 or args.pool_size < 1 or not 0 < args.status_seconds <= 15:
        raise UsageError("--port must be 1..65535, --pool-size at least 1 and --status-seconds in (0, 15]")
    if args.metrics_port is not None and not 0 <= args.metrics_port <= 65535:
        raise UsageError("--metrics-port must be 0..65535")
    import uvicorn

    from pyloader.api.app import create_app

    app = create_app(run_worker=not args.no_worker, pool_size=args.pool_size, status_seconds=args.status_seconds)
    if args.metrics_port is not None:
        from pyloader import metrics

        served = metrics.serve(args.metrics_host, args.metrics_port)
        print(f"metrics at {served.url}", flush=True)
    print(f"serving the planner console at http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0
