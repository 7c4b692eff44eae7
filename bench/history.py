"""Cost must not grow with history (issue 13): call-next and issue on an empty
database and on one holding a year of past days, and the ratio of the two.

    python bench/history.py                              # 1,000,000 tickets, 5,000,000 log entries
    python bench/history.py --tickets 20000 --entries 100000 --seconds 2
    python bench/history.py --database-url postgresql://user@host/db   # scratch databases there

Two scratch databases on one PostgreSQL (embedded in a temporary folder by
default), each loaded with bench/workload.py's generated hall; the second also
gets `--tickets` finished tickets and `--entries` action-log entries on the 365
days before today (bench/past.py, generate_series, then VACUUM ANALYZE). On
each, bench/engine.py's "SQL direct" and "HTTP saturation" phases run as they
do there (20,000 waiting at each phase's start). Then the queue snapshot
(`views.queue_state`) and today's daily report (`reports.daily`) are timed
directly, 20 times each.

Target: each rate with history within 20 % of the empty one's (≥ 80 %). The
server under test runs with CLEARHALL_SEALER_OFF=1 on BOTH databases: the past
entries are not chained, and a sealer would start chaining five million of
them. What chaining itself costs is bench/engine.py --no-sealer's question.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import past
from bench.engine import measure_engine
from bench.harness import Phase, tree_version
from bench.scratch import Postgres, Target, postgres, print_targets
from bench.workload import HALL_CODE
from clearhall.server.domain import reports, views
from clearhall.server.domain.hall import Hall, load_hall
from clearhall.server.store import db

TARGET_SHARE = 0.80
PHASES = ("SQL direct", "HTTP saturation")


async def reads(url: str) -> dict[str, float]:
    """Median ms of the queue snapshot and of today's daily report, 20 of each."""
    conn = await asyncpg.connect(url)
    await db.init_connection(conn)
    try:
        hall = await load_hall(conn, HALL_CODE)
        assert hall is not None
        today = reports.today_in(hall)
        timed: dict[str, list[float]] = {"queue snapshot": [], "daily report": []}
        for _ in range(20):
            began = time.perf_counter()
            await views.queue_state(conn, hall)
            timed["queue snapshot"].append(time.perf_counter() - began)
            began = time.perf_counter()
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                await reports.daily(conn, hall, today)
            timed["daily report"].append(time.perf_counter() - began)
        return {k: statistics.median(v) * 1000 for k, v in timed.items()}
    finally:
        await conn.close()


async def one(
    pg: Postgres, name: str, args: argparse.Namespace, history: bool
) -> tuple[list[Phase], dict[str, float]]:
    url = await pg.fresh(name)

    async def fill(conn: asyncpg.Connection, hall: Hall) -> None:
        began = time.perf_counter()
        await past.fill(conn, hall.id, hall.timezone, args.tickets, args.entries, progress=True)
        print(f"  filled in {time.perf_counter() - began:.0f} s", flush=True)

    try:
        print(f"{name}: {'with history' if history else 'empty'}", flush=True)
        phases, _memory = await measure_engine(
            url, args.seconds, pg.workdir, pg.postmaster_pid, sealer=False, only=PHASES,
            fill=fill if history else None,
        )  # fmt: skip
        return phases, await reads(url)
    finally:
        await pg.drop(name)


async def run(args: argparse.Namespace) -> int:
    with postgres(args.database_url, "clearhall-history-") as pg:
        print(f"PostgreSQL {await pg.version()}" + (" (embedded)" if pg.postmaster_pid else ""), flush=True)
        empty, empty_reads = await one(pg, "clearhall_history_empty", args, history=False)
        full, full_reads = await one(pg, "clearhall_history_full", args, history=True)
    print()
    print(f"history: {args.tickets:,} past tickets, {args.entries:,} past log entries; sealer off in both")
    print(
        f"{'phase':<17}{'op':<11}{'empty/s':>9}{'history/s':>11}{'ratio':>8}{'p50 empty':>11}{'p50 hist':>10}"
    )
    targets = []
    for e, f in zip(empty, full, strict=True):
        for op in ("call-next", "issue"):
            a, b = e.ops[op], f.ops[op]
            share = b.rate / a.rate if a.rate else 0.0
            print(
                f"{e.name:<17}{op:<11}{a.rate:>9.0f}{b.rate:>11.0f}{share:>8.0%}"
                f"{a.p50_ms:>9.2f}ms{b.p50_ms:>8.2f}ms"
            )
            label = f"{e.name.split()[0]} {op}: history ÷ empty"
            targets.append(Target(label, f"≥ {TARGET_SHARE:.0%}", f"{share:.0%}", share >= TARGET_SHARE))
    print()
    for what in empty_reads:
        print(f"{what:<17} median {empty_reads[what]:7.2f} ms empty, {full_reads[what]:7.2f} ms with history")
    print()
    return print_targets(targets)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase (default 10)")
    parser.add_argument("--tickets", type=int, default=1_000_000, help="past tickets (default 1,000,000)")
    parser.add_argument("--entries", type=int, default=5_000_000, help="past log entries (default 5,000,000)")
    parser.add_argument("--database-url", help="a PostgreSQL server to use; default: embedded")
    args = parser.parse_args(argv)
    print(f"tree: {tree_version()}", flush=True)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
