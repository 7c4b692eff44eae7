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


async def publish(conn: asyncpg.Connection, name: str, hall_id: int, **fields: Any) -> None:
    """Queue an event; it is delivered when the caller's transaction commits."""
    payload = json.dumps(event(name, hall_id, **fields), ensure_ascii=False, separators=(",", ":"))
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
