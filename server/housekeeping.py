"""Housekeeping: what expires is removed on time, by one task per process.

Idempotency answers are kept 24 hours (a stored ticket answer holds the
citizen's key, so it must not outlive its purpose). A visit's ID and phone
numbers and its key are erased once it is `[retention] personal_days` old
(domain/retention.py), checked every EVERY_S: the day's purge is done by the
first sweep after the hall's midnight.

好差评 runs by itself every CASES_EVERY_S (docs/haochaping.md): a follow-up case
past its deadline is announced once to supervisors, a visit left unrated
`default_after_days` gets its default rating, and a closed case's call-back
number is erased after `contact_retention_days`. Each is safe with several
processes doing it at once (the row is marked in the transaction that acts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

from clearhall.server.domain import follow_ups, idempotency, ratings, retention, throttle
from clearhall.server.domain.hall import Hall
from clearhall.server.keys import DB, HALL
from clearhall.server.store.db import DATABASE_DOWN

log = logging.getLogger(__name__)
EVERY_S = 600.0


async def sweep_once(pool: asyncpg.Pool, hall: Hall) -> retention.Purged:
    async with pool.acquire() as conn:
        await idempotency.purge(conn)
        await throttle.purge(conn)
        purged = await retention.purge(conn, hall.id, hall.timezone)
    if purged.any:
        log.info(
            "retention: erased the ID numbers, phone numbers and keys of %d tickets, %d bookings and"
            " %d complaints from before %s", purged.tickets, purged.appointments, purged.complaints,
            purged.before,
        )  # fmt: skip
    return purged


async def sweep(pool: asyncpg.Pool, hall: Hall) -> None:
    while True:
        try:
            await sweep_once(pool, hall)
        except (*DATABASE_DOWN, asyncpg.PostgresError) as exc:
            log.warning("housekeeping skipped: %s", exc)
        await asyncio.sleep(EVERY_S)


CASES_EVERY_S = 30.0


async def haochaping_once(pool: asyncpg.Pool, hall: Hall) -> None:
    async with pool.acquire() as conn:
        await follow_ups.mark_overdue(conn, hall.id, hall.timezone)
        await ratings.give_defaults(conn, hall.id)
        await follow_ups.erase_contacts(conn, hall.id)


async def haochaping(pool: asyncpg.Pool, hall: Hall) -> None:
    while True:
        try:
            await haochaping_once(pool, hall)
        except (*DATABASE_DOWN, asyncpg.PostgresError) as exc:
            log.warning("好差评 housekeeping skipped: %s", exc)
        await asyncio.sleep(CASES_EVERY_S)


async def housekeeping(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(sweep(app[DB], app[HALL]))
    cases = asyncio.create_task(haochaping(app[DB], app[HALL]))
    yield
    for running in (task, cases):
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
