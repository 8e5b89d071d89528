"""The planner API (planner-api.md) against the real server: `pyloader serve`
on loopback over a real database with two tenants, driven over HTTP.

One server and one database per module (loading and computing two tenants
costs seconds); each test works on keys of its own, or restores what it
changed, so the order of the tests does not matter.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import socket
import subprocess
import sys
import threading
import time

import httpx
import psycopg
import pytest
from psycopg import sql

from pyloader import tenants
from pyloader.api import events as api_events
from pyloader.api import tokens as api_tokens
from tests.conftest import TenantHandle, drop_database, pyloader, scalar, url_for, admin
from tests.plan_checks import AS_OF, load_fake_erp, process

SIZES = {"acme": ("30x2x250", 3), "globex": ("6x2x250", 5)}  # 60 keys of two suppliers, and 12


@dataclasses.dataclass
class ApiServer:
    base: str
    url: str
    tenants: dict[str, TenantHandle]
    tokens: dict[str, str]  # "acme/planner" -> token
    proc: subprocess.Popen

    def client(self, who: str | None = "acme/planner", **kw) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.Client(base_url=self.base, headers=headers, **{"timeout": 30, **kw})

    def db(self, client_id: str = "acme") -> psycopg.Connection:
        """The operator's connection to a tenant (for checks only)."""
        return self.tenants[client_id].connect()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_token(url: str, client_id: str, name: str, role: str) -> str:
    done = pyloader("token", "create", client_id, "--name", name, "--role", role, url=url)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@contextlib.contextmanager
def serving(url: str, *args: str):
    """`pyloader serve` on a free loopback port, until the block ends."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url}
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "pyloader"), "serve", "--port", str(port),
                             "--status-seconds", "1", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.1)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def api_database(template_db: str, tag: str, clients: tuple[str, ...] = tuple(SIZES)):
    """A database with computed tenants (acme, globex) and tokens for them."""
    name = f"mf_{tag}_{os.getpid()}"
    drop_database(name)
    with admin() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template_db)))
    url = url_for(name)
    handles = {}
    try:
        for client_id in clients:
            size, seed = SIZES[client_id]
            t = tenants.create_tenant(client_id, url, schedule=False)
            handle = TenantHandle(t.client_id, t.schema, url)
            with handle.connect() as conn:
                conn.execute("UPDATE settings SET as_of_date = %s", (AS_OF,))
            load_fake_erp(handle, seed=seed, size=size)
            process(handle)
            handles[client_id] = handle
        with psycopg.connect(url) as conn:  # the command line is tested once, in the token test
            wanted = {"acme/planner": "ann", "acme/viewer": "vic", "globex/planner": "gus"}
            toks = {who: api_tokens.create(conn, who.split("/")[0], name, who.split("/")[1])
                    for who, name in wanted.items() if who.split("/")[0] in clients}
        yield url, handles, toks
    finally:
        drop_database(name)


@pytest.fixture(scope="module")
def api(template_db):
    with api_database(template_db, "api") as (url, handles, toks), serving(url) as (base, proc):
        yield ApiServer(base, url, handles, toks, proc)


def assert_error(resp: httpx.Response, status: int, code: str | None = None) -> dict:
    assert resp.status_code == status, resp.text
    err = resp.json()["error"]
    assert set(err) == {"code", "message", "fields"} and err["message"]
    if code:
        assert err["code"] == code
    return err


def ui_columns(conn) -> list:
    return conn.execute("SELECT product_id, location_id, decision, approved_qty, decided_by, decided_at, note"
                        " FROM recommendations ORDER BY 1, 2").fetchall()


def keys(conn, where: str = "true") -> list[tuple[str, str]]:
    return conn.execute(f"SELECT product_id, location_id FROM recommendations WHERE {where} ORDER BY 1, 2").fetchall()


def wait_for(predicate, timeout: float = 20.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(step)


# every resource of the contract, with a body where it takes one
def contract_paths(t: str, key: tuple[str, str]) -> list[tuple[str, str, dict | None]]:
    p, l = key
    base = f"/v1/tenants/{t}"
    return [
        ("GET", f"{base}/status", None),
        ("GET", f"{base}/recommendations", None),
        ("PATCH", f"{base}/recommendations/{p}/{l}", {"decision": "approved"}),
        ("POST", f"{base}/recommendations/decisions",
         {"decisions": [{"product_id": p, "location_id": l, "decision": "approved"}]}),
        ("GET", f"{base}/forecasts", None),
        ("GET", f"{base}/master-file", None),
        ("GET", f"{base}/products", None),
        ("GET", f"{base}/locations", None),
        ("GET", f"{base}/suppliers", None),
        ("GET", f"{base}/settings/products/{p}", None),
        ("PUT", f"{base}/settings/products/{p}", {"service_level": 0.9}),
        ("DELETE", f"{base}/settings/products/{p}", None),
        ("GET", f"{base}/settings/locations/{l}", None),
        ("PUT", f"{base}/settings/locations/{l}", {"enabled": False}),
        ("DELETE", f"{base}/settings/locations/{l}", None),
        ("GET", f"{base}/settings/suppliers/S0001", None),
        ("PUT", f"{base}/settings/suppliers/S0001", {"lead_time_days": 3}),
        ("DELETE", f"{base}/settings/suppliers/S0001", None),
        ("GET", f"{base}/settings/assortments/{p}/{l}", None),
        ("PUT", f"{base}/settings/assortments/{p}/{l}", {"assorted": False}),
        ("DELETE", f"{base}/settings/assortments/{p}/{l}", None),
        ("GET", f"{base}/settings/tenant", None),
        ("PATCH", f"{base}/settings/tenant", {"horizon_weeks": 5}),
        ("GET", f"{base}/conflicts", None),
        ("POST", f"{base}/conflicts/1/acknowledge", None),
        ("GET", f"{base}/events", None),
    ]


def everything_written(api: ApiServer, client_id: str) -> tuple:
    """What a request could have written in a tenant (compared before and after)."""
    with api.db(client_id) as conn:
        return (ui_columns(conn),
                conn.execute("SELECT * FROM settings").fetchall(),
                *(conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                  for t in ("ui_product_settings", "ui_location_settings", "ui_supplier_settings", "ui_assortments",
                            "conflicts")))


# --- tokens --------------------------------------------------------------------------


def test_token_commands_store_only_a_hash_and_revocation_holds_at_the_next_request(api):
    token = new_token(api.url, "acme", "temp", "planner")
    assert token.startswith("mft_") and len(token) >= 4 + 43  # 256 random bits
    with psycopg.connect(api.url) as conn:
        stored = conn.execute("SELECT to_jsonb(t)::text FROM masterfile.api_tokens t WHERE name = 'temp'").fetchone()[0]
    assert token not in stored and token[4:] not in stored
    listed = pyloader("token", "list", "acme", "--json", url=api.url)
    assert listed.returncode == 0
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["temp"]["role"] == "planner" and rows["vic"]["role"] == "viewer"
    assert token not in listed.stdout and "gus" not in rows  # another tenant's tokens are not listed

    with httpx.Client(base_url=api.base, headers={"Authorization": f"Bearer {token}"}) as c:
        assert c.get("/v1/tenants/acme/status").status_code == 200
        with psycopg.connect(api.url) as conn:
            assert scalar(conn, "SELECT last_used_at FROM masterfile.api_tokens WHERE name = 'temp'") is not None
        assert pyloader("token", "create", "acme", "--name", "temp", url=api.url).returncode == 2  # name in use
        done = pyloader("token", "revoke", "acme", "temp", url=api.url)
        assert done.returncode == 0, done.stderr
        assert_error(c.get("/v1/tenants/acme/status"), 401, "unauthorized")


def test_the_authenticator_cannot_list_tokens_nor_read_a_tenant(api):
    """What the server's login can do after a RESET ROLE inside a request: nothing."""
    from pyloader import db

    with psycopg.connect(db.app_conninfo(api.url), autocommit=True) as app:
        assert scalar(app, "SELECT rolsuper OR rolinherit FROM pg_roles WHERE rolname = current_user") is False
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute("SELECT * FROM masterfile.api_tokens")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute(sql.SQL("SELECT * FROM {}.recommendations").format(sql.Identifier(api.tenants["acme"].schema)))
        # resolving needs the whole hash; a wrong one finds nothing
        assert app.execute("SELECT count(*) FROM masterfile.resolve_api_token(%s)", (b"\0" * 32,)).fetchone()[0] == 0


# --- authentication and isolation ---------------------------------------------------


def test_every_path_answers_401_without_a_valid_token(api):
    with api.db() as conn:
        key = keys(conn)[0]
    for token in (None, "mft_not-a-token"):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with httpx.Client(base_url=api.base, headers=headers) as c:
            for method, path, body in contract_paths("acme", key):
                err = assert_error(c.request(method, path, json=body), 401, "unauthorized")
                assert not err["fields"]


def test_a_token_on_another_tenants_paths_gets_404_and_changes_nothing(api):
    with api.db("globex") as conn:
        key = keys(conn)[0]
    before = everything_written(api, "globex")
    with api.client("acme/planner") as c:
        unknown = assert_error(c.get("/v1/tenants/nosuch/status"), 404, "not_found")
        for method, path, body in contract_paths("globex", key):
            assert assert_error(c.request(method, path, json=body), 404, "not_found") == unknown, (method, path)
    assert everything_written(api, "globex") == before


def test_a_viewer_reads_and_every_write_is_refused_by_the_database_with_403(api):
    with api.db() as conn:
        key = keys(conn)[0]
        conflict_id = conn.execute(
            "INSERT INTO conflicts (entity, entity_key, field, erp_value, ui_value, erp_updated_at)"
            " VALUES ('location', 'L001', 'enabled', 'closed', 'true', now()) RETURNING conflict_id").fetchone()[0]
    before = everything_written(api, "acme")
    with api.client("acme/viewer") as c:
        for method, path, body in contract_paths("acme", key):
            path = path.replace("/conflicts/1/", f"/conflicts/{conflict_id}/")
            if method == "GET":
                if not path.endswith("/events"):
                    assert c.get(path).status_code in (200, 404), path  # 404: an unknown key
            else:
                assert_error(c.request(method, path, json=body), 403, "forbidden")
    assert everything_written(api, "acme") == before


# --- recommendations -----------------------------------------------------------------


def walk(c: httpx.Client, path: str, **params) -> list[dict]:
    rows, cursor = [], None
    while True:
        resp = c.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert resp.status_code == 200, resp.text
        doc = resp.json()
        assert set(doc) == {"data", "next_cursor"}
        rows += doc["data"]
        cursor = doc["next_cursor"]
        if cursor is None:
            return rows


def test_recommendation_pages_cover_every_row_once_in_each_order(api):
    with api.db() as conn:
        everything = conn.execute("SELECT product_id, location_id, recommended_qty, qty_changed_at FROM recommendations")
        expected = {(p, l): (q, at) for p, l, q, at in everything}
        columns = [d.name for d in conn.execute("SELECT * FROM recommendations LIMIT 0").description]
    with api.client() as c:
        for order in ("recommended_qty.desc", "product_id", "qty_changed_at.desc"):
            rows = walk(c, "/v1/tenants/acme/recommendations", limit=7, order=order)
            got = [(r["product_id"], r["location_id"]) for r in rows]
            assert sorted(got) == sorted(expected) and len(set(got)) == len(got), order
            assert list(rows[0]) == columns  # every column, the pipeline's and the UI's
            if order == "product_id":
                assert got == sorted(got)
            elif order == "recommended_qty.desc":
                qty = [(-(r["recommended_qty"] if r["recommended_qty"] is not None else float("-inf")),
                        r["product_id"], r["location_id"]) for r in rows]
                assert qty == sorted(qty)
            else:
                stamps = [r["qty_changed_at"] or "" for r in rows]
                assert stamps == sorted(stamps, reverse=True)
        default = c.get("/v1/tenants/acme/recommendations").json()["data"]
        assert [r["recommended_qty"] for r in default] == sorted((r["recommended_qty"] for r in default), reverse=True)
        assert_error(c.get("/v1/tenants/acme/recommendations", params={"cursor": "bm9wZQ"}), 422)
        a_cursor = c.get("/v1/tenants/acme/recommendations", params={"limit": 2, "order": "product_id"}).json()
        err = assert_error(c.get("/v1/tenants/acme/recommendations", params={"cursor": a_cursor["next_cursor"]}), 422)
        assert "cursor" in err["fields"]  # a cursor of another order


def test_recommendation_filters(api):
    with api.db() as conn:
        supplier_keys = set(conn.execute(
            "SELECT r.product_id, r.location_id FROM recommendations r JOIN erp_products p USING (product_id)"
            " WHERE p.supplier_id = 'S0002'").fetchall())
        reasons = dict(conn.execute("SELECT reason, count(*) FROM recommendations GROUP BY 1").fetchall())
        first = keys(conn)[0]
    assert supplier_keys
    with api.client() as c:
        base = "/v1/tenants/acme/recommendations"
        got = {(r["product_id"], r["location_id"]) for r in walk(c, base, supplier_id="S0002", limit=1000)}
        assert got == supplier_keys
        for reason, n in reasons.items():
            assert len(walk(c, base, reason=reason, limit=1000)) == n
        one = walk(c, base, product_id=first[0], location_id=first[1])
        assert [(r["product_id"], r["location_id"]) for r in one] == [first]
        assert all(r["location_id"] == "L002" for r in walk(c, base, location_id="L002"))
        assert all(r["decision"] == "pending" for r in walk(c, base, decision="pending", limit=1000))
        for params, field in (({"decision": "maybe"}, "decision"), ({"reason": "whim"}, "reason"),
                              ({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"limit": "ten"}, "limit"),
                              ({"order": "price"}, "order")):
            assert field in assert_error(c.get(base, params=params), 422, "invalid")["fields"]


def test_a_decision_records_the_tokens_name_and_leaves_out_fields_alone(api):
    with api.db() as conn:
        p, l = keys(conn)[1]
    path = f"/v1/tenants/acme/recommendations/{p}/{l}"
    with api.client() as c:
        row = c.patch(path, json={"decision": "approved", "approved_qty": 12.5, "note": "fine"}).json()
        assert (row["decision"], row["approved_qty"], row["note"], row["decided_by"]) == ("approved", 12.5, "fine", "ann")
        assert row["decided_at"] is not None
        row2 = c.patch(path, json={"note": "still fine"}).json()
        assert (row2["decision"], row2["approved_qty"], row2["note"]) == ("approved", 12.5, "still fine")
        row3 = c.patch(path, json={"approved_qty": None}).json()
        assert row3["approved_qty"] is None and row3["note"] == "still fine"
        assert_error(c.patch(f"/v1/tenants/acme/recommendations/{p}/NOWHERE", json={"decision": "approved"}), 404)
    with api.db() as conn:
        assert conn.execute("SELECT decided_by, note FROM recommendations WHERE product_id = %s AND location_id = %s",
                            (p, l)).fetchone() == ("ann", "still fine")


BAD_DECISIONS = [
    ({"decision": "maybe"}, "decision"),
    ({"decision": None}, "decision"),
    ({"decision": "approved", "approved_qty": -1}, "approved_qty"),
    ({"decision": "approved", "approved_qty": "12"}, "approved_qty"),
    ({"decision": "approved", "approved_qty": True}, "approved_qty"),
    ({"decision": "approved", "colour": "red"}, "colour"),
    ({"note": 5}, "note"),
    ({"note": "x" * 2001}, "note"),
    ({}, "body"),
    ([], "body"),
]


def test_bad_input_answers_422_with_the_field_and_writes_nothing(api):
    with api.db() as conn:
        p, l = keys(conn)[2]
    before = everything_written(api, "acme")
    path = f"/v1/tenants/acme/recommendations/{p}/{l}"
    with api.client() as c:
        for body, field in BAD_DECISIONS:
            err = assert_error(c.patch(path, json=body), 422, "invalid")
            assert field in err["fields"] and err["fields"][field], (body, err)
        for raw in (b'{"decision": "approved"', b"not json", b'{"decision": "approved"}' + b" " * (1 << 20)):
            err = assert_error(c.patch(path, content=raw, headers={"Content-Type": "application/json"}), 422)
            assert "body" in err["fields"]
        chunks = (b" " * 65536 for _ in range(20))  # no Content-Length: counted as it streams
        err = assert_error(c.patch(path, content=chunks, headers={"Content-Type": "application/json"}), 422)
        assert "body" in err["fields"]
        for path2, body, field in (
                ("/settings/products/P00001", {"service_level": 1.5}, "service_level"),
                ("/settings/products/P00001", {"discontinued": "yes"}, "discontinued"),
                ("/settings/locations/L001", {"enabled": 1}, "enabled"),
                ("/settings/suppliers/S0001", {"lead_time_days": 2.5}, "lead_time_days"),
                ("/settings/suppliers/S0001", {"order_multiple": 0}, "order_multiple"),
                ("/settings/suppliers/S0001", {"min_order_qty": -3}, "min_order_qty"),
                ("/settings/suppliers/S0001", {"review_period_weeks": 0}, "review_period_weeks"),
                ("/settings/assortments/P00001/L001", {"assorted": None, "extra": 1}, "extra")):
            err = assert_error(c.put("/v1/tenants/acme" + path2, json=body), 422)
            assert field in err["fields"], (path2, err)
        for body, field in (({"horizon_weeks": 0}, "horizon_weeks"), ({"default_service_level": None},
                            "default_service_level"), ({"as_of_date": "someday"}, "as_of_date"), ({}, "body")):
            assert field in assert_error(c.patch("/v1/tenants/acme/settings/tenant", json=body), 422)["fields"]
        assert "conflict_id" in assert_error(c.post("/v1/tenants/acme/conflicts/abc/acknowledge"), 422)["fields"]
        assert "from_week" in assert_error(c.get("/v1/tenants/acme/master-file",
                                                 params={"from_week": "june"}), 422)["fields"]
    assert everything_written(api, "acme") == before


def test_bulk_decisions_are_all_or_nothing(api):
    with api.db() as conn:
        ks = keys(conn)[3:7]
    before = everything_written(api, "acme")
    good = [{"product_id": p, "location_id": l, "decision": "approved", "approved_qty": 1.0} for p, l in ks]
    path = "/v1/tenants/acme/recommendations/decisions"
    with api.client() as c:
        missing = [*good[:2], {"product_id": "P99999", "location_id": "L001", "decision": "approved"}, *good[2:]]
        assert assert_error(c.post(path, json={"decisions": missing}), 422)["fields"] == {
            "decisions[2]": "no recommendation for this product and location"}
        bad = [*good[:1], {**good[1], "decision": "nope"}, {**good[2], "approved_qty": -1}]
        assert list(assert_error(c.post(path, json={"decisions": bad}), 422)["fields"]) == ["decisions[1].decision"]
        twice = [*good, good[0]]
        assert list(assert_error(c.post(path, json={"decisions": twice}), 422)["fields"]) == [f"decisions[{len(good)}]"]
        assert "decisions" in assert_error(c.post(path, json={"decisions": []}), 422)["fields"]
        assert everything_written(api, "acme") == before
        done = c.post(path, json={"decisions": [*good[:2], {**good[2], "decision": "rejected", "note": "no"}]})
        assert done.status_code == 200, done.text
        assert [(r["decision"], r["decided_by"]) for r in done.json()["data"]] == \
            [("approved", "ann"), ("approved", "ann"), ("rejected", "ann")]
    with api.db() as conn:
        assert conn.execute("SELECT count(*) FROM recommendations WHERE decided_by = 'ann' AND product_id || location_id"
                            " = ANY(%s)", ([p + l for p, l in ks[:3]],)).fetchone()[0] == 3


# --- settings ------------------------------------------------------------------------


def test_settings_show_erp_override_and_effective_values(api):
    with api.client() as c:
        t = "/v1/tenants/acme"
        products = walk(c, f"{t}/products", limit=5)
        assert len(products) == 30 and set(products[0]) == {"product_id", "erp", "override", "effective"}
        assert products[0]["effective"] == {"discontinued": False, "service_level": 0.95}
        assert [p["product_id"] for p in c.get(f"{t}/products", params={"q": "duct 1"}).json()["data"]] == \
            ["P00001", *(f"P000{i}" for i in range(10, 20))]  # by name, "Product 1..."
        assert [p["product_id"] for p in c.get(f"{t}/products", params={"q": "p00002"}).json()["data"]] == ["P00002"]
        sup = c.get(f"{t}/settings/suppliers/S0002").json()
        erp_lead = sup["erp"]["lead_time_days"]
        assert sup["override"] is None and sup["effective"]["lead_time_days"] == erp_lead

        put = c.put(f"{t}/settings/suppliers/S0002", json={"lead_time_days": erp_lead + 7, "review_period_weeks": 2})
        assert put.status_code == 200, put.text
        doc = put.json()
        assert doc["override"]["lead_time_days"] == erp_lead + 7 and doc["override"]["min_order_qty"] is None
        assert doc["override"]["updated_by"] == "ann"
        assert doc["effective"]["lead_time_days"] == erp_lead + 7 and doc["effective"]["review_period_weeks"] == 2
        assert doc["erp"]["lead_time_days"] == erp_lead
        # PUT replaces: a field left out is no override any more
        doc = c.put(f"{t}/settings/suppliers/S0002", json={"order_multiple": 4}).json()
        assert doc["override"]["lead_time_days"] is None and doc["effective"]["lead_time_days"] == erp_lead
        assert c.delete(f"{t}/settings/suppliers/S0002").json()["override"] is None
        assert_error(c.delete(f"{t}/settings/suppliers/S0002"), 404)

        loc = c.put(f"{t}/settings/locations/L002", json={"enabled": False}).json()
        assert loc["effective"] == {"enabled": False} and loc["erp"]["status"] == "open"
        assert c.get(f"{t}/locations", params={"q": "L002"}).json()["data"][0]["override"]["enabled"] is False
        c.delete(f"{t}/settings/locations/L002")

        prod = c.put(f"{t}/settings/products/NEW-1", json={"service_level": 0.9}).json()  # before the ERP sends it
        assert prod["erp"] is None and prod["effective"]["service_level"] == 0.9
        assert c.delete(f"{t}/settings/products/NEW-1").json()["effective"] is None
        assert_error(c.get(f"{t}/settings/products/NEW-1"), 404)

        a = c.get(f"{t}/settings/assortments/P00001/L001").json()
        assert a["override"] is None and a["effective"] == {"assorted": True}
        a = c.put(f"{t}/settings/assortments/P00001/L001", json={"assorted": False}).json()
        assert a["effective"] == {"assorted": False}
        c.delete(f"{t}/settings/assortments/P00001/L001")
        assert_error(c.get(f"{t}/settings/assortments/P00001/NOWHERE"), 404)

        s = c.get(f"{t}/settings/tenant").json()
        done = c.patch(f"{t}/settings/tenant", json={"default_lead_time_days": 15}).json()
        assert done["default_lead_time_days"] == 15 and done["updated_by"] == "ann"
        assert done["horizon_weeks"] == s["horizon_weeks"] and done["as_of_date"] == s["as_of_date"]
        c.patch(f"{t}/settings/tenant", json={"default_lead_time_days": s["default_lead_time_days"]})


def test_lists_of_forecasts_master_file_and_status(api):
    with api.db() as conn:
        n_forecasts = scalar(conn, "SELECT count(*) FROM forecasts WHERE product_id = 'P00001'")
        n_weeks = scalar(conn, "SELECT count(*) FROM master_file WHERE product_id = 'P00001' AND location_id = 'L001'"
                               " AND week_start BETWEEN '2025-01-06' AND '2025-03-31'")
    with api.client() as c:
        t = "/v1/tenants/acme"
        fc = walk(c, f"{t}/forecasts", product_id="P00001", limit=10)
        assert len(fc) == n_forecasts and {f["product_id"] for f in fc} == {"P00001"}
        assert [(f["location_id"], f["target_week"]) for f in fc] == sorted((f["location_id"], f["target_week"]) for f in fc)
        mf = walk(c, f"{t}/master-file", product_id="P00001", location_id="L001", from_week="2025-01-06",
                  to_week="2025-03-31", limit=4)
        assert len(mf) == n_weeks and [m["week_start"] for m in mf] == sorted(m["week_start"] for m in mf)
        status = c.get(f"{t}/status").json()
        assert set(status) == {"end_week", "queue_depth", "oldest_dirty_age_seconds", "last_run", "open_conflicts"}
        assert status["end_week"] == "2025-06-23" and set(status["last_run"]) >= {"started", "finished", "keys", "status"}


# --- conflicts -----------------------------------------------------------------------


def test_conflicts_are_acknowledged_once_and_only_their_ui_columns_are_writable(api):
    with api.db() as conn:
        ids = [conn.execute("INSERT INTO conflicts (entity, entity_key, field, erp_value, ui_value, erp_updated_at)"
                            " VALUES ('supplier', 'S0001', 'lead_time_days', '12', %s, now()) RETURNING conflict_id",
                            (str(v),)).fetchone()[0] for v in (20, 21)]
    with api.client() as c:
        t = "/v1/tenants/acme"
        open_ids = [x["conflict_id"] for x in walk(c, f"{t}/conflicts", acknowledged="false")]
        assert open_ids[:2] == ids[::-1]  # newest first
        first = c.post(f"{t}/conflicts/{ids[0]}/acknowledge").json()
        assert first["acknowledged_by"] == "ann" and first["acknowledged_at"]
        again = c.post(f"{t}/conflicts/{ids[0]}/acknowledge").json()
        assert again == first  # idempotent
        assert ids[0] in [x["conflict_id"] for x in walk(c, f"{t}/conflicts", acknowledged="true")]
        assert ids[0] not in [x["conflict_id"] for x in walk(c, f"{t}/conflicts", acknowledged="false")]
        assert_error(c.post(f"{t}/conflicts/999999/acknowledge"), 404)
    with api.tenants["acme"].connect("ui") as ui:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            ui.execute("UPDATE conflicts SET erp_value = 'x' WHERE conflict_id = %s", (ids[1],))


# --- events and freshness ----------------------------------------------------------


class EventReader(threading.Thread):
    """Reads a tenant's /events stream in the background."""

    def __init__(self, api: ApiServer, who: str, client_id: str):
        super().__init__(daemon=True)
        self.api, self.who, self.client_id = api, who, client_id
        self.events: list[tuple[float, str, dict]] = []
        self.opened = threading.Event()
        self.stop = threading.Event()

    def run(self):
        with self.api.client(self.who, timeout=httpx.Timeout(30, read=5)) as c:
            with c.stream("GET", f"/v1/tenants/{self.client_id}/events") as resp:
                assert resp.headers["content-type"].startswith("text/event-stream")
                kind = None
                for line in resp.iter_lines():
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("data:"):
                        self.events.append((time.monotonic(), kind, json.loads(line[5:])))
                        self.opened.set()
                    if self.stop.is_set():
                        return

    def of(self, kind: str) -> list[dict]:
        return [e for _, k, e in self.events if k == kind]


def test_events_carry_the_tenants_changes_within_a_second_and_nothing_of_another_tenant(api):
    a, b = EventReader(api, "acme/planner", "acme"), EventReader(api, "globex/planner", "globex")
    for r in (a, b):
        r.start()
        assert r.opened.wait(10)
    with api.db() as conn:
        s1 = keys(conn, "product_id IN (SELECT product_id FROM erp_products WHERE supplier_id = 'S0001')")
    with api.client() as c, api.client("globex/planner") as g:
        sent = time.monotonic()
        assert c.put("/v1/tenants/acme/settings/suppliers/S0001", json={"lead_time_days": 40}).status_code == 200
        g.put("/v1/tenants/globex/settings/suppliers/S0001", json={"lead_time_days": 41})
        wait_for(lambda: {(e["product_id"], e["location_id"]) for e in a.of("recommendation")} >= set(s1), 10)
        first = min(t for t, k, e in a.events if k == "recommendation")
        # freshness through the worker that serve runs; the p95 < 1 s target is measured by
        # bench/bench_api.py, this bound only keeps a shared, loaded test machine from flaking
        assert first - sent < 3.0
        wait_for(lambda: b.of("recommendation"), 10)
        time.sleep(1.2)  # a status tick (--status-seconds 1)
        c.delete("/v1/tenants/acme/settings/suppliers/S0001")
        g.delete("/v1/tenants/globex/settings/suppliers/S0001")
    a.stop.set()
    b.stop.set()
    acme_events = a.of("recommendation")
    assert all(e["computed_at"] for e in acme_events)
    globex_stamps = {e["computed_at"] for e in b.of("recommendation")}
    assert not globex_stamps & {e["computed_at"] for e in acme_events}
    assert set(acme_events[0]) == {"product_id", "location_id", "recommended_qty", "reason", "computed_at"}
    assert len(a.of("status")) >= 2 and set(a.of("status")[0]) >= {"queue_depth", "last_run"}
    assert len({(e["product_id"], e["location_id"], e["computed_at"]) for e in acme_events}) == len(acme_events)


def test_a_decision_survives_a_reload_and_a_recomputation(api):
    with api.db() as conn:
        p, l = keys(conn, "product_id IN (SELECT product_id FROM erp_products WHERE supplier_id = 'S0002')")[0]
        before = conn.execute("SELECT recommended_qty, computed_at FROM recommendations WHERE product_id = %s"
                              " AND location_id = %s", (p, l)).fetchone()
    with api.client() as c:
        t = "/v1/tenants/acme"
        c.patch(f"{t}/recommendations/{p}/{l}", json={"decision": "approved", "approved_qty": 3, "note": "keep"})
        c.put(f"{t}/settings/suppliers/S0002", json={"lead_time_days": 60})
        with api.db() as conn:
            wait_for(lambda: conn.execute("SELECT computed_at FROM recommendations WHERE product_id = %s"
                                          " AND location_id = %s", (p, l)).fetchone()[0] != before[1])
        row = c.get(f"{t}/recommendations", params={"product_id": p, "location_id": l}).json()["data"][0]
        assert (row["decision"], row["approved_qty"], row["note"], row["decided_by"]) == ("approved", 3, "keep", "ann")
        assert row["lead_time_weeks"] == pytest.approx(60 / 7)
        c.delete(f"{t}/settings/suppliers/S0002")


def test_streams_hold_no_connection_each(api):
    readers = [EventReader(api, "acme/viewer", "acme") for _ in range(15)]
    for r in readers:
        r.start()
    for r in readers:
        assert r.opened.wait(10)
    with psycopg.connect(api.url) as conn:
        n = scalar(conn, "SELECT count(*) FROM pg_stat_activity WHERE usename = 'masterfile_app'"
                         " AND datname = current_database()")
    for r in readers:
        r.stop.set()
    assert n <= 10 + 2  # the pool (10) and the worker's sessions, whatever the number of streams


def test_a_subscriber_that_falls_behind_is_dropped_not_buffered():
    async def scenario():
        hub = api_events.EventHub(in_tenant=None, queue_size=4)
        feed = api_events._Feed(since=None)
        hub._feeds["t_x"] = feed
        slow = api_events.Subscriber("t_x", asyncio.Queue(maxsize=4))
        fast = api_events.Subscriber("t_x", asyncio.Queue(maxsize=4))
        feed.subscribers |= {slow, fast}
        for i in range(4):
            hub._publish(feed, b"chunk")
            fast.queue.get_nowait()
        hub._publish(feed, b"one too many")
        assert slow.dropped and slow.queue.qsize() == 1 and slow.queue.get_nowait() is api_events.CLOSED
        assert not fast.dropped and fast.queue.get_nowait() == b"one too many"
        hub._publish(feed, b"later")
        assert slow.queue.empty()  # nothing more is kept for a dropped subscriber

    asyncio.run(scenario())


# --- the document --------------------------------------------------------------------


def test_openapi_lists_every_resource_with_its_errors(api):
    doc = httpx.get(api.base + "/openapi.json").json()
    paths = doc["paths"]
    prefix = "/v1/tenants/{client_id}"
    for method, path, _ in contract_paths("T", ("P", "L")):
        templ = (path.replace("/v1/tenants/T", prefix).replace("/P/L", "/{product_id}/{location_id}")
                 .replace("products/P", "products/{product_id}").replace("locations/L", "locations/{location_id}")
                 .replace("suppliers/S0001", "suppliers/{supplier_id}").replace("/1/", "/{conflict_id}/"))
        assert templ in paths and method.lower() in paths[templ], (method, templ)
        op = paths[templ][method.lower()]
        assert {"401", "404", "422"} <= set(op["responses"]), templ
        if method != "GET":
            assert "403" in op["responses"], templ
    assert "/healthz" in paths
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    rec = doc["components"]["schemas"]["Recommendation"]["properties"]
    assert {"decision", "approved_qty", "decided_by", "recommended_qty", "qty_changed_at"} <= set(rec)
    patch = paths[prefix + "/recommendations/{product_id}/{location_id}"]["patch"]
    assert patch["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/DecisionPatch")
