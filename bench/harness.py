"""The engine bench's apparatus: the processes it runs, what it reads from them, the table.

Owns starting and stopping the `python -m clearhall.server serve` process on a
free port, the scratch database (made and dropped on an admin URL), CPU and
peak RSS read from /proc, the latency recorder and its nearest-rank
percentiles, and printing the table with each target MET / NOT MET. What the
phases do, and the hall they run on, live in engine.py and workload.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import ClientSession, ClientTimeout

from clearhall.server.store.embedded_pg import EmbeddedPostgres

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "clearhall_bench"

TARGET_RSS_MB = 150.0
TARGET_HTTP_SHARE = 0.40  # HTTP call-next/s ÷ the bare claim's (bench/bare.py)
TARGET_ISSUE_SHARE = 0.25  # HTTP issue/s ÷ the bare issue's
TARGET_OPEN_P99_MS = 15.0


class BenchError(RuntimeError):
    pass


# ---------------------------------------------------------------- measuring


@dataclass
class Samples:
    """Latencies (s) of one kind of op, with when each ended."""

    ended: list[float] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)
    empty: int = 0  # call-nexts that found nobody waiting

    def add(self, end: float, latency: float) -> None:
        self.ended.append(end)
        self.latency.append(latency)


@dataclass(frozen=True)
class OpStats:
    count: int
    rate: float
    p50_ms: float
    p99_ms: float
    max_ms: float


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def stats(samples: Samples, start: float, seconds: float) -> OpStats:
    """Rate counts the ops that ended within the phase; latencies are over all of them."""
    done = sum(1 for end in samples.ended if end <= start + seconds)
    ordered = sorted(samples.latency)
    return OpStats(
        done,
        done / seconds,
        percentile(ordered, 0.50) * 1000,
        percentile(ordered, 0.99) * 1000,
        (ordered[-1] if ordered else math.nan) * 1000,
    )


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float | None:
    """User + system CPU seconds of one process, from /proc (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        if ppid == parent:
            found.append(int(entry.name))
    return found


@dataclass
class CpuMeter:
    """CPU used by the bench itself, the server process, and PostgreSQL (when embedded)."""

    server_pid: int
    postmaster_pid: int | None

    def snapshot(self) -> dict[str, Any]:
        pg: dict[int, float] = {}
        if self.postmaster_pid is not None:
            for pid in [self.postmaster_pid, *children_of(self.postmaster_pid)]:
                used = cpu_of(pid)
                if used is not None:
                    pg[pid] = used
        return {"bench": time.process_time(), "server": cpu_of(self.server_pid) or 0.0, "pg": pg}

    @staticmethod
    def used(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float | None]:
        pg: float | None = None
        if after["pg"]:
            pg = sum(v - before["pg"].get(pid, 0.0) for pid, v in after["pg"].items())
        return {
            "bench": after["bench"] - before["bench"],
            "server": after["server"] - before["server"],
            "postgres": pg,
        }


@dataclass
class Phase:
    name: str
    seconds: float
    waiting_at_start: int
    ops: dict[str, OpStats]
    offered: dict[str, float]
    cpu: dict[str, float | None]
    empty_calls: int


# ---------------------------------------------------------------- the server process


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def memory_of(pid: int) -> dict[str, float]:
    """VmHWM (peak RSS) and VmRSS of a process, in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            found[key] = int(value.split()[0]) / 1024
    return found


def log_tail(path: Path) -> str:
    return path.read_text(errors="replace")[-2000:]


@contextlib.asynccontextmanager
async def server_process(
    config: Path, url: str, log_path: Path, env: dict[str, str] | None = None, extra: tuple[str, ...] = ()
) -> AsyncIterator[tuple[int, str]]:
    """`python -m server serve` on a free port (with `env` added to ours, `extra` arguments
    after its own); yields (pid, base URL) once /healthz answers."""
    port = free_port()
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clearhall.server", "serve", "--config", str(config),
            "--database-url", url, "--host", "127.0.0.1", "--port", str(port), *extra,
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with ClientSession(timeout=ClientTimeout(total=2)) as session:
            for _ in range(600):
                if proc.returncode is not None:
                    raise BenchError(f"the server exited with {proc.returncode}:\n{log_tail(log_path)}")
                with contextlib.suppress(OSError, asyncio.TimeoutError):
                    async with session.get(base + "/healthz") as r:
                        if r.status == 200:
                            break
                await asyncio.sleep(0.1)
            else:
                raise BenchError("the server did not answer /healthz within 60 s")
        yield proc.pid, base
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)  # run_app's clean shutdown: closes its pool
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()


# ---------------------------------------------------------------- the database


def with_database(url: str, name: str) -> str:
    """The same server URL naming another database (keeps ?host= for sockets)."""
    base, _, query = url.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{name}" + (f"?{query}" if query else "")


def postmaster_pid(pg: EmbeddedPostgres) -> int | None:
    with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
        return int((pg.pgdata / "postmaster.pid").read_text().split()[0])
    return None


async def create_database(url: str) -> None:
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        await admin.close()


async def drop_database(url: str) -> None:
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    finally:
        await admin.close()


async def server_version(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        version: str = await conn.fetchval("SHOW server_version")
        return version
    finally:
        await conn.close()


def tree_version() -> str:
    """The commit benchmarked, and whether the working tree differed from it."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "server", "schema.sql"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" + uncommitted changes in server/ or schema.sql" if dirty else "")


# ---------------------------------------------------------------- the table


def report(phases: list[Phase], memory: dict[str, float], embedded: bool) -> int:
    by_name = {p.name: p for p in phases}
    bare, sql = by_name["bare SQL"], by_name["SQL direct"]
    sat, loop = by_name["HTTP saturation"], by_name["HTTP open loop"]
    print()
    print(f"{'phase':<17}{'op':<11}{'offered/s':>10}{'done/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for p in phases:
        for op, s in p.ops.items():
            offered = f"{p.offered[op]:g}" if op in p.offered else "max"
            if op == "finish" and p.name == "HTTP open loop":
                offered = "after call"
            print(
                f"{p.name:<17}{op:<11}{offered:>10}{s.rate:>9.0f}{s.p50_ms:>9.2f}{s.p99_ms:>9.2f}{s.max_ms:>9.1f}"
            )
    print()
    print("latency: SQL and saturation from send to answer; open loop from the scheduled time.")
    for p in phases:
        if p.empty_calls:
            print(f"note: {p.name}: {p.empty_calls} call-next found nobody waiting (not counted)")
    print()
    print(f"{'CPU (cores busy, of 2)':<24}{'bench':>8}{'server':>8}{'postgres':>10}")
    for p in phases:
        pg = p.cpu["postgres"]
        print(
            f"{p.name:<24}{p.cpu['bench'] or 0:>8.2f}{p.cpu['server'] or 0:>8.2f}"
            f"{(f'{pg:.2f}' if pg is not None else 'n/a'):>10}"
        )
    if not embedded:
        print("(postgres CPU is only measured for the embedded server)")
    print()

    def share(a: Phase, b: Phase, op: str) -> float:
        return a.ops[op].rate / b.ops[op].rate if b.ops[op].rate else 0.0

    share_call, share_issue = share(sat, bare, "call-next"), share(sat, bare, "issue")
    print(f"HTTP ÷ bare SQL throughput: call-next {share_call:.0%}, issue {share_issue:.0%}")
    print(
        f"engine SQL ÷ bare SQL: call-next {share(sql, bare, 'call-next'):.0%},"
        f" issue {share(sql, bare, 'issue'):.0%};"
        f" HTTP ÷ engine SQL: call-next {share(sat, sql, 'call-next'):.0%},"
        f" issue {share(sat, sql, 'issue'):.0%}"
    )
    print(
        f"server memory: peak RSS (VmHWM) {memory['VmHWM']:.1f} MB, RSS at end {memory['VmRSS']:.1f} MB;"
        f" peak after start-up {memory['after start']:.1f} MB,"
        f" after 50 concurrent log-ins {memory['after log-ins']:.1f} MB"
    )
    print()
    open_p99 = loop.ops["call-next"].p99_ms
    targets = [
        ("server peak RSS", f"≤ {TARGET_RSS_MB:g} MB", f"{memory['VmHWM']:.1f} MB",
         memory["VmHWM"] <= TARGET_RSS_MB),
        ("HTTP call-next ÷ bare", f"≥ {TARGET_HTTP_SHARE:.0%}", f"{share_call:.0%}",
         share_call >= TARGET_HTTP_SHARE),
        ("HTTP issue ÷ bare", f"≥ {TARGET_ISSUE_SHARE:.0%}", f"{share_issue:.0%}",
         share_issue >= TARGET_ISSUE_SHARE),
        ("open-loop call-next p99", f"≤ {TARGET_OPEN_P99_MS:g} ms", f"{open_p99:.1f} ms",
         open_p99 <= TARGET_OPEN_P99_MS),
    ]  # fmt: skip
    print(f"{'target':<26}{'wanted':>10}{'measured':>12}  verdict")
    for label, wanted, measured, met in targets:
        print(f"{label:<26}{wanted:>10}{measured:>12}  {'MET' if met else 'NOT MET'}")
    return 0 if all(met for *_, met in targets) else 1
