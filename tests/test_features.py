"""The master file computed in the database equals an independent pandas
implementation of features.md, from scratch and after incremental changes
(issue 5)."""
from __future__ import annotations

import datetime as dt

import pytest

from tests import lines
from tests.conftest import scalar
from tests.reference.features import FEATURE_COLUMNS, compute_master_file

AS_OF = dt.date(2025, 7, 16)  # end_week = Monday 2025-07-07


def end_week(as_of: dt.date) -> dt.date:
    monday = as_of - dt.timedelta(days=as_of.weekday())
    return monday - dt.timedelta(days=7)


@pytest.fixture
def loaded(tenant):
    with tenant.connect() as admin:
        admin.execute("UPDATE settings SET as_of_date = %s", (AS_OF,))
    with tenant.connect("loader") as conn:
        for table, rows in lines.generate(7).items():
            lines.insert(conn, table, rows)
    return tenant


def process(tenant) -> None:
    with tenant.connect("pipeline") as conn:
        conn.execute("CALL process_dirty()")
        assert scalar(conn, "SELECT count(*) FROM _private_dirty_keys") == 0


def queued(tenant, where: str = "true") -> int:
    """Marks in the queue (read as the owner: the queue is the pipeline's alone)."""
    with tenant.connect() as conn:
        return scalar(conn, f"SELECT count(*) FROM _private_dirty_keys WHERE {where}")


def check_against_reference(tenant, as_of=AS_OF) -> None:
    with tenant.connect() as conn:
        want = compute_master_file(*lines.read_lines(conn), end_week(as_of))
        got = lines.master_file(conn, FEATURE_COLUMNS)
    lines.assert_frames_close(got, want.reset_index(drop=True))


def test_master_file_has_the_90_contract_columns(tenant):
    with tenant.connect() as conn:
        cols = [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = 'master_file'"
            " ORDER BY ordinal_position", (tenant.schema,))]
    assert len(cols) == 90
    assert cols[:77] == FEATURE_COLUMNS


def test_full_computation_matches_reference(loaded):
    process(loaded)
    check_against_reference(loaded)


def test_incremental_changes_match_reference(loaded):
    process(loaded)
    with loaded.connect("loader") as conn:
        later = lines.UPDATED_AT + dt.timedelta(days=1)
        # a corrected quantity, a line moved to another key and week, a
        # tombstone, a hard delete, a late line before a key's first week, an
        # unknown product, a cancelled order un-cancelled
        conn.execute("UPDATE erp_sales_lines SET qty = qty + 3, updated_at = %s "
                     "WHERE txn_id = (SELECT min(txn_id) FROM erp_sales_lines)", (later,))
        conn.execute("UPDATE erp_sales_lines SET product_id = 'P1', location_id = 'L2', "
                     "business_date = business_date - 40, updated_at = %s "
                     "WHERE txn_id = (SELECT max(txn_id) FROM erp_sales_lines WHERE product_id = 'P0')", (later,))
        conn.execute("UPDATE erp_receipt_lines SET deleted = true, updated_at = %s "
                     "WHERE receipt_id = (SELECT min(receipt_id) FROM erp_receipt_lines)", (later,))
        lines.insert(conn, "erp_sales_lines", [
            dict(txn_id="LATE1", line_no=1, product_id="P2", location_id="L0",
                 business_date=dt.date(2023, 12, 20), qty=4, net_amount=10),
            dict(txn_id="UNKNOWN", line_no=1, product_id="NEWP", location_id="L0",
                 business_date=dt.date(2025, 3, 3), qty=2, net_amount=5),
            dict(txn_id="FUTURE", line_no=1, product_id="FUTP", location_id="L0",
                 business_date=dt.date(2025, 9, 1), qty=2, net_amount=5),
        ], updated_at=later)
        # the latest costed invoice line of a week has no amount: its cost is null
        lines.insert(conn, "erp_invoice_lines", [
            dict(invoice_id="zz", line_no=1, po_id=None, product_id="P1", location_id="L1",
                 invoice_date=dt.date(2025, 2, 5), qty_invoiced=5, line_amount=None),
        ], updated_at=later)
        conn.execute("UPDATE erp_purchase_order_lines SET status = 'open', updated_at = %s "
                     "WHERE po_id = (SELECT min(po_id) FROM erp_purchase_order_lines WHERE status = 'cancelled')",
                     (later,))
    with loaded.connect() as conn:  # a hard delete (the loader itself only soft-deletes)
        conn.execute("DELETE FROM erp_invoice_lines WHERE ctid = (SELECT min(ctid) FROM erp_invoice_lines)")
    process(loaded)
    check_against_reference(loaded)


@pytest.mark.parametrize("weeks_back", [0, 12, 13, 51, 60])
def test_change_at_any_depth_matches_reference(loaded, weeks_back):
    # a change this many weeks before end_week recomputes weeks_back + 1
    # weeks of each key, seeded from the stored row before them, with up to
    # 51 stored weeks read back for the trailing windows and lags
    process(loaded)
    week = end_week(AS_OF) - dt.timedelta(weeks=weeks_back)
    with loaded.connect("loader") as conn:
        conn.execute("UPDATE erp_sales_lines SET qty = qty + 5, net_amount = net_amount + 1.25, updated_at = %s "
                     "WHERE business_date >= %s AND business_date < %s + 7 AND product_id IN ('P0', 'P1')",
                     (lines.UPDATED_AT + dt.timedelta(days=1), week, week))
    with loaded.connect("pipeline") as conn:
        conn.execute("BEGIN")
        keys = conn.execute("SELECT count(DISTINCT (product_id, location_id)) FROM _private_dirty_keys "
                            "WHERE scope = 'features'").fetchone()[0]
        written = conn.execute(
            "SELECT refresh_features(array_agg(product_id), array_agg(location_id), array_agg(from_week)) "
            "FROM _private_dirty_keys WHERE scope = 'features'").fetchone()[0]
        conn.execute("ROLLBACK")
    # every week from the change on differs (its cumulative sums), no other
    assert keys > 0 and written == keys * (weeks_back + 1)
    process(loaded)
    check_against_reference(loaded)


def test_key_losing_all_lines_loses_its_rows(loaded):
    process(loaded)
    with loaded.connect("loader") as conn:
        for table in lines.LINE_TABLES:
            conn.execute(f"UPDATE {table} SET deleted = true WHERE product_id = 'P0' AND location_id = 'L0'")
    process(loaded)
    with loaded.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM features WHERE product_id = 'P0' AND location_id = 'L0'") == 0
        assert scalar(conn, "SELECT count(*) FROM _private_feature_keys WHERE product_id = 'P0' AND location_id = 'L0'") == 0
    check_against_reference(loaded)


def test_truncate_rebuilds_everything(loaded):
    process(loaded)
    with loaded.connect() as conn:  # the owner may truncate; the loader may not
        conn.execute("TRUNCATE erp_receipt_lines")
        assert scalar(conn, "SELECT count(*) FROM _private_dirty_keys WHERE product_id IS NULL") == 1
    process(loaded)
    check_against_reference(loaded)


# a move far ahead (1,200 days: over three years of weeks) within the two years past
# today that as_of_date may reach
@pytest.mark.parametrize("move", [7, 35, -21, 400, 1200])
def test_as_of_date_moves(loaded, move):
    process(loaded)
    new_as_of = AS_OF + dt.timedelta(days=move)
    with loaded.connect("ui") as conn:  # as the UI would, and marked in its transaction
        conn.execute("UPDATE settings SET as_of_date = %s", (new_as_of,))
        if abs(move) >= 7:
            assert queued(loaded, "scope = 'features'") > 0
    process(loaded)
    check_against_reference(loaded, new_as_of)


def test_second_run_writes_nothing_and_replay_marks_nothing(loaded):
    process(loaded)
    with loaded.connect("pipeline") as conn:
        conn.execute("CALL process_dirty()")
        assert scalar(conn, "SELECT rows_written FROM runs ORDER BY run_id DESC LIMIT 1") == 0
    with loaded.connect("loader") as conn:
        # same values, same updated_at: the loader's upsert writes nothing; an
        # update that changes no feature input marks nothing either
        conn.execute("UPDATE erp_sales_lines SET load_id = 42")
        assert queued(loaded) == 0


def test_a_line_whose_key_moved_marks_its_week_and_the_master_file_follows(loaded):
    """An update that changes a line's primary key pairs no old row with a new
    one: both sides are changed rows (the week the old line left, the week the
    new one entered)."""
    process(loaded)
    with loaded.connect("loader") as conn:
        txn, line, p, l, d = conn.execute(
            "SELECT txn_id, line_no, product_id, location_id, business_date FROM erp_sales_lines"
            " WHERE NOT deleted ORDER BY txn_id, line_no LIMIT 1").fetchone()
        conn.execute("UPDATE erp_sales_lines SET txn_id = txn_id || '-moved', qty = qty + 1"
                     " WHERE txn_id = %s AND line_no = %s", (txn, line))
    with loaded.connect() as conn:  # the queue is the pipeline's: read as the owner
        marks = conn.execute("SELECT product_id, location_id, from_week FROM _private_dirty_keys").fetchall()
    assert marks == [(p, l, d - dt.timedelta(days=d.weekday()))]
    process(loaded)
    check_against_reference(loaded)


def feature_row_versions(conn) -> set:
    """(ctid, xmin) of every feature row: any write changes the set."""
    return set(conn.execute("SELECT ctid::text, xmin::text FROM features").fetchall())


def test_product_metadata_correction_writes_no_feature_row(loaded):
    process(loaded)
    with loaded.connect() as conn:
        before = feature_row_versions(conn)
    with loaded.connect("loader") as conn:
        conn.execute("INSERT INTO erp_products (product_id, name, category, unit_price, status, updated_at) "
                     "VALUES ('P1', 'Renamed', 'cat', 9.5, 'active', now())")
        assert queued(loaded, "scope = 'features'") == 0
    process(loaded)
    with loaded.connect() as conn:
        assert feature_row_versions(conn) == before
        assert scalar(conn, "SELECT DISTINCT category FROM master_file WHERE product_id = 'P1'") == "cat"
