"""pg_cron jobs: the safety net that processes every tenant's queue.

pg_cron lives in one database (cron.database_name) and runs jobs in others,
so jobs are scheduled through a connection to that database, under the
tenant's pipeline role. Job names carry the database and schema, so two
databases of one cluster (test clones) never share a job.
"""
from __future__ import annotations

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pyloader import queries
from pyloader.config import database_url, tenant_roles

PROCESS_SCHEDULE = "* * * * *"  # pg_cron 1.4: minutes are the finest grain
PURGE_JOB = "masterfile:purge-job-run-details"
PURGE_COMMAND = "DELETE FROM cron.job_run_details WHERE end_time < now() - interval '1 day'"


def job_name(database: str, schema: str) -> str:
    return f"masterfile:{database}:{schema}:process"


def process_command(schema: str) -> str:
    # quote_ident rules: a tenant schema is [a-z0-9_] only, validated upstream
    return f'CALL "{schema}".run_scheduled()'


def cron_connection(url: str | None = None) -> tuple[psycopg.Connection, str]:
    """A connection to pg_cron's database, and the name of the caller's database."""
    url = url or database_url()
    params = conninfo_to_dict(url)
    with psycopg.connect(url, autocommit=True) as probe:
        cron_db = probe.execute(queries.CRON_DATABASE).fetchone()[0]
        this_db = probe.execute("SELECT current_database()").fetchone()[0]
    if not cron_db:
        raise RuntimeError("pg_cron is not loaded (cron.database_name is unset); start the cluster with `make db`")
    params["dbname"] = cron_db
    return psycopg.connect(make_conninfo(**params), autocommit=True), this_db


def schedule_tenant(schema: str, url: str | None = None, *, active: bool = True) -> None:
    """(Re)schedule a tenant's processing job; scheduling twice keeps one job."""
    conn, database = cron_connection(url)
    with conn:
        conn.execute(
            queries.CRON_SCHEDULE,
            {
                "jobname": job_name(database, schema),
                "schedule": PROCESS_SCHEDULE,
                "command": process_command(schema),
                "database": database,
                "username": tenant_roles(schema)["pipeline"],
                "active": active,
            },
        )
        conn.execute(
            queries.CRON_SCHEDULE,
            {
                "jobname": PURGE_JOB,
                "schedule": "17 * * * *",
                "command": PURGE_COMMAND,
                "database": conn.info.dbname,
                "username": conn.info.user,
                "active": True,
            },
        )


def unschedule_database(database: str, url: str | None = None) -> int:
    """Remove every job that runs in `database` (a dropped test clone)."""
    conn, _ = cron_connection(url)
    with conn:
        ids = [r[0] for r in conn.execute(queries.CRON_JOB_IDS_FOR_DB, {"prefix": _like_prefix(f"masterfile:{database}:")})]
        for jobid in ids:
            conn.execute(queries.CRON_UNSCHEDULE, {"jobid": jobid})
    return len(ids)


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
