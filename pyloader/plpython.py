"""PL/Python kernels: ordinary, unit-tested Python modules, run inside PostgreSQL.

A kernel function is declared in sql/control/ like every other function there
(its signature, volatility, search_path and grants: 025_forecast_kernel.sql),
with a body quoted `$kernel$` of two parts: a line `@kernel NAME@`, and the
call of the kernel's entry point on `module`. When `pyloader migrate` applies
the file (migrate.sql_text), that line becomes the loader of
pyloader/kernels/NAME.py: its source, read at migrate time, embedded as a
string literal, exec()d once per session into a module cached in GD (keyed by
the source's hash, so a session that outlives a migration picks up the new
code) and bound to `module`. There is one source of truth, and no path to
configure on the server.

Only a superuser creates PL/Python functions (plpython3u is untrusted), so
kernels live in the shared schema `masterfile` and are created by
`pyloader migrate` (migrate.upgrade_control). Tenants may only EXECUTE them:
`masterfile.ensure_tenant_roles()`, run by every tenant upgrade, grants every
PL/Python function of `masterfile` to the tenant's pipeline role. Kernels read
nothing from the database: they are declared IMMUTABLE, PARALLEL SAFE,
SECURITY INVOKER, with search_path pinned.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

KERNELS_DIR = Path(__file__).resolve().parent / "kernels"

# a whole line of a function body in sql/
KERNEL_LINE = re.compile(r"^@kernel (\w+)@$", re.MULTILINE)
BODY_TAG = "$kernel$"


def kernel_loader(name: str) -> str:
    """Python lines that bind `module` to pyloader/kernels/<name>.py, built once per session and source version."""
    source_path = KERNELS_DIR / f"{name}.py"
    source = source_path.read_text()
    if BODY_TAG in source:  # repr() escapes no dollar sign: refuse rather than break the quoting
        raise ValueError(f"{source_path.name}: the source holds {BODY_TAG}, which would end the function body")
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    label = f"{source_path.parent.name}/{source_path.name}"
    key = f"masterfile.{label}@{digest}"
    return "\n".join(
        [
            f"# {label}, embedded by pyloader migrate: the module is built once per session and source version",
            f"module = GD.get({key!r})",
            "if module is None:",
            "    import types",
            f"    module = types.ModuleType({label!r})",
            f"    exec(compile({source!r}, {label!r}, 'exec'), module.__dict__)",
            f"    GD[{key!r}] = module",
        ]
    )


def embed_kernels(text: str) -> str:
    """A file of sql/ with each `@kernel NAME@` line replaced by that kernel's loader."""
    return KERNEL_LINE.sub(lambda m: kernel_loader(m[1]), text)
