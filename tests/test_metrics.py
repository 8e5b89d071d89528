"""The operator's view: `pyloader worker --metrics-port` serves Prometheus
metrics read from every tenant's tables at scrape time, and `--log-format
json` makes stderr one JSON object per line."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import scalar
from tests.plan_checks import AS_OF, load_fake_erp


def scrape(url: str) -> dict:
    """{(name, frozenset(labels)): value} of every sample at `url`."""
    text = urllib.request.urlopen(url, timeout=30).read().decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples[(name, frozenset(labels.items()))]


def start_worker(url: str, *args: str) -> tuple[subprocess.Popen, str]:
    """A real `pyloader worker` with JSON logs; its metrics URL, read from its first log line."""
    proc = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "pyloader"), "--log-format", "json", "worker",
         "--metrics-port", "0", "--poll", "0.5", *args],
        env=dict(os.environ, DATABASE_URL=url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    doc = json.loads(line)  # not JSON: the test fails here, showing the line
    assert doc["level"] == "warning" and doc["logger"] == "pyloader.worker", doc
    return proc, doc["metrics_url"]


def test_metrics_are_the_tenants_own_figures_read_at_scrape_time(make_tenant):
    acme, idle = make_tenant("acme"), make_tenant("idle")
    with acme.connect() as conn:
        conn.execute("UPDATE settings SET as_of_date = %s", (AS_OF,))
    load_fake_erp(acme, size="6x2x100")
    with idle.connect("pipeline") as conn:  # a queue nobody serves: the worker serves acme only
        conn.execute("INSERT INTO _private_dirty_keys (product_id, location_id, scope, marked_at) VALUES"
                     " ('P1', 'L1', 'plan', now() - interval '90 seconds'),"
                     " ('P1', 'L1', 'features', now() - interval '10 seconds'),"
                     " ('P2', 'L1', 'plan', now())")
    proc, url = start_worker(acme.url, "acme")
    try:
        with acme.connect() as conn:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and scalar(conn, "SELECT count(*) FROM _private_dirty_keys"):
                time.sleep(0.2)
            assert scalar(conn, "SELECT count(*) FROM _private_dirty_keys") == 0
            time.sleep(0.5)  # the last run's row is finished by the same call
            runs = dict(conn.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall())
            finished = scalar(conn, "SELECT count(*) FROM runs WHERE finished_at IS NOT NULL")
            keys_done = scalar(conn, "SELECT sum(keys_done) FROM runs")
            loads = conn.execute("SELECT entity, status, count(*) FROM loads GROUP BY 1, 2").fetchall()
        m = scrape(url)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert value(m, "masterfile_up") == 1
    assert value(m, "masterfile_tenant_scrape_ok", tenant="acme") == 1
    assert value(m, "masterfile_queue_depth", tenant="acme") == 0
    assert value(m, "masterfile_oldest_dirty_age_seconds", tenant="acme") == 0
    assert value(m, "masterfile_runs", tenant="acme", status="succeeded") == runs["succeeded"] > 0
    assert value(m, "masterfile_run_keys_done", tenant="acme") == keys_done > 0
    assert value(m, "masterfile_run_keys_failed", tenant="acme") == 0
    assert value(m, "masterfile_run_duration_seconds_count", tenant="acme") == finished
    assert value(m, "masterfile_run_duration_seconds_bucket", tenant="acme", le="+Inf") == finished
    assert value(m, "masterfile_run_duration_seconds_sum", tenant="acme") > 0
    assert len(loads) == 7
    for entity, status, n in loads:
        assert value(m, "masterfile_loads", tenant="acme", entity=entity, status=status) == n
        assert value(m, "masterfile_load_rejected_records", tenant="acme", entity=entity) == 0
    assert value(m, "masterfile_rejects_stored", tenant="acme") == 0
    # the tenant the worker does not serve: two keys, three marks, the oldest 90 s old
    assert value(m, "masterfile_queue_depth", tenant="idle") == 2
    assert value(m, "masterfile_queued_marks", tenant="idle") == 3
    assert 90 <= value(m, "masterfile_oldest_dirty_age_seconds", tenant="idle") < 200
    assert value(m, "masterfile_runs", tenant="idle", status="succeeded") == 0
    # every stderr line of the worker is one JSON object
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert any(d["message"].startswith("worker: stopped") and "keys_done" in d for d in lines), lines


def test_metrics_follow_the_database_between_scrapes(tenant):
    proc, url = start_worker(tenant.url, "--once")  # --once: serves its metrics only while it works
    proc.communicate(timeout=60)
    from pyloader import metrics

    server = metrics.serve("127.0.0.1", 0, url=tenant.url)
    try:
        before = scrape(server.url)
        with tenant.connect() as conn:
            conn.execute("INSERT INTO loads (source, entity, status, finished_at, rejected_count, retries)"
                         " VALUES ('files', 'products', 'failed', now(), 5, 3)")
            conn.execute("INSERT INTO rejects (load_id, entity, raw, reason)"
                         " SELECT max(load_id), 'products', 'x', 'bad' FROM loads")
        after = scrape(server.url)
    finally:
        server.close()
    assert ("masterfile_loads", frozenset({"tenant": "acme", "entity": "products", "status": "failed"}.items())) \
        not in before
    assert value(after, "masterfile_loads", tenant="acme", entity="products", status="failed") == 1
    assert value(after, "masterfile_load_rejected_records", tenant="acme", entity="products") == 5
    assert value(after, "masterfile_rejects_stored", tenant="acme") == 1
    assert value(after, "masterfile_load_retries", tenant="acme", entity="products") == 3


def test_a_scrape_reads_as_the_authenticator_and_reader_only(tenant, monkeypatch):
    """The collector never uses the operator's session: with the authenticator
    refused, the scrape reports the database down instead of reading."""
    from pyloader import metrics

    server = metrics.serve("127.0.0.1", 0, url=tenant.url)
    try:
        monkeypatch.setenv("MASTERFILE_APP_ROLE", "no_such_role_here")
        m = scrape(server.url)
    finally:
        server.close()
    assert value(m, "masterfile_up") == 0
    assert not any(name == "masterfile_queue_depth" for name, _ in m)


def test_serve_exposes_the_metrics_on_their_own_port_only(tenant):
    env = dict(os.environ, DATABASE_URL=tenant.url)
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "pyloader"), "serve", "--port", "18097",
                             "--no-worker", "--metrics-port", "0"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("metrics at "):
                url = line.split()[-1]
        assert url and url.startswith("http://127.0.0.1:")
        samples = scrape(url)
        assert value(samples, "masterfile_queue_depth", tenant=tenant.client_id) == 0
        # the planners' port has no /metrics
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen("http://127.0.0.1:18097/metrics", timeout=5)
                raise AssertionError("/metrics answered on the API's port")
            except urllib.error.HTTPError as exc:
                assert exc.code in (401, 404)
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
