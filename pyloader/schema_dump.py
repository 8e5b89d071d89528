"""docs/schema.sql: the control schema and one tenant schema as pg_dump sees them.

A reviewer diffs this file to see what a change does to the schema; `make
schema` refreshes it and tests/test_schema_dump.py fails when it is stale.
The dump is made in a scratch database, by the same code as a real install
(`migrate_control`, then `create_tenant` for a fixed client id), and
normalised so that two runs, on any cluster, give the same bytes.

    python -m pyloader.schema_dump [--out docs/schema.sql]
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

from pyloader import db, migrate, tenants
from pyloader.config import schema_for

# a fixed id, so the tenant's schema and role names (all derived from it) are
# the same in every dump and can stay as they are, readable
CLIENT_ID = "schema-dump"
PG_DUMP = "/usr/lib/postgresql/15/bin/pg_dump"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "schema.sql"

# lines that change with the pg_dump or server version, or at every run
# (\restrict carries a random key), and say nothing about the schema
_NOISE = re.compile(
    r"^(-- Dumped (from|by) |SET |SELECT pg_catalog\.set_config\('search_path'|\\restrict |\\unrestrict )"
)


def dump(url: str) -> str:
    """The normalised schema-only dump of an already provisioned database."""
    p = conninfo_to_dict(url)
    env = dict(os.environ)
    if p.get("password"):
        env["PGPASSWORD"] = p["password"]  # not on the command line, where ps shows it
    out = subprocess.run(
        [PG_DUMP, "--schema-only", "--no-tablespaces",
         "-h", p.get("host", "127.0.0.1"), "-p", str(p.get("port", 5432)),
         "-U", p.get("user", "postgres"), "-d", p["dbname"],
         "-n", "masterfile", "-n", schema_for(CLIENT_ID)],
        capture_output=True, text=True, check=True, env=env,
    ).stdout
    return normalise(out)


def normalise(text: str) -> str:
    """pg_dump's text without its version and session lines, blank runs squeezed."""
    lines = [line for line in text.splitlines() if not _NOISE.match(line)]
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return out + "\n"


def provision(url: str) -> None:
    """The control schema at head and the fixed tenant, as `pyloader migrate` and `tenant create` make them."""
    migrate.migrate_control(url)
    # no pg_cron jobs: they live outside the dumped schemas and would outlive the scratch database
    tenants.create_tenant(CLIENT_ID, url, schedule=False)


def generate(base_url: str | None = None) -> str:
    """Provision a scratch database on the target cluster, dump it, drop it."""
    name = f"mf_schema_dump_{os.getpid()}"
    scratch = db.scratch_database(name, base_url)
    try:
        provision(scratch)
        return dump(scratch)
    finally:
        db.drop_database(name, base_url)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pyloader.schema_dump", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write (default: docs/schema.sql)")
    args = ap.parse_args(argv)
    text = generate()
    args.out.write_text(text)
    print(f"schema-dump: wrote {args.out} ({text.count(chr(10))} lines)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
