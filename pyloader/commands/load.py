"""`pyloader load CLIENT_ID --files DIR | --api URL` (interface.md).

Prints one line per entity loaded. Exits 0 when every entity loaded, 1 with
one line on stderr naming the entities that failed and why.
"""
from __future__ import annotations

import sys

from pyloader.cli import UsageError
from pyloader.config import validate_client_id
from pyloader.normalize import ENTITY_ORDER


class LoadFailed(RuntimeError):
    """Some entities did not load; the message names them."""


def register(sub) -> None:
    p = sub.add_parser("load", help="load ERP records from files or from the ERP API")
    p.add_argument("client_id")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--files", metavar="DIR", help="load DIR/<entity>.jsonl, .csv and .parquet")
    src.add_argument("--api", metavar="URL", help="load every entity from the ERP API at URL")
    p.add_argument("--entity", action="append", choices=ENTITY_ORDER, dest="entities",
                   help="only this entity (repeatable); default: all")
    p.add_argument("--batch-size", type=int, default=None, help="records per merge (default: the loader's, 50,000)")
    p.add_argument("--page-size", type=int, default=5000, help="records per API page, 1..5000 (default %(default)s)")
    p.set_defaults(func=_load)


def _load(args) -> int:
    from pyloader import load

    validate_client_id(args.client_id)  # before any SQL
    if args.batch_size is None:
        args.batch_size = load.BATCH_SIZE
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    if not 1 <= args.page_size <= 5000:
        raise UsageError("--page-size must be 1..5000")
    progress = load.Progress()
    if args.files:
        results = load.load_files(args.client_id, args.files, entities=args.entities, batch_size=args.batch_size,
                                  progress=progress)
    else:
        results = load.load_api(args.client_id, args.api, entities=args.entities, batch_size=args.batch_size,
                                page_size=args.page_size, progress=progress)
    for r in results:
        c = r.counts
        rate = c.read / r.seconds if r.seconds > 0 else 0.0
        print(
            f"{r.entity:<22} {r.status:<9} read {c.read:>9}  applied {c.applied:>9}  unchanged {c.unchanged:>9}  "
            f"stale {c.stale:>7}  rejected {c.rejected:>7}  {r.seconds:7.1f}s {rate:>9,.0f}/s  (load {r.load_id})"
        )
    sys.stdout.flush()
    failed = [r for r in results if not r.ok]
    if failed:
        raise LoadFailed(
            f"load of {args.client_id} failed for {len(failed)} entit{'y' if len(failed) == 1 else 'ies'}: "
            + "; ".join(r.message or r.entity for r in failed)
        )
    return 0
