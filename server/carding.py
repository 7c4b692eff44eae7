"""The card evaluator (红黄牌, domain/cards.py): every EVERY_S, in every process,
an evaluation of the hall's rules at the database's now(); the advisory lock
lets one process at a time do it per hall, and any other takes over when that
one dies. The first evaluation runs at start, so what happened while no server
was running (up to the rules' LOOKBACK) is carded at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import asyncpg
from aiohttp import web

from clearhall.server.domain import cards
from clearhall.server.domain.hall import Hall
from clearhall.server.keys import DB, HALL
from clearhall.server.store.db import DATABASE_DOWN

log = logging.getLogger(__name__)
EVERY_S = 10.0
# Another period for this process; 0: this process never evaluates (tests that evaluate
# at moments of their own; another process, or none, does it)
EVERY = web.AppKey("card_every_s", float)


async def evaluate_once(pool: asyncpg.Pool, hall: Hall) -> list[cards.Card] | None:
    """One evaluation at the database's clock; None when another process holds the lock."""
    async with pool.acquire() as conn:
        now = await conn.fetchval("SELECT now()")
        return await cards.evaluate(conn, hall, now)


async def evaluate_forever(pool: asyncpg.Pool, hall: Callable[[], Hall], every_s: float = EVERY_S) -> None:
    """`hall`: the hall as it is now (a reload may change its hours, server/reload.py)."""
    while True:
        try:
            await evaluate_once(pool, hall())
        except (*DATABASE_DOWN, asyncpg.PostgresError) as exc:
            log.warning("evaluating the cards skipped: %s", exc)
        except Exception:  # a bug in one rule must not stop the evaluator for good
            log.exception("evaluating the cards failed")
        await asyncio.sleep(every_s)


async def carding(app: web.Application) -> AsyncIterator[None]:
    every_s = app.get(EVERY, EVERY_S)
    if every_s <= 0:
        yield
        return
    task = asyncio.create_task(evaluate_forever(app[DB], lambda: app[HALL], every_s), name="card-evaluator")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
