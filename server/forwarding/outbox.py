"""The forwarding outbox: a row per rating and per closed follow-up, written in
the transaction that made it (by a trigger, schema.sql `forward_enqueue`, when
the hall forwards), claimed by one sender at a time
(`claim`: SKIP LOCKED, and a lease that a crashed sender's claim outlives), and
finished as sent or due again with backoff (`finish`). Nothing is ever given up:
the platform gets every item at least once, with the same Idempotency-Key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clearhall.server.store.db import Connection

# -- due: pending and its time has come, or being sent by someone whose lease ran out
CLAIM = """
UPDATE forward_outbox o
SET status = 'sending', attempts = o.attempts + 1, lease_until = now() + make_interval(secs => $3)
FROM (
    SELECT id FROM forward_outbox
    WHERE hall_id = $1 AND status <> 'sent' AND next_attempt_at <= now()
      AND (status = 'pending' OR lease_until < now())
    ORDER BY next_attempt_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
) due
WHERE o.id = due.id
RETURNING o.id, o.kind, o.ref_id, o.idempotency_key, o.attempts
"""

SENT = """
UPDATE forward_outbox SET status = 'sent', sent_at = now(), last_error = NULL, lease_until = NULL
WHERE id = $1 AND status = 'sending'
"""

# -- not delivered: due again after base * 2^(attempts-1), at most `most` seconds
AGAIN = """
UPDATE forward_outbox
SET status = 'pending', last_error = $2, lease_until = NULL,
    next_attempt_at = now() + make_interval(secs => least($4, $3 * power(2, greatest(attempts - 1, 0))))
WHERE id = $1 AND status = 'sending'
"""

STATE = """
SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
       count(*) FILTER (WHERE status = 'sending') AS sending,
       count(*) FILTER (WHERE status = 'sent') AS sent
FROM forward_outbox WHERE hall_id = $1
"""

OLDEST_PENDING = """
SELECT id, kind, ref_id, idempotency_key, attempts, last_error, created_at, next_attempt_at
FROM forward_outbox WHERE hall_id = $1 AND status <> 'sent'
ORDER BY created_at, id LIMIT 1
"""


@dataclass(frozen=True)
class Item:
    """One claimed row: what to send, and the key the platform de-duplicates by."""

    id: int
    kind: str
    ref_id: int
    idempotency_key: str
    attempts: int


async def claim(conn: Connection, hall_id: int, batch: int, lease_s: float) -> list[Item]:
    rows = await conn.fetch(CLAIM, hall_id, batch, lease_s)
    return [Item(**dict(r)) for r in rows]


async def sent(conn: Connection, item_id: int) -> None:
    await conn.execute(SENT, item_id)


async def again(conn: Connection, item_id: int, error: str, base_s: float, most_s: float) -> None:
    await conn.execute(AGAIN, item_id, error[:500], base_s, most_s)


async def state(conn: Connection, hall_id: int) -> dict[str, Any]:
    """Counts by state and the oldest item not yet delivered, with its last error."""
    counts = dict(await conn.fetchrow(STATE, hall_id) or {})
    oldest = await conn.fetchrow(OLDEST_PENDING, hall_id)
    return {"counts": counts, "oldest_pending": dict(oldest) if oldest else None}
