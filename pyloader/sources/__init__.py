"""Where ERP records come from: files (`files`) and the ERP API (`api`).

A source yields `(record, raw)` pairs one at a time: `record` is a dict (or a
`Reject` when the record could not even be parsed) and `raw` is what a reject
keeps of it. Nothing here holds more than one batch or page in memory.
"""
from __future__ import annotations


class SourceError(RuntimeError):
    """A file or page that cannot be read at all: the entity fails, its watermark stays."""
