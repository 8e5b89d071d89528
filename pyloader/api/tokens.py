"""API tokens: one tenant, one role, only a hash stored.

A token is `mft_` followed by 32 random bytes (256 bits) in URL-safe base64.
The database keeps sha256(token); the server hashes what a request presents,
asks masterfile.resolve_api_token() for that hash (the authenticator cannot
read the table itself) and compares the answer with hmac.compare_digest.
Nothing is cached, so a revocation holds from the next request on.
"""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets

import psycopg
from psycopg.rows import dict_row

from pyloader import queries
from pyloader.config import tenant_roles, validate_client_id

PREFIX = "mft_"
SECRET_BYTES = 32
# planner-api.md: planner acts as the tenant's UI role, viewer as its read-only role
ROLE_KINDS = {"planner": "ui", "viewer": "reader"}



class TokenError(ValueError):
    """A token command refused (unknown tenant, a name in use, no such token)."""


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who a request acts as: the token's tenant, role and name."""
    client_id: str
    schema: str
    role: str  # planner | viewer
    name: str

    @property
    def kind(self) -> str:
        """The tenant role kind of db.enter_tenant."""
        return ROLE_KINDS[self.role]

    @property
    def db_role(self) -> str:
        return tenant_roles(self.schema)[self.kind]


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def create(conn: psycopg.Connection, client_id: str, name: str, role: str = "planner") -> str:
    """A new token for `client_id` (as the operator); the only time it is seen."""
    validate_client_id(client_id)
    if role not in ROLE_KINDS:
        raise TokenError(f"role must be one of {', '.join(ROLE_KINDS)}, not {role!r}")
    from pyloader import db  # the registry check, with the registry's own error

    db.tenant_schema(conn, client_id)
    token = new_token()
    try:
        with conn.transaction():
            conn.execute(queries.CREATE_API_TOKEN,
                         {"client_id": client_id, "name": name, "role": role, "token_hash": token_hash(token)})
    except psycopg.errors.UniqueViolation as exc:
        raise TokenError(f"tenant {client_id} already has a live token named {name!r}; revoke it first") from exc
    except psycopg.errors.CheckViolation as exc:
        raise TokenError(f"a token name is 1 to 64 of A-Z a-z 0-9 _ . @ -, starting with a letter or digit; "
                         f"not {name!r}") from exc
    return token


def list_tokens(conn: psycopg.Connection, client_id: str) -> list[dict]:
    validate_client_id(client_id)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(queries.LIST_API_TOKENS, {"client_id": client_id}).fetchall()


def revoke(conn: psycopg.Connection, client_id: str, name: str) -> None:
    validate_client_id(client_id)
    with conn.transaction():
        if conn.execute(queries.REVOKE_API_TOKEN, {"client_id": client_id, "name": name}).fetchone() is None:
            raise TokenError(f"tenant {client_id} has no live token named {name!r}")


def replace(conn: psycopg.Connection, client_id: str, name: str, role: str = "planner") -> str:
    """A new token named `name`, revoking a live one of that name first (`make demo` re-runs)."""
    with conn.transaction():
        conn.execute(queries.REVOKE_API_TOKEN, {"client_id": client_id, "name": name})
    return create(conn, client_id, name, role)


def resolve(conn: psycopg.Connection, token: str) -> Principal | None:
    """The principal of a presented token, or None (unknown or revoked).

    Runs as the authenticator, in the caller's transaction.
    """
    presented = token_hash(token)
    row = conn.execute(queries.RESOLVE_API_TOKEN, {"token_hash": presented}).fetchone()
    if row is None or not hmac.compare_digest(bytes(row[0]), presented):
        return None
    return Principal(client_id=row[1], schema=row[2], role=row[3], name=row[4])
