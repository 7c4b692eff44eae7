"""Live events (CONTRACT §6): published with pg_notify in the transaction that
caused them, so an event is seen by every server process sharing the
database exactly when (and only if) its change is committed.

Payloads stay small (PostgreSQL caps a notification at 8000 bytes): the event
itself, as the socket clients will receive it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import asyncpg

CHANNEL = "clearhall_events"


def event(name: str, hall_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "type": "event",
        "event": name,
        "hall": hall_id,
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        **fields,
    }


def serialise(name: str, hall_id: int, fields: dict[str, Any]) -> str:
    return json.dumps(event(name, hall_id, **fields), ensure_ascii=False, separators=(",", ":"))


async def publish(conn: asyncpg.Connection, name: str, hall_id: int, **fields: Any) -> None:
    """Queue an event; it is delivered when the caller's transaction commits."""
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, serialise(name, hall_id, fields))


async def publish_many(
    conn: asyncpg.Connection, hall_id: int, batch: list[tuple[str, dict[str, Any]]]
) -> None:
    """Several events in one round trip, delivered in this order on commit."""
    payloads = [serialise(name, hall_id, fields) for name, fields in batch]
    await conn.execute(
        "SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS e(p, i) ORDER BY i",
        CHANNEL, payloads,
    )  # fmt: skip
