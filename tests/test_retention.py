"""Retention (sql/tenant/096_retention.sql): apply_retention() deletes a
tenant's runs, loads, rejects and acknowledged conflicts older than its
retention_policy, and nothing else."""
from __future__ import annotations

from tests.conftest import scalar


def _seed(conn) -> None:
    """Rows on both sides of every default period (runs 30 d, loads 90 d, rejects 30 d)."""
    conn.execute(
        """
        INSERT INTO runs (trigger, status, started_at, finished_at) VALUES
            ('old',     'succeeded', now() - interval '40 days', now() - interval '40 days'),
            ('old',     'failed',    now() - interval '31 days', now() - interval '31 days'),
            ('recent',  'succeeded', now() - interval '29 days', now() - interval '29 days'),
            ('recent',  'succeeded', now(), now()),
            -- still running after 60 days (a killed process): never deleted here
            ('running', 'running',   now() - interval '60 days', NULL);
        INSERT INTO loads (load_id, source, entity, status, started_at, finished_at) VALUES
            (1, 'old',     'products', 'succeeded', now() - interval '100 days', now() - interval '100 days'),
            (2, 'recent',  'products', 'succeeded', now() - interval '80 days',  now() - interval '80 days'),
            (3, 'recent',  'products', 'failed',    now() - interval '1 day',    now() - interval '1 day'),
            (4, 'running', 'products', 'running',   now() - interval '200 days', NULL);
        SELECT setval('loads_load_id_seq', 4);
        INSERT INTO rejects (load_id, entity, raw, reason, rejected_at) VALUES
            (1, 'products', 'with its old load', 'r', now() - interval '10 days'),
            (2, 'products', 'old',               'r', now() - interval '31 days'),
            (2, 'products', 'recent',            'r', now() - interval '29 days'),
            (3, 'products', 'recent',            'r', now());
        """
    )


def test_retention_deletes_only_what_is_older_than_the_policy(tenant):
    with tenant.connect() as conn:
        _seed(conn)
    with tenant.connect("pipeline") as conn:  # the role the scheduler calls it as
        deleted = scalar(conn, "SELECT apply_retention()")
        again = scalar(conn, "SELECT apply_retention()")
    assert deleted == {"runs": 2, "loads": 1, "rejects": 2, "conflicts": 0}
    assert again == {"runs": 0, "loads": 0, "rejects": 0, "conflicts": 0}  # idempotent
    with tenant.connect() as conn:
        assert sorted(r[0] for r in conn.execute("SELECT trigger FROM runs")) == ["recent", "recent", "running"]
        assert [r[0] for r in conn.execute("SELECT load_id FROM loads ORDER BY 1")] == [2, 3, 4]
        assert sorted(tuple(r) for r in conn.execute("SELECT load_id, raw FROM rejects")) == [
            (2, "recent"), (3, "recent")]


def test_retention_follows_the_tenants_own_policy(tenant):
    with tenant.connect() as conn:
        _seed(conn)
        conn.execute("UPDATE retention_policy SET runs_kept = interval '365 days', loads_kept = interval '7 days'")
    with tenant.connect("pipeline") as conn:
        deleted = scalar(conn, "SELECT apply_retention()")
    # no run is a year old; loads 1 and 2 are older than a week, and take their rejects along
    assert deleted == {"runs": 0, "loads": 2, "rejects": 3, "conflicts": 0}


def test_acknowledged_conflicts_go_when_old_and_others_stay(tenant):
    with tenant.connect() as conn:
        conn.execute(
            "INSERT INTO conflicts (entity, entity_key, field, erp_updated_at, detected_at) VALUES"
            " ('product', 'P1', 'status', now() - interval '200 days', now() - interval '200 days'),"
            " ('product', 'P2', 'status', now() - interval '200 days', now() - interval '200 days'),"
            " ('product', 'P3', 'status', now() - interval '200 days', now() - interval '200 days')"
        )
    with tenant.connect("pipeline") as conn:
        assert scalar(conn, "SELECT apply_retention()")["conflicts"] == 0  # none acknowledged
    with tenant.connect() as conn:
        # acknowledged (t0012: who and when, together) 91 and 89 days ago
        conn.execute("UPDATE conflicts SET acknowledged_by = 'ann', acknowledged_at = now() - interval '91 days'"
                     " WHERE entity_key = 'P1'")
        conn.execute("UPDATE conflicts SET acknowledged_by = 'ann', acknowledged_at = now() - interval '89 days'"
                     " WHERE entity_key = 'P2'")
    with tenant.connect("pipeline") as conn:
        assert scalar(conn, "SELECT apply_retention()")["conflicts"] == 1
    with tenant.connect() as conn:
        assert sorted(r[0] for r in conn.execute("SELECT entity_key FROM conflicts")) == ["P2", "P3"]


def test_only_the_pipeline_may_call_it_and_the_policy_is_the_operators(tenant):
    import psycopg
    import pytest

    for role in ("reader", "ui", "loader"):
        with tenant.connect(role) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT apply_retention()")
    for role in ("ui", "pipeline"):
        with tenant.connect(role) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE retention_policy SET runs_kept = interval '1 day'")
    with tenant.connect("reader") as conn:
        assert str(scalar(conn, "SELECT runs_kept FROM retention_policy")) == "30 days, 0:00:00"
