"""Readings of a hall as it is now, for monitoring (GET /metrics, docs/observability.md).

Each reading is one query bounded by what is current, never by history: the
waiting set (through the partial index `tickets_waiting_by_service`), the
hall's printers, the outboxes' undelivered rows (their partial `_due`
indexes) and the tail of the action log that is not chained yet. What comes
back is counts and the codes and names the hall file gives (services,
printers), never a ticket, a key or a person.
"""

from __future__ import annotations

from dataclasses import dataclass

from clearhall.server.store.db import Connection

# -- every active service of the hall (and an inactive one that still has a
# -- queue) with how many of its tickets wait
WAITING = """
SELECT code, waiting FROM (
    SELECT s.code, s.active, s.position,
           (SELECT count(*) FROM tickets t WHERE t.service_id = s.id AND t.status = 'waiting') AS waiting
    FROM services s WHERE s.hall_id = $1
) s
WHERE active OR waiting > 0
ORDER BY position, code
"""

PRINTERS = "SELECT name, state FROM printers WHERE hall_id = $1 AND active ORDER BY name"

# -- the rows the provincial platform has not acknowledged yet, and the oldest one's age
FORWARD_BACKLOG = """
SELECT count(*) FILTER (WHERE status = 'pending') AS waiting,
       count(*) FILTER (WHERE status = 'sending') AS sending,
       coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)::float8 AS oldest_s
FROM forward_outbox WHERE hall_id = $1 AND status <> 'sent'
"""

# -- the messages not sent and not given up
NOTIFY_BACKLOG = """
SELECT count(*) FILTER (WHERE status = 'queued') AS waiting,
       count(*) FILTER (WHERE status = 'sending') AS sending,
       coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)::float8 AS oldest_s
FROM notify_outbox WHERE hall_id = $1 AND status IN ('queued', 'sending')
"""

# -- the entries after the newest chained one (domain/integrity.py), and the
# -- oldest one's age: how far the sealer is behind
UNSEALED = """
SELECT count(*) AS entries,
       coalesce(extract(epoch FROM clock_timestamp() - min(a.at)), 0)::float8 AS oldest_s
FROM action_log a
WHERE a.hall_id = $1
  AND a.id > coalesce((SELECT c.entry_id FROM action_log_chain c WHERE c.hall_id = $1
                       ORDER BY c.entry_id DESC LIMIT 1), 0)
"""


@dataclass(frozen=True)
class Backlog:
    """An outbox's rows not delivered yet: waiting for their turn, being sent now,
    and the age of the oldest of them in seconds (0 when there is none)."""

    waiting: int
    sending: int
    oldest_s: float


@dataclass(frozen=True)
class Readings:
    waiting: dict[str, int]  # service code → tickets waiting
    printers: dict[str, str]  # printer name → its state (ready, offline, paper_out, …)
    forwarding: Backlog  # to the provincial 好差评 platform
    notifying: Backlog  # SMS / WeChat
    unsealed: int  # action log entries not chained yet
    unsealed_oldest_s: float  # the oldest of them, in seconds (0 when all are chained)


async def read(conn: Connection, hall_id: int) -> Readings:
    waiting = await conn.fetch(WAITING, hall_id)
    printers = await conn.fetch(PRINTERS, hall_id)
    forwarding = await conn.fetchrow(FORWARD_BACKLOG, hall_id)
    notifying = await conn.fetchrow(NOTIFY_BACKLOG, hall_id)
    unsealed = await conn.fetchrow(UNSEALED, hall_id)
    assert forwarding is not None and notifying is not None and unsealed is not None  # aggregates: one row
    return Readings(
        waiting={r["code"]: r["waiting"] for r in waiting},
        printers={r["name"]: r["state"] for r in printers},
        forwarding=Backlog(forwarding["waiting"], forwarding["sending"], max(0.0, forwarding["oldest_s"])),
        notifying=Backlog(notifying["waiting"], notifying["sending"], max(0.0, notifying["oldest_s"])),
        unsealed=unsealed["entries"],
        unsealed_oldest_s=max(0.0, unsealed["oldest_s"]),
    )
