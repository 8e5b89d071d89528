"""A hostile tenant holding only its own UI or loader role (issue 14).

Every session here is opened as pyloader opens them: a login as the
authenticator role that switches to a tenant role (db.enter_tenant), so
what is refused is refused by PostgreSQL to that session.
"""
from __future__ import annotations

import subprocess
import threading
import time

import psycopg
import pytest
from psycopg import errors, sql

from pyloader import db, features, run, worker
from pyloader.config import tenant_roles
from tests import lines
from tests.conftest import pyloader, scalar

REPO = __import__("pathlib").Path(__file__).resolve().parent.parent


def session(t, kind: str) -> psycopg.Connection:
    """A tenant session as the product opens one."""
    conn = db.open_app(t.url, autocommit=True)
    db.enter_tenant(conn, t.schema, kind)
    # a hostile session sets its own search_path: pg_temp (unnamed) comes first
    conn.execute(sql.SQL("SET search_path = {}, pg_catalog").format(sql.Identifier(t.schema)))
    return conn


def sales_line(txn: str, product: str = "P1", location: str = "L1", day: str = "2024-03-04", qty: int = 3) -> dict:
    return dict(txn_id=txn, line_no=1, product_id=product, location_id=location, business_date=day,
                qty=qty, net_amount=qty * 2.0)


# --- 1. capture of SECURITY DEFINER functions through pg_temp ----------------------


def test_a_temp_table_named_like_the_queue_does_not_capture_the_marks(tenant):
    with session(tenant, "loader") as loader:
        # the loader may create temporary tables (its staging needs them):
        # plant a queue look-alike whose trigger would run as the owner
        # (the columns the marking inserts: the loader may not read the real queue's definition)
        loader.execute("CREATE TEMP TABLE _private_dirty_keys (mark_id bigserial, product_id text, location_id text,"
                       " from_week date, scope text, marked_at timestamptz DEFAULT now())")
        loader.execute("CREATE TEMP TABLE captured (who text)")
        loader.execute("GRANT ALL ON pg_temp._private_dirty_keys, pg_temp.captured TO PUBLIC")
        loader.execute("CREATE FUNCTION pg_temp.grab() RETURNS trigger LANGUAGE plpgsql AS"
                       " $$BEGIN INSERT INTO pg_temp.captured VALUES (current_user); RETURN NULL; END$$")
        loader.execute("CREATE TRIGGER grab AFTER INSERT ON pg_temp._private_dirty_keys"
                       " FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.grab()")
        lines.insert(loader, "erp_sales_lines", [sales_line("CAP1")])
        assert scalar(loader, "SELECT count(*) FROM pg_temp._private_dirty_keys") == 0
        assert scalar(loader, "SELECT count(*) FROM pg_temp.captured") == 0
    with tenant.connect() as admin:
        # the real queue got the mark: the master file still follows the ERP
        assert scalar(admin, "SELECT count(*) FROM _private_dirty_keys WHERE product_id = 'P1'") == 1


def test_the_ui_and_read_roles_cannot_create_temporary_objects(tenant):
    for kind in ("ui", "reader"):
        with session(tenant, kind) as conn, pytest.raises(errors.InsufficientPrivilege):
            conn.execute("CREATE TEMP TABLE _private_dirty_keys (x int)")


def test_every_function_of_a_tenant_pins_a_search_path_with_pg_temp_last(tenant):
    with tenant.connect() as conn:
        rows = conn.execute(
            "SELECT p.oid::regprocedure::text, p.prokind, p.proconfig FROM pg_proc p"
            " WHERE p.pronamespace IN (%s::regnamespace, 'masterfile'::regnamespace)", (tenant.schema,)).fetchall()
    assert rows
    for name, kind, config in rows:
        if kind == "p":  # a procedure that commits may have no SET clause: it qualifies every name
            assert config is None, name
            continue
        paths = [c for c in (config or []) if c.startswith("search_path=")]
        assert len(paths) == 1 and paths[0].endswith("pg_temp"), (name, config)


# Procedures that commit may have no SET clause (PostgreSQL refuses
# transaction control in them), so they cannot pin a search path: they
# qualify every function and relation instead, and run only in sessions
# whose search path is ours (pg_cron's, the worker's, pyloader's).
COMMITTING_PROCEDURES = [
    "masterfile.process_tenant(p_schema text,p_batch_size integer,p_max_seconds double precision,p_trigger text)",
    "masterfile.dispatch(p_max_seconds double precision,p_slice_seconds double precision,p_batch_size integer,"
    "p_trigger text,p_only text,INOUT turns integer,INOUT keys_done bigint,INOUT rows_written bigint)",
    "extschema.process_dirty(p_batch_size integer,p_max_seconds double precision,p_trigger text)",
    "extschema.run_scheduled()",
]


def test_pgspot_finds_nothing_in_sql():
    """pgspot (PostgreSQL extension script checker) over each schema's files, as one script
    (tests/pgspot/*_preamble.sql: the schema and search path apply_sql runs them with), with
    the declared features' lists written in as migrate writes them."""
    pgspot = str(REPO / ".venv" / "bin" / "pgspot")
    for kind in ("control", "tenant"):
        script = (REPO / "tests" / "pgspot" / f"{kind}_preamble.sql").read_text() + "\n".join(
            features.expand(p.read_text()) for p in sorted((REPO / "sql" / kind).glob("*.sql")))
        args = [pgspot, "--ignore-lang", "plpython3u"]
        for proc in COMMITTING_PROCEDURES:
            args += ["--proc-without-search-path", proc]
        res = subprocess.run(args, input=script, capture_output=True, text=True, timeout=120)
        findings = [line for line in res.stdout.splitlines() if line.startswith("PS")]
        assert "Errors: 0 " in res.stdout, (kind, res.stdout)
        # what is left: built-in operators (+, =) inside the committing
        # procedures, resolved in pg_catalog in the sessions that call them
        assert all(line.startswith("PS001: Unqualified operator") for line in findings), (kind, findings)
        if kind == "tenant":
            assert res.returncode == 0 and not findings, res.stdout


# --- 2. no way back to a superuser ---------------------------------------------------


@pytest.mark.parametrize("kind", ["loader", "ui", "pipeline", "reader"])
def test_a_tenant_session_cannot_return_to_a_superuser(tenant, kind):
    with session(tenant, kind) as conn:
        conn.execute("RESET ROLE")
        user, superuser = conn.execute(
            "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        assert (user, superuser) == ("masterfile_app", False)
        for target in ("postgres", tenant_roles(tenant.schema)["owner"]):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(target)))
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(sql.SQL("ALTER ROLE {} SUPERUSER").format(sql.Identifier(tenant_roles(tenant.schema)["ui"])))
        # and the authenticator has no privilege of its own on the tenant
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(sql.SQL("SELECT 1 FROM {}.settings").format(sql.Identifier(tenant.schema)))


def test_a_load_runs_in_an_authenticator_session(tenant):
    from pyloader.load import TenantLoader

    with TenantLoader(tenant.client_id, tenant.url) as loader:
        assert loader.conn.execute("SELECT session_user, current_user").fetchone() == (
            "masterfile_app", tenant_roles(tenant.schema)["loader"])


def test_tenant_roles_cannot_log_in(tenant):
    with tenant.connect() as conn:
        rows = conn.execute("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY(%s)",
                            (list(tenant_roles(tenant.schema).values()),)).fetchall()
    assert len(rows) == 5 and not any(login for _, login in rows)


# --- 3. role-name collisions ---------------------------------------------------------


@pytest.mark.parametrize("other", ["x-owner", "X-loader", "x_ui", "x-pipeline"])
def test_a_client_id_whose_roles_are_another_tenants_is_refused(db_url, other):
    assert pyloader("tenant", "create", "x", url=db_url).returncode == 0
    res = pyloader("tenant", "create", other, url=db_url)
    assert res.returncode == 2 and "belong to something else" in res.stderr, res.stderr
    with psycopg.connect(db_url) as conn:
        assert scalar(conn, "SELECT count(*) FROM masterfile.tenants") == 1
        assert not scalar(conn, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname LIKE 't\\_x\\_%')")


def test_a_tenant_whose_owner_name_is_taken_by_another_tenant_is_refused(db_url):
    assert pyloader("tenant", "create", "y-owner", url=db_url).returncode == 0  # reader role t_y_owner
    res = pyloader("tenant", "create", "y", url=db_url)
    assert res.returncode == 2 and "t_y_owner" in res.stderr


def test_a_role_made_outside_masterfile_is_never_adopted(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS t_stranger_ui")
        conn.execute("CREATE ROLE t_stranger_ui")
        try:
            res = pyloader("tenant", "create", "stranger", url=db_url)
            assert res.returncode == 2 and "t_stranger_ui" in res.stderr
            assert scalar(conn, "SELECT rolcanlogin OR rolsuper FROM pg_roles WHERE rolname = 't_stranger_ui'") is False
        finally:
            conn.execute("DROP ROLE t_stranger_ui")


# --- 4. denial of service across tenants ----------------------------------------------


def test_tenant_roles_cannot_take_advisory_locks(make_tenant):
    a, b = make_tenant("acme"), make_tenant("bolt")
    for kind in ("loader", "ui", "reader"):
        with session(a, kind) as conn:
            for call in ("pg_advisory_lock(1)", "pg_try_advisory_lock(1)", "pg_advisory_xact_lock(1)",
                         "pg_advisory_lock_shared(1)", "pg_try_advisory_lock(1, 2)"):
                with pytest.raises(errors.InsufficientPrivilege):
                    conn.execute(f"SELECT {call}")
    # nor another tenant's load lock function
    with session(a, "loader") as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(sql.SQL("SELECT {}.try_load_lock()").format(sql.Identifier(b.schema)))
    # and B's load still takes its own lock
    with session(b, "loader") as conn:
        assert scalar(conn, "SELECT try_load_lock()") is True


def test_a_forged_notification_neither_blocks_nor_steers_the_worker(make_tenant):
    a = make_tenant("acme")
    with session(a, "loader") as conn:
        lines.insert(conn, "erp_sales_lines", [sales_line("N1")])
    w = worker.Worker(a.url, poll_seconds=60, sessions=1)
    thread = threading.Thread(target=w.run, daemon=True)
    thread.start()
    try:
        assert w.idle.wait(30)
        with session(a, "ui") as ui:
            ui.execute("NOTIFY masterfile_dirty, 'no-such-tenant'")
            ui.execute("SELECT pg_notify('masterfile_dirty', repeat('x', 7000))")
            time.sleep(0.5)
            assert thread.is_alive()
        with session(a, "loader") as conn:
            lines.insert(conn, "erp_sales_lines", [sales_line("N2", day="2024-05-06")])
        with a.connect() as admin:
            deadline = time.monotonic() + 15
            while scalar(admin, "SELECT count(*) FROM _private_dirty_keys") and time.monotonic() < deadline:
                time.sleep(0.05)
            assert scalar(admin, "SELECT count(*) FROM _private_dirty_keys") == 0
    finally:
        w.stop()
        thread.join(15)
    assert not thread.is_alive()
    assert w.totals["notifications"] >= 2


def test_the_kernel_is_the_pipelines_alone_and_bounded(tenant):
    call = ("SELECT count(*) FROM masterfile.features_kernel(ARRAY['fact'], ARRAY['units_sold'], ARRAY[NULL]::integer[],"
            " '2024-01-01', 0, %s, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
            " AS k(week_start date, week_index integer, units_sold double precision)")
    for kind in ("ui", "loader", "reader"):
        with session(tenant, kind) as conn, pytest.raises(errors.InsufficientPrivilege):
            conn.execute(call, (10,))
    with session(tenant, "pipeline") as conn:
        assert scalar(conn, call, (10,)) == 11
        conn.execute("SET statement_timeout = '5s'")
        started = time.monotonic()
        with pytest.raises(errors.ProgramLimitExceeded):
            conn.execute(call, (4_000_000,))
        assert time.monotonic() - started < 2
    with tenant.connect() as conn:
        assert scalar(conn, "SELECT current_setting('temp_file_limit')") != "-1"


# --- 5. amplification from data: as_of_date ------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-31", "1900-01-01", "far"])
def test_as_of_date_outside_a_sane_range_is_refused(tenant, day):
    with session(tenant, "ui") as ui:
        if day == "far":
            day = scalar(ui, "SELECT (current_date + interval '3 years')::date::text")
        with pytest.raises(errors.CheckViolation):
            ui.execute("UPDATE settings SET as_of_date = %s", (day,))
        ui.execute("UPDATE settings SET as_of_date = current_date + 30")  # within range: fine
    with tenant.connect() as admin:
        assert scalar(admin, "SELECT as_of_date = current_date + 30 FROM settings")


# --- 6. stuck or lost work --------------------------------------------------------------


def loaded_tenant(t, seed: int = 5):
    with session(t, "loader") as conn:
        for table, rows in lines.generate(seed, products=3, locations=2).items():
            lines.insert(conn, table, rows)
    return t


def test_a_held_recommendation_row_fails_its_key_for_now_not_the_run(tenant):
    loaded_tenant(tenant)
    run.run_until_empty(tenant.client_id, tenant.url)
    with tenant.connect() as admin:
        p, l = admin.execute("SELECT product_id, location_id FROM recommendations ORDER BY 1, 2 LIMIT 1").fetchone()
        keys = scalar(admin, "SELECT count(*) FROM recommendations")
    # every key's plan to recompute, one key's row held by an open UI transaction
    with tenant.connect() as admin:
        admin.execute("SELECT mark_all_keys(NULL, 'plan')")
    holder = session(tenant, "ui")
    holder.autocommit = False
    holder.execute("SELECT 1 FROM recommendations WHERE product_id = %s AND location_id = %s FOR UPDATE", (p, l))
    try:
        started = time.monotonic()
        result = run.run_until_empty(tenant.client_id, tenant.url)
        assert time.monotonic() - started < 60
        assert result["keys_done"] == keys - 1 and result["keys_failed"] == 0
        assert result["keys_left"] == 1
        with tenant.connect() as admin:
            assert admin.execute("SELECT product_id, location_id FROM _private_dirty_keys").fetchall() == [(p, l)]
            assert scalar(admin, "SELECT count(*) FROM _private_failed_keys") == 0
    finally:
        holder.rollback()
        holder.close()
    result = run.run_until_empty(tenant.client_id, tenant.url)
    assert result["keys_done"] == 1 and result["keys_left"] == 0


def test_a_run_whose_session_died_is_marked_interrupted(tenant):
    loaded_tenant(tenant)
    victim = session(tenant, "pipeline")
    pid = victim.info.backend_pid
    done = threading.Event()

    def call():
        try:
            victim.execute(sql.SQL("CALL {}.process_dirty(1, 600, 'doomed')").format(sql.Identifier(tenant.schema)))
        except psycopg.Error:
            pass
        finally:
            done.set()

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    with tenant.connect() as admin:
        deadline = time.monotonic() + 30
        while not scalar(admin, "SELECT count(*) FROM runs WHERE trigger = 'doomed' AND keys_done > 0") \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert done.wait(10)
        assert scalar(admin, "SELECT status FROM runs WHERE trigger = 'doomed'") == "running"
        run.run_until_empty(tenant.client_id, tenant.url)
        assert scalar(admin, "SELECT status FROM runs WHERE trigger = 'doomed'") == "interrupted"
        assert scalar(admin, "SELECT count(*) FROM runs WHERE status = 'running'") == 0
        assert scalar(admin, "SELECT count(*) FROM _private_dirty_keys") == 0
    victim.close()


# --- 8. metadata -----------------------------------------------------------------------


def test_tenant_roles_see_no_other_tables_statistics(make_tenant):
    a, b = make_tenant("acme"), make_tenant("bolt")
    with session(a, "ui") as conn:
        for view in ("pg_stat_all_tables", "pg_stat_user_tables", "pg_statio_all_tables", "pg_stat_all_indexes"):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(f"SELECT * FROM pg_catalog.{view}")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("SELECT reltuples FROM pg_class")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("SELECT pg_stat_get_live_tuples(%s::regclass)", (f"{b.schema}.erp_sales_lines",))
        # the catalogs a client needs still answer
        assert scalar(conn, "SELECT count(*) FROM pg_class WHERE relname = 'settings'") >= 1


PRIVATE = {"_private_dirty_keys", "_private_feature_keys", "_private_failed_keys", "_private_pipeline_state",
           "_private_feature_batch", "_private_plan_batch"}


def test_the_pipelines_bookkeeping_is_private_to_it(tenant):
    """The _private_ relations are the pipeline's: the read role (and the UI
    and loader, its members) cannot select them; the views readers need
    (queue_status, master_file) still answer."""
    with tenant.connect() as owner:
        names = {r[0] for r in owner.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
            " AND relkind IN ('r', 'v') AND relname LIKE '\\_private\\_%'")}
    assert names == PRIVATE
    for role in ("reader", "ui", "loader"):
        with tenant.connect(role) as conn:
            for name in sorted(names):
                with pytest.raises(errors.InsufficientPrivilege):
                    conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(name)))
            assert scalar(conn, "SELECT queue_depth FROM queue_status") == 0
            assert scalar(conn, "SELECT count(*) FROM master_file") == 0
    with tenant.connect("pipeline") as conn:
        for name in sorted(names):
            conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(name)))
