"""Shared pieces of the benchmarks: timing, and the memory of a PostgreSQL
backend read from /proc while it works (scratch databases: pyloader.db)."""
from __future__ import annotations

import contextlib
import os
import re
import threading
import time


def _status_kb(pid: int) -> dict[str, int]:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            m = re.match(r"(\w+):\s+(\d+) kB", line)
            if m:
                out[m.group(1)] = int(m.group(2))
    return out


class Sampler:
    """Calls sample() every `every` seconds in a thread while it is entered;
    a sample() that returns False ends the sampling."""

    every = 0.02

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> bool:
        raise NotImplementedError

    def _run(self):
        while not self._stop.is_set() and self.sample() is not False:
            time.sleep(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


class BackendMemory(Sampler):
    """Peak memory of one backend process, sampled every 20 ms.

    `peak_private_mb` is anonymous memory (what the backend itself holds:
    sorts, hash tables, tuplestores); `peak_rss_mb` also counts the pages of
    shared_buffers it touched, which are shared by every backend.
    """

    def __init__(self, pid: int):
        super().__init__()
        self.pid = pid
        self.peak_private_kb = 0
        self.peak_rss_kb = 0

    def sample(self) -> bool:
        try:
            st = _status_kb(self.pid)
        except OSError:
            return False
        self.peak_private_kb = max(self.peak_private_kb, st.get("RssAnon", 0))
        self.peak_rss_kb = max(self.peak_rss_kb, st.get("VmRSS", 0))
        return True

    @property
    def peak_private_mb(self) -> float:
        return self.peak_private_kb / 1024

    @property
    def peak_rss_mb(self) -> float:
        return self.peak_rss_kb / 1024


@contextlib.contextmanager
def timer():
    t = {"start": time.perf_counter()}
    yield t
    t["seconds"] = time.perf_counter() - t["start"]


def machine() -> str:
    cpu = "unknown cpu"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GiB RAM"
