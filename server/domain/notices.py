"""清廉知识上屏: the integrity notices on the hall screens, managed by supervisors.

A notice shows from `starts_on` to `ends_on` (hall-local dates, both optional
and inclusive), in `position` order. Every change is logged and pushed to the
screens as `notice.changed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg

from clearhall.server.domain import action_log, errors, events, messages
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.store.db import Connection


@dataclass(frozen=True)
class Notice:
    id: int
    title: str
    body: str
    starts_on: date | None
    ends_on: date | None
    position: int


COLUMNS = "id, title, body, starts_on, ends_on, position"
LIST = f"SELECT {COLUMNS} FROM notices WHERE hall_id = $1 ORDER BY position, id"
CREATE = f"""
INSERT INTO notices (hall_id, title, body, starts_on, ends_on, position)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}
"""
UPDATE = f"""
UPDATE notices SET title = $3, body = $4, starts_on = $5, ends_on = $6, position = $7
WHERE hall_id = $1 AND id = $2 RETURNING {COLUMNS}
"""
DELETE = f"DELETE FROM notices WHERE hall_id = $1 AND id = $2 RETURNING {COLUMNS}"


@dataclass(frozen=True)
class Draft:
    """A notice as a supervisor writes it."""

    title: str
    body: str
    starts_on: date | None = None
    ends_on: date | None = None
    position: int = 0

    def check(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise errors.invalid(messages.ENDS_BEFORE_STARTS, "ends_on")


async def all_notices(conn: Connection, hall: Hall) -> list[Notice]:
    return [Notice(**dict(r)) for r in await conn.fetch(LIST, hall.id)]


async def _changed(
    conn: Connection, hall: Hall, p: Principal, what: str, row: asyncpg.Record | None
) -> Notice:
    if row is None:
        raise errors.not_found(messages.NO_NOTICE)
    notice = Notice(**dict(row))
    await action_log.record(
        conn, hall.id, p.actor, f"notice_{what}", details={"notice": notice.id, "title": notice.title}
    )
    await events.publish(conn, hall.id, events.NOTICE_CHANGED, notice=notice.id)
    return notice


async def create(pool: asyncpg.Pool, hall: Hall, p: Principal, d: Draft) -> Notice:
    d.check()
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(CREATE, hall.id, d.title, d.body, d.starts_on, d.ends_on, d.position)
        return await _changed(conn, hall, p, "create", row)


async def update(pool: asyncpg.Pool, hall: Hall, p: Principal, notice_id: int, d: Draft) -> Notice:
    d.check()
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            UPDATE, hall.id, notice_id, d.title, d.body, d.starts_on, d.ends_on, d.position
        )
        return await _changed(conn, hall, p, "update", row)


async def delete(pool: asyncpg.Pool, hall: Hall, p: Principal, notice_id: int) -> Notice:
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(DELETE, hall.id, notice_id)
        return await _changed(conn, hall, p, "delete", row)
