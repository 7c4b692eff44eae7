"""Fan-out for a city (issue 13): thousands of sockets on one server process.

    python bench/fanout.py                      # 5,000 sockets, 50 calls, 2 client processes
    python bench/fanout.py --sockets 500 --calls 20
    python bench/fanout.py --database-url postgresql://user@host/db   # a scratch database there

One `python -m clearhall.server serve` process (the generated hall of
bench/workload.py, 50 windows) on an embedded PostgreSQL in a temporary folder.
The sockets are a city's mix: 20 % hall screens, 20 % window screens (a display
device per window), 60 % citizens' phone pages (`/ws?ticket=…&key=…`, one
waiting ticket each). They are opened and read by `--clients` processes of
their own (bench/screens.py), so that reading them is not one Python process's
single core; each offers permessage-deflate, as browsers do. Then window 1
calls `--calls` times, a call every `--gap` seconds after the last one's finish.

Every screen receives every `ticket.called`; a phone only its own ticket's (the
phones hold every waiting ticket when there are enough of them, so most calls
reach one phone too), and `ticket.place` when its place changed. For each call:
the time from *sending* call-next (stricter than from its answer) to the moment
each socket that should have it has read the event, and to the moment the
*last* one has. Printed: p50/p99/max over all deliveries, p50/p99 of the last
socket per call (the target, issue 13: ≤ 50 ms), the phones' new places per
call (how many, and when the last came: after the hub's debounce, no target),
messages a phone got that were not about its ticket (must be 0), and the
server's memory per idle socket ((RSS with all sockets connected and idle − RSS
before) ÷ sockets; target ≤ 16 KiB). Client processes, server and PostgreSQL
share this machine's cores: the figures include the clients' own work.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import resource
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import ClientSession, ClientTimeout, TCPConnector

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import screens
from bench.client import Client
from bench.harness import BenchError, percentile, server_process, tree_version
from bench.scratch import Target, postgres, print_targets
from bench.workload import TOP_UP, hall_toml, prepare, random_category
from clearhall.server.domain.hall import load_hall
from clearhall.server.store.kinds import GREEN_CHANNEL

DATABASE = "clearhall_fanout"
TARGET_LAST_P99_MS = 50.0
TARGET_KIB_PER_SOCKET = 16.0
HALL_SCREENS, WINDOW_SCREENS = 0.20, 0.20  # the rest are phone pages
WINDOWS = 50


def screens_toml() -> str:
    """Display devices to add to the generated hall: 4 hall screens, one screen per window."""
    device = '[[devices]]\nname = "{}"\nkind = "display"\ntoken = "{}"\n'
    parts = [device.format(f"hall-screen-{i}", hall_screen(i)) for i in range(4)]
    parts += [
        device.format(f"window-{n}-screen", window_screen(n)) + f"window = {n}\n"
        for n in range(1, WINDOWS + 1)
    ]
    return "\n".join(parts)


def hall_screen(i: int) -> str:
    return f"bench-hall-screen-{i}"


def window_screen(n: int) -> str:
    return f"bench-window-screen-{n:02d}"


async def waiting_tickets(url: str, count: int) -> list[tuple[str, str]]:
    """`count` waiting tickets over all services, each one's key made equal to its id (a bench
    shortcut: the phone page's URL carries both). Returns their ids and numbers."""
    conn = await asyncpg.connect(url)
    try:
        hall = await load_hall(conn, "bench")
        assert hall is not None
        rng = random.Random(7)
        services = [r["id"] for r in await conn.fetch("SELECT id FROM services WHERE hall_id = $1", hall.id)]
        chosen = [rng.choice(services) for _ in range(count)]
        categories = [random_category(rng) for _ in range(count)]
        await conn.execute(TOP_UP, hall.id, chosen, hall.timezone, categories, list(GREEN_CHANNEL))
        rows = await conn.fetch(
            "UPDATE tickets SET key_hash = sha256(convert_to(id, 'UTF8')) WHERE hall_id = $1"
            " AND status = 'waiting' RETURNING id, number",
            hall.id,
        )
        await conn.execute("VACUUM (ANALYZE) tickets")
        return [(r["id"], r["number"]) for r in rows]
    finally:
        await conn.close()


def socket_paths(sockets: int, tickets: list[tuple[str, str]]) -> list[tuple[str, str | None]]:
    """Each socket's path, and for a phone page its ticket's number."""
    halls, windows = round(sockets * HALL_SCREENS), round(sockets * WINDOW_SCREENS)
    phones = sockets - halls - windows
    paths: list[tuple[str, str | None]] = [(f"/ws?token={hall_screen(i % 4)}", None) for i in range(halls)]
    paths += [(f"/ws?token={window_screen(i % WINDOWS + 1)}", None) for i in range(windows)]
    paths += [(f"/ws?ticket={t}&key={t}", number) for t, number in tickets[:phones]]
    random.Random(3).shuffle(paths)  # every client process gets a mix
    return paths


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError("no VmRSS")


class Clients:
    """The client processes and what they say, as asyncio queues."""

    def __init__(self, base: str, paths: list[tuple[str, str | None]], processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes = []
        self.inbox: list[asyncio.Queue[Any]] = []
        loop = asyncio.get_running_loop()
        for i in range(processes):
            ours, theirs = context.Pipe()
            share = paths[i::processes]
            process = context.Process(target=screens.run, args=(base, share, theirs), daemon=True)
            process.start()
            inbox: asyncio.Queue[Any] = asyncio.Queue()
            loop.add_reader(ours.fileno(), self._drain, ours, inbox)
            self.pipes.append(ours)
            self.processes.append(process)
            self.inbox.append(inbox)
        self.closed: list[str] = []

    @staticmethod
    def _drain(pipe: Connection, inbox: asyncio.Queue[Any]) -> None:
        try:
            while pipe.poll():
                inbox.put_nowait(pipe.recv())
        except EOFError:
            asyncio.get_running_loop().remove_reader(pipe.fileno())
            inbox.put_nowait(("error", "the client process ended"))

    async def expect(self, i: int, kind: str, value: Any = None, within: float = 600) -> Any:
        """The next message of `kind` (and `value`) from client i; a socket closed early is
        noted, an error raises."""
        deadline = time.monotonic() + within
        while True:
            message = await asyncio.wait_for(self.inbox[i].get(), max(0.0, deadline - time.monotonic()))
            if message[0] == "error":
                raise BenchError(f"client process {i}: {message[1]}")
            if message[0] == "closed":
                self.closed.append(message[1])
                continue
            if message[0] == kind and (value is None or message[1] == value):
                return message[1] if len(message) == 2 else message[1:]

    def stop(self) -> None:
        for pipe in self.pipes:
            pipe.send("stop")

    def end(self) -> None:
        for pipe in self.pipes:
            asyncio.get_running_loop().remove_reader(pipe.fileno())
        for process in self.processes:
            process.join(30)
            if process.is_alive():
                process.kill()


async def measure(
    base: str, pid: int, paths: list[tuple[str, str | None]], args: argparse.Namespace
) -> dict[str, Any]:
    timeout = ClientTimeout(total=60)
    async with ClientSession(connector=TCPConnector(limit=0), timeout=timeout) as session:
        console = Client(base, session)
        await console.staff_ready(1)  # argon2 before the "before" RSS: its buffer is not a socket's
        await asyncio.sleep(2.0)
        before = rss_kib(pid)
        clients = Clients(base, paths, args.clients)
        try:
            connecting = time.monotonic()
            opened = sum([await clients.expect(i, "ready") for i in range(args.clients)])
            connect_s = time.monotonic() - connecting
            print(f"{opened} sockets open in {connect_s:.1f} s", flush=True)
            await asyncio.sleep(3.0)  # the start-up's queue.changed settles
            idle = rss_kib(pid)
            sent: dict[str, float] = {}
            for _ in range(args.calls):
                began = time.monotonic()
                ticket = await console.call_next_ticket(1)
                if ticket is None:
                    raise BenchError("window 1 found nobody waiting")
                sent[ticket["number"]] = began
                for i in range(args.clients):
                    await clients.expect(i, "got", ticket["number"], within=30)
                await console.finish(1)
                await asyncio.sleep(args.gap)
            clients.stop()
            arrivals: dict[str, list[float]] = {}
            places: list[float] = []
            strays = 0
            for i in range(args.clients):
                theirs, their_places, their_strays = await clients.expect(i, "arrivals")
                for number, times in theirs.items():
                    arrivals.setdefault(number, []).extend(times)
                places += their_places
                strays += their_strays
        finally:
            clients.end()
    delays = [(t - sent[n]) * 1000 for n, times in arrivals.items() if n in sent for t in times]
    last = sorted(max(arrivals[n]) * 1000 - sent[n] * 1000 for n in sent)
    return {
        "opened": opened, "connect_s": connect_s, "closed": len(clients.closed),
        "delays": sorted(delays), "last": last, "before": before, "idle": idle,
        "places": per_call(sorted(sent.values()), sorted(places)), "strays": strays,
    }  # fmt: skip


def per_call(sent: list[float], places: list[float]) -> list[tuple[int, float]]:
    """The phones' new places after each call: (how many, ms from the call to the last),
    counting those that came before the next call was sent."""
    out = []
    for i, began in enumerate(sent):
        end = sent[i + 1] if i + 1 < len(sent) else float("inf")
        mine = [t for t in places if began <= t < end]
        if mine:
            out.append((len(mine), (max(mine) - began) * 1000))
    return out


async def run(args: argparse.Namespace) -> int:
    with postgres(args.database_url, "clearhall-fanout-") as pg:
        url = await pg.fresh(DATABASE)
        try:
            embedded = " (embedded)" if pg.postmaster_pid else ""
            print(f"PostgreSQL {await pg.version()}{embedded}", flush=True)
            config = pg.workdir / "hall.toml"
            config.write_text(hall_toml() + "\n" + screens_toml(), encoding="utf-8")
            await prepare(url, config)
            phones = args.sockets - round(args.sockets * HALL_SCREENS) - round(args.sockets * WINDOW_SCREENS)
            tickets = await waiting_tickets(url, max(phones, 20 * args.calls))
            paths = socket_paths(args.sockets, tickets)
            async with server_process(config, url, pg.workdir / "server.log") as (pid, base):
                r = await measure(base, pid, paths, args)
        finally:
            await pg.drop(DATABASE)
    delays, last = r["delays"], r["last"]
    per_socket = (r["idle"] - r["before"]) / r["opened"]
    halls, windows = round(args.sockets * HALL_SCREENS), round(args.sockets * WINDOW_SCREENS)
    print()
    print(f"sockets connected          {r['opened']}")
    print(f"  of which                 {halls} hall screens, {windows} window screens, {phones} phone pages")
    print(f"client processes           {args.clients}; all open in {r['connect_s']:.1f} s")
    print(f"calls                      {args.calls}, {len(delays)} deliveries")
    print(f"sockets closed early       {r['closed']}")
    p50, p99 = percentile(delays, 0.5), percentile(delays, 0.99)
    print(f"call → each socket   p50 {p50:8.1f} ms   p99 {p99:8.1f} ms")
    print(f"call → last socket   p50 {statistics.median(last):8.1f} ms   p99 {percentile(last, 0.99):8.1f} ms"
          f"   max {last[-1]:.1f} ms   p90 {percentile(last, 0.9):.1f} ms")  # fmt: skip
    if r["places"]:
        counts, lasts = sorted(n for n, _ in r["places"]), sorted(t for _, t in r["places"])
        print(f"phones' new places / call  p50 {statistics.median(counts):8.0f}      max {counts[-1]:8d}")
        p50, p99 = statistics.median(lasts), percentile(lasts, 0.99)
        print(f"call → last new place p50 {p50:8.1f} ms   p99 {p99:8.1f} ms (after the hub's debounce)")
    print(f"phones' messages not theirs {r['strays']}")
    print(f"server RSS before / idle   {r['before'] / 1024:.1f} / {r['idle'] / 1024:.1f} MiB")
    print(f"memory per idle socket     {per_socket:.1f} KiB")
    print()
    return print_targets(
        [
            Target(f"fan-out to {r['opened']}: last socket p99", f"≤ {TARGET_LAST_P99_MS:g} ms",
                   f"{percentile(last, 0.99):.1f} ms", percentile(last, 0.99) <= TARGET_LAST_P99_MS),
            Target("server memory per idle socket", f"≤ {TARGET_KIB_PER_SOCKET:g} KiB",
                   f"{per_socket:.1f} KiB", per_socket <= TARGET_KIB_PER_SOCKET),
            Target("sockets closed early", "0", str(r["closed"]), r["closed"] == 0),
            Target("phones' messages not theirs", "0", str(r["strays"]), r["strays"] == 0),
        ]
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sockets", type=int, default=5000, help="WebSockets in all (default 5000)")
    parser.add_argument("--calls", type=int, default=50, help="calls made (default 50)")
    parser.add_argument("--clients", type=int, default=2, help="client processes reading the sockets")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between calls (default 1)")
    parser.add_argument("--database-url", help="a PostgreSQL server to use; default: embedded")
    args = parser.parse_args(argv)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = args.sockets + 1000
    if hard < needed:
        raise SystemExit(f"the file-descriptor limit ({hard}) is below {needed}: raise it (ulimit -Hn)")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server and the clients inherit it
    print(f"tree: {tree_version()}; {args.sockets} sockets, {args.calls} calls", flush=True)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
