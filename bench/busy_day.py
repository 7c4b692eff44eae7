"""A busy day, compressed (issue 13): 30 windows, 5,000 tickets in two minutes.

    python bench/busy_day.py                        # 5,000 tickets over 2 minutes
    python bench/busy_day.py --tickets 500 --minutes 1
    python bench/busy_day.py --database-url postgresql://user@host/db   # a scratch database there

The hall of bench/busy_hall.py in a scratch database (embedded PostgreSQL by
default) and a real `python -m clearhall.server serve` with its sealer on,
behind "a trusted proxy" (the bench, `--trusted-proxy 127.0.0.1`) so that each
booker has an address of its own. Before the clock: 10 % of the tickets are
booked (POST /api/appointments, services A and B, the next 5-minute slot), the
30 staff log in and sign in, `--screens` hall-screen sockets and the 30 rating
pads connect to /ws. Then, over `--minutes`:

- arrivals spread evenly: each a walk-in at one of 8 kiosks (POST /api/tickets,
  ~20 % green channel, ~10 % enterprise) or a booking's check-in (`appointment`);
- each window calls next, handles the visit for a random time (mean sized so
  that 30 windows keep up with the arrivals, with 20 % to spare), finishes,
  and 70 % of visits are rated at the window's pad (POST /api/ratings, 5 % a 差评
  with a reason).

Printed: errors (any answer but 200/201, any socket dropped: must be 0), the
waits (kiosk answer → call-next answer) p50/p90 by kind, and the integrity
chain verified (integrity.verify, as `clearhall audit verify`) once the sealer
has caught up.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import ClientSession, ClientTimeout, TCPConnector, WSMsgType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.busy_hall import (
    BOOKABLE,
    CHECKIN_KIOSKS,
    DISPLAY,
    KIOSKS,
    WINDOWS,
    address,
    busy_hall_toml,
    id_number,
    pad_token,
)
from bench.client import Client
from bench.harness import BenchError, percentile, server_process, tree_version
from bench.scratch import Target, postgres, print_targets
from bench.workload import HALL_CODE, SERVICES, kiosk_token, prepare, random_category
from clearhall.server.domain import integrity
from clearhall.server.domain.hall import load_hall
from clearhall.server.store import db

DATABASE = "clearhall_busy_day"
APPOINTMENT_SHARE = 0.10
RATED_SHARE, BAD_SHARE = 0.70, 0.05


class Day:
    """What happened: errors by op, when each ticket was issued and called, socket messages."""

    def __init__(self) -> None:
        self.errors: Counter[str] = Counter()
        self.first_error: dict[str, str] = {}
        self.issued: dict[str, tuple[float, str]] = {}  # number → (when, kind)
        self.called: dict[str, float] = {}
        self.rated = 0
        self.messages = 0
        self.sockets_lost = 0

    async def attempt(self, op: str, work: Any) -> tuple[bool, Any]:
        """(True, the answer), or (False, None) with the error counted."""
        try:
            return True, await work
        except (BenchError, OSError, TimeoutError) as exc:
            self.errors[op] += 1
            self.first_error.setdefault(op, str(exc)[:300])
            return False, None


async def book_all(client: Client, count: int) -> list[str]:
    """`count` bookings of the next slot of A and B, each from its own address and ID; their codes."""
    slots = {}
    for code in BOOKABLE:
        offered = (await client.get(f"/api/appointments/slots?service={code}"))["slots"]
        slots[code] = next(s["start"] for s in offered if s["left"] > 0)

    async def book(i: int) -> str:
        service = BOOKABLE[i % len(BOOKABLE)]
        body = {"service": service, "slot": slots[service], "id_number": id_number(i), "phone": f"139{i:08d}"}
        reply = await client.post("/api/appointments", None, body, {"X-Forwarded-For": address(i + 1)})
        return str(reply["appointment"]["code"])

    codes: list[str] = []
    for start in range(0, count, 20):
        codes += await asyncio.gather(*(book(i) for i in range(start, min(count, start + 20))))
    return codes


async def watch(client: Client, path: str, day: Day, stop: asyncio.Event) -> None:
    async with client.session.ws_connect(client.base + path) as ws:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                break
            day.messages += 1
    if not stop.is_set():
        day.sockets_lost += 1


async def arrivals(client: Client, day: Day, codes: list[str], tickets: int, seconds: float) -> None:
    rng = random.Random(11)
    booked = set(rng.sample(range(tickets), len(codes)))
    pending = iter(codes)
    start = time.perf_counter()
    tasks = []

    async def arrive(i: int) -> None:
        kiosk = kiosk_token(1 + i % KIOSKS)
        if i in booked:
            kiosk = kiosk_token(KIOSKS + 1 + i % CHECKIN_KIOSKS)  # busy_hall.CHECKIN_KIOSKS says why
            body: dict[str, Any] = {"appointment": next(pending)}
            kind = "appointment"
        else:
            category = random_category(rng)
            body = {"service": rng.choice(SERVICES)[0], "category": category}
            kind = "green channel" if category not in ("normal", "enterprise") else category
        _ok, reply = await day.attempt(
            "issue" if kind != "appointment" else "check-in", client.post("/api/tickets", kiosk, body)
        )
        if reply is not None:
            day.issued[reply["ticket"]["number"]] = (time.perf_counter(), kind)

    for i in range(tickets):
        delay = start + i * seconds / tickets - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(arrive(i)))
    await asyncio.gather(*tasks)


async def window(
    client: Client, n: int, day: Day, handling_s: float, arrived: asyncio.Event, end: float
) -> None:
    rng = random.Random(1000 + n)
    while time.perf_counter() < end:
        _ok, ticket = await day.attempt("call-next", client.call_next_ticket(n))
        if ticket is None:
            if arrived.is_set():
                return  # nobody waiting, and nobody more to come
            await asyncio.sleep(0.1)
            continue
        day.called[ticket["number"]] = time.perf_counter()
        await asyncio.sleep(rng.uniform(0.5, 1.5) * handling_s)
        if not (await day.attempt("finish", client.finish(n)))[0]:
            continue
        if rng.random() < RATED_SHARE:
            bad = rng.random() < BAD_SHARE
            body: dict[str, Any] = {
                "ticket": ticket["id"],
                "score": rng.choice((1, 2)) if bad else rng.choice((3, 4, 5, 5)),
            }
            if bad:
                body["reasons"] = ["办事拖拉"]
            if (await day.attempt("rate", client.post("/api/ratings", pad_token(n), body)))[0]:
                day.rated += 1


async def verify_chain(url: str) -> integrity.Verdict:
    """The chain of the whole day, once the sealer has chained every entry (at most 60 s)."""
    conn = await asyncpg.connect(url)
    try:
        await db.init_connection(conn)  # the log's details as the sealer hashed them (jsonb → dict)
        hall = await load_hall(conn, HALL_CODE)
        assert hall is not None
        for _ in range(60):
            verdict = await integrity.verify(conn, hall.id)
            if verdict.pending == 0 or not verdict.ok:
                return verdict
            await asyncio.sleep(1.0)
        return verdict
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> int:
    seconds = args.minutes * 60
    # mean handling time for 30 windows to serve every arrival with 20 % to spare
    handling_s = 0.8 * WINDOWS * seconds / args.tickets
    day = Day()
    with postgres(args.database_url, "clearhall-busy-") as pg:
        url = await pg.fresh(DATABASE)
        try:
            config = pg.workdir / "hall.toml"
            config.write_text(busy_hall_toml(), encoding="utf-8")
            await prepare(url, config)
            extra = ("--trusted-proxy", "127.0.0.1")
            async with (
                server_process(config, url, pg.workdir / "server.log", extra=extra) as (_pid, base),
                ClientSession(connector=TCPConnector(limit=0), timeout=ClientTimeout(total=60)) as session,
            ):
                client = Client(base, session)
                codes = await book_all(client, round(args.tickets * APPOINTMENT_SHARE))
                await asyncio.gather(*(client.staff_ready(n) for n in range(1, WINDOWS + 1)))
                stop = asyncio.Event()
                paths = [f"/ws?token={DISPLAY}"] * args.screens + [
                    f"/ws?token={pad_token(n)}" for n in range(1, WINDOWS + 1)
                ]
                watchers = [asyncio.create_task(watch(client, p, day, stop)) for p in paths]
                print(
                    f"{len(codes)} booked, {WINDOWS} windows signed in, {len(paths)} sockets;"
                    f" {args.tickets} arrivals over {seconds:g} s, handling ~{handling_s:.2f} s …",
                    flush=True,
                )
                began = time.perf_counter()
                arrived = asyncio.Event()
                end = began + seconds + 120
                windows = [
                    asyncio.create_task(window(client, n, day, handling_s, arrived, end))
                    for n in range(1, WINDOWS + 1)
                ]
                await arrivals(client, day, codes, args.tickets, seconds)
                arrived.set()
                await asyncio.gather(*windows)
                took = time.perf_counter() - began
                stop.set()
                for task in watchers:
                    task.cancel()
                await asyncio.gather(*watchers, return_exceptions=True)
                verdict = await verify_chain(url)
        finally:
            await pg.drop(DATABASE)
    return report(day, verdict, took, args)


def report(day: Day, verdict: integrity.Verdict, took: float, args: argparse.Namespace) -> int:
    errors = sum(day.errors.values()) + day.sockets_lost
    waits: dict[str, list[float]] = {}
    for number, (issued, kind) in day.issued.items():
        if number in day.called:
            wait = day.called[number] - issued
            waits.setdefault(kind, []).append(wait)
            waits.setdefault("all", []).append(wait)
    print()
    print(f"tickets issued             {len(day.issued)} of {args.tickets}, called {len(day.called)}")
    print(f"day took                   {took:.1f} s (arrivals over {args.minutes * 60:g} s)")
    print(f"rated at the pads          {day.rated}")
    print(f"socket messages read       {day.messages}; sockets lost {day.sockets_lost}")
    print(
        f"errors                     {errors}"
        + "".join(f"\n  {op}: {n} (first: {day.first_error[op]})" for op, n in day.errors.items())
    )
    print(f"{'wait (issue → call)':<24}{'tickets':>8}{'p50 s':>8}{'p90 s':>8}")
    for kind in ("all", "green channel", "appointment", "normal", "enterprise"):
        ordered = sorted(waits.get(kind, []))
        print(
            f"  {kind:<22}{len(ordered):>8}{percentile(ordered, 0.5):>8.1f}{percentile(ordered, 0.9):>8.1f}"
        )
    pending = f", {verdict.pending} pending" if verdict.pending else ""
    chain = ("intact" if verdict.ok else "ALTERED") + pending
    print(f"integrity chain            {chain}: {verdict.entries} entries chained")
    print()
    served = len(day.called) == len(day.issued) == args.tickets
    return print_targets(
        [
            Target("busy day: errors", "0", str(errors), errors == 0),
            Target("busy day: every ticket called", f"{args.tickets}", str(len(day.called)), served),
            Target("busy day: chain verifies", "intact", chain, verdict.ok and not verdict.pending),
        ]
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tickets", type=int, default=5000, help="arrivals in the day (default 5000)")
    parser.add_argument("--minutes", type=float, default=2.0, help="the day, compressed (default 2)")
    parser.add_argument("--screens", type=int, default=20, help="hall-screen sockets (default 20)")
    parser.add_argument("--database-url", help="a PostgreSQL server to use; default: embedded")
    args = parser.parse_args(argv)
    print(f"tree: {tree_version()}", flush=True)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
