"""`make demo`: the whole cycle on two demo tenants, printed as it goes.

Run as `python -m pyloader.demo` after `pyloader migrate`. For each tenant:
create it (as `pyloader tenant create` does), start the bundled fake ERP
in-process on a free port, load from it through the API, compute (as
`pyloader run` does), then change what a planner changes in the UI (a
supplier's lead time, a disabled location) under the tenant's UI role,
compute again, and print the recommendations before and after and a summary.

Re-runnable: a second run finds the tenants and their data in place (the
load replays its lookback window and changes nothing), first takes back the
demo's own UI edits so "before" is again the ERP's view, then makes them again.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import time

import psycopg

from pyloader import db, load, queries, run, tenants
from pyloader.api import tokens
from pyloader.errors import describe
from pyloader.fake_erp import FakeErp, FakeErpServer
from pyloader.fake_erp.generator import DEFAULT_END_DATE

AS_OF = DEFAULT_END_DATE + dt.timedelta(days=1)  # the fake ERP's last complete week is the one computed
SHOWN_ROWS = 4  # per edit


@dataclasses.dataclass(frozen=True)
class DemoTenant:
    client_id: str
    seed: int
    size: str  # products x locations x days
    supplier_id: str  # whose lead time the planner lengthens
    lead_time_days: int
    location_id: str  # which location the planner disables


DEMO_TENANTS = [
    DemoTenant("DEMO-NORTH", 1, "40x4x420", "S0001", 28, "L002"),
    DemoTenant("DEMO-SOUTH", 2, "30x3x420", "S0002", 35, "L003"),
]

# --- the demo -------------------------------------------------------------------


def say(text: str = "") -> None:
    print(text, flush=True)


def demo_tenant(spec: DemoTenant, url: str | None = None) -> None:
    t = tenants.create_tenant(spec.client_id, url)
    schema = t.schema
    say(f"== {spec.client_id}: schema {schema} {'created' if t.created else '(exists already)'}")

    # the demo's own edits are taken back first, so "before" is the ERP's view
    with db.tenant_session(spec.client_id, "ui", url) as (ui, _):
        for statement in queries.demo_undo_edits(schema):
            ui.execute(statement, {"supplier": spec.supplier_id, "location": spec.location_id, "as_of": AS_OF})

    erp = FakeErp(spec.seed, spec.size)
    with FakeErpServer(erp).start() as server:
        say(f"   fake ERP (seed {spec.seed}, {spec.size}) at {server.url}")
        started = time.monotonic()
        results = load.load_api(spec.client_id, server.url, url=url, progress=load.Progress())
    failed = [r for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"load of {spec.client_id} failed: " + "; ".join(r.message or r.entity for r in failed))
    applied = sum(r.counts.applied for r in results)
    read = sum(r.counts.read for r in results)
    say(f"   loaded {read:,} records ({applied:,} applied) in {time.monotonic() - started:.1f}s")

    first = run.run_until_empty(spec.client_id, url)
    say(f"   computed: {first['keys_done']:,} keys, {first['feature_rows']:,} feature rows and "
        f"{first['plan_rows']:,} plan rows written in {first['seconds']:.1f}s")
    with db.connect(url, autocommit=True) as conn:
        before = {(r[0], r[1]): r for r in conn.execute(queries.demo_recommendations(schema))}

    with db.tenant_session(spec.client_id, "ui", url) as (ui, _):
        ui.execute(queries.demo_supplier_lead_time(schema), {"supplier": spec.supplier_id, "days": spec.lead_time_days})
        ui.execute(queries.demo_disable_location(schema), {"location": spec.location_id})
    say(f"   UI edits: supplier {spec.supplier_id} lead time -> {spec.lead_time_days} days; "
        f"location {spec.location_id} disabled")

    second = run.run_until_empty(spec.client_id, url)
    say(f"   recomputed: {second['keys_done']:,} keys, {second['feature_rows']:,} feature rows and "
        f"{second['plan_rows']:,} plan rows written in {second['seconds']:.1f}s")
    with db.connect(url, autocommit=True) as conn:
        after = {(r[0], r[1]): r for r in conn.execute(queries.demo_recommendations(schema))}
        summary = conn.execute(queries.demo_summary(schema)).fetchone()

    print_changes(spec, before, after)
    print_summary(spec, schema, summary)


def print_changes(spec: DemoTenant, before: dict, after: dict) -> None:
    by_supplier = [k for k in sorted(after) if after[k][2] == spec.supplier_id and k[1] != spec.location_id]
    at_location = [k for k in sorted(after) if k[1] == spec.location_id]
    # the rows that moved most tell the story best
    by_supplier.sort(key=lambda k: -abs(after[k][4] - (before.get(k) or after[k])[4]))
    at_location.sort(key=lambda k: -(before.get(k) or after[k])[4])
    rows = by_supplier[:SHOWN_ROWS] + at_location[:SHOWN_ROWS]
    say()
    say(f"   {'product':<9} {'location':<9} {'supplier':<9} {'lead weeks':>14} {'order qty':>16}  reason")
    for k in sorted(rows):
        b, a = before.get(k), after[k]
        lead = f"{b[3]:.1f} -> {a[3]:.1f}" if b else f"{a[3]:.1f}"
        qty = f"{b[4]:g} -> {a[4]:g}" if b else f"{a[4]:g}"
        reason = f"{b[5]} -> {a[5]}" if b and b[5] != a[5] else a[5]
        say(f"   {k[0]:<9} {k[1]:<9} {a[2] or '-':<9} {lead:>14} {qty:>16}  {reason}")
    changed = sum(1 for k in after if before.get(k) and before[k][3:] != after[k][3:])
    say(f"   {changed} of {len(after)} recommendations changed")


def print_summary(spec: DemoTenant, schema: str, summary) -> None:
    end_week, keys, feature_rows, forecasts, recs, qty, reasons, queued = summary
    say()
    say(f"   summary {spec.client_id}: end week {end_week}, {keys:,} keys, {feature_rows:,} master-file rows, "
        f"{forecasts:,} forecast rows, {recs:,} recommendations ({qty:,.0f} units to order), {queued} keys queued")
    say("   by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
    say()


def main(argv: list[str] | None = None) -> int:
    url = None  # DATABASE_URL, or the project-local cluster
    try:
        with db.connect(url) as conn:
            if not db.control_schema_exists(conn):
                raise RuntimeError("the control schema is missing: run `pyloader migrate` first")
        for spec in DEMO_TENANTS:
            demo_tenant(spec, url)
    except (psycopg.Error, RuntimeError, db.DatabaseUnavailable) as exc:
        print(f"demo: {describe(exc)}", file=sys.stderr)
        return 1
    say("The pipeline keeps running on its own: pg_cron processes every tenant's queue each minute;")
    say("`pyloader worker` brings a UI edit to its recommendations within a second.")
    with db.connect(url) as conn:  # the planner console (docs/api.md)
        token = tokens.replace(conn, DEMO_TENANTS[0].client_id, "demo-planner")
    say()
    say(f"Planner console: run `make serve`, open http://127.0.0.1:8080/ and sign in as "
        f"{DEMO_TENANTS[0].client_id} with the token")
    say(f"  {token}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
