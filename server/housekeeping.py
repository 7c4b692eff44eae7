"""Housekeeping: what expires is removed on time, by one task per process.

Idempotency answers are kept 24 hours (a stored ticket answer holds the
citizen's key, so it must not outlive its purpose).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

from clearhall.server.domain import idempotency, throttle
from clearhall.server.keys import DB
from clearhall.server.store.db import DATABASE_DOWN

log = logging.getLogger(__name__)
EVERY_S = 600.0


async def sweep(pool: asyncpg.Pool) -> None:
    while True:
        try:
            async with pool.acquire() as conn:
                await idempotency.purge(conn)
                await throttle.purge(conn)
        except (*DATABASE_DOWN, asyncpg.PostgresError) as exc:
            log.warning("housekeeping skipped: %s", exc)
        await asyncio.sleep(EVERY_S)


async def housekeeping(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(sweep(app[DB]))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
