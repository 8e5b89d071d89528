"""Tenants on a Citus cluster (issue 19, docs/scale-out.md): placed on
different workers, the same results as a tenant kept on one node, moved to
another worker and still processed by pg_cron. Run by `make test-citus`;
elsewhere every test here is skipped, saying why."""
from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from psycopg import sql

from pyloader import run
from tests import lines
from tests.conftest import CITUS, CITUS_SHARDING, pyloader, scalar, wait_for_cron
from tests.test_features import AS_OF, check_against_reference

pytestmark = pytest.mark.skipif(
    not (CITUS and CITUS_SHARDING),
    reason="Citus is not installed here (`make test-citus` runs these on a Citus cluster with schema-based sharding)")

# every figure the pipeline writes, as its exact bytes (float8send): the
# results must be the same bits, not only close
MASTER_FILE = ("SELECT product_id, location_id, week_start, md5(string_agg(coalesce(v, '-'), ',' ORDER BY k))"
               " FROM master_file m CROSS JOIN LATERAL jsonb_each_text(to_jsonb(m)) AS j(k, v)"
               " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
RECOMMENDATIONS = ("SELECT product_id, location_id, as_of_week, demand_class, method, float8send(forecast_per_week),"
                   " float8send(sigma), lead_time_weeks, review_period_weeks, float8send(service_level), float8send(z),"
                   " float8send(safety_stock), float8send(order_up_to), float8send(inventory_position),"
                   " float8send(raw_qty), float8send(recommended_qty), reason"
                   " FROM recommendations ORDER BY 1, 2")
FORECASTS = ("SELECT product_id, location_id, as_of_week, target_week, float8send(yhat), method, demand_class"
             " FROM forecasts ORDER BY 1, 2, 4")


def node_of(conn, schema: str) -> tuple[str, int]:
    """The one worker that holds every table of the tenant."""
    rows = conn.execute("SELECT DISTINCT s.nodename, s.nodeport FROM pg_catalog.citus_shards s"
                        " JOIN pg_class c ON c.oid = s.table_name WHERE c.relnamespace = %s::regnamespace",
                        (schema,)).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def move_to_another_worker(conn, schema: str) -> None:
    """citus_schema_move, its default transfer (logical replication), to a worker the tenant is not on."""
    target = conn.execute("SELECT node_name, node_port FROM citus_get_active_worker_nodes()"
                          " WHERE (node_name, node_port) <> (%s, %s) LIMIT 1", node_of(conn, schema)).fetchone()
    conn.execute("SELECT citus_schema_move(%s::regnamespace, %s, %s)", (schema, *target))
    assert node_of(conn, schema) == tuple(target)


def load(tenant, seed: int = 11) -> None:
    with tenant.connect() as admin:
        admin.execute("UPDATE settings SET as_of_date = %s", (AS_OF,))
    with tenant.connect("loader") as conn:
        for table, rows in lines.generate(seed, products=6, locations=4).items():
            lines.insert(conn, table, rows)


def results(tenant) -> tuple[list, list, list]:
    with tenant.connect() as conn:
        return (conn.execute(MASTER_FILE).fetchall(), conn.execute(RECOMMENDATIONS).fetchall(),
                conn.execute(FORECASTS).fetchall())


def test_tenants_are_placed_on_different_workers(make_tenant):
    a, b = make_tenant("acme"), make_tenant("bolt")
    with a.connect() as conn:
        workers = scalar(conn, "SELECT count(*) FROM citus_get_active_worker_nodes()")
        assert scalar(conn, "SELECT count(*) FROM public.citus_schemas WHERE schema_name::text IN (%s, %s)",
                      (a.schema, b.schema)) == 2
        assert workers >= 2 and node_of(conn, a.schema) != node_of(conn, b.schema)


def sharding(url: str, on: bool) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        name = sql.Identifier(conn.info.dbname)
        conn.execute(sql.SQL("ALTER DATABASE {} SET citus.enable_schema_based_sharding = on").format(name) if on
                     else sql.SQL("ALTER DATABASE {} RESET citus.enable_schema_based_sharding").format(name))


def test_a_distributed_tenant_computes_the_same_bits_as_one_kept_on_the_coordinator(db_url, make_tenant):
    spread = make_tenant("spread")
    # the single-node reference: plain tables of the coordinator, made with
    # sharding off (citus_schema_undistribute would lose the views' grants)
    sharding(db_url, False)
    local = make_tenant("local")
    sharding(db_url, True)
    with local.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM public.citus_schemas WHERE schema_name::text = %s",
                      (local.schema,)) == 0
        assert scalar(conn, "SELECT count(*) FROM public.citus_schemas WHERE schema_name::text = %s",
                      (spread.schema,)) == 1
    for t in (spread, local):
        load(t)
        result = run.run_until_empty(t.client_id, t.url, batch_size=7, progress=False)
        assert result["keys_failed"] == 0 and result["keys_left"] == 0
    check_against_reference(spread)
    got, want = results(spread), results(local)
    assert all(got) and got == want


def test_a_moved_tenant_keeps_its_rights_and_is_still_processed_by_pg_cron(make_tenant):
    t = make_tenant("mover", schedule=True)
    load(t)
    with t.connect() as conn:
        wait_for_cron(lambda: scalar(conn, "SELECT count(*) FROM _private_dirty_keys") == 0
                      and bool(scalar(conn, "SELECT count(*) FROM features")), t.url, t.schema)
        move_to_another_worker(conn, t.schema)
    # the roles' rights moved with the tables: the loader writes lines, the
    # UI its settings, and neither what is the other's
    with t.connect("loader") as conn:
        lines.insert(conn, "erp_sales_lines", [dict(
            txn_id="MOVED", line_no=1, product_id="P0", location_id="L0", business_date=AS_OF - dt.timedelta(days=30),
            qty=40, net_amount=88)], updated_at=lines.UPDATED_AT + dt.timedelta(days=2))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE ui_product_settings SET service_level = 0.9")
    with t.connect("ui") as conn:
        conn.execute("INSERT INTO ui_product_settings (product_id, service_level) VALUES ('P1', 0.97)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE erp_sales_lines SET qty = 0")
    with t.connect() as conn:
        wait_for_cron(lambda: scalar(conn, "SELECT count(*) FROM _private_dirty_keys") == 0, t.url, t.schema)
        assert scalar(conn, "SELECT count(*) FROM runs WHERE trigger = 'cron' AND status = 'succeeded'") >= 2
        assert scalar(conn, "SELECT service_level FROM recommendations WHERE product_id = 'P1' LIMIT 1") == 0.97
    check_against_reference(t)


def test_a_tenant_distributed_later_is_moved_and_processed_by_pg_cron(db_url, make_tenant):
    sharding(db_url, False)
    t = make_tenant("later")
    load(t)
    sharding(db_url, True)
    res = pyloader("tenant", "distribute", "later", url=db_url)
    assert res.returncode == 0, res.stderr
    with t.connect() as conn:
        move_to_another_worker(conn, t.schema)
    # the dispatchers scheduled only now, after the move (as `pyloader
    # tenant create` schedules after its commit): pg_cron's turns on the
    # coordinator reach the tenant on its new worker
    from pyloader import scheduler

    scheduler.schedule_database(db_url)
    with t.connect() as conn:
        wait_for_cron(lambda: scalar(conn, "SELECT count(*) FROM _private_dirty_keys") == 0
                      and bool(scalar(conn, "SELECT count(*) FROM runs WHERE trigger = 'cron'"
                                            " AND status = 'succeeded'")), t.url, t.schema)
        assert scalar(conn, "SELECT count(*) FROM _private_failed_keys") == 0
    check_against_reference(t)
