"""Who is called next (CONTRACT §5): the calling rule, and calling out of order.

The rule (published at GET /api/policy): among the waiting tickets of the
window's services, green channel before normal, then the earliest place in
line; but after `max_consecutive_priority` green-channel tickets in a row called
by call-next at one window, a waiting normal ticket goes first there. The run
ends when call-next calls a normal ticket; out-of-order calls don't count.

Exactly once: call-next claims its ticket in one UPDATE whose candidates are
read with FOR UPDATE SKIP LOCKED, so two windows, on any number of server
processes, never claim the same ticket. The caller has locked the window row
first (`windows.lock_window`), so one window never holds two current tickets.
"""

from __future__ import annotations

from clearhall.server.domain import action_log, errors, messages
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.tickets import TICKET_COLUMNS, Ticket
from clearhall.server.domain.window import Window, require_free, require_open
from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import TicketStatus

# -- the first waiting ticket of the window's services in the rule's order,
# -- skipping rows another window is claiming this instant; each direction
# -- has its own index whose order is exactly this ORDER BY
_PICK = """
    SELECT id FROM tickets
    WHERE hall_id = $1 AND status = 'waiting' AND service_id = ANY($2::int[])
    ORDER BY priority {direction}, order_at, id
    LIMIT 1
"""


def _call_next(direction: str) -> str:
    return f"""
WITH pick AS (
    {_PICK.format(direction=direction)} FOR UPDATE SKIP LOCKED
), called AS (
    -- claim it for this window
    UPDATE tickets t SET status = 'called', window_id = $3, staff_id = $4, called_at = now()
    FROM pick WHERE t.id = pick.id
    RETURNING t.*
), win AS (
    -- the window's current ticket, and its run of green-channel calls
    UPDATE windows w SET current_ticket_id = called.id,
           priority_run = CASE WHEN called.priority THEN w.priority_run + 1 ELSE 0 END
    FROM called WHERE w.id = $3
    RETURNING w.priority_run
), logged AS (
    INSERT INTO action_log (hall_id, actor_kind, actor_id, actor_name, window_number, ticket_id,
                            ticket_number, action, rule_ticket_id, rule_ticket_number, details)
    SELECT $1, $5, $6, $7, $8, called.id, called.number, 'call_next', called.id, called.number,
           jsonb_build_object('priority_run', (SELECT priority_run FROM win))
    FROM called
)
SELECT {TICKET_COLUMNS} FROM called t JOIN services s ON s.id = t.service_id
"""


# Keyed by "green channel first?"
CALL_NEXT = {True: _call_next("DESC"), False: _call_next("ASC")}
# The same choice, read without claiming: what the rule would call now.
RULE_CHOICE = {
    green_first: f"SELECT id, number FROM tickets WHERE id = ({_PICK.format(direction=d)})"
    for green_first, d in ((True, "DESC"), (False, "ASC"))
}


def prefers_green(hall: Hall, w: Window) -> bool:
    return w.priority_run < hall.max_consecutive_priority


async def call_next(conn: Connection, hall: Hall, w: Window, p: Principal) -> Ticket | None:
    require_open(w)
    require_free(w)
    row = await conn.fetchrow(
        CALL_NEXT[prefers_green(hall, w)],
        hall.id, w.service_ids, w.id, w.staff_id, p.kind, p.id, p.name, w.number,
    )  # fmt: skip
    return Ticket.from_row(row) if row else None


async def rule_choice(conn: Connection, hall: Hall, w: Window) -> tuple[str, str] | None:
    row = await conn.fetchrow(RULE_CHOICE[prefers_green(hall, w)], hall.id, w.service_ids)
    return (row["id"], row["number"]) if row else None


FIND_WAITING_BY_NUMBER = """
SELECT t.id, t.service_id, t.status FROM tickets t
WHERE t.hall_id = $1 AND t.number = $2 AND t.day = (now() AT TIME ZONE $3)::date
FOR UPDATE
"""

CALL_CHOSEN = f"""
WITH called AS (
    UPDATE tickets t SET status = 'called', window_id = $2, staff_id = $3, called_at = now()
    WHERE t.id = $1 AND t.status = 'waiting'
    RETURNING t.*
)
SELECT {TICKET_COLUMNS} FROM called t JOIN services s ON s.id = t.service_id
"""


async def call_number(
    conn: Connection, hall: Hall, w: Window, p: Principal, number: str, reason: str
) -> Ticket:
    """指呼: call one waiting ticket out of order, with a reason, logged beside the rule's choice."""
    require_open(w)
    require_free(w)
    choice = await rule_choice(conn, hall, w)
    found = await conn.fetchrow(FIND_WAITING_BY_NUMBER, hall.id, number, hall.timezone)
    if found is None:
        raise errors.not_found(messages.NO_TICKET_TODAY(number=number))
    if found["service_id"] not in w.service_ids:
        raise errors.invalid(messages.NOT_THIS_WINDOWS_SERVICE(number=number), "number")
    if found["status"] != TicketStatus.WAITING:
        raise errors.conflict(messages.NOT_WAITING(number=number))
    row = await conn.fetchrow(CALL_CHOSEN, found["id"], w.id, w.staff_id)
    assert row is not None  # it is waiting, and locked since FIND_WAITING_BY_NUMBER
    ticket = Ticket.from_row(row)
    await conn.execute("UPDATE windows SET current_ticket_id = $1 WHERE id = $2", ticket.id, w.id)
    await action_log.record(
        conn, hall.id, p.actor, "call", window=w.number, ticket_id=ticket.id,
        ticket_number=ticket.number, reason=reason,
        rule_ticket_id=choice[0] if choice else None,
        rule_ticket_number=choice[1] if choice else None,
    )  # fmt: skip
    return ticket
