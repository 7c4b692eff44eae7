"""Kill a process mid-storm, through nginx (docs/nginx.md; docs/ops/guide-run-2026-11-30.md).

    /opt/clearhall/.venv/bin/python docs/ops/storm.py --url https://hall.example.cn \
        --connect 127.0.0.1 --cafile /etc/ssl/hall.example.cn/fullchain.pem \
        --kiosk TOKEN --kiosk TOKEN … --window USER:PASSWORD@N[:SERVICE] … --service A --service G \
        --tickets 200 --kill-after 70 --kill-pid PID --database-url postgresql://clearhall_app:…@db1/clearhall

Kiosks issue `--tickets` tickets (services in turn) while the windows call and finish
until every ticket is done, all through nginx. Every POST carries an Idempotency-Key
and is sent again with the same key when nginx answers 502, 503 or 504 or the
connection breaks, as the kiosk page does. When `--kill-after` tickets have been
answered, the process `--kill-pid` is frozen (SIGSTOP) for half a second, so that
requests are surely inside it, then killed with SIGKILL. Then, in the database:
every ticket a kiosk was answered for exists once and is done; the action log has
exactly one `call_next` for each. It prints which process answered, before and after
the kill, and how many 502s were sent again. Exit 0 when nothing was lost and nothing
called twice. A test hall, or before opening: it makes real tickets.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import signal
import ssl
import sys
import time
import uuid
from collections import Counter
from typing import Any

import aiohttp
import asyncpg
from hall_check import Fixed  # beside this file: run as docs/ops/storm.py

RETRY = {502, 503, 504}


class Storm:
    def __init__(self, args: argparse.Namespace, http: aiohttp.ClientSession) -> None:
        self.args, self.http = args, http
        self.base = args.url.rstrip("/")
        self.acked: dict[str, str] = {}  # ticket id → number, as the kiosks were answered
        self.issued = 0
        self.killed_at: float | None = None
        self.workers_before: Counter[str] = Counter()
        self.workers_after: Counter[str] = Counter()
        self.resent = Counter[str]()
        self.failed: list[str] = []
        self.kiosks_done = asyncio.Event()
        self.killing: asyncio.Future[None] | None = None
        self.numbers = itertools.count()

    async def post(self, path: str, token: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """POST with one Idempotency-Key, sent again with it on a 502/503/504 or a broken connection."""
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
        for attempt in range(8):
            try:
                async with self.http.post(self.base + path, json=body or {}, headers=headers) as r:
                    worker = r.headers.get("X-Clearhall-Worker", "-")
                    if r.status in RETRY:
                        self.resent[f"{r.status} {path.split('/')[-1]}"] += 1
                        await asyncio.sleep(0.5 * (attempt + 1))
                        continue
                    (self.workers_after if self.killed_at else self.workers_before)[worker] += 1
                    return r.status, await r.json()
            except (TimeoutError, aiohttp.ClientConnectionError) as exc:
                self.resent[f"{type(exc).__name__} {path.split('/')[-1]}"] += 1
                await asyncio.sleep(0.5 * (attempt + 1))
        self.failed.append(f"{path}: no answer after 8 tries")
        return 0, None

    async def kiosk(self, token: str) -> None:
        services = self.args.service
        while (n := next(self.numbers)) < self.args.tickets:
            status, body = await self.post("/api/tickets", token, {"service": services[n % len(services)]})
            if status == 201:
                ticket = body["ticket"]
                self.acked[ticket["id"]] = ticket["number"]
                if len(self.acked) == self.args.kill_after:
                    self.killing = asyncio.ensure_future(self.kill())
            elif status == 429:  # the kiosk's per-minute limit: wait and take the next number
                await asyncio.sleep(2)
            else:
                self.failed.append(f"issue: {status} {body}")

    async def kill(self) -> None:
        pid = self.args.kill_pid
        if not pid:
            return
        os.kill(pid, signal.SIGSTOP)
        print(f"froze pid {pid} after {len(self.acked)} tickets answered", flush=True)
        await asyncio.sleep(0.5)
        os.kill(pid, signal.SIGKILL)
        self.killed_at = time.monotonic()
        print(f"killed pid {pid} with SIGKILL", flush=True)

    async def window(self, user: str, password: str, number: int) -> None:
        async with self.http.post(
            f"{self.base}/api/login", json={"username": user, "password": password}
        ) as r:
            token = (await r.json())["token"]
        status, _ = await self.post(f"/api/windows/{number}/sign-in", token)
        assert status == 200, f"sign-in {user} at {number}: {status}"
        idle_since = None
        while True:
            status, body = await self.post(f"/api/windows/{number}/call-next", token)
            if status == 409:  # a ticket at the window (a call whose answer was lost): finish it
                await self.post(f"/api/windows/{number}/finish", token)
                continue
            if status != 200:
                self.failed.append(f"call-next at {number}: {status} {body}")
                await asyncio.sleep(0.5)
                continue
            if body["ticket"] is None:
                if self.kiosks_done.is_set():
                    idle_since = idle_since or time.monotonic()
                    if time.monotonic() - idle_since > 2:
                        break
                await asyncio.sleep(0.1)
                continue
            idle_since = None
            status, body = await self.post(f"/api/windows/{number}/finish", token)
            if status != 200:
                self.failed.append(f"finish at {number}: {status} {body}")
        await self.post(f"/api/windows/{number}/sign-out", token)


async def check_database(url: str, acked: dict[str, str]) -> list[str]:
    problems = []
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT id::text, number, status FROM tickets WHERE id::text = ANY($1)", list(acked)
        )
        found = {r["id"]: r for r in rows}
        lost = [n for i, n in acked.items() if i not in found]
        not_done = [r["number"] for r in rows if r["status"] != "done"]
        calls = Counter(
            r["t"] for r in await conn.fetch(
                "SELECT ticket_id::text AS t FROM action_log"
                " WHERE action = 'call_next' AND ticket_id::text = ANY($1)",
                list(acked),
            )
        )  # fmt: skip
        twice = {acked[t]: c for t, c in calls.items() if c > 1}
        never = [acked[t] for t in acked if calls[t] == 0]
        dup_numbers = [n for n, c in Counter(r["number"] for r in rows).items() if c > 1]
        print(f"database: {len(rows)} of {len(acked)} acknowledged tickets found; lost {lost}; "
              f"not done {not_done}; called twice {twice}; never called {never}; "
              f"numbers given twice {dup_numbers}", flush=True)  # fmt: skip
        if lost or twice or never or not_done or dup_numbers:
            problems.append("database check failed")
    finally:
        await conn.close()
    return problems


async def main_async(args: argparse.Namespace) -> int:
    context = ssl.create_default_context(cafile=args.cafile) if args.cafile else True
    connector = aiohttp.TCPConnector(
        ssl=context, resolver=Fixed(args.connect) if args.connect else None, limit=64
    )
    timeout = aiohttp.ClientTimeout(total=30)
    started = time.monotonic()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        storm = Storm(args, http)
        windows = []
        for spec in args.window:
            login, where = spec.rsplit("@", 1)
            user, password = login.split(":", 1)
            windows.append(asyncio.ensure_future(storm.window(user, password, int(where))))
        await asyncio.gather(*(storm.kiosk(t) for t in args.kiosk))
        storm.kiosks_done.set()
        await asyncio.gather(*windows)
    took = time.monotonic() - started
    print(f"{len(storm.acked)} tickets issued and answered, called and finished in {took:.1f} s", flush=True)
    print(f"answers by process before the kill: {dict(sorted(storm.workers_before.items()))}", flush=True)
    print(f"answers by process after the kill:  {dict(sorted(storm.workers_after.items()))}", flush=True)
    print(f"sent again with the same Idempotency-Key: {dict(storm.resent) or 'none'}", flush=True)
    problems = list(storm.failed)
    if args.database_url:
        problems += await check_database(args.database_url, storm.acked)
    for p in problems[:20]:
        print("PROBLEM:", p, flush=True)
    print("OK" if not problems else f"FAIL: {len(problems)} problem(s)", flush=True)
    return 1 if problems else 0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True)
    p.add_argument("--connect")
    p.add_argument("--cafile")
    p.add_argument("--kiosk", action="append", required=True, help="a kiosk's device token (repeat)")
    p.add_argument("--window", action="append", required=True, metavar="USER:PASSWORD@N",
                   help="a staff member and their window (repeat)")  # fmt: skip
    p.add_argument("--service", action="append", required=True, help="services to issue, in turn (repeat)")
    p.add_argument("--tickets", type=int, default=200)
    p.add_argument("--kill-after", type=int, default=0, help="tickets answered before the kill")
    p.add_argument("--kill-pid", type=int, default=0, help="the process to kill (a worker's pid)")
    p.add_argument("--database-url", help="to check the tickets and the action log (clearhall_app will do)")
    args = p.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
