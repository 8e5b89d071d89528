"""pg_cron: a few dispatcher jobs per database that process every tenant.

Each database gets `sessions` jobs (default: the server's cores, as this
machine sees them; MASTERFILE_SCHEDULER_SESSIONS to set it) that run every
minute as the authenticator role and CALL masterfile.dispatch(): tenants with
queued work are known from masterfile.work_hints, so an idle tick reads one
index and writes nothing, and at most `sessions` sessions do pipeline work
whatever the number of tenants (sql/control/040_scheduling.sql).

pg_cron lives in one database (cron.database_name) and runs jobs in others,
so jobs are scheduled through a connection to that database. Job names carry
the database, so two databases of one cluster (test clones) never share a job.
"""
from __future__ import annotations

import os
import time

import psycopg

from pyloader import db, queries
from pyloader.config import app_role, database_url

PROCESS_SCHEDULE = "* * * * *"  # pg_cron 1.4: minutes are the finest grain
DISPATCH_COMMAND = queries.CRON_DISPATCH_COMMAND
PURGE_JOB = "masterfile:purge-job-run-details"
PURGE_COMMAND = queries.CRON_PURGE_COMMAND
# pg_cron's launcher reads its invalidation messages at least once a second
# (MaxWait, 1000 ms, in pg_cron.c): a job written this long ago has been read
LAUNCHER_READS_WITHIN_SECONDS = 1.5


def sessions() -> int:
    """How many dispatcher jobs (sessions doing pipeline work at most) per database."""
    value = os.environ.get("MASTERFILE_SCHEDULER_SESSIONS")
    n = int(value) if value else (os.cpu_count() or 2)
    if n < 1:
        raise ValueError(f"MASTERFILE_SCHEDULER_SESSIONS must be at least 1, got {value!r}")
    return n


def job_prefix(database: str) -> str:
    return f"masterfile:{database}:"


def dispatch_job_name(database: str, index: int) -> str:
    return f"{job_prefix(database)}dispatch:{index}"


def cron_connection(url: str | None = None) -> tuple[psycopg.Connection, str]:
    """A connection to pg_cron's database, and the name of the caller's database."""
    url = url or database_url()
    with db.connect(url, autocommit=True) as probe:
        cron_db, this_db = probe.execute(queries.CRON_DATABASE).fetchone()
    if not cron_db:
        raise RuntimeError("pg_cron is not loaded (cron.database_name is unset); start the cluster with `make db`")
    return db.connect(db.with_database(url, cron_db), autocommit=True), this_db


def schedule_database(url: str | None = None, *, count: int | None = None) -> list[str]:
    """(Re)schedule the database's dispatcher jobs; scheduling twice keeps the same jobs.

    Jobs of an older layout (one per tenant) and dispatchers beyond `count`
    are removed. A job already as wanted is not written again: each write of
    `cron.job` is a message the launcher must read to reload its jobs, and
    pg_cron 1.4 loses it when a large catalog change (a tenant's creation,
    a migration) overflows the launcher's invalidation queue before it has
    read it; its jobs then never start until the next write it does read
    (docs/scheduling.md). So call this after such a change has committed,
    never just before; and when it wrote a job it returns only once the
    launcher has read it, so that the next such change (the next tenant's
    creation, right after) cannot make it lose the write.
    """
    count = sessions() if count is None else count
    conn, database = cron_connection(url)
    wanted = {dispatch_job_name(database, i): (PROCESS_SCHEDULE, DISPATCH_COMMAND, database, app_role())
              for i in range(1, count + 1)}
    written = False
    with conn:
        have = {name: (jobid, tuple(rest)) for jobid, name, *rest in conn.execute(
            queries.CRON_JOBS_FOR_DB, {"prefix": _like_prefix(job_prefix(database))})}
        for jobid, _ in (v for name, v in have.items() if name not in wanted):
            conn.execute(queries.CRON_UNSCHEDULE, {"jobid": jobid})
            written = True
        purge = {PURGE_JOB: ("17 * * * *", PURGE_COMMAND, conn.info.dbname, conn.info.user)}
        have.update({name: (jobid, tuple(rest)) for jobid, name, *rest in conn.execute(
            queries.CRON_JOBS_FOR_DB, {"prefix": _like_prefix(PURGE_JOB)})})
        for name, (schedule, command, db_name, user) in {**wanted, **purge}.items():
            if have.get(name, (None, None))[1] == (schedule, command, db_name, user, True):
                continue
            conn.execute(queries.CRON_SCHEDULE, {"jobname": name, "schedule": schedule, "command": command,
                                                 "database": db_name, "username": user, "active": True})
            written = True
    if written:
        time.sleep(LAUNCHER_READS_WITHIN_SECONDS)
    return list(wanted)


def unschedule_database(database: str, url: str | None = None) -> int:
    """Remove every job that runs in `database` (a dropped test clone)."""
    conn, _ = cron_connection(url)
    with conn:
        ids = [r[0] for r in conn.execute(queries.CRON_JOBS_FOR_DB, {"prefix": _like_prefix(job_prefix(database))})]
        for jobid in ids:
            conn.execute(queries.CRON_UNSCHEDULE, {"jobid": jobid})
    return len(ids)


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
