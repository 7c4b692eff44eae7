"""Cost must not grow with history (issue 13): call-next and issue on an empty
database and on one holding a year of past days, and the ratio of the two.

    python bench/history.py                              # 1,000,000 tickets, 5,000,000 log entries
    python bench/history.py --tickets 20000 --entries 100000 --seconds 2
    python bench/history.py --database-url postgresql://user@host/db   # scratch databases there

Two template databases on one PostgreSQL (embedded in a temporary folder by
default), each loaded with bench/workload.py's generated hall; the second also
gets `--tickets` finished tickets and `--entries` action-log entries on the 365
days before today (bench/past.py: generate_series, the days past retention
purged as the server would have, VACUUM ANALYZE), and both are CHECKPOINTed.
Then, `--rounds` times, empty and history in turn: a file copy of the template
(CREATE DATABASE … STRATEGY FILE_COPY) gets bench/engine.py's "SQL direct" and
"HTTP saturation" phases as they run there (20,000 waiting at each phase's
start), and is dropped. The rates compared are the medians of the rounds. After
the last round, the queue snapshot (`views.queue_state`) and today's daily
report (`reports.daily`) are timed directly, 20 times each.

Why copies, in turn: measured right after a fill, the history side ran at
30–50 % of the empty one, and the cause was the fill, not the history (session
6, docs/benchmarks.md): the server's first retention purge rewriting half a
million rows, and gigabytes of fresh pages still being flushed. A settled copy
is what a hall with a year behind it runs on; alternating puts the machine's
drift on both sides.

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
from bench.workload import HALL_CODE, hall_toml, prepare
from clearhall.server.domain import reports, views
from clearhall.server.domain.hall import load_hall
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


EMPTY, FULL, RUN = "clearhall_history_empty", "clearhall_history_full", "clearhall_history_run"


async def template(pg: Postgres, name: str, args: argparse.Namespace, history: bool) -> None:
    """A database holding the generated hall (and, with `history`, the past days), settled:
    every run below starts on a file copy of it."""
    url = await pg.fresh(name)
    config = pg.workdir / "hall.toml"
    config.write_text(hall_toml(), encoding="utf-8")
    hall = await prepare(url, config)
    conn = await asyncpg.connect(url)
    try:
        if history:
            began = time.perf_counter()
            await past.fill(conn, hall.id, hall.timezone, args.tickets, args.entries, progress=True)
            print(f"  filled in {time.perf_counter() - began:.0f} s", flush=True)
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> int:
    rates: dict[str, list[list[Phase]]] = {EMPTY: [], FULL: []}
    timed: dict[str, dict[str, float]] = {}
    with postgres(args.database_url, "clearhall-history-") as pg:
        print(f"PostgreSQL {await pg.version()}" + (" (embedded)" if pg.postmaster_pid else ""), flush=True)
        try:
            await template(pg, EMPTY, args, history=False)
            await template(pg, FULL, args, history=True)
            # In turn, so that what the machine does meanwhile falls on both alike.
            for n in range(1, args.rounds + 1):
                for name in (EMPTY, FULL):
                    print(f"round {n}, {'with history' if name == FULL else 'empty'}:", flush=True)
                    url = await pg.copy(name, RUN)
                    try:
                        phases, _memory = await measure_engine(
                            url, args.seconds, pg.workdir, pg.postmaster_pid, sealer=False, only=PHASES
                        )
                        rates[name].append(phases)
                        if n == args.rounds:
                            timed[name] = await reads(url)
                    finally:
                        await pg.drop(RUN)
        finally:
            for name in (EMPTY, FULL):
                await pg.drop(name)
    print()
    print(f"history: {args.tickets:,} past tickets, {args.entries:,} past log entries; sealer off in both")
    print(f"{args.rounds} rounds, empty and history in turn, each on a fresh copy; medians of the rounds")
    print(
        f"{'phase':<17}{'op':<11}{'empty/s':>9}{'history/s':>11}{'ratio':>8}{'p50 empty':>11}{'p50 hist':>10}"
        "  each round (empty/history)"
    )
    targets = []
    for i, phase in enumerate(PHASES):
        for op in ("call-next", "issue"):
            empty = [r[i].ops[op] for r in rates[EMPTY]]
            full = [r[i].ops[op] for r in rates[FULL]]
            a, b = statistics.median(x.rate for x in empty), statistics.median(x.rate for x in full)
            share = b / a if a else 0.0
            each = ", ".join(f"{x.rate:.0f}/{y.rate:.0f}" for x, y in zip(empty, full, strict=True))
            print(
                f"{phase:<17}{op:<11}{a:>9.0f}{b:>11.0f}{share:>8.0%}"
                f"{statistics.median(x.p50_ms for x in empty):>9.2f}ms"
                f"{statistics.median(x.p50_ms for x in full):>8.2f}ms  {each}"
            )
            label = f"{phase.split()[0]} {op}: history ÷ empty"
            targets.append(Target(label, f"≥ {TARGET_SHARE:.0%}", f"{share:.0%}", share >= TARGET_SHARE))
    print()
    for what, ms in timed[EMPTY].items():
        print(f"{what:<17} median {ms:7.2f} ms empty, {timed[FULL][what]:7.2f} ms with history")
    print()
    return print_targets(targets)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase (default 10)")
    parser.add_argument("--tickets", type=int, default=1_000_000, help="past tickets (default 1,000,000)")
    parser.add_argument("--entries", type=int, default=5_000_000, help="past log entries (default 5,000,000)")
    parser.add_argument("--rounds", type=int, default=2, help="empty and history in turn, this many times")
    parser.add_argument("--database-url", help="a PostgreSQL server to use; default: embedded")
    args = parser.parse_args(argv)
    print(f"tree: {tree_version()}", flush=True)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
