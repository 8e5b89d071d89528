"""The benchmarks' harness (bench/common.py) where its logic decides what is
recorded: a command run under a memory cap reports that it did not finish
(not a figure), an in-memory baseline too, a long benchmark's section
replaces its own in docs/benchmarks.md and keeps the others, and the
rebuild's probe (bench/rebuild_parts.py) times the computation the pipeline
makes, not another.
"""
from __future__ import annotations

import sys

from bench import bench_features, rebuild_parts
from bench.common import doc_sections, measured, record_section
from tests import lines
from tests.conftest import scalar
from tests.test_features import AS_OF, process

MB = 2**20
# in chunks of 8 MB, every byte written, so the pages are resident (a zeroed
# bytearray may not be) and the memory grows while the cap is watched
ALLOCATE = "x = [b'x' * (8 * 2**20) for _ in range({} // 8)]; print(sum(map(len, x)))"


def test_a_command_over_its_cap_does_not_finish():
    capped = measured([sys.executable, "-c", ALLOCATE.format(1024)], cap_bytes=200 * MB)
    assert not capped.ok and capped.capped
    assert capped.error == "killed at its memory cap"
    assert capped.stdout == ""  # it never got to print
    assert 200 <= capped.peak_rss_mb < 300

    free = measured([sys.executable, "-c", ALLOCATE.format(120)], cap_bytes=600 * MB)
    assert free.ok and not free.capped, free.stderr
    assert free.stdout.strip() == str(120 * MB)
    assert 120 <= free.peak_rss_mb < 600


def test_a_baseline_over_its_cap_reports_that_it_did_not_finish(tenant):
    with tenant.connect("loader") as conn:
        for table, rows in lines.generate(3, products=3, locations=2).items():
            lines.insert(conn, table, rows)
    done = bench_features.baseline("pandas_baseline.py", tenant.url, tenant.schema, cap_bytes=4096 * MB)
    assert done["finished"] and done["rows"] > 0 and done["peak_rss_mb"] > 0
    # importing pandas alone takes more than this
    stopped = bench_features.baseline("pandas_baseline.py", tenant.url, tenant.schema, cap_bytes=64 * MB)
    assert not stopped["finished"] and stopped["capped"]
    assert stopped["cap_gb"] == 64 / 1024 and stopped["peak_rss_mb"] >= 64 and "rows" not in stopped


def test_a_section_is_recorded_in_place(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nheader\n\n## One\n\nfirst\n\n## Two\n\nsecond\n")
    record_section("## One\n\nfirst, again\n", doc)
    record_section("## Three\n\nthird", doc)
    assert doc.read_text().startswith("# Benchmarks\n\nheader\n\n## One")
    assert doc_sections(doc) == ["## One\n\nfirst, again", "## Two\n\nsecond", "## Three\n\nthird"]


def test_the_rebuild_probe_computes_what_the_pipeline_stored(tenant):
    """bench/rebuild_parts.py times the steps of write_feature_rows from the
    tenant's own statement: its rows equal the pipeline's, value for value,
    and the windows it computes from the lags equal the stored ones."""
    with tenant.connect() as admin:
        admin.execute("UPDATE settings SET as_of_date = %s", (AS_OF,))
    with tenant.connect("loader") as conn:
        for table, rows in lines.generate(5, products=4, locations=3).items():
            lines.insert(conn, table, rows)
    process(tenant)
    with tenant.connect() as admin:
        stored = scalar(admin, "SELECT count(*) FROM features")
        keys = scalar(admin, "SELECT count(*) FROM _private_feature_keys")
    assert stored > 10 * 20 and keys >= 10

    r = rebuild_parts.parts(tenant.url, tenant.schema)
    assert r["batches"] == 1 and r["rows"] == stored
    assert r["differing"] == 0
    assert all(seconds > 0 for seconds in r["steps"])
    assert {c["rows"] for c in r["copies"].values()} == {stored}
    with tenant.connect() as admin:
        assert scalar(admin, "SELECT to_regclass('bench_features_copy')") is None
        assert scalar(admin, "SELECT count(*) FROM _private_feature_batch") == 0

    w = rebuild_parts.read_time_windows(tenant.url, tenant.schema)
    assert w["max_relative_difference"] < 1e-12 and w["null_disagreements"] == 0
    assert len(w["reads_ms"]["stored"]) == len(w["reads_ms"]["derived"]) == 3
