"""Every statement the Python side runs, by name: the one place for its SQL.

The statements are the named blocks of queries.sql, loaded once at import;
each is bound below to one name: a constant (a statement with no identifier
in it) or a function of the tenant schema (a template, composed with
psycopg.sql so identifiers are always quoted, never pasted). What is
assembled from parts chosen at run time (the planner API's lists and
documents, the export's columns and filters) is assembled here too, from
fixed fragments. The one exception is the loader's staging, COPY and merge,
built per entity in pyloader/load.py.
"""
from __future__ import annotations

import dataclasses
import re
from importlib import resources

from psycopg import sql

CONTROL_SCHEMA = "masterfile"

_NAME = re.compile(r"^-- name: ([a-z_][a-z0-9_]*)\s*$")


def parse(text: str) -> dict[str, str]:
    """The named blocks of a queries file: {name: statement}, full-line comments dropped."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        m = _NAME.match(line)
        if m:
            if m.group(1) in blocks:
                raise ValueError(f"queries.sql: {m.group(1)!r} is named twice")
            current = blocks[m.group(1)] = []
        elif current is not None and not line.lstrip().startswith("--"):
            current.append(line.rstrip())
    out = {name: "\n".join(lines).strip() for name, lines in blocks.items()}
    empty = [name for name, text in out.items() if not text]
    if empty:
        raise ValueError(f"queries.sql: {', '.join(empty)} has no statement")
    return out


SQL = parse(resources.files("pyloader").joinpath("queries.sql").read_text())


def in_tenant(text: str, schema: str, **parts: str | sql.Composable) -> sql.Composed:
    """`text` with {s} the tenant schema, {schema_name} its name as a value, and every
    other {field} an identifier (or the psycopg.sql part given), each quoted."""
    return sql.SQL(text).format(
        s=sql.Identifier(schema), schema_name=sql.Literal(schema),
        **{k: v if isinstance(v, sql.Composable) else sql.Identifier(v) for k, v in parts.items()})


_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")


def split_statements(text: str) -> list[str]:
    """The top-level statements of `text`, one string each, comments left in.

    A `;` inside a string, a quoted identifier, a dollar-quoted body or a
    comment does not split. Every string the migration path sends holds one
    statement: Citus runs one command per prepared statement on its workers
    (docs/scale-out.md), and plain PostgreSQL is held to the same rule
    (tests/test_citus_rules.py).
    """
    out, start, i, n = [], 0, 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == "'":
            backslash = i > 0 and text[i - 1] in "eE" and (i < 2 or not (text[i - 2].isalnum() or text[i - 2] == "_"))
            i += 1
            while i < n:
                if backslash and text[i] == "\\":
                    i += 2
                elif text.startswith("''", i):
                    i += 2
                elif text[i] == "'":
                    i += 1
                    break
                else:
                    i += 1
        elif c == '"':
            j = text.find('"', i + 1)
            while j >= 0 and text.startswith('""', j):
                j = text.find('"', j + 2)
            i = n if j < 0 else j + 1
        elif c == "$" and (m := _DOLLAR_TAG.match(text, i)) and not (i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = text.find(m.group(0), m.end())
            i = n if end < 0 else end + len(m.group(0))
        elif c == ";":
            out.append(text[start:i])
            start = i = i + 1
        else:
            i += 1
    out.append(text[start:])
    return [s.strip() for s in out if strip_comments(s).strip()]


def strip_comments(text: str) -> str:
    """`text` with -- and /* */ comments blanked, line numbers kept (quotes are not looked at)."""
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    return re.sub(r"--[^\n]*", "", text)


def _tenant(name: str):
    """A function schema -> the block `name` composed for that tenant."""
    text = SQL[name]

    def compose(schema: str) -> sql.Composed:
        return in_tenant(text, schema)

    compose.__name__ = compose.__qualname__ = name
    compose.__doc__ = f"queries.sql `{name}` in the tenant's schema."
    return compose


# --- sessions (db.py) -----------------------------------------------------------------

CONTROL_SCHEMA_EXISTS = SQL["control_schema_exists"]
READ_ONLY_TRANSACTION = SQL["read_only_transaction"]
LEAVE_TENANT = split_statements(SQL["leave_tenant"])


def create_database(name: str) -> sql.Composed:
    return sql.SQL(SQL["create_database"]).format(db=sql.Identifier(name))


def drop_database(name: str) -> sql.Composed:
    return sql.SQL(SQL["drop_database"]).format(db=sql.Identifier(name))


def enter_tenant(schema: str, role: str, *, local: bool = False) -> sql.Composed:
    """The role and search_path of one of the tenant's roles (for the transaction only: `local`)."""
    path = sql.SQL(", ").join([sql.Identifier(schema), sql.SQL("pg_catalog, pg_temp")]).as_string(None)
    return sql.SQL(SQL["enter_tenant"]).format(role=sql.Literal(role), path=sql.Literal(path),
                                               local=sql.Literal(local))


# --- the registry (tenants.py) --------------------------------------------------------

TENANT_BY_CLIENT_ID = SQL["tenant_by_client_id"]
TENANT_BY_SCHEMA = SQL["tenant_by_schema"]
LIST_TENANTS = SQL["list_tenants"]
LIST_TENANTS_ENABLED = SQL["list_tenants_enabled"]
LOCK_TENANTS = SQL["lock_tenants"]
REGISTER_TENANT = SQL["register_tenant"]
UNREGISTER_TENANT = SQL["unregister_tenant"]
SET_TENANT_ENABLED = SQL["set_tenant_enabled"]
TENANT_ROLE_COLLISIONS = SQL["tenant_role_collisions"]
ENSURE_TENANT_ROLES = SQL["ensure_tenant_roles"]
ROLE_EXISTS = SQL["role_exists"]
ROLE_USED_ELSEWHERE = SQL["role_used_elsewhere"]
SCHEMA_EXISTS = SQL["schema_exists"]
CITUS_INSTALLED = SQL["citus_installed"]
SCHEMA_DISTRIBUTED = SQL["schema_distributed"]
TENANT_TRIGGER_DROPS = SQL["tenant_trigger_drops"]
DISTRIBUTE_SCHEMA = SQL["distribute_schema"]
drop_tenant_schema = _tenant("drop_tenant_schema")


def create_tenant_schema(schema: str, owner: str) -> list[sql.Composed]:
    return [in_tenant(s, schema, owner=owner) for s in split_statements(SQL["create_tenant_schema"])]


def drop_owned_by(role: str) -> sql.Composed:
    return sql.SQL(SQL["drop_owned_by"]).format(role=sql.Identifier(role))


def drop_role(role: str) -> sql.Composed:
    return sql.SQL(SQL["drop_role"]).format(role=sql.Identifier(role))


# --- migrations (migrate.py) ----------------------------------------------------------

LOCK_MIGRATIONS = SQL["lock_migrations"]
LOCK_TENANT_MIGRATION = SQL["lock_tenant_migration"]
CREATE_CONTROL_SCHEMA = split_statements(SQL["create_control_schema"])
RESET_SEARCH_PATH = SQL["reset_search_path"]
HAS_INSTALLED_TABLE = SQL["has_installed_table"]
CONTROL_CODE_VERSION = SQL["control_code_version"]
SET_CONTROL_CODE_VERSION = SQL["set_control_code_version"]
TENANT_CODE_VERSIONS = SQL["tenant_code_versions"]
SET_CODE_VERSION = SQL["set_code_version"]
FEATURE_COLUMNS = SQL["feature_columns"]
# text of a migration to write (pyloader/features.py), not run from here
FEATURE_MIGRATION_LOCK_TIMEOUT = SQL["feature_migration_lock_timeout"]
FEATURE_MIGRATION_ALTER_TABLE = SQL["feature_migration_alter_table"]
FEATURE_MIGRATION_ADD_COLUMN = SQL["feature_migration_add_column"]
FEATURE_MIGRATION_DROP_COLUMN = SQL["feature_migration_drop_column"]
FEATURE_MIGRATION_DROP_VIEW = SQL["feature_migration_drop_view"]
FEATURE_MIGRATION_QUEUE_EVERY_KEY = SQL["feature_migration_queue_every_key"]
sql_search_path = _tenant("sql_search_path")
has_queued_work = _tenant("has_queued_work")
hint_work = _tenant("hint_work")
tenant_revision = _tenant("tenant_revision")


# --- status ---------------------------------------------------------------------------

tenant_summary = _tenant("tenant_summary")
tenant_status = _tenant("tenant_status")
queue_depth = _tenant("queue_depth")
TENANT_METRICS = SQL["tenant_metrics"]


def tenant_summaries(schemas: list[str]) -> sql.Composed:
    """(schema, revision, queue depth, oldest mark, last run) of each tenant, in one statement."""
    return sql.SQL(" UNION ALL ").join(
        in_tenant(SQL["tenant_summary_row"], schema, summary=tenant_summary(schema)) for schema in schemas)


# --- processing -----------------------------------------------------------------------

process_dirty = _tenant("process_dirty")
session_run = _tenant("session_run")
last_run = _tenant("last_run")
fail_last_run = _tenant("fail_last_run")
unlock_run = _tenant("unlock_run")
run_totals = _tenant("run_totals")
DISPATCH = SQL["dispatch"]
HINTED = SQL["hinted"]
CRON_DATABASE = SQL["cron_database"]
CRON_JOBS_FOR_DB = SQL["cron_jobs_for_db"]
CRON_SCHEDULE = SQL["cron_schedule"]
CRON_UNSCHEDULE = SQL["cron_unschedule"]
CRON_DISPATCH_COMMAND = SQL["cron_dispatch_command"]
CRON_PURGE_COMMAND = SQL["cron_purge_command"]


def listen(channel: str) -> sql.Composed:
    return sql.SQL(SQL["listen"]).format(channel=sql.Identifier(channel))


# --- loading (load.py builds its staging and merge itself) ----------------------------

LOADER_SESSION = SQL["loader_session"]
TRY_LOAD_LOCK = SQL["try_load_lock"]
RELEASE_LOAD_LOCK = SQL["release_load_lock"]
start_load = _tenant("start_load")
count_batch = _tenant("count_batch")
finish_load = _tenant("finish_load")
copy_rejects = _tenant("copy_rejects")
reap_stale_loads = _tenant("reap_stale_loads")
move_watermark = _tenant("move_watermark")
watermarks = _tenant("watermarks")
loader_config = _tenant("loader_config")


# --- export (export.py) ---------------------------------------------------------------

EXPORT_SESSION = SQL["export_session"]
EXPORT_AS_OF_WEEK = SQL["export_as_of_week"]
EXPORT_COLUMNS = SQL["export_columns"]
EXPORT_SNAPSHOT = SQL["export_snapshot"]
EXPORT_ARROW_SETTINGS = split_statements(SQL["export_arrow_settings"])


def export_arrow_snapshot(snapshot: str) -> list[sql.Composed]:
    return [sql.SQL(s).format(snapshot=sql.Literal(snapshot)) for s in split_statements(SQL["export_arrow_snapshot"])]


def export_rows(table: str, columns: list[str], week: str, filters: list[str]) -> sql.Composed:
    """The SELECT of an export: `columns` of `table`, with the filters named (from_week,
    to_week on the `week` column, product_ids), each a bound parameter of its name."""
    fragments = {"from_week": sql.SQL("{} >= %(from_week)s").format(sql.Identifier(week)),
                 "to_week": sql.SQL("{} <= %(to_week)s").format(sql.Identifier(week)),
                 "product_ids": sql.SQL("product_id = ANY(%(product_ids)s)")}
    query = sql.SQL("SELECT {cols} FROM {table}").format(
        cols=sql.SQL(", ").join(map(sql.Identifier, columns)), table=sql.Identifier(table))
    if filters:
        query = sql.SQL("{} WHERE {}").format(query, sql.SQL(" AND ").join(fragments[f] for f in filters))
    return query


def count_rows(select: sql.Composable) -> sql.Composed:
    return sql.SQL("SELECT count(*) FROM ({}) q").format(select)


def copy_csv(select: sql.Composable, *, header: bool) -> sql.Composed:
    return sql.SQL("COPY ({}) TO STDOUT (FORMAT csv{})").format(select, sql.SQL(", HEADER" if header else ""))


# --- the planner API (api/) -----------------------------------------------------------
# in a request's transaction after db.enter_tenant(): tenant objects unqualified;
# filters and cursors are bound parameters, and the pieces that vary (an order,
# an entity) are chosen from the fixed tables below

STATUS = SQL["status"]
HEALTH = SQL["health"]
NOW = SQL["now"]
CLOCK = SQL["clock"]
CHANGED_RECOMMENDATIONS = SQL["changed_recommendations"]
DECIDE = SQL["decide"]
TENANT_SETTINGS = SQL["tenant_settings"]
TENANT_SETTINGS_FIELDS = ("as_of_date", "default_service_level", "default_lead_time_days", "horizon_weeks")
ACKNOWLEDGE = SQL["acknowledge"]
CONFLICT = SQL["conflict"]
CREATE_API_TOKEN = SQL["create_api_token"]
LIST_API_TOKENS = SQL["list_api_tokens"]
REVOKE_API_TOKEN = SQL["revoke_api_token"]
RESOLVE_API_TOKEN = SQL["resolve_api_token"]


def update_tenant_settings(fields: list[str]) -> sql.Composed:
    """UPDATE settings for the fields a request sets (each of TENANT_SETTINGS_FIELDS)."""
    sets = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(f), sql.Placeholder(f))
                              for f in TENANT_SETTINGS_FIELDS if f in fields)
    return sql.SQL(SQL["update_tenant_settings"]).format(fields=sets)


@dataclasses.dataclass(frozen=True)
class SortKey:
    expr: str      # never null
    desc: bool
    cast: str      # the SQL type a cursor's text value is cast back to


@dataclasses.dataclass(frozen=True)
class Listing:
    """One list resource: what it selects, how it filters and orders."""
    columns: str                     # what a row is
    source: str                      # FROM clause
    filters: dict[str, str]          # parameter name -> predicate on %(name)s
    orders: dict[str, tuple[SortKey, ...]]
    default_order: str

    def page(self, order: str, filters: list[str], *, after_cursor: bool) -> str:
        """A page in `order`: the filters named, the rows after the cursor's (%(c0)s, ...),
        at most %(limit)s; each row carries its sort keys as text in `_cursor`."""
        keys = self.orders[order]
        where = [self.filters[name] for name in filters] + ([after(keys)] if after_cursor else [])
        return (f"SELECT {self.columns}, ARRAY[{', '.join(f'({k.expr})::text' for k in keys)}] AS _cursor"
                f" FROM {self.source} {'WHERE ' + ' AND '.join(where) if where else ''}"
                f" ORDER BY {', '.join(k.expr + (' DESC' if k.desc else '') for k in keys)} LIMIT %(limit)s")


def after(keys: tuple[SortKey, ...]) -> str:
    """The rows after the cursor's, in the order of `keys`."""
    def val(i):
        return f"%(c{i})s::{keys[i].cast}"
    if len({k.desc for k in keys}) == 1:  # one direction: a row comparison, which an index can serve
        op = "<" if keys[0].desc else ">"
        return f"({', '.join(k.expr for k in keys)}) {op} ({', '.join(val(i) for i in range(len(keys)))})"
    terms = []
    for i, k in enumerate(keys):
        equal = [f"{keys[j].expr} = {val(j)}" for j in range(i)]
        terms.append("(" + " AND ".join([*equal, f"{k.expr} {'<' if k.desc else '>'} {val(i)}"]) + ")")
    return "(" + " OR ".join(terms) + ")"


def _keys(*spec: tuple[str, bool, str]) -> tuple[SortKey, ...]:
    return tuple(SortKey(*s) for s in spec)


_BY_KEY = (("r.product_id", False, "text"), ("r.location_id", False, "text"))
_KEY_FILTERS = {"product_id": "r.product_id = %(product_id)s", "location_id": "r.location_id = %(location_id)s"}

RECOMMENDATIONS = Listing(
    columns="r.*", source="recommendations r",
    filters={
        "reason": "r.reason = %(reason)s",
        "decision": "r.decision = %(decision)s",
        **_KEY_FILTERS,
        "supplier_id": "r.product_id IN (SELECT p.product_id FROM erp_products p"
                       " WHERE p.supplier_id = %(supplier_id)s AND NOT p.deleted)",
    },
    orders={
        "recommended_qty.desc": _keys(("coalesce(r.recommended_qty, '-Infinity'::float8)", True, "float8"), *_BY_KEY),
        "product_id": _keys(*_BY_KEY),
        "qty_changed_at.desc": _keys(("coalesce(r.qty_changed_at, '-infinity'::timestamptz)", True, "timestamptz"),
                                     *_BY_KEY),
    },
    default_order="recommended_qty.desc",
)

FORECASTS = Listing(
    columns="r.*", source="forecasts r",
    filters=_KEY_FILTERS,
    orders={"product_id": _keys(*_BY_KEY, ("r.target_week", False, "date"))},
    default_order="product_id",
)

MASTER_FILE = Listing(
    columns="r.*", source="master_file r",
    filters={**_KEY_FILTERS, "from_week": "r.week_start >= %(from_week)s", "to_week": "r.week_start <= %(to_week)s"},
    orders={"product_id": _keys(*_BY_KEY, ("r.week_start", False, "date"))},
    default_order="product_id",
)

CONFLICTS = Listing(
    columns="r.*", source="conflicts r",
    filters={"acknowledged": "(r.acknowledged_at IS NOT NULL) = %(acknowledged)s"},
    orders={"newest": _keys(("r.conflict_id", True, "bigint"))},
    default_order="newest",
)


@dataclasses.dataclass(frozen=True)
class Entity:
    """A settings resource: `/products` and `/settings/products/{id}`, ...

    Its ERP values, the UI's override and the effective values.
    """
    name: str                 # path segment of the list and of settings
    key: tuple[str, ...]      # key columns
    ui_table: str
    override_fields: tuple[str, ...]
    source: str               # FROM clause: k (keys and effective values), e (ERP row), u (override row)
    erp: str                  # jsonb of the ERP row, or null
    effective: str            # jsonb of the effective values
    name_expr: str | None     # what `q` matches besides the id

    def doc(self) -> str:
        """The entity's document: its key, `erp`, `override` and `effective`."""
        key_json = ", ".join(f"'{k}', k.{k}" for k in self.key)
        return (f"jsonb_build_object({key_json}, 'erp', {self.erp},"
                f" 'override', CASE WHEN u.{self.key[0]} IS NULL THEN NULL"
                f" ELSE to_jsonb(u) {''.join(f' - {k!r}' for k in self.key)} END,"
                f" 'effective', {self.effective}) AS doc")

    def listing(self) -> Listing:
        match = " OR ".join(f"strpos(lower({e}), lower(%(q)s)) > 0"
                            for e in (f"k.{self.key[0]}", self.name_expr) if e)
        return Listing(columns=self.doc(), source=self.source, filters={"q": f"({match})"},
                       orders={"id": tuple(SortKey(f"k.{k}", False, "text") for k in self.key)},
                       default_order="id")

    def select_doc(self) -> str:
        """The document of one key (%(<key column>)s each)."""
        return f"SELECT {self.doc()} FROM {self.source} WHERE " + " AND ".join(f"k.{k} = %({k})s" for k in self.key)

    def upsert(self) -> str:
        cols = (*self.key, *self.override_fields, "updated_by")
        sets = ", ".join(f"{c} = excluded.{c}" for c in (*self.override_fields, "updated_by"))
        return (f"INSERT INTO {self.ui_table} ({', '.join(cols)}) VALUES ({', '.join(f'%({c})s' for c in cols)})"
                f" ON CONFLICT ({', '.join(self.key)}) DO UPDATE SET {sets}")

    def delete(self) -> str:
        return (f"DELETE FROM {self.ui_table} WHERE "
                + " AND ".join(f"{k} = %({k})s" for k in self.key) + f" RETURNING {self.key[0]}")


def _erp_entity(name: str, key: str, override_fields: tuple[str, ...], effective: str) -> Entity:
    """An entity the ERP sends (erp_<name>) with UI overrides (ui_<singular>_settings)."""
    ui_table = f"ui_{name[:-1]}_settings"
    return Entity(
        name=name, key=(key,), ui_table=ui_table, override_fields=override_fields,
        source=f"effective_{name} k LEFT JOIN erp_{name} e ON e.{key} = k.{key} AND NOT e.deleted"
               f" LEFT JOIN {ui_table} u ON u.{key} = k.{key}",
        erp=f"CASE WHEN e.{key} IS NULL THEN NULL ELSE to_jsonb(e) - '{key}' - 'deleted' - 'load_id' END",
        effective=effective, name_expr="e.name",
    )


PRODUCTS = _erp_entity("products", "product_id", ("discontinued", "service_level"),
                       "jsonb_build_object('discontinued', k.discontinued, 'service_level', k.service_level)")
LOCATIONS = _erp_entity("locations", "location_id", ("enabled",),
                        "jsonb_build_object('enabled', k.location_enabled)")
SUPPLIERS = _erp_entity("suppliers", "supplier_id",
                        ("lead_time_days", "min_order_qty", "order_multiple", "review_period_weeks"),
                        "jsonb_build_object('lead_time_days', k.lead_time_days, 'min_order_qty', k.min_order_qty,"
                        " 'order_multiple', k.order_multiple, 'review_period_weeks', k.review_period_weeks)")

# only the UI speaks about assortment; a key is known when it has a
# recommendation or an override
ASSORTMENTS = Entity(
    name="assortments", key=("product_id", "location_id"), ui_table="ui_assortments",
    override_fields=("assorted",),
    source="(SELECT product_id, location_id FROM recommendations"
           " UNION SELECT product_id, location_id FROM ui_assortments) k"
           " LEFT JOIN ui_assortments u ON u.product_id = k.product_id AND u.location_id = k.location_id",
    erp="NULL::jsonb",
    effective="jsonb_build_object('assorted', coalesce(u.assorted, true))",
    name_expr=None,
)

ENTITIES = {e.name: e for e in (PRODUCTS, LOCATIONS, SUPPLIERS, ASSORTMENTS)}


# --- make demo (demo.py) --------------------------------------------------------------

demo_supplier_lead_time = _tenant("demo_supplier_lead_time")
demo_disable_location = _tenant("demo_disable_location")
demo_recommendations = _tenant("demo_recommendations")
demo_summary = _tenant("demo_summary")


def demo_undo_edits(schema: str) -> list[sql.Composed]:
    return [in_tenant(s, schema) for s in split_statements(SQL["demo_undo_edits"])]
