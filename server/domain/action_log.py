"""The action log: one inserted row per action, never updated or deleted; and reading it.

Each row says who acted, at which window, on which ticket, what they did, why,
and which ticket the published rule would have chosen at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from clearhall.server.store.db import Connection


@dataclass(frozen=True)
class Actor:
    kind: str  # staff | device | citizen | system
    id: int | None
    name: str


INSERT_ACTION = """
INSERT INTO action_log (hall_id, actor_kind, actor_id, actor_name, window_number, ticket_id,
                        ticket_number, action, reason, rule_ticket_id, rule_ticket_number, details)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
"""


async def record(
    conn: Connection,
    hall_id: int,
    actor: Actor,
    action: str,
    *,
    window: int | None = None,
    ticket_id: str | None = None,
    ticket_number: str | None = None,
    reason: str | None = None,
    rule_ticket_id: str | None = None,
    rule_ticket_number: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        INSERT_ACTION,
        hall_id, actor.kind, actor.id, actor.name, window, ticket_id, ticket_number, action,
        reason, rule_ticket_id, rule_ticket_number, details or {},
    )  # fmt: skip


# -- newest first, filtered; paged with `before` (an id)
READ_LOG = """
SELECT id, at, actor_kind, actor_name, window_number AS window, ticket_number, action, reason,
       rule_ticket_number, details
FROM action_log
WHERE hall_id = $1
  AND ($2::bigint IS NULL OR id < $2)
  AND ($3::text IS NULL OR action = $3)
  AND ($4::int IS NULL OR window_number = $4)
  AND ($5::text IS NULL OR ticket_number = $5)
  AND ($6::date IS NULL OR (at AT TIME ZONE $7)::date = $6)
ORDER BY id DESC
LIMIT $8
"""


@dataclass(frozen=True)
class Filter:
    limit: int = 100
    before: int | None = None
    action: str | None = None
    window: int | None = None
    ticket: str | None = None
    day: date | None = None


async def read(conn: Connection, hall_id: int, tz: str, f: Filter) -> list[asyncpg.Record]:
    """Rows are never changed, so a page once read stays true."""
    return list(
        await conn.fetch(READ_LOG, hall_id, f.before, f.action, f.window, f.ticket, f.day, tz, f.limit)
    )
