"""Prometheus metrics, read from every tenant's own tables at scrape time.

Nothing is counted in the process: a scrape opens one session as the
authenticator, lists the tenants from the registry and, for each, enters the
tenant's reader role for one read-only transaction (db.enter_tenant with
`local`) and reads its queue, runs, loads and rejects in one query. So what
`/metrics` shows is what the database holds, whichever process (worker,
pg_cron, `pyloader run`, `pyloader load`) did the work, and a tenant's
figures are read with that tenant's privileges only.

Runs, loads and rejects are counted over the rows the retention policy keeps
(sql/tenant/096_retention.sql), so they are gauges, not counters: a row
deleted by retention makes them fall. Every family carries a `tenant` label
(the client id).

    serve(host, port)   start the endpoint in a thread; .url, .close()
    registry()          the same figures for another server (the API's /metrics)
"""
from __future__ import annotations

import dataclasses
import threading
import time

import psycopg
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

from pyloader import db, logs, queries
from pyloader.errors import describe

# run durations, in seconds (a slice of process_dirty is 5 s by default)
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

def read_tenants(url: str | None = None, client_id: str | None = None) -> list[dict]:
    """Every tenant's figures (or one's): [{'client_id', 'schema', 'ok', 'figures' | 'error'}]."""
    out = []
    with db.open_app(url) as conn:
        try:
            tenants = [(c, s) for c, s, _ in conn.execute(queries.LIST_TENANTS).fetchall()]
        except psycopg.errors.UndefinedTable as exc:
            raise db.DatabaseUnavailable(db.NO_CONTROL_SCHEMA) from exc
        conn.rollback()
        for cid, schema in tenants:
            if client_id is not None and cid != client_id:
                continue
            try:
                with conn.transaction():
                    conn.execute(queries.READ_ONLY_TRANSACTION)
                    db.enter_tenant(conn, schema, "reader", local=True)
                    doc = conn.execute(queries.TENANT_METRICS, {"buckets": list(DURATION_BUCKETS)}).fetchone()[0]
                out.append({"client_id": cid, "schema": schema, "ok": True, "figures": doc})
            except psycopg.OperationalError:
                raise
            except psycopg.Error as exc:  # one tenant's trouble (a migration under way) spares the others
                out.append({"client_id": cid, "schema": schema, "ok": False, "error": str(exc).strip()})
    return out


class TenantCollector:
    """A prometheus_client collector that reads the database on every scrape."""

    def __init__(self, url: str | None = None, client_id: str | None = None):
        self.url = url
        self.client_id = client_id
        self.log = logs.get("metrics")

    def describe(self):
        return []  # figures are read at scrape time only, never at registration

    def collect(self):
        started = time.monotonic()
        up = GaugeMetricFamily("masterfile_up", "1 when the last scrape reached the database", labels=[])
        try:
            tenants = read_tenants(self.url, self.client_id)
        except (psycopg.Error, db.DatabaseUnavailable) as exc:
            self.log.error(f"metrics: scrape failed: {describe(exc)}")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families(tenants)
        scrape = GaugeMetricFamily("masterfile_scrape_duration_seconds", "time the last scrape took reading tenants")
        scrape.add_metric([], time.monotonic() - started)
        yield scrape


def families(tenants: list[dict]):
    """Prometheus families for the tenants' figures (read_tenants)."""
    g = lambda name, doc, *labels: GaugeMetricFamily(name, doc, labels=["tenant", *labels])  # noqa: E731
    ok = g("masterfile_tenant_scrape_ok", "1 when this tenant's figures could be read")
    depth = g("masterfile_queue_depth", "distinct (product, location) keys queued for recomputation")
    marks = g("masterfile_queued_marks", "rows of _private_dirty_keys (marks) queued")
    age = g("masterfile_oldest_dirty_age_seconds", "age of the oldest queued mark (0 when the queue is empty)")
    failed = g("masterfile_failed_keys", "keys set aside after an error (_private_failed_keys)")
    runs = g("masterfile_runs", "runs recorded (within retention), by status", "status")
    keys_failed = g("masterfile_run_keys_failed", "keys that failed, summed over the recorded runs")
    keys_done = g("masterfile_run_keys_done", "keys processed, summed over the recorded runs")
    durations = HistogramMetricFamily("masterfile_run_duration_seconds", "duration of the recorded, finished runs",
                                      labels=["tenant"])
    loads = g("masterfile_loads", "loads recorded (within retention), by entity and status", "entity", "status")
    rejected = g("masterfile_load_rejected_records", "records rejected, summed over the recorded loads", "entity")
    rejects = g("masterfile_rejects_stored", "rows of the rejects table")
    retries = g("masterfile_load_retries", "requests retried, summed over the recorded loads", "entity")
    conflicts = g("masterfile_conflicts", "rows of the conflicts table")
    for t in tenants:
        cid = t["client_id"]
        ok.add_metric([cid], 1 if t["ok"] else 0)
        if not t["ok"]:
            continue
        f = t["figures"]
        depth.add_metric([cid], f["queue_depth"])
        marks.add_metric([cid], f["queued_marks"])
        age.add_metric([cid], f["oldest_dirty_age"])
        failed.add_metric([cid], f["failed_keys"])
        for status in ("running", "succeeded", "failed", *sorted(set(f["runs"]) - {"running", "succeeded", "failed"})):
            runs.add_metric([cid, status], f["runs"].get(status, 0))
        keys_failed.add_metric([cid], float(f["run_keys_failed"]))
        keys_done.add_metric([cid], float(f["run_keys_done"]))
        d = f["run_durations"]
        buckets = [(str(b), c) for b, c in zip(DURATION_BUCKETS, d["le"] or [0] * len(DURATION_BUCKETS))]
        durations.add_metric([cid], buckets + [("+Inf", d["count"])], sum_value=d["sum"])
        for row in f["loads"]:
            loads.add_metric([cid, row["entity"], row["status"]], row["n"])
        for entity, n in f["load_rejected"].items():
            rejected.add_metric([cid, entity], float(n))
        rejects.add_metric([cid], f["rejects_stored"])
        for entity, n in f["retries"].items():
            retries.add_metric([cid, entity], float(n))
        conflicts.add_metric([cid], f["conflicts"])
    yield from (ok, depth, marks, age, failed, runs, keys_failed, keys_done, durations, loads, rejected, rejects,
                retries, conflicts)


@dataclasses.dataclass
class MetricsServer:
    url: str
    _server: object
    _thread: threading.Thread

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def registry(url: str | None = None, client_id: str | None = None) -> CollectorRegistry:
    """A registry holding only the tenants' collector: what /metrics serves.

    The API can serve the same at its own /metrics with
    `prometheus_client.make_asgi_app(metrics.registry())`.
    """
    reg = CollectorRegistry(auto_describe=False)
    reg.register(TenantCollector(url, client_id))
    return reg


def serve(host: str, port: int, *, url: str | None = None, client_id: str | None = None) -> MetricsServer:
    """Serve /metrics on host:port in a daemon thread (port 0: a free one)."""
    server, thread = start_http_server(port, addr=host, registry=registry(url, client_id))
    bound = server.server_address[1]
    return MetricsServer(f"http://{host}:{bound}/metrics", server, thread)
