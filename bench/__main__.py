"""`make bench`: every benchmark in one run, written to docs/benchmarks.md.

Each section measures its pair side by side in the same run (this machine is
shared and noisy), so the ratios are the figures to read.
"""
from __future__ import annotations

import datetime as dt
import pathlib
import subprocess
import sys
import tempfile

from bench.common import DOC, doc_sections
SECTIONS = [
    ("tenants", ["bench.bench_tenants"]),
    ("loader", ["bench.bench_load"]),
    ("master file", ["bench.bench_features"]),
    ("freshness", ["bench.bench_freshness"]),
    ("export", ["bench.bench_export"]),
    ("api", ["bench.bench_api"]),
    ("startup", ["bench.bench_startup"]),
]


# sections written by the long benchmarks (`make bench-tenants`, `make
# bench-scale`), which `make bench` does not run, and baselines recorded once
# for a later change to be held to: kept as they are when the rest is written anew
LONG_SECTIONS = ("## A thousand tenants", "## Master file at 10x", "## Baseline before issue 17",
                 "## Issue 20: before and after", "## Issue 19: before and after", "## Issue 17, item 1",
                 "## Issue 17: one batch as the queue grows", "## Issue 19: the batch staged")


def kept_sections() -> list[str]:
    return [s for s in doc_sections() if s.startswith(LONG_SECTIONS)]


def main() -> int:
    only = set(sys.argv[1:])
    parts = []
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, module in SECTIONS:
            if only and name.split()[0] not in only:
                continue
            out = pathlib.Path(tmp) / f"{module[0]}.md"
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            res = subprocess.run([sys.executable, "-m", *module, "--out", str(out)])
            if res.returncode != 0 or not out.exists():
                failed.append(name)
                continue
            parts.append(out.read_text().strip())
    header = (f"# Benchmarks\n\nWritten by `make bench` on {dt.date.today().isoformat()}; "
              "every ratio compares two things measured in the same run.\n")
    if parts and not only:
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(header + "\n" + "\n\n".join(parts + kept_sections()) + "\n")
        print(f"bench: wrote {DOC}", file=sys.stderr)
    elif parts:
        print("\n\n".join(parts))
    if failed:
        print(f"bench: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
