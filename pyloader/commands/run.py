"""`pyloader run CLIENT_ID`: process the tenant's dirty keys until none is queued."""
from __future__ import annotations

from pyloader.cli import UsageError, print_json
from pyloader.config import validate_client_id


def register(sub) -> None:
    p = sub.add_parser("run", help="process the tenant's dirty keys until the queue is empty")
    p.add_argument("client_id")
    p.add_argument("--batch-size", type=int, default=500, help="keys per committed batch (default 500)")
    p.add_argument("--runners", type=int, default=1,
                   help="sessions processing at once, one server core each (default 1)")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from pyloader import run

    validate_client_id(args.client_id)  # before any SQL
    if args.batch_size < 1 or args.runners < 1:
        raise UsageError("--batch-size and --runners must be at least 1")
    result = run.run_until_empty(args.client_id, batch_size=args.batch_size, runners=args.runners)
    if args.json:
        print_json(result)
    else:
        print(f"{args.client_id}: {result['keys_done']} keys processed, {result['rows_written']} rows written, "
              f"{result['keys_failed']} keys failed, {result['seconds']}s")
    return 1 if result["keys_failed"] else 0
