"""Every SQL statement of the planner API, named.

They run inside a request's transaction after db.enter_tenant() has set the
role and `search_path = <tenant schema>, pg_catalog, pg_temp`, so tenant
objects are named unqualified here and no identifier is ever built from
input: filters and cursors are bound parameters, and the few pieces that
vary (an order, an entity) are chosen from the fixed tables below.
"""
from __future__ import annotations

import dataclasses

STATUS = """
SELECT jsonb_build_object(
    'end_week', (SELECT end_week FROM pipeline_state),
    'queue_depth', q.queue_depth,
    'oldest_dirty_age_seconds', q.oldest_dirty_age_seconds,
    'last_run', (SELECT jsonb_build_object('run_id', run_id, 'started', started_at, 'finished', finished_at,
                                           'keys', keys_done, 'status', status)
                 FROM runs ORDER BY run_id DESC LIMIT 1),
    'open_conflicts', (SELECT count(*) FROM conflicts WHERE acknowledged_at IS NULL))
FROM queue_status q
"""

HEALTH = "SELECT 1"

NOW = "SELECT now()"

# the event feed: rows the pipeline wrote since a moment (index t0012)
CHANGED_RECOMMENDATIONS = """
SELECT product_id, location_id, recommended_qty, reason, computed_at
FROM recommendations WHERE computed_at > %(since)s
ORDER BY computed_at, product_id, location_id
LIMIT %(limit)s
"""


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


# --- entities: ERP values, the UI's override and the effective values --------------


@dataclasses.dataclass(frozen=True)
class Entity:
    """A settings resource: `/products` and `/settings/products/{id}`, ..."""
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

    def where_key(self) -> str:
        return " AND ".join(f"k.{k} = %({k})s" for k in self.key)

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

# --- decisions and settings -------------------------------------------------------

# one statement for a single decision and for a set: a field left out keeps its value
DECIDE = """
UPDATE recommendations r SET
    decision = CASE WHEN d.set_decision THEN d.decision ELSE r.decision END,
    approved_qty = CASE WHEN d.set_qty THEN d.approved_qty ELSE r.approved_qty END,
    note = CASE WHEN d.set_note THEN d.note ELSE r.note END,
    decided_by = %(decided_by)s,
    decided_at = now()
FROM unnest(%(product_id)s::text[], %(location_id)s::text[], %(set_decision)s::bool[], %(decision)s::text[],
            %(set_qty)s::bool[], %(approved_qty)s::float8[], %(set_note)s::bool[], %(note)s::text[])
     AS d (product_id, location_id, set_decision, decision, set_qty, approved_qty, set_note, note)
WHERE r.product_id = d.product_id AND r.location_id = d.location_id
RETURNING r.*
"""

TENANT_SETTINGS = "SELECT as_of_date, default_service_level, default_lead_time_days, horizon_weeks," \
                  " updated_by, updated_at FROM settings"
TENANT_SETTINGS_FIELDS = ("as_of_date", "default_service_level", "default_lead_time_days", "horizon_weeks")

ACKNOWLEDGE = """
UPDATE conflicts SET acknowledged_by = %(by)s, acknowledged_at = now()
WHERE conflict_id = %(conflict_id)s AND acknowledged_at IS NULL
RETURNING *
"""
CONFLICT = "SELECT * FROM conflicts WHERE conflict_id = %(conflict_id)s"
