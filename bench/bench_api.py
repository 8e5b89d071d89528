"""Benchmark of the planner API (issue 15): reads and writes per second with
8 concurrent clients, a page read's latency, and the freshness of a settings
edit made through the API, to its event on /events.

- Reads: `GET /recommendations` (a page of 100, the default order).
- Writes: one decision (`PATCH /recommendations/{p}/{l}`) and one setting
  (`PUT /settings/assortments/{p}/{l}`, which the worker then recomputes).
- Freshness: an assortment PUT for a random key, and a location disabled
  (every key there); the clock starts before the request is sent and stops
  when /events has delivered every changed key (the worker that `pyloader
  serve` runs does the recomputation).

    python -m bench.bench_api [--size large] [--seconds 10] [--clients 8] [--edits 50]
                              [--locations 5] [--out FILE] [--reuse] [--keep]

The tenant is bench_freshness's (fake ERP `large`: 20,000 keys, in the
scratch database `mf_bench_freshness`, dropped at the end unless --keep;
--reuse takes one left by --keep). The server is the real `pyloader serve`,
a process of its own on a loopback port; the clients are asyncio tasks in
this process.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pathlib
import random
import socket
import statistics
import subprocess
import sys
import time

import httpx
import psycopg
from psycopg import sql

from bench.bench_freshness import CLIENT, DB_NAME, prepare
from bench.common import machine
from pyloader.db import drop_database
from pyloader.api import tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "pyloader"), "serve", "--port", str(port)],
                            env={**os.environ, "DATABASE_URL": url}, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not come up")


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


async def hammer(client: httpx.AsyncClient, make_request, clients: int, seconds: float) -> dict:
    """`clients` tasks sending make_request() back to back for `seconds`: rate and latencies."""
    latencies: list[float] = []
    errors = 0
    stop_at = time.monotonic() + seconds

    async def one():
        nonlocal errors
        while time.monotonic() < stop_at:
            method, path, body = make_request()
            started = time.perf_counter()
            resp = await client.request(method, path, json=body)
            latencies.append(time.perf_counter() - started)
            errors += resp.status_code != 200

    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(clients)))
    wall = time.monotonic() - started
    return {"requests": len(latencies), "per_s": len(latencies) / wall, "p50_ms": pct(latencies, 50) * 1000,
            "p95_ms": pct(latencies, 95) * 1000, "errors": errors}


async def wait_idle(client: httpx.AsyncClient, t: str) -> None:
    while (await client.get(f"{t}/status")).json()["queue_depth"]:
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def event_waiter(client: httpx.AsyncClient, t: str):
    """A listener on /events; yields a dict key -> future the listener resolves at the key's event."""
    waiting: dict[tuple[str, str], asyncio.Future] = {}

    async def listen():
        async with client.stream("GET", f"{t}/events", timeout=httpx.Timeout(30, read=None)) as resp:
            kind = None
            async for line in resp.aiter_lines():
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:") and kind == "recommendation":
                    e = json.loads(line[5:])
                    fut = waiting.get((e["product_id"], e["location_id"]))
                    if fut is not None and not fut.done():
                        fut.set_result(time.perf_counter())

    listener = asyncio.create_task(listen())
    await asyncio.sleep(1.0)  # the stream is open and its feed started
    try:
        yield waiting
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await listener


async def timed_put(client: httpx.AsyncClient, waiting: dict, path: str, body: dict, expected) -> float:
    """Seconds from sending the PUT to the event of the last key it changes."""
    loop = asyncio.get_running_loop()
    futures = {k: loop.create_future() for k in expected}
    waiting.update(futures)
    started = time.perf_counter()
    resp = await client.put(path, json=body)
    assert resp.status_code == 200, resp.text
    arrived = await asyncio.wait_for(asyncio.gather(*futures.values()), 60)
    for k in futures:
        del waiting[k]
    return max(arrived) - started


async def freshness(client: httpx.AsyncClient, t: str, keys: list[tuple[str, str]], edits: int,
                    locations: int) -> tuple[list[float], list[float]]:
    """Assortment PUTs for random keys, and location PUTs (every key of the location): seconds to the events."""
    one_key, location = [], []
    async with event_waiter(client, t) as waiting:
        for p, l in random.Random(15).sample(keys, edits):
            # the opposite of what is effective, so the edit changes the recommendation
            assorted = (await client.get(f"{t}/settings/assortments/{p}/{l}")).json()["effective"]["assorted"]
            one_key.append(await timed_put(client, waiting, f"{t}/settings/assortments/{p}/{l}",
                                           {"assorted": not assorted}, [(p, l)]))
            await client.delete(f"{t}/settings/assortments/{p}/{l}")
            await wait_idle(client, t)
        for loc in sorted({l for _, l in keys})[:locations]:
            rows = (await client.get(f"{t}/recommendations", params={"location_id": loc, "limit": 1000})).json()["data"]
            # a disabled location changes the keys no earlier reason (discontinued, not assorted) holds at 0
            moved = [(r["product_id"], r["location_id"]) for r in rows if r["reason"] in ("reorder", "sufficient_stock")]
            location.append(await timed_put(client, waiting, f"{t}/settings/locations/{loc}", {"enabled": False}, moved))
            await client.delete(f"{t}/settings/locations/{loc}")
            await wait_idle(client, t)
    return one_key, location


async def measure(base: str, token: str, keys: list[tuple[str, str]], movable: list[tuple[str, str]], args) -> dict:
    t = f"/v1/tenants/{CLIENT}"
    rnd = random.Random(1)
    limits = httpx.Limits(max_connections=args.clients + 2)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=60) as client:
        out = {}
        await hammer(client, lambda: ("GET", f"{t}/recommendations", None), args.clients, 2)  # warm up
        out["page, 1 client"] = await hammer(client, lambda: ("GET", f"{t}/recommendations", None), 1, args.seconds)
        out["page"] = await hammer(client, lambda: ("GET", f"{t}/recommendations", None), args.clients, args.seconds)

        def decision():
            p, l = rnd.choice(keys)
            return "PATCH", f"{t}/recommendations/{p}/{l}", {"decision": rnd.choice(["approved", "rejected"])}

        out["decision"] = await hammer(client, decision, args.clients, args.seconds)

        def setting():
            p, l = rnd.choice(keys)
            return "PUT", f"{t}/settings/assortments/{p}/{l}", {"assorted": rnd.random() < 0.5}

        out["setting"] = await hammer(client, setting, args.clients, args.seconds)
        await wait_idle(client, t)
        out["freshness"] = await freshness(client, t, movable, args.edits, args.locations)
    return out


def report(args, setup: dict, out: dict, when: str) -> str:
    fresh, fresh_location = out.pop("freshness")
    lines = [
        "## Planner API (issue 15)",
        "",
        f"`python -m bench.bench_api` (size {args.size}, {args.clients} concurrent clients, {args.seconds:g} s per"
        f" row, {args.edits} freshness edits), run on {when}. Tenant: fake ERP `{args.size}`, {setup['keys']:,} keys"
        + ("" if setup.get("reused") else f" (loaded in {setup['load_s']:.0f} s, computed in {setup['compute_s']:.0f} s)")
        + f". Machine: {machine()}; server (`pyloader serve`, its worker loop included) and clients share it.",
        "",
        "| request | clients | requests | per second | p50 | p95 | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    names = {"page, 1 client": "`GET /recommendations` (a page of 100)", "page": "`GET /recommendations` (a page of 100)",
             "decision": "`PATCH /recommendations/{p}/{l}` (one decision)",
             "setting": "`PUT /settings/assortments/{p}/{l}` (one setting)"}
    for key, r in out.items():
        n = 1 if key == "page, 1 client" else args.clients
        lines.append(f"| {names[key]} | {n} | {r['requests']:,} | {r['per_s']:.0f} | {r['p50_ms']:.1f} ms |"
                     f" {r['p95_ms']:.1f} ms | {r['errors']} |")
    lines += [
        "",
        "Freshness: from sending a settings PUT through the API until `/events` has delivered the"
        " recommendation of every key it changes (the worker inside `pyloader serve` recomputes them; the"
        " event feed polls every 200 ms). One key: an assortment of a random key; a location: `enabled: false`"
        f" for one of the first {args.locations} locations, every key there:",
        "",
        "| edit | edits | median | p95 | max | target |",
        "|---|---:|---:|---:|---:|---|",
        *(f"| {name} | {len(v)} | {statistics.median(v) * 1000:.0f} ms | {pct(v, 95) * 1000:.0f} ms |"
          f" {max(v) * 1000:.0f} ms | {target} |"
          for name, v, target in (("one key", fresh, "p95 < 1 s"),
                                  (f"a location ({setup['keys'] // max(setup['locations'], 1):,} keys)",
                                   fresh_location, "")) if v),
        "",
        f"Page read p95 with one client: {out['page, 1 client']['p95_ms']:.1f} ms (target < 50 ms). The machine's"
        f" 1-minute load average when the run ended: {os.getloadavg()[0]:.1f} (2 cores; other sessions share it).",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--locations", type=int, default=5, help="location edits timed (every key of one location)")
    parser.add_argument("--out", type=pathlib.Path)
    parser.add_argument("--reuse", action="store_true", help="reuse a database kept by --keep")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    def log(msg):
        print(f"bench_api: {msg}", file=sys.stderr, flush=True)

    url, schema, setup = prepare(args.size, args.reuse, log)
    proc = None
    try:
        with psycopg.connect(url) as conn:
            token = tokens.replace(conn, CLIENT, "bench")
            keys = conn.execute(sql.SQL("SELECT product_id, location_id FROM {}.recommendations")
                                .format(sql.Identifier(schema))).fetchall()
            # keys an assortment edit changes (a discontinued product's stays discontinued)
            movable = conn.execute(sql.SQL("SELECT product_id, location_id FROM {}.recommendations"
                                           " WHERE reason IN ('reorder', 'sufficient_stock')")
                                   .format(sql.Identifier(schema))).fetchall()
        proc, base = start_server(url)
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        out = asyncio.run(measure(base, token, keys, movable, args))
        setup["keys"] = len(keys)
        setup["locations"] = len({l for _, l in keys})
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        if not args.keep:
            drop_database(DB_NAME)
    text = report(args, setup, out, when)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
