"""Moving a window's current ticket (recall, start, finish, no-show, transfer,
suspend): one statement each, which locks the window, checks the caller, moves
the ticket, frees the window and logs it; a finish's also sends its events.
The calls around them (their checks, what else they do) are `window_calls`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from clearhall.server.domain import errors, events, messages, undo, views
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.tickets import TICKET_COLUMNS, Ticket
from clearhall.server.domain.window import LOCK_WINDOW, Call, Window, authorise
from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import AT_WINDOW, ActorKind, TicketStatus


@dataclass(frozen=True)
class Transition:
    """A call that moves the window's current ticket from one status to another."""

    action: str  # as written in the action log
    sets: str  # SQL SET list; {0}, {1}: the call's own values
    allowed: tuple[TicketStatus, ...]
    keeps_current: bool  # the ticket stays at the window afterwards


TRANSITIONS = {
    Call.RECALL: Transition("recall", "called_at = called_at", (TicketStatus.CALLED,), True),
    Call.START: Transition("start", "status = 'serving', started_at = now()", (TicketStatus.CALLED,), True),
    Call.FINISH: Transition("finish", "status = 'done', finished_at = now()", AT_WINDOW, False),
    Call.NO_SHOW: Transition(
        "no_show", "status = 'no_show', finished_at = now()", (TicketStatus.CALLED,), False
    ),
    Call.TRANSFER: Transition(
        "transfer",
        "status = 'waiting', service_id = {0}, window_id = NULL, staff_id = NULL,"
        " called_at = NULL, started_at = NULL",
        AT_WINDOW,
        False,
    ),
    Call.SUSPEND: Transition(
        "suspend", "status = 'suspended', suspend_reason = {0}, missing = {1}", AT_WINDOW, False
    ),
}


# -- a finish's events, sent by its own statement when ${a + 6} says so (on channel
# -- ${a + 7}; their envelopes ${a + 8}..${a + 10} completed here), as `ticket_events`
FINISH_TOLD = """
    , told AS (
        SELECT pg_notify(${c}, e.payload) FROM (
            SELECT 1 AS i, (${e1}::jsonb || jsonb_build_object('ticket', jsonb_build_object(
                       'number', m.number, 'service', s.code, 'category', m.category)))::text AS payload
            FROM moved m JOIN services s ON s.id = m.service_id WHERE ${tell}::bool
            UNION ALL
            SELECT 2, (${e2}::jsonb || jsonb_build_object(
                       'ticket', jsonb_build_object('id', m.id, 'number', m.number, 'service', s.code),
                       'staff', jsonb_build_object(
                           'name', (SELECT st.name FROM staff st WHERE st.id = m.staff_id))))::text
            FROM moved m JOIN services s ON s.id = m.service_id WHERE ${tell}::bool
            UNION ALL
            SELECT 3, (${e3}::jsonb || jsonb_build_object('state', {state}))::text
            FROM w, moved WHERE ${tell}::bool
            ORDER BY i
        ) e
    )"""


@functools.cache
def transition_sql(call: Call, values: int) -> str:
    """One statement for a move: lock the window and check the caller may act there
    (as `call_next` does), move its current ticket, free the window (unless it keeps
    the ticket), write the log row (with the ticket's state before, for an undoable
    move). Answers the window as locked (JSON) and the ticket as it is now (none when
    nothing moved: the window says why). $1 the hall, $2 the window's number, $3 and
    $4 the caller (a staff id or NULL; a supervisor?), $5.. the call's `values`."""
    move = TRANSITIONS[call]
    a = values + 5  # the first argument after the call's own values
    before = (
        " || jsonb_build_object('before', jsonb_build_object('status', m.was_status,"
        " 'started_at', m.was_started_at, 'finished_at', m.was_finished_at))"
        if move.action in undo.UNDOABLE
        else ""
    )
    sets = move.sets.format(*(f"${5 + i}" for i in range(values)))
    told = counted = ""
    if call is Call.FINISH:
        told = FINISH_TOLD.format(
            tell=a + 6, c=a + 7, e1=a + 8, e2=a + 9, e3=a + 10, state=views.window_view_sql("w", "NULL::text")
        )
        counted = ", (SELECT count(*) FROM told) AS told"
    return f"""
    WITH w AS (
        {LOCK_WINDOW}
    ), may AS (
        SELECT w.id, w.current_ticket_id FROM w WHERE w.staff_id = $3 OR $4::bool
    ), moved AS (
        UPDATE tickets t SET {sets}
        FROM may, (SELECT status AS was_status, started_at AS was_started_at,
                          finished_at AS was_finished_at
                   FROM tickets WHERE id = (SELECT current_ticket_id FROM may)) was
        WHERE t.id = may.current_ticket_id AND t.status = ANY(${a}::text[])
        RETURNING t.*, was.*
    ), freed AS (
        UPDATE windows SET current_ticket_id = NULL
        WHERE {"false" if move.keeps_current else "true"} AND id = (SELECT id FROM may)
          AND EXISTS (SELECT 1 FROM moved)
    ), logged AS (
        INSERT INTO action_log (hall_id, actor_kind, actor_id, actor_name, window_number,
                                ticket_id, ticket_number, action, reason, details)
        SELECT $1, ${a + 1}, ${a + 2}, ${a + 3}, $2, m.id, m.number, '{move.action}',
               ${a + 4}, ${a + 5}::jsonb{before}
        FROM moved m
    ){told}
    SELECT to_jsonb(w) AS locked, ticket.*{counted}
    FROM w LEFT JOIN (SELECT {TICKET_COLUMNS} FROM moved t JOIN services s ON s.id = t.service_id) ticket
         ON true
    """


async def transition(
    conn: Connection,
    hall: Hall,
    number: int,
    p: Principal,
    call: Call,
    *values: object,
    reason: str | None = None,
    details: dict[str, object] | None = None,
    tell: bool = False,
) -> tuple[Window, Ticket]:
    """Move window `number`'s current ticket, free the window, and log it: one round trip,
    which also locks the window (a caller that locked it already loses nothing). Answers
    the window after the move and the ticket; 404, 403, 409 as the window says. A finish
    with `tell` sends its events too (`publish` then has nothing to send)."""
    actor = p.actor
    told: tuple[object, ...] = ()
    if call is Call.FINISH:
        told = (
            tell, events.CHANNEL,
            events.envelope(hall.id, events.TICKET_FINISHED, window=number),
            events.envelope(hall.id, events.RATING_REQUESTED, window=number),
            events.envelope(hall.id, events.WINDOW_CHANGED, window=number),
        )  # fmt: skip
    row = await conn.fetchrow(
        transition_sql(call, len(values)),
        hall.id, number, p.id if p.kind == ActorKind.STAFF else None, p.is_supervisor, *values,
        list(TRANSITIONS[call].allowed), actor.kind, actor.id, actor.name, reason, details or {}, *told,
    )  # fmt: skip
    if row is None:
        raise errors.not_found(messages.NO_WINDOW(number=number))
    w = Window(**row["locked"])
    if row["id"] is None:
        authorise(p, w)
        if w.current_ticket_id is None:
            raise errors.conflict(messages.WINDOW_IDLE(number=w.number))
        raise errors.conflict(messages.CANNOT_NOW(action=call.value))
    ticket = Ticket.from_row(row)
    return w.with_current(ticket if TRANSITIONS[call].keeps_current else None), ticket
