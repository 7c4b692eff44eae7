"""Undo (撤销) a window's last finish or no-show, within a few seconds.

办结 and 过号 are one key each; a wrong press is put right with
`POST /api/windows/{n}/undo` within UNDO_WITHIN_S of it. The finish or no-show
wrote the ticket's state before it into its action-log row (`details.before`:
status, started_at, finished_at); undo restores exactly that, makes the ticket
the window's current one again, and is logged as its own action (`undo`, with
the action and log entry it undid). The log row it undid stays, as every row does.

Refused (409) when the window has moved a ticket since (called, started,
transferred, suspended…), when the seconds are over, when the finished ticket
has been rated (a rating locks the ticket row, as undo does, so one of the two
waits for the other), or when the ticket changed since by other means.
"""

from __future__ import annotations

from typing import Final

import asyncpg

from clearhall.server.domain import action_log, errors, messages
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.tickets import TICKET_COLUMNS, Ticket
from clearhall.server.domain.window import Window
from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import TicketStatus

UNDO_WITHIN_S: Final = 10
# What each undoable action leaves its ticket in.
UNDOABLE: Final = {"finish": TicketStatus.DONE, "no_show": TicketStatus.NO_SHOW}
# Actions at a window that move a ticket there: only the latest of them may be undone.
CALLS: Final = ("call_next", "call", "recall", "start", "transfer", "suspend")
WINDOW_MOVES: Final = (*UNDOABLE, *CALLS, "undo", "sign_in", "sign_out")
ONE_OPEN_PER_ID = "tickets_one_open_per_id"  # schema.sql


# -- the window's latest ticket move in the last hour, newest first along
# -- action_log_hall_at; whether it is fresh enough to undo, and recorded its state before
LAST_MOVE = """
SELECT id, action, ticket_id, ticket_number, details ? 'before' AS restorable,
       at > now() - make_interval(secs => $3) AS fresh
FROM action_log
WHERE hall_id = $1 AND window_number = $2 AND action = ANY($4::text[])
  AND at > now() - interval '1 hour'
ORDER BY at DESC, id DESC
LIMIT 1
"""

# -- the ticket's state as the log row recorded it before the action, if the
# -- action's result is still what the ticket holds
RESTORE = f"""
WITH back AS (
    UPDATE tickets t SET status = l.details->'before'->>'status',
           started_at = (l.details->'before'->>'started_at')::timestamptz,
           finished_at = (l.details->'before'->>'finished_at')::timestamptz
    FROM action_log l
    WHERE l.id = $2 AND t.id = $1 AND t.status = $3 AND t.window_id = $4
    RETURNING t.*
)
SELECT {TICKET_COLUMNS} FROM back t JOIN services s ON s.id = t.service_id
"""


async def undo(conn: Connection, hall: Hall, w: Window, p: Principal) -> Ticket:
    """Put back the ticket of this window's last finish or no-show, as it was before."""
    if w.staff_id is None:
        raise errors.conflict(messages.WINDOW_CLOSED(number=w.number))
    last = await conn.fetchrow(LAST_MOVE, hall.id, w.number, UNDO_WITHIN_S, list(WINDOW_MOVES))
    if (last is not None and last["action"] in CALLS) or w.current_ticket_id is not None:
        raise errors.conflict(messages.UNDO_CALLED_SINCE)
    if last is None or last["action"] not in UNDOABLE or not last["restorable"]:
        raise errors.conflict(messages.NOTHING_TO_UNDO(number=w.number))
    if not last["fresh"]:
        raise errors.conflict(messages.UNDO_TOO_LATE(seconds=UNDO_WITHIN_S))
    number = last["ticket_number"]
    # Lock the ticket before looking for its rating: a rating locks it too.
    await conn.execute("SELECT 1 FROM tickets WHERE id = $1 FOR UPDATE", last["ticket_id"])
    if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM ratings WHERE ticket_id = $1)", last["ticket_id"]):
        raise errors.conflict(messages.UNDO_RATED(number=number))
    try:
        row = await conn.fetchrow(RESTORE, last["ticket_id"], last["id"], UNDOABLE[last["action"]], w.id)
    except asyncpg.UniqueViolationError as exc:
        # A missed ticket's ID number took a new ticket for the service meanwhile.
        if exc.constraint_name == ONE_OPEN_PER_ID:
            raise errors.limit_exceeded(messages.OPEN_TICKET_FOR_ID) from None
        raise
    if row is None:
        raise errors.conflict(messages.UNDO_CHANGED(number=number))
    ticket = Ticket.from_row(row)
    await conn.execute("UPDATE windows SET current_ticket_id = $1 WHERE id = $2", ticket.id, w.id)
    await action_log.record(
        conn, hall.id, p.actor, "undo", window=w.number, ticket_id=ticket.id, ticket_number=ticket.number,
        details={"undid": last["action"], "entry": last["id"], "status": ticket.status},
    )  # fmt: skip
    return ticket
