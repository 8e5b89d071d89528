"""The features are declared once (sql/control/015_features_declared.sql)
and everything else follows: the file's reading (pyloader/features.py) is the
view's, its stored kinds the C kernel's, the features table of every tenant
holds the declaration's stored features (or migrate refuses and names the
migration), the derived ones are computed when the master file is read, and
an added feature is filled for every key through the queue, batch by batch
while the tenant serves, to the reference's values (issue 17, items 1-2).
"""
from __future__ import annotations

import re

import psycopg
import pytest

from pyloader import features, migrate, queries
from tests import lines
from tests.conftest import scalar
from tests.reference.features import IDENTITY_COLUMNS, compute_master_file
from tests.test_features import AS_OF, end_week
from tests.test_kernel_declarations import REPO

# issue 17's examples: a window of a new width, an ewm of a new span
ADDED = (features.Feature("sold_mean_39", "mean", "units_sold", 39),
         features.Feature("ewm_units_received_s26", "ewm", "units_received", 26))


def table_columns(conn: psycopg.Connection, schema: str) -> dict[str, str]:
    return dict(conn.execute(queries.FEATURE_COLUMNS, {"schema": schema}).fetchall())


def run_migration(conn: psycopg.Connection, body: str) -> None:
    """The upgrade() body features.disagreement() names, run as Alembic's op would run it."""
    class Op:
        @staticmethod
        def execute(statement: str) -> None:
            conn.execute(statement)

    exec(body, {"op": Op})


def test_the_view_holds_what_the_file_declares(db_url):
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT name, kind, input, param, description FROM masterfile.declared_features"
                            " ORDER BY position").fetchall()
    assert rows == [(f.name, f.kind, f.input, f.param, f.description) for f in features.declared()]
    assert len(rows) == 70


def test_the_kernel_knows_the_kinds_the_declaration_may_store():
    """ext/masterfile_kernel.c's table of kinds: the stored ones' names, and integer where Python says."""
    c_source = (REPO / "ext" / "masterfile_kernel.c").read_text()
    table = re.findall(r'^\t\[K_\w+\] = \{"(\w+)", (true|false), P_(\w+), (true|false)\},$', c_source, re.MULTILINE)
    assert [name for name, *_ in table] == [name for name, kind in features.KINDS.items() if kind.stored]
    assert {"on_hand", "on_order", "cover", "avg_price"} == {n for n, k in features.KINDS.items() if not k.stored}
    for name, takes_input, param, integer in table:
        kind = features.KINDS[name]
        assert (takes_input == "true", param.lower(), integer == "true") == (
            kind.input, kind.param or "none", kind.sql_type == "integer"), name
    (c_lookback,) = re.findall(r"^#define MAX_LOOKBACK (\d+)\b", c_source, re.MULTILINE)
    assert int(c_lookback) == features.LOOKBACK


def test_a_declaration_the_kernel_cannot_compute_is_refused():
    declared = list(features.declared())
    with pytest.raises(ValueError, match="sold_std_60: reaches 59 weeks back, at most 51"):
        features.check(declared + [features.Feature("sold_std_60", "std", "units_sold", 60)])
    with pytest.raises(ValueError, match="received_mean_4: trailing windows and lags read units_sold or revenue"):
        features.check(declared + [features.Feature("received_mean_4", "mean", "units_received", 4)])
    with pytest.raises(ValueError, match="cover_6: needs a declared feature of kind ewm, input units_sold, param 6"):
        features.check(declared + [features.Feature("cover_6", "cover", "units_sold", 6, "x")])
    with pytest.raises(ValueError, match="avg_price_8: needs a declared feature of kind mean, input revenue, param 8"):
        features.check(declared + [features.Feature("avg_price_8", "avg_price", None, 8, "x")])
    with pytest.raises(ValueError, match="units_sold: the name is taken"):
        features.check(declared + [features.Feature("units_sold", "lag", "units_sold", 1)])
    with pytest.raises(ValueError, match="line 3: not an entry"):
        features.parse("FROM (VALUES\n    ('a', 'fact', 'units_sold', NULL, NULL),\n    ('b', fact)\n) AS d(")


def test_placeholders_expand_one_entry_per_feature():
    two = features.declared()[:2]
    assert features.expand("SELECT @features f.{name}@ FROM f", two) == "SELECT f.units_sold, f.units_returned FROM f"
    assert features.expand("  @features {name} {type}@,\n", two) == (
        "  units_sold double precision,\n  units_returned double precision,\n")
    assert features.expand("ARRAY[@features {param}@] @features {kind}@",
                           ADDED) == "ARRAY[39, 26] 'mean', 'ewm'"


def test_a_derived_feature_is_read_not_stored():
    """@features lists the stored features (the table's, the kernel's);
    @all_features every declared one, a derived one's value its expression
    over the stored columns it needs; @value one feature's value."""
    declared = features.declared()
    by_name = {f.name: f for f in declared}
    derived = [f.name for f in declared if not f.stored]
    assert derived == ["est_on_hand", "on_order", "weeks_of_cover", "avg_price_13"]
    assert features.expand("(@features {name}@)") == "(" + ", ".join(f.name for f in features.stored()) + ")"
    assert features.expand("(@all_features {name}@)") == "(" + ", ".join(f.name for f in declared) + ")"
    assert by_name["weeks_of_cover"].value(declared) == (
        "CASE WHEN f.ewm_units_sold_s4 > 0 THEN (f.cum_units_received - f.cum_units_sold + f.cum_units_returned)"
        " / f.ewm_units_sold_s4 END")
    assert features.expand("@value avg_price_13@ AS a, @value units_sold@") == (
        "CASE WHEN f.sold_mean_13 <> 0 THEN f.revenue_mean_13 / f.sold_mean_13 END AS a, f.units_sold")
    with pytest.raises(ValueError, match="@value nope@: no such declared feature"):
        features.expand("@value nope@")


def test_a_tenant_table_is_the_declaration(tenant):
    with tenant.connect() as conn:
        columns = table_columns(conn, tenant.schema)
        view = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s"
            " AND table_name = 'master_file' ORDER BY ordinal_position", (tenant.schema,))]
    assert features.disagreement(columns) is None
    assert list(columns) == [f.name for f in features.stored()]
    assert "est_on_hand" not in columns
    declared = [f.name for f in features.declared()]
    assert view[len(IDENTITY_COLUMNS):len(IDENTITY_COLUMNS) + len(declared)] == declared
    # a declaration one entry longer than the table: what to write, in full
    problem = features.disagreement(columns, features.declared() + ADDED)
    assert problem.startswith("the features table and sql/control/015_features_declared.sql disagree "
                              "(declared but not in the table: sold_mean_39, ewm_units_received_s26). "
                              "Write a tenant migration")
    assert ("op.execute('ALTER TABLE features ADD COLUMN sold_mean_39 double precision, "
            "ADD COLUMN ewm_units_received_s26 double precision')") in problem


def test_migrate_refuses_a_tenant_whose_table_is_not_the_declaration(tenant, monkeypatch):
    monkeypatch.setattr(features, "declared", lambda path=None: features.parse(
        features.DECLARATION.read_text()) + ADDED)
    (result,) = migrate.migrate_all(tenant.url, reload=True)
    assert not result.ok
    assert "declared but not in the table: sold_mean_39, ewm_units_received_s26" in result.error
    with tenant.connect() as conn:  # left as it was
        assert "sold_mean_39" not in table_columns(conn, tenant.schema)
        assert scalar(conn, "SELECT count(*) FROM master_file") == 0


@pytest.fixture
def loaded(tenant):
    with tenant.connect() as admin:
        admin.execute("UPDATE settings SET as_of_date = %s", (AS_OF,))
    with tenant.connect("loader") as conn:
        for table, rows in lines.generate(11).items():
            lines.insert(conn, table, rows)
    with tenant.connect("pipeline") as conn:
        conn.execute("CALL process_dirty()")
    return tenant


def test_an_added_feature_is_filled_through_the_queue_while_the_tenant_serves(loaded, monkeypatch):
    tenant = loaded
    extended = features.declared() + ADDED
    columns = IDENTITY_COLUMNS + [f.name for f in extended]
    with tenant.connect() as conn:
        n_keys = scalar(conn, "SELECT count(*) FROM _private_feature_keys")
        before = lines.master_file(conn, IDENTITY_COLUMNS + [f.name for f in features.declared()])
        # the entry, then the migration the tooling names, then `pyloader migrate`
        problem = features.disagreement(table_columns(conn, tenant.schema), extended)
        body = problem[problem.index("upgrade runs:\n") + len("upgrade runs:\n"):]
        run_migration(conn, body)
    monkeypatch.setattr(features, "declared", lambda path=None: extended)
    (result,) = migrate.migrate_all(tenant.url, reload=True)
    assert result.ok, result.error

    # the tenant serves at once: every row, the new columns null until their key's turn
    with tenant.connect("reader") as reader:
        assert scalar(reader, "SELECT count(*) FROM master_file WHERE sold_mean_39 IS NULL") == len(before)
    with tenant.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM _private_dirty_keys WHERE product_id IS NULL") == 1

    # batch by batch: after one batch of 3 keys, those keys are filled and the others still read
    with tenant.connect("pipeline") as conn:
        conn.execute("SELECT prepare_queue()")
        done = conn.execute("SELECT keys_done, keys_failed FROM process_batch(3)").fetchone()
    assert done == (3, 0)
    with tenant.connect("reader") as reader:
        filled = scalar(reader, "SELECT count(DISTINCT (product_id, location_id)) FROM master_file"
                                " WHERE sold_mean_39 IS NOT NULL")
        assert filled == 3 < n_keys
        assert scalar(reader, "SELECT count(*) FROM master_file") == len(before)
    with tenant.connect("pipeline") as conn:
        conn.execute("CALL process_dirty(3)")
        assert scalar(conn, "SELECT count(*) FROM runs WHERE status <> 'succeeded'") == 0
    with tenant.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM _private_dirty_keys") == 0
        got = lines.master_file(conn, columns)
        want = compute_master_file(*lines.read_lines(conn), end_week(AS_OF), features=extended)
    lines.assert_frames_close(got, want.reset_index(drop=True))
    # the columns there before are untouched
    lines.assert_frames_close(got[list(before.columns)], before, rel=0, abs_=0)

    # and the pipeline keeps them from then on: a correction, as any other column
    with tenant.connect("loader") as conn:
        conn.execute("UPDATE erp_receipt_lines SET qty_received = qty_received + 7, updated_at = updated_at + interval '1 day'"
                     " WHERE receipt_id = (SELECT min(receipt_id) FROM erp_receipt_lines)")
    with tenant.connect("pipeline") as conn:
        conn.execute("CALL process_dirty()")
    with tenant.connect() as conn:
        got = lines.master_file(conn, columns)
        want = compute_master_file(*lines.read_lines(conn), end_week(AS_OF), features=extended)
    lines.assert_frames_close(got, want.reset_index(drop=True))


def test_the_feature_kinds_cover_the_contract():
    """Every column of features.md after the identity is declared, each of a kind the kernel computes."""
    kinds = {f.kind for f in features.declared()}
    assert kinds == set(features.KINDS)
