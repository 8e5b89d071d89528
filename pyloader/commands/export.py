"""`pyloader export CLIENT_ID --to FILE`: one table of a tenant as Parquet or CSV."""
from __future__ import annotations

import signal

from pyloader.cli import LazyChoices, UsageError, print_json


def _module():
    from pyloader import export  # pyarrow and psycopg: only when the command runs

    return export


def register(sub) -> None:
    p = sub.add_parser("export", help="write the master file (or plans) as Parquet or CSV, from one snapshot")
    p.add_argument("client_id")
    p.add_argument("--to", required=True, metavar="FILE", help="FILE.parquet or FILE.csv")
    p.add_argument("--table", default="master_file", choices=LazyChoices(lambda: _module().TABLES),
                   metavar="TABLE", help="master_file (default), recommendations or forecasts")
    p.add_argument("--from-week", metavar="MONDAY", help="first week (a Monday, YYYY-MM-DD)")
    p.add_argument("--to-week", metavar="MONDAY", help="last week (a Monday, YYYY-MM-DD)")
    p.add_argument("--product-id", action="append", default=[], dest="product_ids", metavar="ID",
                   help="only this product (repeatable)")
    p.add_argument("--columns", metavar="A,B,...", help="only these columns (kept in the table's order)")
    p.add_argument("--compression", default="zstd", choices=LazyChoices(lambda: _module().COMPRESSIONS),
                   metavar="CODEC", help="Parquet compression: zstd (default) or snappy")
    p.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    p.add_argument("--json", action="store_true", help="one JSON summary on stdout")
    p.set_defaults(func=_export)


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM cleans up as Ctrl-C does: no partial file


def _export(args) -> int:
    export = _module()
    try:
        req = export.Request(
            client_id=args.client_id, path=args.to, table=args.table,
            from_week=args.from_week and export.parse_week(args.from_week, "--from-week"),
            to_week=args.to_week and export.parse_week(args.to_week, "--to-week"),
            product_ids=tuple(args.product_ids),
            columns=tuple(c.strip() for c in args.columns.split(",") if c.strip()) if args.columns else (),
            overwrite=args.overwrite, compression=args.compression)
        export.check_request(req)  # before any SQL
    except export.ExportInputError as exc:
        raise UsageError(str(exc)) from None
    signal.signal(signal.SIGTERM, _terminate)
    summary = export.export(req, progress=export.Progress())
    if args.json:
        print_json(summary)
    else:
        print(f"{summary['file']}: {summary['rows']:,} rows of {summary['table']} as of week "
              f"{summary['as_of_week']}, {summary['bytes']:,} bytes, {summary['seconds']}s")
    return 0
