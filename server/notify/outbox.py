"""The notification rows (schema.sql: notify_contacts, notify_outbox), one function per query.

Messages are put in by the database itself: the trigger `notify_after_call`
queues a ticket's "called" message and the early warnings ("near") of its
service in the transaction of the call. From here on a message is claimed by
one sender at a time (`claim`: one UPDATE over a FOR UPDATE SKIP LOCKED
subquery, so two processes never take the same row; the claim is a lease, so
the message of a sender that crashed is due again when it runs out: at least
once), then `sent`, or due again with backoff, or given up (`failed`, with its
last error). A phone number lives only in notify_contacts, and only while its
ticket may still be called.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from clearhall.server.store.db import Connection

KEEP_CONTACT = """
INSERT INTO notify_contacts (ticket_id, hall_id, channel, address) VALUES ($1, $2, $3, $4)
ON CONFLICT (ticket_id) DO NOTHING
"""

# -- due: queued and its time has come, or claimed by a sender whose lease ran
# -- out; SKIP LOCKED keeps two senders off the same row, and the claim moves
# -- next_attempt_at to the lease's end
CLAIM = """
WITH due AS (
    SELECT id FROM notify_outbox
    WHERE hall_id = $1 AND status IN ('queued', 'sending') AND next_attempt_at <= now()
    ORDER BY next_attempt_at, id
    LIMIT $4
    FOR UPDATE SKIP LOCKED
), o AS (
    UPDATE notify_outbox o SET status = 'sending', attempts = o.attempts + 1, claimed_by = $2,
        next_attempt_at = now() + make_interval(secs => $3)
    FROM due WHERE o.id = due.id
    RETURNING o.*
)
SELECT o.id, o.ticket_id, o.kind, o.ticket_number, o.ahead, o.window_number, o.attempts,
       c.channel, c.address
FROM o LEFT JOIN notify_contacts c ON c.ticket_id = o.ticket_id
ORDER BY o.id
"""

SENT = """
UPDATE notify_outbox SET status = 'sent', sent_at = now(), next_attempt_at = NULL, claimed_by = NULL
WHERE id = $1 AND status = 'sending'
"""

# -- an attempt failed: due again after the backoff, or given up when it has
# -- had its attempts or cannot succeed ($4)
FAILED = """
UPDATE notify_outbox SET
    status = CASE WHEN $4 OR attempts >= $3 THEN 'failed' ELSE 'queued' END,
    next_attempt_at = CASE WHEN $4 OR attempts >= $3 THEN NULL ELSE now() + make_interval(secs => $2) END,
    last_error = $5, claimed_by = NULL
WHERE id = $1 AND status = 'sending'
RETURNING status, attempts
"""

# -- messages too late to help: nobody sends them any more
GIVE_UP_OLD = """
UPDATE notify_outbox SET status = 'failed', next_attempt_at = NULL, claimed_by = NULL,
    last_error = coalesce(last_error || '; ', '') || 'too late to send'
WHERE hall_id = $1 AND status IN ('queued', 'sending') AND next_attempt_at <= now()
  AND created_at < now() - make_interval(secs => $2)
RETURNING id, ticket_number, kind
"""

# -- a phone number goes once its ticket can no longer be called (done or
# -- missed, and nothing of it left to send), or after a day whatever happened
FORGET_CONTACTS = """
DELETE FROM notify_contacts c USING tickets t
WHERE c.hall_id = $1 AND t.id = c.ticket_id
  AND (c.created_at < now() - make_interval(secs => $2)
       OR (t.status IN ('done', 'no_show')
           AND NOT EXISTS (SELECT 1 FROM notify_outbox o
                           WHERE o.ticket_id = c.ticket_id AND o.status IN ('queued', 'sending'))))
"""

PURGE_ROWS = """
DELETE FROM notify_outbox
WHERE hall_id = $1 AND status IN ('sent', 'failed') AND created_at < now() - make_interval(days => $2)
"""


@dataclass(frozen=True)
class Claimed:
    """A message claimed for sending; `address` is None when its contact is gone."""

    id: int
    ticket_id: str
    kind: str
    ticket_number: str
    ahead: int | None
    window_number: int | None
    attempts: int
    channel: str | None
    address: str | None = field(repr=False)

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Claimed:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


async def keep_contact(conn: Connection, hall_id: int, ticket_id: str, channel: str, address: str) -> None:
    await conn.execute(KEEP_CONTACT, ticket_id, hall_id, channel, address)


async def claim(conn: Connection, hall_id: int, claimer: str, lease_s: float, limit: int) -> list[Claimed]:
    return [Claimed.from_row(r) for r in await conn.fetch(CLAIM, hall_id, claimer, lease_s, limit)]


async def sent(conn: Connection, message_id: int) -> None:
    await conn.execute(SENT, message_id)


async def failed(
    conn: Connection, message_id: int, error: str, *, backoff_s: float, max_attempts: int, final: bool
) -> tuple[str, int] | None:
    """(status, attempts) after a failed attempt: `queued` again, or `failed` (given up)."""
    row = await conn.fetchrow(FAILED, message_id, backoff_s, max_attempts, final, error)
    return (row["status"], row["attempts"]) if row else None


async def give_up_old(conn: Connection, hall_id: int, max_age_s: float) -> list[asyncpg.Record]:
    return list(await conn.fetch(GIVE_UP_OLD, hall_id, max_age_s))


async def sweep(conn: Connection, hall_id: int, keep_contact_s: float, keep_rows_days: int) -> None:
    await conn.execute(FORGET_CONTACTS, hall_id, keep_contact_s)
    await conn.execute(PURGE_ROWS, hall_id, keep_rows_days)
