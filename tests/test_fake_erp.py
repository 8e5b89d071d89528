"""The fake ERP: deterministic data, the paginated API over real HTTP on
loopback, generations, faults, and the same data as files (no database)."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
import urllib.request

import pytest

from pyloader.fake_erp import Dataset, FakeErp, FakeErpServer, Faults, iter_records, write_files
from pyloader.fake_erp.generator import ENTITY_ORDER, LATE_BY_US, format_us, parse_us
from pyloader.load import read_batches
from pyloader.normalize import entity
from pyloader.sources.api import ApiClient, ApiError, ApiSource, PageLimits, RetryPolicy
from pyloader.sources.files import FileSource, loads_json

FAST = RetryPolicy(backoff=0.001, max_backoff=0.01, timeout=5)


def key_of(name, rec):
    return tuple(rec.get(k) for k in entity(name).key_names)


def full(ds, name, generation=0):
    """The stream as a client decodes it (numbers as Decimal)."""
    return [loads_json(json.dumps(rec)) for _, rec in iter_records(ds, name, generation)]


def fetch_all(url, name, *, token=None, since=None, page_size=50, retry=FAST, sleep=None, limits=None):
    kw = {} if sleep is None else {"sleep": sleep}
    with ApiClient(url, token, page_size=page_size, retry=retry, limits=limits, **kw) as client:
        return [rec for page in client.pages(name, since) for rec in page.records], client


# --- data -------------------------------------------------------------------------


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = Dataset(7, "small"), Dataset(7, "small"), Dataset(8, "small")
    for name in ENTITY_ORDER:
        assert full(a, name, 2) == full(b, name, 2)
    assert full(a, "sales_lines") != full(c, "sales_lines")


def test_large_is_millions_of_lines_and_any_position_is_direct():
    ds = Dataset(1, "large")
    counts = ds.counts()
    assert counts["products"] == 1000 and counts["locations"] == 20
    assert counts["sales_lines"] > 3_000_000
    # the last page costs no walk through the first 3.6 million lines
    t0 = time.monotonic()
    tail = list(iter_records(ds, "sales_lines", 0, since_us=ds.newest_us("sales_lines", 0) - 2_000))
    assert time.monotonic() - t0 < 0.5
    assert 1 <= len(tail) <= 3


@pytest.mark.parametrize("generation", [0, 1, 3])
def test_streams_are_ordered_by_updated_at_and_key_with_each_key_once(generation):
    ds = Dataset(3, "small")
    for name in ENTITY_ORDER:
        recs = list(iter_records(ds, name, generation))
        assert len(recs) == ds.counts(generation)[name]
        keys = [key_of(name, r) for _, r in recs]
        assert len(set(keys)) == len(keys)
        order = [(us, k) for (us, _), k in zip(recs, keys)]
        assert order == sorted(order)
        assert all(parse_us(r["updated_at"]) == us for us, r in recs)


def test_a_generation_corrects_deletes_and_adds_late_lines():
    ds = Dataset(5, "small")
    before = {key_of("sales_lines", r): r for r in full(ds, "sales_lines", 0)}
    after = {key_of("sales_lines", r): r for r in full(ds, "sales_lines", 1)}
    newest0 = ds.newest_us("sales_lines", 0)
    changed = {k for k in before if before[k] != after[k]}
    deleted = {k for k in changed if after[k].get("deleted")}
    late = set(after) - set(before)
    assert changed and deleted and late and set(before) <= set(after)
    for k in changed:
        assert parse_us(after[k]["updated_at"]) > newest0  # corrections are newer
    for k in late:
        # committed late: older than what a load at generation 0 saw, inside a 10-minute lookback
        assert newest0 - 600_000_000 <= parse_us(after[k]["updated_at"]) < newest0
        assert newest0 - parse_us(after[k]["updated_at"]) <= LATE_BY_US
    for k in deleted:
        assert {f: v for f, v in after[k].items() if f not in ("deleted", "updated_at")} == {
            f: v for f, v in before[k].items() if f != "updated_at"}


def test_format_and_parse_us_round_trip():
    for us in (0, 1_751_241_600_000_000, 1_751_241_600_123_457):
        assert parse_us(format_us(us)) == us
    assert parse_us("2025-06-30T02:00:00+02:00") == parse_us("2025-06-30T00:00:00Z")


# --- API ----------------------------------------------------------------------------


@pytest.fixture
def erp():
    return FakeErp(11, "small", token="s3cret")


@pytest.fixture
def server(erp):
    with FakeErpServer(erp) as srv:
        yield srv


def test_pages_follow_cursors_to_the_whole_collection(erp, server):
    for name in ("products", "sales_lines"):
        got, client = fetch_all(server.url, name, token="s3cret", page_size=97)
        assert got == full(erp.dataset, name)
    assert client.requests == -(-len(got) // 97) + (len(got) % 97 == 0)


def test_updated_since_is_inclusive_and_served_from_any_position(erp, server):
    recs = full(erp.dataset, "sales_lines")
    since = dt.datetime.fromisoformat(recs[1000]["updated_at"])
    got, _ = fetch_all(server.url, "sales_lines", token="s3cret", since=since, page_size=100)
    assert got == recs[1000:]


def test_a_cursor_keeps_its_generation(erp, server):
    with ApiClient(server.url, "s3cret", page_size=100, retry=FAST) as client:
        pages = client.pages("sales_lines", None)
        first = next(pages)
        erp.set_generation(2)
        rest = [r for p in pages for r in p.records]
    assert first.records + rest == full(erp.dataset, "sales_lines", 0)


def test_admin_generation_endpoint(erp, server):
    req = urllib.request.Request(server.url + "/admin/generation", method="POST",
                                 headers={"Authorization": "Bearer s3cret"})
    with urllib.request.urlopen(req) as resp:
        assert json.load(resp) == {"generation": 1}
    assert erp.generation == 1


@pytest.mark.parametrize("token, status", [(None, 401), ("wrong", 401)])
def test_a_bad_token_fails_at_once_and_is_never_repeated(erp, server, token, status):
    with pytest.raises(ApiError) as exc:
        fetch_all(server.url, "products", token=token)
    assert exc.value.status == status and exc.value.fatal
    assert "HTTP 401" in str(exc.value) and "MASTERFILE_ERP_TOKEN" in str(exc.value)
    assert "s3cret" not in str(exc.value) and (token is None or token not in str(exc.value))
    assert erp.stats["unauthorized"] == 1


def test_forbidden_and_missing_collections_fail_clearly(erp, server):
    erp.faults.status_for["invoice_lines"] = 403
    with pytest.raises(ApiError, match="invoice_lines page 1 .*HTTP 403"):
        fetch_all(server.url, "invoice_lines", token="s3cret")
    with pytest.raises(ApiError, match="HTTP 404: no such collection"):
        fetch_all(server.url + "/wrong-prefix", "products", token="s3cret")


def test_retries_429_with_retry_after_5xx_and_dropped_connections(server, erp):
    erp.faults = Faults(error_rate=0.2, rate_limit_rate=0.2, retry_after=0.25, drop_rate=0.2)
    slept = []
    got, client = fetch_all(server.url, "sales_lines", token="s3cret", page_size=40, sleep=slept.append)
    assert got == full(erp.dataset, "sales_lines")
    s = erp.stats
    assert s["errors"] and s["rate_limited"] and s["dropped"]
    assert client.retries == s["errors"] + s["rate_limited"] + s["dropped"]
    assert slept.count(0.25) == s["rate_limited"]  # Retry-After honoured, not the backoff


def test_gives_up_after_its_attempts_with_the_last_reason(erp, server):
    erp.faults.status_for["products"] = 503
    slept = []
    with pytest.raises(ApiError, match=r"products page 1 .* giving up after 6 attempts: HTTP 503"):
        fetch_all(server.url, "products", token="s3cret", sleep=slept.append,
                  retry=RetryPolicy(backoff=0.001, max_backoff=1))
    assert len(slept) == 5 and slept == sorted(slept)  # doubling backoff (jitter never undoes a doubling)


def test_a_429_with_retry_after_zero_backs_off_and_each_retry_is_logged(erp, server, caplog):
    erp.faults.status_for["products"] = 429  # always, with Retry-After: 0
    slept = []
    policy = RetryPolicy(backoff=0.2, max_backoff=10)
    with caplog.at_level("WARNING", logger="pyloader.load"), \
            pytest.raises(ApiError, match=r"giving up after 6 attempts: HTTP 429 \(rate limited\)"):
        fetch_all(server.url, "products", token="s3cret", sleep=slept.append, retry=policy)
    # Retry-After: 0 is a floor under the backoff, not a licence to hammer the API
    assert len(slept) == 5 and all(s >= 0.75 * 0.2 * 2**i for i, s in enumerate(slept))
    assert sum(slept) > 4
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 5 and all(f"products page 1 from {server.url}: retry {i} of 5 in " in line
                                   and line.endswith("HTTP 429 (rate limited)") for i, line in enumerate(lines, 1))
    assert "s3cret" not in " ".join(lines)


def test_a_server_that_drips_bytes_is_cut_off_at_the_deadline(erp, server):
    erp.faults.drip_for["products"] = 0.05  # a few hundred bytes: a minute of answer, never a silent second
    t0 = time.monotonic()
    with pytest.raises(ApiError, match=r"giving up after 2 attempts: timed out \(no complete answer within 0.5 s\)"):
        fetch_all(server.url, "products", token="s3cret",
                  retry=RetryPolicy(attempts=2, backoff=0.001, timeout=5, deadline=0.5))
    assert time.monotonic() - t0 < 10  # the whole answer would take minutes
    assert erp.stats["dripped"] == 2
    # the client is not poisoned: the next collection comes at once
    got, _ = fetch_all(server.url, "locations", token="s3cret")
    assert got == full(erp.dataset, "locations")


def test_a_page_past_the_size_cap_is_refused(erp, server):
    erp.faults.huge_page_for["products"] = 8 << 20  # no Content-Length: the cap counts what arrives
    with pytest.raises(ApiError, match=r"products page 1 .*larger than 1,048,576 bytes .* --page-size") as exc:
        fetch_all(server.url, "products", token="s3cret", limits=PageLimits(max_page_bytes=1 << 20))
    assert not exc.value.fatal


def test_cursors_that_go_round_in_a_circle_stop_the_collection(erp, server):
    erp.faults.cursor_loop.add("sales_lines")
    with pytest.raises(ApiError, match=r"sales_lines page 3 .*next_cursor repeats one already followed"):
        fetch_all(server.url, "sales_lines", token="s3cret", page_size=50)
    assert erp.stats["looped"] == 1


def test_a_new_cursor_on_every_page_stops_past_a_sane_count(erp, server):
    erp.faults.endless.add("products")
    with pytest.raises(ApiError, match=r"products page 20 .*20 empty pages in a row"):
        fetch_all(server.url, "products", token="s3cret", limits=PageLimits(max_empty_pages=20))
    with pytest.raises(ApiError, match=r"products page 30 .*more than 30 pages"):
        fetch_all(server.url, "products", token="s3cret", limits=PageLimits(max_pages=30))


def test_extra_records_come_on_the_first_page(erp, server):
    odd = {"product_id": "P-ODD", "updated_at": "9999-12-31T00:00:00Z"}
    erp.faults.extra_records["products"] = [odd]
    got, _ = fetch_all(server.url, "products", token="s3cret")
    assert got[0] == odd and got[1:] == full(erp.dataset, "products")


def test_an_unreachable_api_is_a_fatal_connection_failure():
    with FakeErpServer(FakeErp()) as srv:
        url = srv.url
    with pytest.raises(ApiError, match="giving up after 2 attempts: connection failed") as exc:
        fetch_all(url, "products", retry=RetryPolicy(attempts=2, backoff=0.001))
    assert exc.value.fatal


def test_slow_pages_time_out_and_are_retried(erp, server):
    erp.faults = Faults(slow_rate=0.3, slow_seconds=1.2)
    got, _ = fetch_all(server.url, "purchase_order_lines", token="s3cret", page_size=40,
                       retry=RetryPolicy(backoff=0.001, timeout=0.6))
    assert got == full(erp.dataset, "purchase_order_lines")
    assert erp.stats["slow"]


def test_repeated_pages_repeat_records_but_lose_none(erp, server):
    erp.faults = Faults(repeat_rate=0.5)
    got, _ = fetch_all(server.url, "sales_lines", token="s3cret", page_size=50)
    want = full(erp.dataset, "sales_lines")
    assert erp.stats["repeated"] and len(got) > len(want)
    assert {key_of("sales_lines", r) for r in got} == {key_of("sales_lines", r) for r in want}


def test_a_page_that_is_not_json_fails_the_collection(erp, server):
    erp.faults.broken_from_page["sales_lines"] = 3
    with pytest.raises(ApiError, match="sales_lines page 3 .*: the page is not JSON"):
        fetch_all(server.url, "sales_lines", token="s3cret", page_size=100)


def test_malformed_records_are_the_loaders_rejects(erp, server):
    erp.faults = Faults(malformed_rate=0.05)
    with ApiClient(server.url, "s3cret", page_size=200, retry=FAST) as client:
        batches = list(read_batches(ApiSource(client, "sales_lines", None), batch_size=500))
    rejects = [r for b in batches for r in b.rejects]
    assert len(rejects) == erp.stats["malformed"] > 0
    assert sum(len(b.lines) for b in batches) + len(rejects) == erp.dataset.counts()["sales_lines"]
    reasons = {reason.split(":")[0].split(" (")[0] for _, reason in rejects}
    assert {"business_date", "qty", "missing key field txn_id", "empty key field txn_id", "location_id"} <= reasons


def test_fake_erp_command_serves_and_prints_its_url():
    proc = subprocess.Popen(
        [sys.executable, "-m", "pyloader.cli", "fake-erp", "--size", "tiny", "--port", "0", "--token", "t"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        got, _ = fetch_all(url, "locations", token="t")
        assert got == full(Dataset(1, "tiny"), "locations")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- files -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_files_hold_what_the_api_serves(tmp_path, fmt):
    ds = Dataset(2, "small")
    write_files(ds, tmp_path, fmt, generation=1)
    for name in ENTITY_ORDER:
        from_files = list(read_batches(FileSource(name, tmp_path / f"{name}.{fmt}", fmt)))
        from_api = list(read_batches(_ListSource(name, full(ds, name, 1))))
        assert [b.rejects for b in from_files] == [[] for _ in from_files]
        assert _canonical(from_files) == _canonical(from_api)


def test_malformed_file_records_become_rejects(tmp_path):
    ds = Dataset(2, "small")
    write_files(ds, tmp_path, "jsonl", entities=["sales_lines"], malformed_rate=0.05)
    (batch,) = read_batches(FileSource("sales_lines", tmp_path / "sales_lines.jsonl", "jsonl"), batch_size=10**6)
    assert batch.rejects and len(batch.lines) + len(batch.rejects) == ds.counts()["sales_lines"]


class _ListSource:
    typed = True

    def __init__(self, name, records):
        self.entity, self._records = name, records

    def records(self):
        return ((r, r) for r in self._records)

    def raw_text(self, raw):
        return raw


def _canonical(batches):
    """Lines as values the database would store (numbers compared as numbers, stamps as instants)."""
    from decimal import Decimal

    out = []
    for b in batches:
        for line in b.lines:
            vals = []
            for v in line.decode().rstrip("\n").split("\t")[:-1]:
                try:
                    vals.append(Decimal(v))
                    continue
                except ArithmeticError:
                    pass
                try:
                    if "T" in v:
                        vals.append(dt.datetime.fromisoformat(v.replace("Z", "+00:00")))
                        continue
                except ValueError:
                    pass
                vals.append(v)
            out.append(tuple(vals))
    return out
