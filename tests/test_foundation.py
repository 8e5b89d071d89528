"""The foundation: client ids, tenant provisioning, isolation, re-runnable
migrations (issue 2)."""
from __future__ import annotations

import subprocess

import psycopg
import pytest
from psycopg import errors, sql

from pyloader import migrate, tenants
from pyloader.config import ClientIdError, schema_for, validate_client_id
from tests import lines
from tests.conftest import CITUS, pyloader, row_set, scalar

BAD_CLIENT_IDS = ["", "a" * 41, "acme'", 'ac"me', "ac;me", "ac me", "../acme", "-acme", "_acme", "acmé", "ac.me"]
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2"


@pytest.mark.parametrize("client_id", BAD_CLIENT_IDS)
def test_bad_client_id_refused_before_any_sql(client_id):
    with pytest.raises(ClientIdError):
        validate_client_id(client_id)
    # with no database reachable at all, the refusal still comes first: no SQL ran
    for args in (["tenant", "create", "--", client_id],):
        res = pyloader(*args, url=UNREACHABLE)
        assert res.returncode == 2, res
        assert len(res.stderr.strip().splitlines()) == 1
        assert "client id" in res.stderr
        assert res.stdout == ""


def test_schema_naming_rule():
    assert schema_for("CW-000200") == "t_cw_000200"
    assert schema_for("a--B__c") == "t_a_b_c"
    assert schema_for("9" * 40) == "t_" + "9" * 40
    assert validate_client_id("a" * 40) == "a" * 40


def test_missing_database_names_what_failed_and_suggests_make_db_only_for_the_local_cluster():
    res = pyloader("tenant", "list", url=UNREACHABLE)
    assert res.returncode == 1
    line = res.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "127.0.0.1:1" in line and "DATABASE_URL" in line and "make db" not in line
    # the project-local cluster's port, with nothing listening there
    res = pyloader("tenant", "list", url="postgresql://postgres@127.0.0.1:1/masterfile",
                   env={"MASTERFILE_PGPORT": "1"})
    assert res.returncode == 1 and "make db" in res.stderr


def test_connection_errors_name_the_role_and_the_database(db_url):
    from tests.conftest import url_for

    res = pyloader("tenant", "list", url=url_for("no_such_database_here", db_url))
    assert res.returncode == 1 and "no_such_database_here" in res.stderr and "does not exist" in res.stderr
    res = pyloader("tenant", "list", url=db_url.replace("user=postgres", "user=no_such_role_here"))
    assert res.returncode == 1 and "no_such_role_here" in res.stderr
    res = pyloader("tenant", "list", url="postgresql://[bad")
    assert res.returncode == 1 and "DATABASE_URL" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_tenant_create_via_cli_is_idempotent_and_listed(db_url):
    first = pyloader("tenant", "create", "CW-000200", url=db_url)
    assert first.returncode == 0, first.stderr
    dump1 = schema_dump(db_url)
    again = pyloader("tenant", "create", "CW-000200", url=db_url)
    assert again.returncode == 0, again.stderr
    assert "already exists" in again.stdout
    assert schema_dump(db_url) == dump1

    listed = pyloader("tenant", "list", "--json", url=db_url)
    assert listed.returncode == 0, listed.stderr
    import json

    (row,) = json.loads(listed.stdout)["tenants"]
    assert row["client_id"] == "CW-000200"
    assert row["schema"] == "t_cw_000200"
    assert row["revision"] == migrate.head_revision("tenant")
    assert row["queue_depth"] == 0


def test_client_id_mapping_to_an_existing_schema_is_refused(db_url):
    assert pyloader("tenant", "create", "CW-000200", url=db_url).returncode == 0
    res = pyloader("tenant", "create", "cw_000200", url=db_url)
    assert res.returncode == 2
    assert "t_cw_000200" in res.stderr and "CW-000200" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    with psycopg.connect(db_url) as conn:
        assert scalar(conn, "SELECT count(*) FROM masterfile.tenants") == 1


def test_tenant_objects_live_in_its_schema_owned_by_its_owner(tenant):
    with tenant.connect() as conn:
        owners = row_set(
            conn,
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = %s",
            (tenant.schema,),
        )
        assert owners == {(f"{tenant.schema}_owner",)}
        # every function pins its search_path and is not executable by PUBLIC;
        # procedures that COMMIT cannot carry SET (PostgreSQL refuses it), so
        # they qualify every name with their schema instead; an aggregate has
        # no settings of its own (its transition functions are built-ins)
        unpinned = conn.execute(
            """
            SELECT p.oid::regprocedure::text FROM pg_proc p
            WHERE p.pronamespace = %s::regnamespace AND p.prokind = 'f'
              AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%%')
            """,
            (tenant.schema,),
        ).fetchall()
        assert unpinned == []
        public_exec = conn.execute(
            """
            SELECT p.oid::regprocedure::text FROM pg_proc p
            WHERE p.pronamespace = %s::regnamespace AND has_function_privilege('public', p.oid, 'EXECUTE')
            """,
            (tenant.schema,),
        ).fetchall()
        assert public_exec == []


def tenant_tables(conn, schema):
    return [r[0] for r in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", (schema,))]


def tenant_routines(conn, schema):
    """Routine oids: a name would need USAGE on the schema just to be resolved."""
    return [r[0] for r in conn.execute(
        "SELECT p.oid FROM pg_proc p WHERE p.pronamespace = %s::regnamespace", (schema,))]


@pytest.mark.parametrize("role", ["reader", "loader", "ui", "pipeline"])
def test_isolation_between_tenants(make_tenant, role):
    a = make_tenant("alpha")
    b = make_tenant("beta")
    with a.connect() as admin_conn:
        b_tables = tenant_tables(admin_conn, b.schema)
        b_routines = tenant_routines(admin_conn, b.schema)
        a_tables = tenant_tables(admin_conn, a.schema)
    assert b_tables and a_tables
    with a.connect(role) as conn:
        for t in a_tables:
            if t == "loader_config" and role != "loader":
                continue
            if t.startswith("_private_") and role != "pipeline":
                continue  # the pipeline's own (test_isolation.py)
            conn.execute(sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(a.schema), sql.Identifier(t)))
        for t in b_tables:
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(sql.SQL("SELECT 1 FROM {}.{} LIMIT 1").format(sql.Identifier(b.schema), sql.Identifier(t)))
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(sql.SQL("DELETE FROM {}.{}").format(sql.Identifier(b.schema), sql.Identifier(t)))
        for fn in b_routines:
            assert scalar(conn, "SELECT has_function_privilege(%s::oid, 'EXECUTE')", (fn,)) is False
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("SELECT client_id FROM masterfile.tenants")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(sql.SQL("CREATE TABLE {}.intruder (x int)").format(sql.Identifier(b.schema)))


def test_loader_config_token_is_out_of_the_uis_reach(tenant):
    with tenant.connect("ui") as conn:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("SELECT api_token FROM loader_config")


def schema_dump(url: str) -> str:
    """pg_dump --schema-only of the whole database: the catalog as text."""
    from psycopg.conninfo import conninfo_to_dict

    p = conninfo_to_dict(url)
    out = subprocess.run(
        ["pg_dump", "--schema-only", "--no-comments", "-h", p.get("host", "127.0.0.1"), "-p", str(p.get("port", 5432)),
         "-U", p.get("user", "postgres"), "-d", p["dbname"]],
        capture_output=True, text=True, check=True,
    ).stdout
    # \restrict lines carry a random key per run; they are not schema
    return "\n".join(l for l in out.splitlines() if not l.startswith(("-- Dumped", "\\restrict", "\\unrestrict")))


def test_sql_and_migrations_applied_twice_leave_the_schema_unchanged(make_tenant, db_url):
    make_tenant("alpha")
    make_tenant("beta")
    before = schema_dump(db_url)
    for reload in (True, True, False):
        results = migrate.migrate_all(db_url, reload=reload)
        assert all(r.ok for r in results), results
    assert schema_dump(db_url) == before


def test_fresh_install_equals_step_by_step_upgrade(db_url):
    """A tenant created at head and one upgraded one revision at a time end equal."""
    tenants.create_tenant("fresh", db_url, schedule=False)
    revisions = tenant_revisions()
    _create_at(db_url, "stepwise", revisions[0])
    eng = migrate.engine(db_url)
    for rev in revisions[1:]:
        with eng.connect() as c, c.begin():
            migrate.upgrade_tenant(c, "t_stepwise", rev)
    dump = schema_dump(db_url)
    fresh = _section(dump, "t_fresh")
    step = _section(dump, "t_stepwise")
    assert fresh == step and fresh


def test_a_tenant_upgraded_over_replaced_trigger_functions_at_once_equals_a_fresh_one(db_url):
    """From before t0016 straight to head, in one transaction: t0017 drops
    trigger functions that this tenant's triggers still call (their reload
    comes after every migration), and the reload attaches them again."""
    tenants.create_tenant("fresh", db_url, schedule=False)
    _create_at(db_url, "leap", "t0013")
    with psycopg.connect(db_url, autocommit=True) as conn:
        # what code of that time left: a replaced function with a trigger on it
        conn.execute("CREATE FUNCTION t_leap.mark_plans_from_products() RETURNS trigger LANGUAGE plpgsql"
                     " AS $$ BEGIN RETURN NULL; END $$")
        conn.execute("CREATE TRIGGER mark_plans_on_erp_products_old AFTER UPDATE ON t_leap.erp_products"
                     " FOR EACH STATEMENT EXECUTE FUNCTION t_leap.mark_plans_from_products()")
    with migrate.engine(db_url).connect() as c, c.begin():
        migrate.upgrade_tenant(c, "t_leap", "head")
    dump = schema_dump(db_url)
    assert _section(dump, "t_fresh") == _section(dump, "t_leap")


def test_the_latest_revisions_downgrade_and_upgrade_again_to_a_fresh_tenant(db_url):
    """t0024, t0022 and t0021 undone in turn: t0024's downgrade gives the
    keys' tails their seed columns back (empty), t0022's takes them away and
    t0021's takes the line tables' key indexes' INCLUDEd columns (under the
    same names); upgraded again, the tenant equals a fresh one, which has
    neither the seed columns nor the function that hashed their layout."""
    from alembic import command

    from pyloader import db

    def seed_columns(conn) -> set:
        return row_set(conn, "SELECT attname FROM pg_attribute WHERE attrelid = 't_back._private_feature_keys'::regclass"
                             " AND attname IN ('tail_seed', 'tail_layout') AND NOT attisdropped")

    tenants.create_tenant("fresh", db_url, schedule=False)
    tenants.create_tenant("back", db_url, schedule=False)
    with psycopg.connect(db_url) as conn:
        assert seed_columns(conn) == set()
        assert row_set(conn, "SELECT proname FROM pg_proc WHERE proname = 'feature_seed_layout'") == set()
    for revision, seed in (("t0022", {("tail_seed",), ("tail_layout",)}), ("t0020", set())):
        with migrate.engine(db_url).connect() as c, c.begin():
            raw = c.connection.driver_connection
            db.as_owner(raw, "t_back")
            command.downgrade(migrate._alembic_config("tenant", c, "t_back"), revision)
            db.leave_tenant(raw)
        with psycopg.connect(db_url) as conn:
            assert seed_columns(conn) == seed, revision
    with psycopg.connect(db_url) as conn:
        indexes = dict(conn.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = 't_back'::regnamespace"
            " AND c.relname LIKE 'erp_%%_key_date'").fetchall())
    assert len(indexes) == 4 and not any("INCLUDE" in d for d in indexes.values()), indexes
    with migrate.engine(db_url).connect() as c, c.begin():
        migrate.upgrade_tenant(c, "t_back", "head")
    dump = schema_dump(db_url)
    assert _section(dump, "t_fresh") == _section(dump, "t_back")


def _section(dump: str, schema: str) -> list[str]:
    """The dump lines of one tenant, with its name masked so two can be compared."""
    return sorted(
        line.replace(schema, "T") for line in dump.splitlines() if schema in line
    )


def _create_at(url: str, client_id: str, revision: str) -> None:
    """A tenant provisioned only up to `revision` (to test upgrades)."""
    tenants.create_tenant(client_id, url, schedule=False, revision=revision)


def tenant_revisions() -> list[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(migrate.MIGRATIONS / "tenant"))
    return [s.revision for s in reversed(list(ScriptDirectory.from_config(cfg).walk_revisions()))]


def test_failed_tenant_migration_leaves_that_tenant_whole_and_named(db_url):
    revs = tenant_revisions()
    assert len(revs) >= 2, "needs at least two tenant revisions"
    # which tables does the second revision add? (a probe tenant tells)
    _create_at(db_url, "probe", revs[0])
    with psycopg.connect(db_url, autocommit=True) as conn:
        at_first = tenant_tables(conn, "t_probe")
        with migrate.engine(db_url).connect() as c, c.begin():
            migrate.upgrade_tenant(c, "t_probe", revs[1])
        added = sorted(set(tenant_tables(conn, "t_probe")) - set(at_first))
        assert added
        _create_at(db_url, "good", revs[0])
        _create_at(db_url, "bad", revs[0])
        # sabotage: a table the next revision creates already exists in t_bad
        conn.execute(sql.SQL("CREATE TABLE t_bad.{} (sabotage int)").format(sql.Identifier(added[0])))
    results = {r.schema: r for r in migrate.migrate_all(db_url)}
    assert results["t_good"].ok and results["t_good"].revision == migrate.head_revision("tenant")
    assert not results["t_bad"].ok and results["t_bad"].revision == revs[0]
    assert added[0] in results["t_bad"].error
    res = pyloader("migrate", url=db_url)
    assert res.returncode == 1 and "t_bad" in res.stderr
    with psycopg.connect(db_url) as conn:
        # nothing of the failed upgrade stayed behind
        assert tenant_tables(conn, "t_bad") == sorted(at_first + [added[0]])


def test_fifty_tenants_created_and_migrated(db_url):
    ids = [f"CW-{n:06d}" for n in range(50)]
    for cid in ids:
        tenants.create_tenant(cid, db_url, schedule=False)
    results = migrate.migrate_all(db_url)
    assert len(results) == 50 and all(r.ok for r in results)
    assert {r.revision for r in results} == {migrate.head_revision("tenant")}
    rows = tenants.list_tenants(db_url)
    assert [r["client_id"] for r in rows] == ids


# --- an existing tenant made a Citus distributed schema (docs/scale-out.md) ---


@pytest.mark.skipif(CITUS, reason="checks the refusal off Citus; `make test-citus` checks the distribution")
def test_tenant_distribute_refuses_a_database_without_citus(tenant):
    res = pyloader("tenant", "distribute", tenant.client_id, url=tenant.url)
    assert res.returncode == 2 and "not a Citus coordinator" in res.stderr
    # and it changed nothing: the tenant's triggers are all there
    with tenant.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                            " WHERE c.relnamespace = %s::regnamespace AND NOT t.tgisinternal", (tenant.schema,)) > 20


@pytest.mark.skipif(not CITUS, reason="Citus is not installed here (`make test-citus` runs this on a Citus cluster)")
def test_a_tenant_made_before_sharding_is_distributed_with_its_triggers_and_marks(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} RESET citus.enable_schema_based_sharding").format(
            sql.Identifier(conn.info.dbname)))
    tenants.create_tenant("early", db_url, schedule=False)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} SET citus.enable_schema_based_sharding = on").format(
            sql.Identifier(conn.info.dbname)))
        triggers = "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid" \
                   " WHERE c.relnamespace = 't_early'::regnamespace AND NOT t.tgisinternal"
        before = scalar(conn, triggers)
        assert scalar(conn, "SELECT count(*) FROM citus_schemas WHERE schema_name::text = 't_early'") == 0
    res = pyloader("tenant", "distribute", "early", url=db_url)
    assert res.returncode == 0, res.stderr
    assert "distributed" in res.stdout
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert scalar(conn, "SELECT count(*) FROM citus_schemas WHERE schema_name::text = 't_early'") == 1
        assert scalar(conn, triggers) == before
    # its marking triggers work on the worker: a load queues its keys
    with psycopg.connect(db_url) as conn:
        conn.execute("SET ROLE t_early_loader")
        conn.execute("SET search_path = t_early, pg_catalog, pg_temp")
        for table, rows in lines.generate(3, products=2, locations=2).items():
            lines.insert(conn, table, rows)
        conn.commit()
    with psycopg.connect(db_url) as conn:
        assert scalar(conn, "SELECT count(*) FROM t_early._private_dirty_keys") > 0
    again = pyloader("tenant", "distribute", "early", url=db_url)
    assert again.returncode == 0 and "already distributed" in again.stdout


def test_a_mark_made_outside_pyloader_gets_its_hint(make_tenant):
    """Lines written by plain SQL as the loader role, not through pyloader.
    On plain PostgreSQL the marking transaction hints the tenant itself. On
    Citus the marking trigger runs on the tenant's worker, where the control
    schema is not, so no hint is written; a cron dispatcher's sweep finds
    the queued work and hints it (sql/control/040_scheduling.sql). The
    dispatch is given no time, so it sweeps and takes no turn."""
    from pyloader import db

    t = make_tenant("acme")

    def hints() -> int:
        with psycopg.connect(t.url) as conn:
            return scalar(conn, "SELECT count(*) FROM masterfile.work_hints WHERE schema_name = %s", (t.schema,))

    def dispatch(seconds: int) -> None:
        with db.open_app(t.url, autocommit=True) as conn:
            conn.execute("CALL masterfile.dispatch(%s, 5, 500, 'cron', NULL)", (seconds,))

    # the week's first dispatch hints every tenant (its calendar may roll):
    # done and settled before, so that only the sweep can hint below
    dispatch(50)
    assert hints() == 0
    with t.connect("loader") as conn:
        for table, rows in lines.generate(3, products=2, locations=2).items():
            lines.insert(conn, table, rows)

    with t.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM _private_dirty_keys") == 4
    assert (hints() == 0) if CITUS else (hints() >= 1)
    dispatch(0)
    assert hints() >= 1
    with t.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM _private_dirty_keys") == 4  # no turn was taken
