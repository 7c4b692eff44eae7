"""The HTTP side of the benches: one aiohttp session, staff tokens, kiosk tokens.

Shared by bench/engine.py (its HTTP phases) and bench/busy_day.py. Any answer
but 200/201 raises BenchError: the benches count errors, they never hide one.
"""

from __future__ import annotations

import json
import random
from typing import Any

from aiohttp import ClientSession

from bench.harness import BenchError
from bench.workload import SERVICES, kiosk_token, password, random_category


class Client:
    def __init__(self, base: str, session: ClientSession) -> None:
        self.base = base
        self.session = session
        self.tokens: dict[int, str] = {}

    async def post(
        self,
        path: str,
        token: str | None,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else b""
        async with self.session.post(self.base + path, data=data, headers=sent) as r:
            payload = await r.read()
            if r.status not in (200, 201):
                raise BenchError(f"POST {path}: {r.status} {payload[:300]!r}")
        return json.loads(payload)

    async def get(self, path: str, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        async with self.session.get(self.base + path, headers=headers) as r:
            payload = await r.read()
            if r.status != 200:
                raise BenchError(f"GET {path}: {r.status} {payload[:300]!r}")
        return json.loads(payload)

    async def staff_ready(self, n: int) -> None:
        """Log in and sign in at window n (before any timed phase: argon2 is slow on purpose)."""
        reply = await self.post("/api/login", None, {"username": f"w{n}", "password": password(n)})
        self.tokens[n] = reply["token"]
        await self.post(f"/api/windows/{n}/sign-in", self.tokens[n])

    async def call_next(self, n: int) -> bool:
        return await self.call_next_ticket(n) is not None

    async def call_next_ticket(self, n: int) -> dict[str, Any] | None:
        reply = await self.post(f"/api/windows/{n}/call-next", self.tokens[n])
        ticket: dict[str, Any] | None = reply["ticket"]
        return ticket

    async def finish(self, n: int) -> None:
        await self.post(f"/api/windows/{n}/finish", self.tokens[n])

    async def issue(self, i: int, rng: random.Random) -> None:
        body = {"service": rng.choice(SERVICES)[0], "category": random_category(rng)}
        await self.post("/api/tickets", kiosk_token(i + 1), body)
