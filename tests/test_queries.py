"""The Python side's SQL lives in one place: pyloader/queries.sql, bound by pyloader/queries.py."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from pyloader import queries

PYLOADER = Path(queries.__file__).resolve().parent
# the loader's staging, COPY and merge (the stated exception); the PL/Python
# declarations and kernels run inside the database, not from the Python side
EXCEPTIONS = {"queries.py", "load.py", "plpython.py"}
STATEMENT = re.compile(r"""(execute|copy)\(\s*f?["']|["']\s*(SELECT|INSERT|UPDATE|DELETE|CALL|SET|RESET|WITH|CREATE|DROP|"""
                       r"""ALTER|COPY|LISTEN)\s""")


def test_every_named_block_is_bound_once_in_queries_py():
    source = (PYLOADER / "queries.py").read_text()
    bound = re.findall(r"""(?:SQL\[|_tenant\()"([a-z0-9_]+)"[\])]""", source)
    assert sorted(set(bound)) == sorted(queries.SQL), "a block of queries.sql that queries.py never binds"


def test_a_name_given_twice_is_refused():
    with pytest.raises(ValueError, match="named twice"):
        queries.parse("-- name: a\nSELECT 1\n-- name: a\nSELECT 2\n")


def test_comments_are_dropped_and_statements_split():
    parsed = queries.parse("-- name: two\n-- why\nSET a = 1;\n  -- more\nSET b = 2\n")
    assert parsed == {"two": "SET a = 1;\nSET b = 2"}
    assert queries.split_statements(parsed["two"]) == ["SET a = 1", "SET b = 2"]


def test_no_module_but_queries_runs_a_statement_of_its_own():
    offenders = []
    for path in sorted(PYLOADER.rglob("*.py")):
        rel = path.relative_to(PYLOADER)
        if path.name in EXCEPTIONS and len(rel.parts) == 1 or rel.parts[0] in ("kernels", "migrations"):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            text = line.strip()
            if STATEMENT.search(text) and not text.startswith(("#", '"""')) and "help=" not in text:
                offenders.append(f"{rel}:{n}: {text}")
    assert offenders == []
