"""How fast the queue engine calls and issues: directly in SQL, and through HTTP.

One run, one database, four phases of the same work on a generated hall of 50
windows (each serving 1–3 of 8 services), 50 staff and 16 kiosks, each phase
starting with 20,000 waiting tickets (topped up, then vacuumed, so every phase
starts from the same state):

0. bare SQL: the least PostgreSQL allows, one statement per op (bench/bare.py),
   the yardstick of the ratios (issue 13's targets: HTTP call-next ≥ 40 % and
   HTTP issue ≥ 25 % of it).
1. SQL: the engine's own functions on a pool of 4 — 50 windows back to back,
   each op `calling.call_next` in one transaction and `finish` in
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
    python bench/engine.py --no-sealer           # the same without chaining the action log
    python bench/engine.py --rate 300            # the open loop at 300 call-next/s
    python bench/engine.py --database-url postgresql://user@host/db   # a scratch database is made there
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
from aiohttp import ClientSession, ClientTimeout, TCPConnector

# Run as `python bench/engine.py`, only bench/ itself is on the path; its modules import as bench.*.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bare import phase_bare
from bench.client import Client
from bench.harness import (
    DATABASE,
    CpuMeter,
    Phase,
    Samples,
    create_database,
    drop_database,
    memory_of,
    postmaster_pid,
    report,
    server_process,
    server_version,
    stats,
    tree_version,
    with_database,
)
from bench.workload import (
    KIOSKS,
    SERVICES,
    WAITING,
    WAITING_NOW,
    WINDOWS,
    hall_toml,
    prepare,
    random_category,
    sign_in_all,
    top_up,
)
from clearhall.server.domain import calling, issuing, window_calls
from clearhall.server.domain.action_log import Actor
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.store import db
from clearhall.server.store.embedded_pg import EmbeddedPostgres

SQL_POOL = 4
OPEN_LOOP_RATE = 500  # call-next/s over all windows
KIOSK_RATE = 50  # issue/s over all kiosks in the open loop


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
                _, ticket = await calling.call_next(conn, hall, p, number)
            ended = time.perf_counter()
            if ticket is None:
                calls.empty += 1
                await asyncio.sleep(0.01)
                continue
            calls.add(ended, ended - began)
            async with pool.acquire() as conn, conn.transaction():
                await window_calls.transition(conn, hall, number, p, window_calls.Call.FINISH)
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


# ---------------------------------------------------------------- the run


ALL_PHASES = ("bare SQL", "SQL direct", "HTTP saturation", "HTTP open loop")
Fill = Callable[[asyncpg.Connection, Hall], Awaitable[None]]


async def run(
    url: str, seconds: float, workdir: Path, postmaster_pid: int | None, sealer: bool = True
) -> int:
    phases, memory = await measure_engine(url, seconds, workdir, postmaster_pid, sealer)
    return report(phases, memory, postmaster_pid is not None)


async def measure_engine(
    url: str,
    seconds: float,
    workdir: Path,
    postmaster_pid: int | None,
    sealer: bool = True,
    only: tuple[str, ...] = ALL_PHASES,
    fill: Fill | None = None,
) -> tuple[list[Phase], dict[str, float]]:
    """The phases named in `only`, in their order, on a fresh hall in `url` (which `fill`,
    when given, may first load with more rows: bench/history.py's past days)."""
    config = workdir / "hall.toml"
    config.write_text(hall_toml(), encoding="utf-8")
    hall = await prepare(url, config)
    filling = await asyncpg.connect(url)
    try:
        if fill is not None:
            await fill(filling, hall)
        # What was just written goes to disk before the clock starts: a hall's year of
        # history is not a gigabyte of dirty pages that the checkpointer is still flushing.
        await filling.execute("CHECKPOINT")
    finally:
        await filling.close()
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
        env = {} if sealer else {"CLEARHALL_SEALER_OFF": "1"}
        async with server_process(config, url, workdir / "server.log", env) as (pid, base):
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
                if "bare SQL" in only:
                    await measure("bare SQL", lambda: phase_bare(pool, hall, seconds), {})
                if "SQL direct" in only:
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
                if "HTTP saturation" in only:
                    await measure("HTTP saturation", lambda: phase_http_saturation(client, seconds), {})
                if "HTTP open loop" in only:
                    await measure(
                        "HTTP open loop",
                        lambda: phase_http_open_loop(client, seconds),
                        {"call-next": OPEN_LOOP_RATE, "issue": KIOSK_RATE},
                    )
            memory |= memory_of(pid)
    finally:
        await conn.close()
    return phases, memory


def main(argv: list[str] | None = None) -> int:
    global OPEN_LOOP_RATE  # --rate
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase (default 10)")
    parser.add_argument(
        "--database-url",
        help=f"a PostgreSQL server to use (a scratch database {DATABASE} is made and dropped there);"
        " default: an embedded PostgreSQL in a temporary folder",
    )
    parser.add_argument(
        "--no-sealer",
        action="store_true",
        help="the server does not chain its action log (to measure what the integrity log costs)",
    )
    parser.add_argument(
        "--rate", type=int, default=OPEN_LOOP_RATE,
        help=f"call-next/s offered in the open loop (default {OPEN_LOOP_RATE}: the target's rate)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    OPEN_LOOP_RATE = args.rate
    print(f"tree: {tree_version()}" + ("  (sealer off)" if args.no_sealer else ""))
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
                    sealer=not args.no_sealer,
                )
            )
        finally:
            asyncio.run(drop_database(admin_url))
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
