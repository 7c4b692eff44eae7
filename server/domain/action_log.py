"""The action log: one inserted row per action, never updated or deleted.

Each row says who acted, at which window, on which ticket, what they did, why,
and which ticket the published rule would have chosen at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg


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
    conn: asyncpg.Connection,
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
