"""docs/schema.sql is the schema the code makes today, byte for byte."""
from __future__ import annotations

import difflib

import pytest

from pyloader import schema_dump


def test_committed_schema_is_what_the_code_makes(db_url):
    # the same provisioning and normalisation as `make schema`, in this test's
    # fresh database (its name never reaches the dump: only the two schemas do)
    schema_dump.provision(db_url)
    made = schema_dump.dump(db_url)
    committed = schema_dump.DEFAULT_OUT.read_text()
    if made != committed:
        diff = list(difflib.unified_diff(
            committed.splitlines(), made.splitlines(),
            "docs/schema.sql", "the schema the code makes", lineterm="",
        ))
        shown = "\n".join(diff[:60]) + ("\n..." if len(diff) > 60 else "")
        # no traceback: the diff is the whole story
        pytest.fail(f"docs/schema.sql is stale: run `make schema` to refresh docs/schema.sql\n{shown}", pytrace=False)
