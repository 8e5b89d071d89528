"""Settings read from the environment, and the client-id rules of the contract.

Everything here is pure: nothing touches the database, so bad input is refused
before any SQL runs.
"""
from __future__ import annotations

import os
import re

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:54329/masterfile"

# data-contract.md, "Tenants": 1 to 40 of A-Z a-z 0-9 _ -, starting with a letter or digit
_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
_NOT_SCHEMA_CHAR = re.compile(r"[^a-z0-9]+")


class ClientIdError(ValueError):
    """A client id outside the contract."""


APP_ROLE = "masterfile_app"


def app_role() -> str:
    """The authenticator role every tenant session logs in as (see db.py)."""
    return os.environ.get("MASTERFILE_APP_ROLE") or APP_ROLE


def local_cluster_port() -> int:
    """The port of the project-local cluster (`make db`)."""
    return int(os.environ.get("MASTERFILE_PGPORT") or 54329)


def database_url() -> str:
    """DATABASE_URL, or the project-local cluster that `make db` starts."""
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def validate_client_id(client_id: str) -> str:
    """Return the client id unchanged, or raise ClientIdError saying why."""
    if not isinstance(client_id, str) or not client_id:
        raise ClientIdError("client id is empty")
    if len(client_id) > 40:
        raise ClientIdError(f"client id is {len(client_id)} characters long; at most 40 are allowed")
    if not _CLIENT_ID.fullmatch(client_id):
        raise ClientIdError(
            f"client id {client_id!r} may only hold A-Z a-z 0-9 _ - and must start with a letter or digit"
        )
    return client_id


def schema_for(client_id: str) -> str:
    """The tenant schema: 't_' + lower-cased id, runs outside [a-z0-9] -> '_'."""
    validate_client_id(client_id)
    return "t_" + _NOT_SCHEMA_CHAR.sub("_", client_id.lower())


def tenant_roles(schema: str) -> dict[str, str]:
    """Role names of one tenant, all derived from its schema name.

    `reader` is the tenant's own role (USAGE on its schema, SELECT on its
    tables); the others are members of it and add the writes their owner
    is allowed (data-contract.md, "who owns each field").
    """
    return {
        "reader": schema,
        "owner": f"{schema}_owner",
        "loader": f"{schema}_loader",
        "ui": f"{schema}_ui",
        "pipeline": f"{schema}_pipeline",
    }
