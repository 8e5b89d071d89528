"""The incremental paths alone, many times: one corrected sales line of each
of `--lines` keys, then `--rolls` calendar rolls, on one warm pipeline
session after a full rebuild, on the data of bench/bench_features.py;
medians as JSON. One sample of a correction moves by 2x on a shared
machine: this is the comparison of two versions (run it on each, alternating).

    python -m bench.bench_incremental [--products 300 --locations 20 --lines 40 --rolls 5]
"""
from __future__ import annotations

import argparse
import json
import statistics

from bench import bench_features as bf
from pyloader.db import drop_database


def correct(url: str, schema: str, product: str, location: str) -> None:
    """The key's sixth-latest sales line corrected, as the loader would."""
    with bf.connect(url, schema, "loader") as conn:
        (txn,) = conn.execute(
            "SELECT txn_id FROM erp_sales_lines WHERE product_id = %s AND location_id = %s"
            " ORDER BY business_date DESC OFFSET 5 LIMIT 1", (product, location)).fetchone()
        conn.execute("UPDATE erp_sales_lines SET qty = qty + 1, net_amount = net_amount + 2.5, "
                     "updated_at = updated_at + interval '1 day' WHERE txn_id = %s", (txn,))


def run(products: int, locations: int, n_lines: int, n_rolls: int) -> dict:
    dbname, url, schema, out = bf.bench_tenant(products, locations)
    try:
        bf.generate(url, schema, products, locations, out)
        full = bf.process(url, schema)
        with bf.connect(url, schema, None) as conn:
            conn.execute("VACUUM ANALYZE")
        with bf.connect(url, schema, "pipeline") as warm:
            correct(url, schema, "P1", "L1")
            bf.process(url, schema, sessions=[warm])  # the session compiles and plans once
            lines = []
            for k in range(n_lines):
                correct(url, schema, f"P{(7 * k + 3) % products}", f"L{k % locations}")
                lines.append(bf.process(url, schema, sessions=[warm]))
            rolls = []
            for _ in range(n_rolls):
                with bf.connect(url, schema, None) as conn:
                    conn.execute("UPDATE settings SET as_of_date = as_of_date + 7")
                rolls.append(bf.process(url, schema, sessions=[warm]))
    finally:
        drop_database(dbname)

    def median(runs, key, scale):
        return round(statistics.median(r[key] for r in runs) * scale, 2)

    return {"products": products, "locations": locations,
            "full_seconds": round(full["seconds"], 2), "full_feature_seconds": round(full["feature_seconds"], 2),
            "line_ms": median(lines, "seconds", 1e3), "line_feature_ms": median(lines, "feature_seconds", 1e3),
            "roll_seconds": median(rolls, "seconds", 1), "roll_feature_seconds": median(rolls, "feature_seconds", 1),
            "rolls": [round(r["seconds"], 2) for r in rolls]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=300)
    ap.add_argument("--locations", type=int, default=20)
    ap.add_argument("--lines", type=int, default=40)
    ap.add_argument("--rolls", type=int, default=5)
    args = ap.parse_args(argv)
    print(json.dumps(run(args.products, args.locations, args.lines, args.rolls)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
