"""`pyloader load CLIENT_ID --files DIR | --api URL` (interface.md, docs/loading.md).

Prints one line per entity loaded, or with --json one JSON document. Exits 0
when every entity loaded; 1 with one line on stderr naming the entities that
failed and why; 130 (SIGINT) or 143 (SIGTERM) when stopped, the entity in
flight marked `interrupted`. Retries are logged on stderr as they happen,
one line each with its reason.
"""
from __future__ import annotations

import contextlib
import json
import signal
import sys

from pyloader.cli import LazyChoices, UsageError, entity_names
from pyloader.config import validate_client_id

EXIT_STATUS = {"SIGINT": 130, "SIGTERM": 143}


class LoadFailed(RuntimeError):
    """Some entities did not load; the message names them."""


def register(sub) -> None:
    p = sub.add_parser("load", help="load ERP records from files or from the ERP API")
    p.add_argument("client_id")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--files", metavar="DIR", help="load DIR/<entity>.jsonl, .csv and .parquet")
    src.add_argument("--api", metavar="URL", help="load every entity from the ERP API at URL")
    p.add_argument("--entity", action="append", choices=LazyChoices(entity_names), dest="entities",
                   metavar="ENTITY", help="only this entity (repeatable; one of %(choices)s); default: all")
    p.add_argument("--batch-size", type=int, default=None, help="records per merge (default: the loader's, 50,000)")
    p.add_argument("--page-size", type=int, default=5000, help="records per API page, 1..5000 (default %(default)s)")
    p.add_argument("--max-reject-rate", type=float, default=None, metavar="RATE",
                   help="an entity with a larger share of rejects fails, 0..1 (default: the loader's, 0.5)")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout instead of a line per entity")
    p.set_defaults(func=_load)


@contextlib.contextmanager
def _stop_on_signals():
    """SIGTERM and SIGINT raise load.Interrupted once; a second signal waits for the cleanup."""
    from pyloader import load

    fired = []

    def handler(signum, frame):
        if fired:
            return
        fired.append(signum)
        raise load.Interrupted(signal.Signals(signum).name)

    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _load(args) -> int:
    from pyloader import load

    validate_client_id(args.client_id)  # before any SQL
    if args.batch_size is None:
        args.batch_size = load.BATCH_SIZE
    if args.max_reject_rate is None:
        args.max_reject_rate = load.MAX_REJECT_RATE
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    if not 1 <= args.page_size <= 5000:
        raise UsageError("--page-size must be 1..5000")
    if not 0 <= args.max_reject_rate <= 1:
        raise UsageError("--max-reject-rate must be 0..1")
    progress = load.Progress()
    loaders: list[load.TenantLoader] = []
    kw = dict(entities=args.entities, batch_size=args.batch_size, progress=progress,
              max_reject_rate=args.max_reject_rate, loader_out=loaders)
    interrupted = lost = None
    with _stop_on_signals():  # log lines (retries) reach stderr through pyloader/logs.py
        try:
            if args.files:
                results = load.load_files(args.client_id, args.files, **kw)
            else:
                results = load.load_api(args.client_id, args.api, page_size=args.page_size, **kw)
        except load.Interrupted as exc:
            interrupted = exc
            results = loaders[0].results if loaders else []
        except load.ConnectionLost as exc:  # reported after what was loaded before it
            lost = exc
            results = loaders[0].results if loaders else []
    reaped = loaders[0].reaped if loaders else []
    if args.json:
        _print_json(args, results, reaped, interrupted)
    else:
        _print_lines(results)
    sys.stdout.flush()
    if lost is not None:
        raise lost
    if interrupted is not None:
        current = next((r for r in results if r.status == "interrupted"), None)
        where = f" during {current.entity} (load {current.load_id}, marked interrupted)" if current else ""
        print(f"pyloader: load of {args.client_id} stopped by {interrupted.signal_name}{where}; "
              "every batch before it is applied whole, nothing of the batch in flight", file=sys.stderr)
        return EXIT_STATUS.get(interrupted.signal_name, 130)
    failed = [r for r in results if not r.ok]
    if failed:
        raise LoadFailed(
            f"load of {args.client_id} failed for {len(failed)} entit{'y' if len(failed) == 1 else 'ies'}: "
            + "; ".join(r.message or r.entity for r in failed)
        )
    return 0


def _print_lines(results) -> None:
    for r in results:
        c = r.counts
        rate = c.read / r.seconds if r.seconds > 0 else 0.0
        extra = f"  future {c.future}" if c.future else ""
        if r.unknown_fields:
            extra += f"  unknown fields {sum(r.unknown_fields.values())}"
        print(
            f"{r.entity:<22} {r.status:<9} read {c.read:>9}  applied {c.applied:>9}  unchanged {c.unchanged:>9}  "
            f"stale {c.stale:>7}  rejected {c.rejected:>7}  {r.seconds:7.1f}s {rate:>9,.0f}/s  (load {r.load_id})"
            + extra
        )


def _print_json(args, results, reaped, interrupted) -> None:
    if interrupted is not None:
        status = "interrupted"
    elif any(r.status == "interrupted" for r in results):
        status = "failed"  # the database went away
    else:
        status = "succeeded" if all(r.ok for r in results) else "failed"
    doc = {
        "client_id": args.client_id,
        "source": {"files": args.files} if args.files else {"api": args.api},
        "status": status,
        "reaped_loads": reaped,
        "entities": [r.as_json() for r in results],
    }
    json.dump(doc, sys.stdout, indent=2)
    sys.stdout.write("\n")
