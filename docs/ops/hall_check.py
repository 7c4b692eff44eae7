"""A hall's smoke test through nginx with TLS (docs/operating.md, "Checking a new hall").

Run with the hall's own virtualenv, on the machine that runs nginx:

    /opt/clearhall/.venv/bin/python docs/ops/hall_check.py \
        --url https://hall.example.cn --connect 127.0.0.1 --cafile /etc/ssl/hall.example.cn/fullchain.pem \
        --kiosk-token … --screen-token … --staff USER:PASSWORD --window 1 --service A \
        --supervisor USER:PASSWORD

It opens one hall screen's socket per process (nginx spreads them; each upgrade's
X-Clearhall-Worker says which process holds it), logs a staff member in and signs
them in at the window, has the kiosk issue a ticket, calls it at the window and
checks that every socket received its ticket.called; finishes it, and reads
today's daily report as the supervisor, which must count the ticket once the
report's source (the replica, or the primary) has it. Exit 0 when all of that
held. It issues one real ticket: run it before opening, or on a test hall.
`--connect` sends the connections to that address whatever the name resolves
to (a hall name not yet in DNS, or the machine itself).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import ssl
import sys
import time
import uuid
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult


class Fixed(AbstractResolver):
    """Every name resolves to one address (curl's --resolve)."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        return [{"hostname": host, "host": self.address, "port": port, "family": socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST}]  # fmt: skip

    async def close(self) -> None:
        pass


def say(text: str) -> None:
    print(text, flush=True)


async def check(args: argparse.Namespace) -> int:
    context = ssl.create_default_context(cafile=args.cafile) if args.cafile else None
    connector = aiohttp.TCPConnector(ssl=context if context else True, resolver=Fixed(args.connect)
                                     if args.connect else None)  # fmt: skip
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(args.url))
    base = args.url.rstrip("/")
    ws_base = base.replace("https://", "wss://").replace("http://", "ws://")
    failures = 0
    async with aiohttp.ClientSession(connector=connector) as http:
        async with http.get(f"{base}/healthz") as r:
            say(f"GET /healthz: {r.status} {await r.text()} (worker {r.headers.get('X-Clearhall-Worker')})")
        sockets: list[tuple[str | None, aiohttp.ClientWebSocketResponse]] = []
        for _ in range(args.sockets):
            ws = await http.ws_connect(f"{ws_base}/ws?token={args.screen_token}", headers={"Origin": origin})
            worker = ws._response.headers.get("X-Clearhall-Worker")
            first = await ws.receive_json(timeout=10)
            say(f"socket {len(sockets) + 1}: worker {worker}, first message {first['type']}")
            sockets.append((worker, ws))
        user, password = args.staff.split(":", 1)
        async with http.post(f"{base}/api/login", json={"username": user, "password": password}) as r:
            staff = (await r.json())["token"]
            say(f"POST /api/login {user}: {r.status}")
        auth = {"Authorization": f"Bearer {staff}"}
        async with http.post(f"{base}/api/windows/{args.window}/sign-in", headers=auth) as r:
            say(f"POST /api/windows/{args.window}/sign-in: {r.status}")
        kiosk = {"Authorization": f"Bearer {args.kiosk_token}", "Idempotency-Key": str(uuid.uuid4())}
        async with http.post(f"{base}/api/tickets", json={"service": args.service}, headers=kiosk) as r:
            ticket = (await r.json())["ticket"]
            say(f"POST /api/tickets (kiosk): {r.status} {ticket['number']} ahead {ticket['ahead']} "
                f"(worker {r.headers.get('X-Clearhall-Worker')})")  # fmt: skip
        called = None
        for _ in range(50):  # call until our ticket comes (others may be waiting)
            headers = {**auth, "Idempotency-Key": str(uuid.uuid4())}
            async with http.post(f"{base}/api/windows/{args.window}/call-next", headers=headers) as r:
                body = await r.json()
                if r.status == 409:  # a ticket is still at the window: finish it first
                    await http.post(f"{base}/api/windows/{args.window}/finish", headers=auth)
                    continue
                called = body["ticket"]
                worker = r.headers.get("X-Clearhall-Worker")
                say(f"POST /api/windows/{args.window}/call-next: {r.status} "
                    f"{called and called['number']} (worker {worker})")  # fmt: skip
            if called is None or called["id"] == ticket["id"]:
                break
            await http.post(f"{base}/api/windows/{args.window}/finish", headers=auth)
        if not called or called["id"] != ticket["id"]:
            say("FAIL: the window did not call the ticket just issued")
            return 1
        for worker, ws in sockets:
            deadline = time.monotonic() + 10
            seen = False
            while not seen and time.monotonic() < deadline:
                try:
                    message = await ws.receive_json(timeout=deadline - time.monotonic())
                except TimeoutError:
                    break
                seen = (message.get("event") == "ticket.called"
                        and message["ticket"]["number"] == ticket["number"])  # fmt: skip
            say(f"socket on worker {worker}: ticket.called {ticket['number']} at window {args.window}: "
                f"{'received' if seen else 'NOT received'}")  # fmt: skip
            failures += not seen
            await ws.close()
        async with http.post(f"{base}/api/windows/{args.window}/finish", headers=auth) as r:
            say(f"POST /api/windows/{args.window}/finish: {r.status}")
        await http.post(f"{base}/api/windows/{args.window}/sign-out", headers=auth)
        if args.supervisor:
            user, password = args.supervisor.split(":", 1)
            async with http.post(f"{base}/api/login", json={"username": user, "password": password}) as r:
                sup = {"Authorization": f"Bearer {(await r.json())['token']}"}
            deadline = time.monotonic() + args.report_wait
            while True:
                async with http.get(f"{base}/api/reports/daily", headers=sup) as r:
                    report = (await r.json())["report"]
                line = next((s for s in report["services"] if s.get("service") == args.service), None)
                issued = line and line.get("issued")
                if issued or time.monotonic() > deadline:
                    break
                await asyncio.sleep(1)
            say(f"GET /api/reports/daily ({report['from']}): service {args.service}: "
                f"{json.dumps({k: line[k] for k in ('issued', 'served')} if line else None)}")  # fmt: skip
            failures += not issued
    say("OK" if not failures else f"FAIL: {failures} check(s) failed")
    return 1 if failures else 0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", required=True, help="the hall's address, as public_url")
    p.add_argument("--connect", help="connect to this address instead of resolving the name")
    p.add_argument("--cafile", help="trust this certificate (a self-signed one)")
    p.add_argument("--kiosk-token", required=True)
    p.add_argument("--screen-token", required=True, help="a display device's token")
    p.add_argument("--staff", required=True, metavar="USER:PASSWORD", help="a staff member of the window")
    p.add_argument("--window", type=int, default=1)
    p.add_argument("--service", default="A", help="a service of that window")
    p.add_argument("--supervisor", metavar="USER:PASSWORD", help="also read today's daily report")
    p.add_argument("--sockets", type=int, default=3, help="screen sockets to open (one per process)")
    p.add_argument("--report-wait", type=float, default=15.0, help="seconds the report may lag")
    sys.exit(asyncio.run(check(p.parse_args())))


if __name__ == "__main__":
    main()
