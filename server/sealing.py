"""The sealer: chains the action log (domain/integrity.py) shortly after each
action, in every process; the advisory lock lets one process at a time do it
per hall, and any other takes over when that one dies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

from clearhall.server.domain import integrity
from clearhall.server.keys import DB, HALL
from clearhall.server.store.db import DATABASE_DOWN

log = logging.getLogger(__name__)
EVERY_S = 1.0
# Late commits are looked up by the ids this process saw missing; when another process
# has chained since, by a scan of the last minute of the log, at most every LATE_EVERY rounds.
LATE_EVERY = 10
OFF_ENV = "CLEARHALL_SEALER_OFF"


async def seal_forever(pool: asyncpg.Pool, hall_id: int, every_s: float = EVERY_S) -> None:
    rounds, gaps = 0, integrity.Gaps()
    while True:
        try:
            async with pool.acquire() as conn:
                late = rounds % LATE_EVERY == 0
                while await integrity.seal(conn, hall_id, late=late, gaps=gaps) >= integrity.SEAL_BATCH:
                    late = False  # a backlog: keep going
        except (*DATABASE_DOWN, asyncpg.PostgresError) as exc:
            log.warning("sealing the action log skipped: %s", exc)
        rounds += 1
        await asyncio.sleep(every_s)


async def sealer(app: web.Application) -> AsyncIterator[None]:
    if os.environ.get(OFF_ENV) == "1":  # bench/engine.py --no-sealer measures what chaining costs
        log.warning("%s=1: the action log is not chained by this process (for measurements only)", OFF_ENV)
        yield
        return
    task = asyncio.create_task(seal_forever(app[DB], app[HALL].id), name="log-sealer")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
