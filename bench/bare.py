"""The bare minimum PostgreSQL allows (issue 13): each op as ONE statement, no
checks, no log, no clearhall code — what the engine's own path is measured
against in bench/engine.py's ratios.

- call-next: claim the first waiting ticket of the window's services in the
  calling rule's order with FOR UPDATE SKIP LOCKED, mark it called and notify,
  in one statement; then the window finishes it (a second statement, not
  counted, as the HTTP phases finish each call and count only call-next).
- issue: bump the day's counter, insert the ticket and notify, in one statement.

The same concurrency as the other phases: every window and every kiosk back to
back at once, on a pool of the same size as phase 1's.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import secrets
import time

import asyncpg

from bench.harness import Samples
from bench.workload import KIOSKS, SERVICES, WINDOWS, random_category
from clearhall.server.domain.hall import Hall
from clearhall.server.store.kinds import GREEN_CHANNEL

CLAIM = """
WITH pick AS (
    SELECT id FROM tickets
    WHERE hall_id = $1 AND status = 'waiting' AND service_id = ANY($2::int[])
    ORDER BY priority DESC, order_at, id LIMIT 1
    FOR UPDATE SKIP LOCKED
), called AS (
    UPDATE tickets t SET status = 'called', window_id = $3, called_at = now()
    FROM pick WHERE t.id = pick.id RETURNING t.id
)
SELECT called.id, pg_notify('clearhall_bench', called.id) FROM called
"""

FINISH = "UPDATE tickets SET status = 'done', finished_at = now() WHERE id = $1"

ISSUE = """
WITH counter AS (
    INSERT INTO ticket_counters (hall_id, service_id, day, last)
    VALUES ($2, $3, (now() AT TIME ZONE 'Asia/Shanghai')::date, 1)
    ON CONFLICT (service_id, day) DO UPDATE SET last = ticket_counters.last + 1
    RETURNING day, last
), t AS (
    INSERT INTO tickets (id, hall_id, service_id, first_service_id, day, seq, number, category,
                         priority, status, order_at, key_hash)
    SELECT $1, $2, $3, $3, counter.day, counter.last, $4 || counter.last, $5, $6, 'waiting', now(), $7
    FROM counter RETURNING id
)
SELECT pg_notify('clearhall_bench', t.id) FROM t
"""

WINDOW_SERVICES = """
SELECT w.id, w.number, array_agg(ws.service_id) AS services
FROM windows w JOIN window_services ws ON ws.window_id = w.id
WHERE w.hall_id = $1 GROUP BY w.id, w.number
"""

SERVICE_IDS = "SELECT code, id FROM services WHERE hall_id = $1"


async def phase_bare(pool: asyncpg.Pool, hall: Hall, seconds: float) -> tuple[dict[str, Samples], float]:
    async with pool.acquire() as conn:
        windows = {r["number"]: (r["id"], r["services"]) for r in await conn.fetch(WINDOW_SERVICES, hall.id)}
        service_ids = {r["code"]: r["id"] for r in await conn.fetch(SERVICE_IDS, hall.id)}
    calls, issues = Samples(), Samples()
    start = time.perf_counter()
    deadline = start + seconds

    async def window(number: int) -> None:
        window_id, services = windows[number]
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            async with pool.acquire() as conn:
                ticket = await conn.fetchval(CLAIM, hall.id, services, window_id)  # the first column: id
            ended = time.perf_counter()
            if ticket is None:
                calls.empty += 1
                await asyncio.sleep(0.01)
                continue
            calls.add(ended, ended - began)
            async with pool.acquire() as conn:
                await conn.execute(FINISH, ticket)

    async def kiosk(i: int) -> None:
        rng = random.Random(i)
        while time.perf_counter() < deadline:
            code = rng.choice(SERVICES)[0]
            category = random_category(rng)
            began = time.perf_counter()
            async with pool.acquire() as conn:
                await conn.fetchval(
                    ISSUE, secrets.token_urlsafe(16), hall.id, service_ids[code], code, category,
                    category in GREEN_CHANNEL, hashlib.sha256(secrets.token_bytes(8)).digest(),
                )  # fmt: skip
            ended = time.perf_counter()
            issues.add(ended, ended - began)

    await asyncio.gather(*(window(n) for n in range(1, WINDOWS + 1)), *(kiosk(i) for i in range(KIOSKS)))
    return {"call-next": calls, "issue": issues}, start
