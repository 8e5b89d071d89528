"""Errors classified once: what a user is told, and what may be retried."""
from __future__ import annotations

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
