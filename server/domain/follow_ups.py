"""差评整改 cases (CONTRACT §10): opening one, and what happens to cases by
themselves — becoming overdue, and forgetting the call-back number.

A bad rating or a complaint opens a case due at the end of the
`follow_up_days`-th working day after it opened, on the hall's calendar
(`workdays`). Its state is never stored, it is read: `closed` once closed,
else `overdue` once `due_at` has passed, else `open`. Supervisors work a case
through its steps (`follow_up_steps`); lists and details are
`follow_up_views`.

Overdue is found continuously, by the housekeeping of every server process
(`mark_overdue`), not when someone looks: a case whose deadline passes is
marked (`overdue_at`) in the same transaction that sends `follow_up.overdue`
to supervisors, and only an unmarked row is taken (`FOR UPDATE SKIP LOCKED`),
so however many processes look at once, the event goes out exactly once.
The call-back number (`contact`) is erased `contact_retention_days` after the
case closed (`erase_contacts`); nobody but supervisors ever reads it, and it
is never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from clearhall.server.domain import action_log, events
from clearhall.server.domain.rating_rules import Rules
from clearhall.server.domain.tickets import local_iso
from clearhall.server.store.db import Connection

KINDS: Final = ("rating", "complaint")
STATES: Final = ("open", "overdue", "closed")
SYSTEM: Final = action_log.Actor("system", None, "系统")

# -- a case's state, read from its row f
STATE_SQL: Final = """CASE WHEN f.status = 'closed' THEN 'closed'
     WHEN f.due_at < now() THEN 'overdue' ELSE 'open' END"""


@dataclass(frozen=True)
class Subject:
    """What a case is about: a bad rating or a complaint, and whom, when known."""

    kind: str  # rating | complaint
    ref_id: int  # the rating's or the complaint's id
    staff_id: int | None
    window_id: int | None
    contact: str | None  # the call-back number, normalised; never logged


@dataclass(frozen=True)
class Opened:
    id: int
    opened_at: datetime
    due_at: datetime


OPEN_CASE = """
INSERT INTO follow_ups (hall_id, kind, rating_id, complaint_id, staff_id, window_id, contact,
                        created_at, due_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id
"""


async def open_case(conn: Connection, hall_id: int, rules: Rules, subject: Subject) -> Opened:
    """Open the case of a bad rating or a complaint, inside the caller's transaction,
    and tell supervisors (`follow_up.opened`)."""
    opened_at: datetime = await conn.fetchval("SELECT now()")
    due_at = rules.due_at(opened_at)
    rating_id = subject.ref_id if subject.kind == "rating" else None
    complaint_id = subject.ref_id if subject.kind == "complaint" else None
    case_id: int = await conn.fetchval(
        OPEN_CASE, hall_id, subject.kind, rating_id, complaint_id, subject.staff_id, subject.window_id,
        subject.contact, opened_at, due_at,
    )  # fmt: skip
    window = await conn.fetchval("SELECT number FROM windows WHERE id = $1", subject.window_id)
    summary = {"id": case_id, "kind": subject.kind, "state": "open", "window": window,
               "due_at": local_iso(due_at, rules.timezone)}  # fmt: skip
    await events.publish(conn, hall_id, events.FOLLOW_UP_OPENED, follow_up=summary)
    return Opened(case_id, opened_at, due_at)


# -- take the cases whose deadline has passed and that were never marked, mark
# -- them; a row another process is marking right now is skipped, not waited for
MARK_OVERDUE = """
WITH late AS (
    SELECT id FROM follow_ups
    WHERE hall_id = $1 AND status <> 'closed' AND due_at < now() AND overdue_at IS NULL
    ORDER BY due_at, id
    FOR UPDATE SKIP LOCKED
), marked AS (
    UPDATE follow_ups f SET overdue_at = now() FROM late WHERE f.id = late.id
    RETURNING f.id, f.kind, f.due_at, f.rating_id, f.complaint_id, f.window_id, f.staff_id
)
SELECT m.id, m.kind, m.due_at, w.number AS window, st.name AS staff,
       coalesce(rt.id, ct.id) AS ticket_id, coalesce(rt.number, ct.number) AS ticket_number
FROM marked m
LEFT JOIN windows w ON w.id = m.window_id
LEFT JOIN staff st ON st.id = m.staff_id
LEFT JOIN ratings r ON r.id = m.rating_id
LEFT JOIN tickets rt ON rt.id = r.ticket_id
LEFT JOIN complaints c ON c.id = m.complaint_id
LEFT JOIN tickets ct ON ct.id = c.ticket_id
ORDER BY m.due_at, m.id
"""


async def mark_overdue(conn: Connection, hall_id: int, timezone: str) -> list[int]:
    """Cases that have just become overdue: marked, logged and announced to supervisors
    (`follow_up.overdue`) in one transaction. Returns their ids."""
    async with conn.transaction():
        rows = await conn.fetch(MARK_OVERDUE, hall_id)
        batch: list[tuple[events.Event, dict[str, Any]]] = []
        for r in rows:
            await action_log.record(
                conn, hall_id, SYSTEM, "follow_up_overdue", window=r["window"], ticket_id=r["ticket_id"],
                ticket_number=r["ticket_number"], details={"follow_up": r["id"], "kind": r["kind"]},
            )  # fmt: skip
            summary = {
                "id": r["id"], "kind": r["kind"], "state": "overdue", "window": r["window"],
                "staff": {"name": r["staff"]} if r["staff"] else None,
                "due_at": local_iso(r["due_at"], timezone),
            }  # fmt: skip
            batch.append((events.FOLLOW_UP_OVERDUE, {"follow_up": summary}))
        if batch:
            await events.publish_many(conn, hall_id, batch)
    return [r["id"] for r in rows]


ERASE_CONTACTS = """
UPDATE follow_ups f SET contact = NULL
FROM halls h
WHERE h.id = f.hall_id AND f.hall_id = $1 AND f.contact IS NOT NULL AND f.status = 'closed'
  AND f.closed_at < now() - make_interval(days => h.contact_retention_days)
"""


async def erase_contacts(conn: Connection, hall_id: int) -> int:
    """Forget the call-back numbers of cases closed longer ago than the hall keeps them."""
    return int((await conn.execute(ERASE_CONTACTS, hall_id)).split()[-1])
