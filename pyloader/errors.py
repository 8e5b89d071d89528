"""Errors classified once: what a user is told, and what may be retried."""
from __future__ import annotations

import re

import psycopg
from psycopg import errors as pgerr

# connection losses, serialization failures and deadlocks go away on retry;
# everything else (constraint, permission, syntax) will fail the same way again
_RETRYABLE = (
    psycopg.OperationalError,
    pgerr.SerializationFailure,
    pgerr.DeadlockDetected,
    pgerr.LockNotAvailable,
    pgerr.AdminShutdown,
)


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, _RETRYABLE)


def describe(exc: BaseException) -> str:
    """One line for a human: the first line of the message, no traceback."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first


# a refusal's message names its constraint: 'new row for relation "t" violates
# check constraint "c"'
_CONSTRAINT = re.compile(r'constraint "([^"]+)"')


def refused_rule(diag) -> str | None:
    """The constraint a refusal names (psycopg's `exc.diag`).

    PostgreSQL gives it as the error's constraint_name. A Citus coordinator
    passes on a worker's error with its sqlstate, message, detail and hint
    only (Citus's ReportResultError), so there it is read from the message;
    a check constraint keeps its name on a shard (the relation named there is
    the shard, "t_102023"). A shard's index is named with the shard's id, so
    a unique violation on Citus names that index, suffix included.
    """
    if diag.constraint_name:
        return diag.constraint_name
    named = _CONSTRAINT.search(diag.message_primary or "")
    return named.group(1) if named else None
