"""`pyloader fake-erp`: serve the bundled fake ERP API, or write its data as files.

    pyloader fake-erp --seed 1 --size small --port 8080 [--token T] [faults...]
    pyloader fake-erp --seed 1 --size small --write DIR [--format jsonl|csv|parquet]

Serving prints the base URL as its first stdout line, then runs until
interrupted. Hostile modes (--drip, --huge-page, --cursor-loop, --endless,
for the entities named by --hostile-entity) play an API that holds on or
never ends, for trying the loader's limits (docs/loading.md). POST {URL}/admin/generation moves to the next generation
(corrections, deletions, late lines).
"""
from __future__ import annotations

import json
import signal
import sys

from pyloader.cli import LazyChoices, entity_names



def _date(text: str):
    import datetime as dt  # not at start-up: only when the option is given

    return dt.date.fromisoformat(text)


def register(sub) -> None:
    p = sub.add_parser("fake-erp", help="serve the fake ERP API (or write its data as files)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--size", default="small", help="tiny, small, medium, large or PxLxD (default %(default)s)")
    p.add_argument("--generation", type=int, default=0, help="rounds of corrections/deletions/late lines")
    p.add_argument("--end-date", type=_date, default=None, help="last business day (YYYY-MM-DD)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    p.add_argument("--token", default=None, help="require this bearer token (default: any)")
    p.add_argument("--write", metavar="DIR", help="write DIR/<entity>.<format> instead of serving")
    p.add_argument("--format", choices=("jsonl", "csv", "parquet"), default="jsonl")
    p.add_argument("--entity", action="append", choices=LazyChoices(entity_names), dest="entities",
                   metavar="ENTITY", help="only this entity (repeatable; one of %(choices)s)")
    f = p.add_argument_group("faults (rates 0..1)")
    f.add_argument("--error-rate", type=float, default=0.0, help="answer 5xx")
    f.add_argument("--rate-limit-rate", type=float, default=0.0, help="answer 429")
    f.add_argument("--retry-after", type=float, default=0.0, help="Retry-After seconds on 429")
    f.add_argument("--drop-rate", type=float, default=0.0, help="close the connection without a full answer")
    f.add_argument("--slow-rate", type=float, default=0.0, help="answer after --slow-seconds")
    f.add_argument("--slow-seconds", type=float, default=2.0)
    f.add_argument("--repeat-rate", type=float, default=0.0, help="serve a page twice")
    f.add_argument("--malformed-rate", type=float, default=0.0, help="records replaced by broken variants")
    h = p.add_argument_group("hostile modes, for the entities named by --hostile-entity (default: all)")
    h.add_argument("--hostile-entity", action="append", choices=LazyChoices(entity_names), dest="hostile_entities")
    h.add_argument("--drip", type=float, metavar="SECONDS", help="send every answer one byte every SECONDS")
    h.add_argument("--huge-page", type=int, metavar="BYTES", help="answer a page of BYTES with no Content-Length")
    h.add_argument("--cursor-loop", action="store_true", help="the third page's next_cursor points back (A -> B -> A)")
    h.add_argument("--endless", action="store_true", help="empty pages, each with a new next_cursor, for ever")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from pyloader.fake_erp import FakeErp, FakeErpServer, Faults, write_files

    kw = {} if args.end_date is None else {"end_date": args.end_date}
    faults = Faults(
        error_rate=args.error_rate, rate_limit_rate=args.rate_limit_rate, retry_after=args.retry_after,
        drop_rate=args.drop_rate, slow_rate=args.slow_rate, slow_seconds=args.slow_seconds,
        repeat_rate=args.repeat_rate, malformed_rate=args.malformed_rate,
    )
    hostile = args.hostile_entities or list(entity_names())
    if args.drip:
        faults.drip_for.update(dict.fromkeys(hostile, args.drip))
    if args.huge_page:
        faults.huge_page_for.update(dict.fromkeys(hostile, args.huge_page))
    if args.cursor_loop:
        faults.cursor_loop.update(hostile)
    if args.endless:
        faults.endless.update(hostile)
    erp = FakeErp(args.seed, args.size, generation=args.generation, token=args.token, faults=faults, **kw)
    if args.write:
        paths = write_files(erp.dataset, args.write, args.format, generation=args.generation,
                            entities=args.entities, malformed_rate=args.malformed_rate)
        print(json.dumps({"files": {k: str(v) for k, v in paths.items()},
                          "records": {k: v for k, v in erp.dataset.counts(args.generation).items() if k in paths}}))
        return 0
    server = FakeErpServer(erp, args.host, args.port)
    print(server.url, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.httpd.server_close()
    return 0
