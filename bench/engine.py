"""How fast the queue engine calls and issues: directly in SQL, and through HTTP.

One run, one database, three phases of the same work on a generated hall of 50
windows (each serving 1–3 of 8 services), 50 staff and 16 kiosks, each phase
starting with 20,000 waiting tickets (topped up, then vacuumed, so every phase
starts from the same state):

1. SQL: the engine's own functions on a pool of 4 — 50 windows back to back,
   each op `lock_window` + `call_next` in one transaction and `finish` in
   another; 16 kiosks calling `issuing.issue` back to back.
2. HTTP saturation: the same through a real `python -m server serve` process
   (its own interpreter) and aiohttp clients, back to back.
3. HTTP open loop: 500 call-next/s offered, each window on a fixed 100 ms
   schedule, latency measured from the scheduled time (a late send counts its
   lateness: no coordinated omission), each call followed by a finish; kiosks
   issue 50/s in total the same way.

It prints a table of rates and latencies, the CPU each process used, the
server's peak RSS, and each target MET / NOT MET with its measured value.
Everything listens on 127.0.0.1 or a Unix socket; the server and the embedded
PostgreSQL are stopped at the end even on error.

    python bench/engine.py                       # embedded PostgreSQL in a temp dir
    python bench/engine.py --seconds 5
    python bench/engine.py --database-url postgresql://user@host/db   # a scratch database is made there
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import ClientSession, ClientTimeout, TCPConnector

from clearhall.server.domain import calling, issuing, window_calls
from clearhall.server.domain.action_log import Actor
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall, load_hall
from clearhall.server.domain.window import lock_window
from clearhall.server.store import db, hall_apply, hallfile
from clearhall.server.store.embedded_pg import EmbeddedPostgres
from clearhall.server.store.kinds import GREEN_CHANNEL

ROOT = Path(__file__).resolve().parents[1]
SERVICES = (
    ("A", "企业开办"), ("B", "不动产登记"), ("C", "社保医保"), ("D", "公积金"),
    ("E", "户籍证件"), ("F", "税务"), ("G", "综合受理"), ("H", "工程建设审批"),
)  # fmt: skip
WINDOWS = 50
KIOSKS = 16
WAITING = 20_000
SQL_POOL = 4
OPEN_LOOP_RATE = 500  # call-next/s over all windows
KIOSK_RATE = 50  # issue/s over all kiosks in the open loop
GREEN_SHARE = 0.20
HALL_CODE = "bench"
DATABASE = "clearhall_bench"

TARGET_RSS_MB = 150.0
TARGET_HTTP_SHARE = 0.40  # HTTP call-next/s ÷ SQL call-next/s
TARGET_OPEN_P99_MS = 15.0


class BenchError(RuntimeError):
    pass


# ---------------------------------------------------------------- the hall


def password(n: int) -> str:
    return f"bench-password-{n}"


def kiosk_token(i: int) -> str:
    return f"bench-kiosk-token-{i:02d}"


def hall_toml(seed: int = 20_250_601) -> str:
    """50 windows of 1–3 services each (every service served), one staff per window, 16 kiosks."""
    rng = random.Random(seed)
    codes = [code for code, _ in SERVICES]
    parts = [f'[hall]\ncode = "{HALL_CODE}"\nname = "压测大厅"\n']
    parts += [f'[[services]]\ncode = "{code}"\nname = "{name}"\n' for code, name in SERVICES]
    for n in range(1, WINDOWS + 1):
        first = codes[(n - 1) % len(codes)]
        served = [first, *rng.sample([c for c in codes if c != first], rng.randint(0, 2))]
        parts.append(f"[[windows]]\nnumber = {n}\nservices = {json.dumps(served)}\n")
    for n in range(1, WINDOWS + 1):
        parts.append(
            f'[[staff]]\nusername = "w{n}"\nname = "窗口{n}"\npassword = "{password(n)}"\nwindows = [{n}]\n'
        )
    for i in range(1, KIOSKS + 1):
        parts.append(f'[[devices]]\nname = "kiosk-{i:02d}"\nkind = "kiosk"\ntoken = "{kiosk_token(i)}"\n')
    return "\n".join(parts)


def random_category(rng: random.Random) -> str:
    """~20% green channel (spread over its four kinds), ~10% enterprise, the rest normal."""
    r = rng.random()
    if r < GREEN_SHARE:
        return GREEN_CHANNEL[int(r / GREEN_SHARE * len(GREEN_CHANNEL))]
    return "enterprise" if r < GREEN_SHARE + 0.10 else "normal"


# -- take the numbers of many tickets at once, per service today in one counter
# -- bump each (as that many issues would, one by one), and insert them waiting,
# -- services interleaved in line as a morning's kiosks would interleave them
TOP_UP = """
WITH wanted AS (
    SELECT service_id, count(*)::int AS n FROM unnest($2::int[]) AS u(service_id) GROUP BY service_id
), counter AS (
    INSERT INTO ticket_counters (hall_id, service_id, day, last)
    SELECT $1, service_id, (now() AT TIME ZONE $3)::date, n FROM wanted
    ON CONFLICT (service_id, day) DO UPDATE SET last = ticket_counters.last + EXCLUDED.last
    RETURNING service_id, day, last
), queued AS (
    SELECT q.service_id, q.category, q.i,
           row_number() OVER (PARTITION BY q.service_id ORDER BY q.i) AS k
    FROM unnest($2::int[], $4::text[]) WITH ORDINALITY AS q(service_id, category, i)
)
INSERT INTO tickets (id, hall_id, service_id, first_service_id, day, seq, number, category,
                     priority, status, order_at, key_hash)
SELECT gen_random_uuid()::text, $1, q.service_id, q.service_id, c.day, x.seq,
       s.code || CASE WHEN x.seq < 1000 THEN lpad(x.seq::text, 3, '0') ELSE x.seq::text END,
       q.category, q.category = ANY($5::text[]), 'waiting', now() + q.i * interval '1 microsecond',
       sha256(convert_to(gen_random_uuid()::text, 'UTF8'))
FROM queued q
JOIN counter c USING (service_id)
JOIN wanted w USING (service_id)
JOIN services s ON s.id = q.service_id,
LATERAL (SELECT (c.last - w.n + q.k)::int AS seq) x
"""

WAITING_NOW = "SELECT count(*) FROM tickets WHERE hall_id = $1 AND status = 'waiting'"


async def top_up(conn: asyncpg.Connection, hall: Hall, rng: random.Random) -> tuple[int, int]:
    """Bring the waiting set back to WAITING, then vacuum. Returns (waiting before, added)."""
    before: int = await conn.fetchval(WAITING_NOW, hall.id)
    services = [r["id"] for r in await conn.fetch("SELECT id FROM services WHERE hall_id = $1", hall.id)]
    added = max(0, WAITING - before)
    chosen = [rng.choice(services) for _ in range(added)]
    categories = [random_category(rng) for _ in range(added)]
    if added:
        await conn.execute(TOP_UP, hall.id, chosen, hall.timezone, categories, list(GREEN_CHANNEL))
    # Every phase starts from the same state, not with the last phase's dead rows.
    await conn.execute("VACUUM (ANALYZE) tickets, windows, ticket_counters, sessions")
    return before, added


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


# ---------------------------------------------------------------- phase 1: SQL


async def phase_sql(
    pool: asyncpg.Pool,
    hall: Hall,
    secret: bytes,
    staff: dict[int, Principal],
    device_ids: list[int],
    seconds: float,
) -> tuple[dict[str, Samples], float]:
    calls, finishes, issues = Samples(), Samples(), Samples()
    start = time.perf_counter()
    deadline = start + seconds

    async def window(number: int) -> None:
        p = staff[number]
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            async with pool.acquire() as conn, conn.transaction():
                w = await lock_window(conn, hall.id, number)
                ticket = await calling.call_next(conn, hall, w, p)
            ended = time.perf_counter()
            if ticket is None:
                calls.empty += 1
                await asyncio.sleep(0.01)
                continue
            calls.add(ended, ended - began)
            async with pool.acquire() as conn, conn.transaction():
                w = await lock_window(conn, hall.id, number)
                await window_calls.transition(conn, hall, w, p, window_calls.Call.FINISH)
            finishes.add(time.perf_counter(), time.perf_counter() - ended)

    async def kiosk(i: int) -> None:
        rng = random.Random(i)
        actor = Actor("device", device_ids[i], f"kiosk-{i + 1:02d}")
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            async with pool.acquire() as conn:
                order = issuing.Order(rng.choice(SERVICES)[0], random_category(rng))
                await issuing.issue(conn, hall, secret, actor, order, "http://bench")
            ended = time.perf_counter()
            issues.add(ended, ended - began)

    await asyncio.gather(*(window(n) for n in range(1, WINDOWS + 1)), *(kiosk(i) for i in range(KIOSKS)))
    return {"call-next": calls, "finish": finishes, "issue": issues}, start


# ---------------------------------------------------------------- phases 2 and 3: HTTP


class Client:
    """The HTTP side: one aiohttp session, staff tokens, kiosk tokens."""

    def __init__(self, base: str, session: ClientSession) -> None:
        self.base = base
        self.session = session
        self.tokens: dict[int, str] = {}

    async def post(self, path: str, token: str | None, body: dict[str, Any] | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else b""
        async with self.session.post(self.base + path, data=data, headers=headers) as r:
            payload = await r.read()
            if r.status not in (200, 201):
                raise BenchError(f"POST {path}: {r.status} {payload[:300]!r}")
        return json.loads(payload)

    async def staff_ready(self, n: int) -> None:
        """Log in and sign in at window n (before any timed phase: argon2 is slow on purpose)."""
        reply = await self.post("/api/login", None, {"username": f"w{n}", "password": password(n)})
        self.tokens[n] = reply["token"]
        await self.post(f"/api/windows/{n}/sign-in", self.tokens[n])

    async def call_next(self, n: int) -> bool:
        reply = await self.post(f"/api/windows/{n}/call-next", self.tokens[n])
        return reply["ticket"] is not None

    async def finish(self, n: int) -> None:
        await self.post(f"/api/windows/{n}/finish", self.tokens[n])

    async def issue(self, i: int, rng: random.Random) -> None:
        body = {"service": rng.choice(SERVICES)[0], "category": random_category(rng)}
        await self.post("/api/tickets", kiosk_token(i + 1), body)


async def phase_http_saturation(client: Client, seconds: float) -> tuple[dict[str, Samples], float]:
    calls, finishes, issues = Samples(), Samples(), Samples()
    start = time.perf_counter()
    deadline = start + seconds

    async def window(n: int) -> None:
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            called = await client.call_next(n)
            ended = time.perf_counter()
            if not called:
                calls.empty += 1
                await asyncio.sleep(0.01)
                continue
            calls.add(ended, ended - began)
            await client.finish(n)
            finishes.add(time.perf_counter(), time.perf_counter() - ended)

    async def kiosk(i: int) -> None:
        rng = random.Random(100 + i)
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            await client.issue(i, rng)
            ended = time.perf_counter()
            issues.add(ended, ended - began)

    await asyncio.gather(*(window(n) for n in range(1, WINDOWS + 1)), *(kiosk(i) for i in range(KIOSKS)))
    return {"call-next": calls, "finish": finishes, "issue": issues}, start


async def on_schedule(
    first: float, period: float, end: float, hard_end: float, op: Callable[[float], Awaitable[None]]
) -> None:
    """Fire op(scheduled) at first, first + period, ... while before `end`; a late op
    fires at once, and its lateness is part of its latency. Gives up at `hard_end`."""
    scheduled = first
    while scheduled < end and time.perf_counter() < hard_end:
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await op(scheduled)
        scheduled += period


async def phase_http_open_loop(client: Client, seconds: float) -> tuple[dict[str, Samples], float]:
    calls, finishes, issues = Samples(), Samples(), Samples()
    start = time.perf_counter() + 0.2  # every schedule laid out before the first fire
    end, hard_end = start + seconds, start + seconds + 10
    window_period = WINDOWS / OPEN_LOOP_RATE
    kiosk_period = KIOSKS / KIOSK_RATE

    def window(n: int) -> Callable[[float], Awaitable[None]]:
        async def op(scheduled: float) -> None:
            called = await client.call_next(n)
            ended = time.perf_counter()
            if not called:
                calls.empty += 1
                return
            calls.add(ended, ended - scheduled)
            await client.finish(n)
            finishes.add(time.perf_counter(), time.perf_counter() - ended)

        return op

    def kiosk(i: int) -> Callable[[float], Awaitable[None]]:
        rng = random.Random(200 + i)

        async def op(scheduled: float) -> None:
            await client.issue(i, rng)
            ended = time.perf_counter()
            issues.add(ended, ended - scheduled)

        return op

    await asyncio.gather(
        *(
            on_schedule(start + (n - 1) * window_period / WINDOWS, window_period, end, hard_end, window(n))
            for n in range(1, WINDOWS + 1)
        ),
        *(
            on_schedule(start + i * kiosk_period / KIOSKS, kiosk_period, end, hard_end, kiosk(i))
            for i in range(KIOSKS)
        ),
    )
    return {"call-next": calls, "finish": finishes, "issue": issues}, start


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
async def server_process(config: Path, url: str, log_path: Path) -> AsyncIterator[tuple[int, str]]:
    """`python -m server serve` on a free port; yields (pid, base URL) once /healthz answers."""
    port = free_port()
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clearhall.server", "serve", "--config", str(config),
            "--database-url", url, "--host", "127.0.0.1", "--port", str(port),
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
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


# ---------------------------------------------------------------- the run


def with_database(url: str, name: str) -> str:
    """The same server URL naming another database (keeps ?host= for sockets)."""
    base, _, query = url.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{name}" + (f"?{query}" if query else "")


async def prepare(url: str, config: Path) -> Hall:
    conn = await asyncpg.connect(url)
    try:
        await db.init_connection(conn)
        await db.apply_schema(conn)
        await db.installation_secret(conn)
        await hall_apply.apply(conn, hallfile.load(config))
        hall = await load_hall(conn, HALL_CODE)
        if hall is None:
            raise BenchError("the generated hall did not load")
        return hall
    finally:
        await conn.close()


async def sign_in_all(conn: asyncpg.Connection, hall: Hall) -> dict[int, Principal]:
    staff: dict[int, Principal] = {}
    for row in await conn.fetch("SELECT id, username, name FROM staff WHERE hall_id = $1", hall.id):
        n = int(row["username"][1:])
        staff[n] = Principal("staff", row["id"], row["name"], f"bench:{row['id']}", role="staff")
        async with conn.transaction():
            await window_calls.sign_in(conn, hall, n, staff[n])
    return staff


async def run(url: str, seconds: float, workdir: Path, postmaster_pid: int | None) -> int:
    config = workdir / "hall.toml"
    config.write_text(hall_toml(), encoding="utf-8")
    hall = await prepare(url, config)
    rng = random.Random(1)
    conn = await asyncpg.connect(url)
    await db.init_connection(conn)
    phases: list[Phase] = []
    memory: dict[str, float] = {}
    try:
        secret = await db.installation_secret(conn)
        staff = await sign_in_all(conn, hall)
        device_ids = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM devices WHERE hall_id = $1 AND kind = 'kiosk' ORDER BY name", hall.id
            )
        ]
        async with server_process(config, url, workdir / "server.log") as (pid, base):
            meter = CpuMeter(pid, postmaster_pid)

            async def measure(
                name: str,
                body: Callable[[], Awaitable[tuple[dict[str, Samples], float]]],
                offered: dict[str, float],
            ) -> None:
                before_waiting, _ = await top_up(conn, hall, rng)
                waiting = await conn.fetchval(WAITING_NOW, hall.id)
                print(f"{name}: {waiting} waiting (was {before_waiting}), {seconds:g} s …", flush=True)
                cpu_before = meter.snapshot()
                wall = time.perf_counter()
                samples, start = await body()
                wall = time.perf_counter() - wall
                used = CpuMeter.used(cpu_before, meter.snapshot())
                phases.append(
                    Phase(
                        name, seconds, waiting,
                        {op: stats(s, start, seconds) for op, s in samples.items()},
                        offered,
                        {k: (v / wall if v is not None else None) for k, v in used.items()},
                        samples["call-next"].empty,
                    )
                )  # fmt: skip

            memory["after start"] = memory_of(pid)["VmHWM"]
            # The pool outlives the phase so that its backends' CPU is still counted.
            pool = await db.create_pool(url, SQL_POOL)
            try:
                await measure(
                    "SQL direct", lambda: phase_sql(pool, hall, secret, staff, device_ids, seconds), {}
                )
            finally:
                await pool.close()
            connector = TCPConnector(limit=0)
            async with ClientSession(connector=connector, timeout=ClientTimeout(total=60)) as session:
                client = Client(base, session)
                await asyncio.gather(*(client.staff_ready(n) for n in range(1, WINDOWS + 1)))
                memory["after log-ins"] = memory_of(pid)["VmHWM"]
                await measure("HTTP saturation", lambda: phase_http_saturation(client, seconds), {})
                await measure(
                    "HTTP open loop",
                    lambda: phase_http_open_loop(client, seconds),
                    {"call-next": OPEN_LOOP_RATE, "issue": KIOSK_RATE},
                )
            memory |= memory_of(pid)
    finally:
        await conn.close()
    return report(phases, memory, postmaster_pid is not None)


def report(phases: list[Phase], memory: dict[str, float], embedded: bool) -> int:
    by_name = {p.name: p for p in phases}
    sql, sat, loop = by_name["SQL direct"], by_name["HTTP saturation"], by_name["HTTP open loop"]
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
    share_call = sat.ops["call-next"].rate / sql.ops["call-next"].rate if sql.ops["call-next"].rate else 0.0
    share_issue = sat.ops["issue"].rate / sql.ops["issue"].rate if sql.ops["issue"].rate else 0.0
    print(f"HTTP ÷ SQL throughput: call-next {share_call:.0%}, issue {share_issue:.0%}")
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
        ("HTTP call-next ÷ SQL", f"≥ {TARGET_HTTP_SHARE:.0%}", f"{share_call:.0%}",
         share_call >= TARGET_HTTP_SHARE),
        ("open-loop call-next p99", f"≤ {TARGET_OPEN_P99_MS:g} ms", f"{open_p99:.1f} ms",
         open_p99 <= TARGET_OPEN_P99_MS),
    ]  # fmt: skip
    print(f"{'target':<26}{'wanted':>10}{'measured':>12}  verdict")
    for label, wanted, measured, met in targets:
        print(f"{label:<26}{wanted:>10}{measured:>12}  {'MET' if met else 'NOT MET'}")
    return 0 if all(met for *_, met in targets) else 1


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase (default 10)")
    parser.add_argument(
        "--database-url",
        help=f"a PostgreSQL server to use (a scratch database {DATABASE} is made and dropped there);"
        " default: an embedded PostgreSQL in a temporary folder",
    )
    args = parser.parse_args(argv)
    print(f"tree: {tree_version()}")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, {WINDOWS} windows, {KIOSKS} kiosks,"
        f" {WAITING:,} waiting at each phase start, {args.seconds:g} s per phase",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="clearhall-bench-"))
    os.chmod(workdir, 0o755)  # the embedded server's system user walks in here when we are root
    pg = None if args.database_url else EmbeddedPostgres(workdir)
    try:
        admin_url: str = args.database_url if pg is None else pg.start()
        asyncio.run(create_database(admin_url))
        try:
            version = asyncio.run(server_version(admin_url))
            print(f"PostgreSQL {version}" + (" (embedded)" if pg else ""), flush=True)
            return asyncio.run(
                run(
                    with_database(admin_url, DATABASE),
                    args.seconds,
                    workdir,
                    postmaster_pid(pg) if pg else None,
                )
            )
        finally:
            asyncio.run(drop_database(admin_url))
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)


async def server_version(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        version: str = await conn.fetchval("SHOW server_version")
        return version
    finally:
        await conn.close()


if __name__ == "__main__":
    sys.exit(main())
