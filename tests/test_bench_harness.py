"""The benchmarks' harness (bench/common.py) where its logic decides what is
recorded: a command run under a memory cap reports that it did not finish
(not a figure), an in-memory baseline too, and a long benchmark's section
replaces its own in docs/benchmarks.md and keeps the others.
"""
from __future__ import annotations

import sys

from bench import bench_features
from bench.common import doc_sections, measured, record_section
from tests import lines

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
