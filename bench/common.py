"""Shared pieces of the benchmarks: timing, the memory of a PostgreSQL
backend read from /proc while it works, a command's peak RSS (under a memory
cap when asked), and the sections of docs/benchmarks.md (scratch databases:
pyloader.db)."""
from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import re
import signal
import subprocess
import threading
import time

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


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


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User and system CPU seconds of a process so far; with `children`, also
    those of the children it has reaped."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


class BackendMemory(Sampler):
    """Peak memory of one backend process, sampled every 20 ms, and the CPU
    it used while sampled.

    `peak_private_mb` is anonymous memory (what the backend itself holds:
    sorts, hash tables, tuplestores); `peak_rss_mb` also counts the pages of
    shared_buffers it touched, which are shared by every backend.
    `cpu_seconds` is the backend's own CPU time, which other processes on a
    shared machine lengthen less than they lengthen the wall time.
    """

    def __init__(self, pid: int):
        super().__init__()
        self.pid = pid
        self.peak_private_kb = 0
        self.peak_rss_kb = 0
        self._cpu = [0.0, 0.0]

    def __enter__(self):
        with contextlib.suppress(OSError):
            self._cpu = [cpu_seconds(self.pid)] * 2
        return super().__enter__()

    def __exit__(self, *exc):
        super().__exit__(*exc)
        with contextlib.suppress(OSError):
            self._cpu[1] = cpu_seconds(self.pid)

    @property
    def cpu_seconds(self) -> float:
        return self._cpu[1] - self._cpu[0]

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


class RssCap(Sampler):
    """Kills the processes under `pid` (not `pid` itself) with SIGKILL when
    their resident memory together passes `cap_bytes`, sampled every 20 ms.

    A cap on resident memory, not on address space (RLIMIT_AS): polars and
    numpy reserve far more address space than they touch (under a 1.5 GB
    RLIMIT_AS polars aborted at 0.3 GB resident), so only this one says how
    much memory a job needed."""

    def __init__(self, pid: int, cap_bytes: int):
        super().__init__()
        self.pid = pid
        self.cap_kb = cap_bytes // 1024
        self.hit = False

    def _tree(self, pid: int) -> list[int]:
        try:
            children = [int(c) for c in pathlib.Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []
        return children + [d for c in children for d in self._tree(c)]

    def sample(self) -> bool:
        pids = self._tree(self.pid)
        rss = 0
        for pid in pids:
            with contextlib.suppress(OSError):
                rss += _status_kb(pid).get("VmRSS", 0)
        if rss <= self.cap_kb:
            return True
        self.hit = True
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        return False


@dataclasses.dataclass
class Measured:
    """One command's run: wall seconds, the peak RSS of the process it
    started (KiB, as /usr/bin/time -v reports it), its exit and output, and
    whether it was killed at its memory cap."""

    wall_seconds: float
    peak_rss_kb: int
    returncode: int
    stdout: str
    stderr: str
    capped: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def peak_rss_mb(self) -> float:
        return self.peak_rss_kb / 1024

    @property
    def error(self) -> str:
        """Why it failed: the cap, or its last line on stderr (time's report left out)."""
        if self.capped:
            return "killed at its memory cap"
        lines = [line.strip() for line in self.stderr.splitlines()
                 if line.strip() and not line.startswith(("\t", "Command exited", "Command terminated"))]
        return lines[-1] if lines else ""


def measured(cmd: list[str], env: dict | None = None, cap_bytes: int | None = None) -> Measured:
    """`cmd` under /usr/bin/time -v. With `cap_bytes`, it is killed when its
    resident memory passes the cap (RssCap), so that it cannot make the machine
    swap or the kernel kill a database backend instead; the run then reports
    `capped` and a failed exit."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(["/usr/bin/time", "-v", *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    with RssCap(proc.pid, cap_bytes) if cap_bytes else contextlib.nullcontext() as cap:
        stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    # time exits as its command did (128 + the signal when one killed it)
    return Measured(wall, int(m.group(1)) if m else 0, proc.returncode, stdout, stderr,
                    capped=bool(cap and cap.hit))


def doc_sections(doc: pathlib.Path = DOC) -> list[str]:
    """The `## ` sections of docs/benchmarks.md, each stripped, without the header."""
    if not doc.exists():
        return []
    return [("## " + s).strip() for s in doc.read_text().split("\n## ")[1:]]


def record_section(text: str, doc: pathlib.Path = DOC) -> None:
    """Write a section (its first line its `## ` title) into docs/benchmarks.md
    in place of the one of the same title, or at the end; the rest is kept."""
    title = text.strip().splitlines()[0]
    head = doc.read_text().split("\n## ")[0].strip() if doc.exists() else "# Benchmarks"
    sections = doc_sections(doc)
    at = next((i for i, s in enumerate(sections) if s.splitlines()[0] == title), len(sections))
    sections[at:at + 1] = [text.strip()]
    doc.write_text(head + "\n\n" + "\n\n".join(sections) + "\n")
