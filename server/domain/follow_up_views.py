"""Reading 差评整改 cases, for supervisors (CONTRACT §10): the list, filtered by
state (open | overdue | closed) and kind, and one case with its ticket's
history. A case carries its rating or complaint, whom and where it is about,
its steps in order, the citizen's verdict on the handling, and its call-back
number (these endpoints are for supervisors only; nobody else reads it).
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from clearhall.server.domain import ratings
from clearhall.server.domain.follow_ups import STATE_SQL
from clearhall.server.domain.ratings import Rating
from clearhall.server.store.db import Connection


@dataclass(frozen=True)
class Case:
    row: asyncpg.Record  # the columns of CASES
    rating: Rating | None
    steps: list[asyncpg.Record]
    history: list[asyncpg.Record] | None = None  # the ticket's action log, for one case only


CASES = f"""
SELECT f.id, f.kind, {STATE_SQL} AS state, f.created_at AS opened_at, f.due_at, f.closed_at, f.overdue_at,
       f.contact, f.satisfaction, f.satisfaction_at, f.rating_id, f.complaint_id,
       w.number AS window, st.username AS staff_username, st.name AS staff_name,
       coalesce(r.ticket_id, c.ticket_id) AS ticket_id,
       c.text AS complaint_text, c.created_at AS complaint_at, ct.number AS complaint_ticket,
       cw.number AS complaint_window
FROM follow_ups f
LEFT JOIN windows w ON w.id = f.window_id
LEFT JOIN staff st ON st.id = f.staff_id
LEFT JOIN ratings r ON r.id = f.rating_id
LEFT JOIN complaints c ON c.id = f.complaint_id
LEFT JOIN tickets ct ON ct.id = c.ticket_id
LEFT JOIN windows cw ON cw.id = c.window_id
WHERE f.hall_id = $1
  AND ($2::text IS NULL OR {STATE_SQL} = $2)
  AND ($3::text IS NULL OR f.kind = $3)
  AND ($4::bigint IS NULL OR f.id = $4)
-- the ones to work first: unclosed by deadline, then the closed, newest first
ORDER BY f.status = 'closed', CASE WHEN f.status <> 'closed' THEN f.due_at END, f.closed_at DESC, f.id
LIMIT $5
"""

STEPS = """
SELECT s.follow_up_id, s.id, s.kind, s.text, s.upheld, s.at, st.username, st.name
FROM follow_up_steps s JOIN staff st ON st.id = s.staff_id
WHERE s.follow_up_id = ANY($1::bigint[])
ORDER BY s.id
"""

HISTORY = """
SELECT at, action, actor_kind, actor_name, window_number AS window, reason
FROM action_log WHERE hall_id = $1 AND ticket_id = $2 ORDER BY id
"""


async def cases(
    conn: Connection, hall_id: int, state: str | None = None, kind: str | None = None, limit: int = 100
) -> list[Case]:
    rows = await conn.fetch(CASES, hall_id, state, kind, None, limit)
    return await _assemble(conn, rows)


async def case(conn: Connection, hall_id: int, case_id: int) -> Case | None:
    """One case, with its ticket's history (every logged action on it, in order)."""
    rows = await conn.fetch(CASES, hall_id, None, None, case_id, 1)
    if not rows:
        return None
    found = (await _assemble(conn, rows))[0]
    ticket_id = rows[0]["ticket_id"]
    history = list(await conn.fetch(HISTORY, hall_id, ticket_id)) if ticket_id else []
    return Case(found.row, found.rating, found.steps, history)


async def _assemble(conn: Connection, rows: list[asyncpg.Record]) -> list[Case]:
    ids = [r["id"] for r in rows]
    steps: dict[int, list[asyncpg.Record]] = {i: [] for i in ids}
    for s in await conn.fetch(STEPS, ids):
        steps[s["follow_up_id"]].append(s)
    rating_ids = [r["rating_id"] for r in rows if r["rating_id"] is not None]
    found = {
        row["id"]: Rating(**dict(row))
        for row in await conn.fetch(ratings.RATING_SELECT + " WHERE r.id = ANY($1::bigint[])", rating_ids)
    }
    return [Case(r, found.get(r["rating_id"]), steps[r["id"]]) for r in rows]


def appeal_state(steps: list[asyncpg.Record]) -> str:
    """none | pending | upheld | rejected"""
    kinds = {s["kind"]: s for s in steps}
    if "appeal" not in kinds:
        return "none"
    decision = kinds.get("appeal_decision")
    if decision is None:
        return "pending"
    return "upheld" if decision["upheld"] else "rejected"


FOR_TICKET = f"""
SELECT f.id, f.kind, {STATE_SQL} AS state, f.due_at, f.satisfaction,
       EXISTS (SELECT 1 FROM follow_up_steps s WHERE s.follow_up_id = f.id AND s.kind IN ('fix', 'explain'))
           AS answered
FROM follow_ups f
LEFT JOIN ratings r ON r.id = f.rating_id
LEFT JOIN complaints c ON c.id = f.complaint_id
WHERE f.hall_id = $1 AND (r.ticket_id = $2 OR c.ticket_id = $2)
ORDER BY f.id
"""


async def for_ticket(conn: Connection, hall_id: int, ticket_id: str) -> list[asyncpg.Record]:
    """The cases of a ticket (its bad rating's, its complaints'), for its citizen's
    page: id, state, due_at, satisfaction, and whether it has been answered (a fix or
    an explanation) — so the phone can offer to rate the handling."""
    return list(await conn.fetch(FOR_TICKET, hall_id, ticket_id))
