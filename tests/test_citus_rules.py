"""Rules that Citus schema-based sharding needs, checked on plain PostgreSQL
(issue 19, docs/scale-out.md), so a change that would break a Citus
deployment fails `make test` here and not only `make test-citus`:

- every string the migration path executes holds one statement (Citus runs
  one command per prepared statement on the workers), and no DROP names
  several objects (Citus drops one distributed object per command);
- a tenant holds no column privileges (Citus neither propagates nor moves
  them; a trigger keeps who writes which column);
- no trigger function of a tenant, nor anything it calls, sends pg_notify
  (a tenant's triggers run on its Citus worker, where a NOTIFY breaks the
  two-phase commit and the listener on the coordinator never hears it; the
  wake-up is the trigger of masterfile.work_hints, a control table that
  only the coordinator has);
- no UPDATE SET / ON CONFLICT DO UPDATE SET of a tenant table calls a
  volatile or time function (Citus refuses them on distributed tables: the
  value must be the same on every shard, so compute it once and pass it in);
- no SQL-language function of a tenant reads its tables with its
  parameters (Citus plans none of its statements), and no INSERT ... SELECT
  of a tenant calls a function that is not immutable (Citus 13 rebuilds
  such a statement for the worker with a broken filter).

Checks the current code fails are marked xfail(strict=True): they pass
today as known failures and turn into an XPASS, that is a failure, the day
the code is fixed, so the marker comes off with the fix.
"""
from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from pyloader import migrate, tenants
from pyloader.queries import split_statements
from pyloader.queries import strip_comments

REPO = Path(__file__).resolve().parent.parent


# --- the statement splitter (pyloader.queries) knows PostgreSQL's quoting ----

@pytest.mark.parametrize("text, count", [
    ("SELECT 1", 1),
    ("SELECT 1; SELECT 2;", 2),
    ("SELECT ';' -- ; \n", 1),
    ("SELECT E'\\';'; SELECT 2", 2),
    ('SELECT 1 AS "a;b"', 1),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; SELECT 2 $$; SELECT 3", 2),
    ("DO $body$ BEGIN PERFORM 1; END $body$", 1),
    ("/* a; /* nested; */ b; */ SELECT 1", 1),
    ("-- only a comment; really\n", 0),
    ("SELECT $1; SELECT $2", 2),  # parameters are not dollar quotes
])
def test_the_splitter_knows_quotes_comments_and_bodies(text, count):
    assert len(split_statements(text)) == count


# --- one statement per executed string --------------------------------------

def _text_of(query, conn) -> str:
    if isinstance(query, bytes):
        return query.decode()
    if isinstance(query, str):
        return query
    return query.as_string(conn)


@pytest.fixture
def executed(db_url, monkeypatch) -> list[str]:
    """Every string the migration path executes: a tenant created, then the
    control schema and the tenant migrated again with their code reloaded."""
    seen: list[str] = []
    original = psycopg.Cursor.execute

    def recording(self, query, *args, **kwargs):
        seen.append(_text_of(query, self.connection))
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", recording)
    tenants.create_tenant("acme", db_url, schedule=False)
    migrate.migrate_all(db_url, reload=True)
    monkeypatch.undo()
    return seen


def test_the_recorder_sees_the_migration_path(executed):
    # the check below is only worth something if it saw the sql/ files
    assert any("CREATE OR REPLACE FUNCTION" in q for q in executed)
    assert len(executed) > 20


def test_every_executed_string_holds_one_statement(executed):
    several = sorted({" ".join(strip_comments(q).split())[:100] for q in executed if len(split_statements(q)) > 1})
    assert several == []


_DROP_SEVERAL = re.compile(r"^\s*DROP\s+(TABLE|VIEW|INDEX|FUNCTION|PROCEDURE|ROUTINE|TYPE|SEQUENCE)\s+"
                           r"(IF\s+EXISTS\s+)?[^;(]*?,", re.I)


def test_no_executed_drop_names_several_objects(executed):
    # Citus drops one distributed object per command
    several = [q[:100] for q in executed if _DROP_SEVERAL.match(strip_comments(q))]
    assert several == []


def test_a_tenant_holds_no_column_privileges(tenant):
    # Citus neither propagates a column GRANT nor keeps it through a move:
    # who writes which column is a trigger's (sql/tenant/900_grants.sql)
    with tenant.connect() as conn:
        rows = conn.execute("SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                            " WHERE c.relnamespace = %s::regnamespace AND a.attacl IS NOT NULL",
                            (tenant.schema,)).fetchall()
    assert rows == []


# --- no pg_notify reachable from a trigger -----------------------------------

def _functions(conn, schemas: list[str]) -> dict[str, tuple[str, str]]:
    """oid -> (schema.name, body without comments) of every function in `schemas`."""
    rows = conn.execute("SELECT p.oid::regprocedure::text, n.nspname || '.' || p.proname, p.prosrc"
                        " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                        " WHERE n.nspname = ANY(%s)", (schemas,)).fetchall()
    return {sig: (name, strip_comments(src or "")) for sig, name, src in rows}


def _trigger_functions(conn, schema: str) -> set[str]:
    rows = conn.execute("SELECT DISTINCT t.tgfoid::regprocedure::text FROM pg_trigger t"
                        " JOIN pg_class c ON c.oid = t.tgrelid"
                        " WHERE c.relnamespace = %s::regnamespace AND NOT t.tgisinternal", (schema,)).fetchall()
    return {r[0] for r in rows}


def _notifying_paths(conn, schema: str) -> list[str]:
    """Call paths from a trigger function of `schema` to one that sends a notification."""
    funcs = _functions(conn, [schema, "masterfile"])
    calls = {sig: {other for other, (name, _) in funcs.items() if other != sig
                   and re.search(rf"\b{re.escape(name.split('.', 1)[1])}\s*\(", body, re.I)}
             for sig, (_, body) in funcs.items()}
    notifies = {sig for sig, (_, body) in funcs.items() if re.search(r"\bpg_notify\s*\(|\bNOTIFY\s+\w", body, re.I)}
    paths: list[str] = []
    for root in sorted(_trigger_functions(conn, schema)):
        stack, seen = [(root, [root])], {root}
        while stack:
            sig, path = stack.pop()
            if sig in notifies:
                paths.append(" -> ".join(funcs.get(s, (s,))[0] for s in path))
            for callee in calls.get(sig, ()):
                if callee not in seen:
                    seen.add(callee)
                    stack.append((callee, path + [callee]))
    return sorted(paths)


def test_the_call_graph_reaches_the_functions_triggers_call(tenant):
    # mark_keys is what the marking triggers call: the graph must see it
    with tenant.connect() as conn:
        funcs = _functions(conn, [tenant.schema, "masterfile"])
        triggers = _trigger_functions(conn, tenant.schema)
    assert triggers
    assert any(name.endswith(".mark_keys") for name, _ in funcs.values())


def test_no_trigger_sends_a_notification(tenant):
    with tenant.connect() as conn:
        assert _notifying_paths(conn, tenant.schema) == []


# --- no volatile function in an UPDATE SET of a tenant table ----------------

# volatile, or stable but refused by Citus inside the CASE/COALESCE such
# SET lists are made of: computed once by the caller instead
_UNSAFE_CALL = re.compile(
    r"\b(clock_timestamp|now|random|timeofday|statement_timestamp|transaction_timestamp|gen_random_uuid|"
    r"nextval|currval|txid_current|pg_current_xact_id|concat|concat_ws|format|to_char)\s*\(|\b(current_timestamp|localtimestamp)\b", re.I)
_UPDATE_SET = re.compile(r"\bUPDATE\s+(?:ONLY\s+)?([\w.@{}%\"]+)(?:\s+(?:AS\s+)?(?!SET\b)\w+)?\s+SET\b"
                         r"|\bDO\s+UPDATE\s+SET\b", re.I)
_SET_END = re.compile(r"\b(WHERE|FROM|RETURNING)\b|;|\"\"\"", re.I)
# tables outside a tenant schema: the control schema stays on the coordinator,
# temporary tables are the session's own
_NOT_TENANT = re.compile(r"^\"?(masterfile|cron|pg_temp|pg_catalog)\b", re.I)


def _set_clause(text: str, start: int) -> str:
    """From `start` to the end of the SET list: WHERE, FROM, RETURNING or `;` outside parentheses."""
    depth = 0
    for i in range(start, min(len(text), start + 2000)):
        c = text[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                return text[start:i]
        elif depth == 0 and (m := _SET_END.match(text, i)):
            if m.group(1) and i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_"):
                continue  # a keyword inside a longer word
            if m.group(1) and m.group(1).upper() == "FROM" and re.search(r"\bDISTINCT\s+$", text[start:i], re.I):
                continue  # IS [NOT] DISTINCT FROM is part of an expression
            return text[start:i]
    return text[start:start + 2000]


def unsafe_updates(path: Path) -> list[str]:
    """file:line and the call, for each UPDATE SET / DO UPDATE SET of a tenant table calling an unsafe function."""
    text = strip_comments(path.read_text())
    found = []
    for m in _UPDATE_SET.finditer(text):
        target = m.group(1)
        if target and _NOT_TENANT.match(target):
            continue
        clause = _set_clause(text, m.end())
        for call in _UNSAFE_CALL.finditer(clause):
            line = text.count("\n", 0, m.end() + call.start()) + 1
            found.append(f"{path.relative_to(REPO)}:{line}: {call.group(0)}")
    return found


def _sql_of_tenant_writes() -> list[Path]:
    return sorted((REPO / "sql").rglob("*.sql")) + sorted((REPO / "pyloader").rglob("*.py")) \
        + [REPO / "pyloader" / "queries.sql"]


def test_the_update_scanner_finds_a_volatile_set():
    assert [m.group(0) for m in _UPDATE_SET.finditer("UPDATE loads l SET a = 1 WHERE x; ... DO UPDATE SET b = 2")] \
        == ["UPDATE loads l SET", "DO UPDATE SET"]
    assert _set_clause("a = coalesce(b, now()) WHERE c = now()", 0) == "a = coalesce(b, now()) "
    assert _set_clause("a = CASE WHEN b IS DISTINCT FROM 0 THEN now() END FROM t", 0) \
        == "a = CASE WHEN b IS DISTINCT FROM 0 THEN now() END "
    assert _set_clause("a = excluded.a; UPDATE t SET b = now()", 0) == "a = excluded.a"


def test_no_update_of_a_tenant_table_calls_a_volatile_function():
    found = [hit for path in _sql_of_tenant_writes() for hit in unsafe_updates(path)]
    assert found == []


# --- no SQL-language function reads a tenant's table with its parameters ----

def test_no_sql_function_of_a_tenant_reads_its_tables_with_parameters(tenant):
    # Citus plans no statement of an SQL-language function that passes its
    # parameters to a distributed table ("could not create distributed
    # plan"): such a function is PL/pgSQL (mark_continuations, settle_work_hints)
    with tenant.connect() as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = %s::regnamespace AND relkind IN ('r', 'v', 'p')",
            (tenant.schema,))]
        rows = conn.execute(
            "SELECT p.oid::regprocedure::text, p.prosrc FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang"
            " WHERE p.pronamespace = %s::regnamespace AND l.lanname = 'sql' AND p.pronargs > 0",
            (tenant.schema,)).fetchall()
    assert tables
    found = [sig for sig, src in rows
             if any(re.search(rf"\b{re.escape(t)}\b", strip_comments(src), re.I) for t in tables)]
    assert found == []


# --- no time-zone dependent call in an INSERT ... SELECT of a tenant ---------

# Citus 13 rebuilds an INSERT ... SELECT into a schema-sharded table for its
# worker when it calls a function that is not immutable, and the rebuilt
# statement carries a broken filter ("( IS NOT NULL)": a syntax error on the
# worker, or no row written where the shard is local). date_trunc() of a date
# is the timestamptz variant, stable; of a timestamp it is immutable.
_STABLE_IN_INSERT = re.compile(r"\b(now|clock_timestamp|end_week|to_char)\s*\(|\bcurrent_date\b", re.I)
_INSERT_SELECT = re.compile(r"\bINSERT\s+INTO\s+(?!pg_temp\.|masterfile\.)[\w.@]+[^;]*?\bSELECT\b[^;]*?\bFROM\b[^;]*;",
                            re.I | re.S)


def _arguments(text: str, open_paren: int) -> str:
    """The text between the parenthesis at `open_paren` and its match."""
    depth = 0
    for i in range(open_paren, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[open_paren + 1:i]
    return text[open_paren + 1:]


def stable_calls_in_insert_selects(text: str) -> list[str]:
    found = []
    for m in _INSERT_SELECT.finditer(strip_comments(text)):
        statement = m.group(0)
        found += [call.group(0) for call in _STABLE_IN_INSERT.finditer(statement)]
        for call in re.finditer(r"\bdate_trunc\s*\(", statement, re.I):
            args = _arguments(statement, call.end() - 1)
            if not re.search(r"::\s*timestamp(\s+without\s+time\s+zone)?\s*$", args, re.I):
                found.append("date_trunc(" + args[:40])
    return found


def test_the_insert_scanner_finds_a_stable_call():
    assert stable_calls_in_insert_selects(
        "INSERT INTO t (a) SELECT date_trunc('week', least(x.d, x.e)) FROM x;") != []
    assert stable_calls_in_insert_selects(
        "INSERT INTO t (a) SELECT date_trunc('week', least(x.d, x.e)::timestamp) FROM x;") == []
    assert stable_calls_in_insert_selects("INSERT INTO t (a) SELECT now() FROM x;") != []
    assert stable_calls_in_insert_selects("INSERT INTO pg_temp.t (a) SELECT now() FROM x;") == []


def test_no_insert_select_of_a_tenant_calls_a_stable_function():
    found = [f"{path.relative_to(REPO)}: {call}" for path in sorted((REPO / "sql" / "tenant").glob("*.sql"))
             for call in stable_calls_in_insert_selects(path.read_text())]
    assert found == []
