"""PL/Python kernels: ordinary, unit-tested Python modules, run inside PostgreSQL.

A kernel's source is embedded, read at migrate time, in the body of a
`masterfile.*` function as a string literal; the body exec()s it once per
session into a module cached in GD (keyed by the source's hash, so a session
that outlives a migration picks up the new code) and calls its entry point.
There is one source of truth, and no path to configure on the server.

Only a superuser creates PL/Python functions (plpython3u is untrusted), so
kernels live in the shared schema `masterfile` and are created by
`pyloader migrate` (migrate.upgrade_control). Tenants may only EXECUTE them:
`masterfile.ensure_tenant_roles()`, run by every tenant upgrade, grants every
PL/Python function of `masterfile` to the tenant's roles. Kernels read nothing
from the database: they are IMMUTABLE, PARALLEL SAFE, SECURITY INVOKER, with
search_path pinned.
"""
from __future__ import annotations

import hashlib
import inspect
from pathlib import Path

import psycopg

from pyloader.kernels import forecast

KERNELS_DIR = Path(__file__).resolve().parent / "kernels"

# float8 unless named here; the kernel's docstring fixes these types
_ARG_TYPES = {
    "y_flat": "bytea",  # concatenated float8send(), big-endian
    "lengths": "integer[]",
    "discontinued": "boolean[]",
    "assorted": "boolean[]",
    "location_enabled": "boolean[]",
}
_TEXT_RESULTS = {"demand_class", "method", "reason"}


def forecast_batch_sql() -> str:
    """CREATE OR REPLACE FUNCTION masterfile.forecast_batch(...) around kernels/forecast.py."""
    params = list(inspect.signature(forecast.batch).parameters)
    args = [f"p_{name} {_ARG_TYPES.get(name, 'double precision[]')}" for name in params]
    outs = [
        f"OUT {name} {'text[]' if name in _TEXT_RESULTS else 'double precision[]'}"
        for name in forecast.BATCH_COLUMNS
    ]
    call = ", ".join(f"p_{name}" for name in params)
    return render_function(
        "masterfile.forecast_batch",
        args + outs,
        KERNELS_DIR / "forecast.py",
        f"return module.batch({call})",
        comment="forecast-and-orders.md for many keys at once: pyloader/kernels/forecast.py, batch()",
    )


def render_function(name: str, params: list[str], source_path: Path, call: str, *, comment: str) -> str:
    """The SQL of one kernel function: `call` runs with `module` bound to the kernel."""
    source = source_path.read_text()
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    label = f"{source_path.parent.name}/{source_path.name}"
    body = "\n".join(
        [
            f"# {comment}",
            f"# the module is built once per session and source version ({digest})",
            f"module = GD.get({'masterfile.' + label + '@' + digest!r})",
            "if module is None:",
            "    import types",
            f"    module = types.ModuleType({label!r})",
            f"    exec(compile({source!r}, {label!r}, 'exec'), module.__dict__)",
            f"    GD[{'masterfile.' + label + '@' + digest!r}] = module",
            call,
        ]
    )
    tag = "$kernel$"
    if tag in body:  # repr() escapes no dollar sign: refuse rather than break the quoting
        raise ValueError(f"{label}: the source holds {tag}, which would end the function body")
    sep = ",\n    "
    return (
        f"CREATE OR REPLACE FUNCTION {name}(\n    {sep.join(params)})\n"
        "LANGUAGE plpython3u\n"
        "IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT SECURITY INVOKER\n"
        "SET search_path = pg_catalog, pg_temp\n"
        f"AS {tag}\n{body}\n{tag};\n"
    )


def install(conn: psycopg.Connection) -> None:
    """(Re)create every kernel, callable by no one yet (caller's transaction).

    Runs as the migrating superuser, after sql/control/. Tenants get EXECUTE
    from masterfile.ensure_tenant_roles(), which every tenant upgrade runs:
    a kernel whose signature changed lost its grants with its old version.
    """
    conn.execute(forecast_batch_sql())
    conn.execute(
        "REVOKE ALL ON FUNCTION masterfile.forecast_batch("
        + ", ".join(
            _ARG_TYPES.get(name, "double precision[]") for name in inspect.signature(forecast.batch).parameters
        )
        + ") FROM PUBLIC"
    )
