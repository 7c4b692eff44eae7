"""Who is called next (CONTRACT §5): the calling rule, and calling out of order.

The rule (published at GET /api/policy): among the waiting tickets of the
window's services, green channel before normal, then the earliest place in
line; but after `max_consecutive_priority` green-channel tickets in a row called
by call-next at one window, a waiting normal ticket goes first there. The run
ends when call-next calls a normal ticket; out-of-order calls don't count.

Exactly once: call-next claims its ticket in one UPDATE whose candidates are
read with FOR UPDATE SKIP LOCKED, so two windows, on any number of server
processes, never claim the same ticket. The same statement locks the window
row first (`window.LOCK_WINDOW`), so one window never holds two current
tickets; locking, checking, claiming and logging take one round trip.
"""

from __future__ import annotations

from clearhall.server.domain import action_log, errors, events, messages
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.tickets import TICKET_COLUMNS, Ticket
from clearhall.server.domain.views import window_view_sql
from clearhall.server.domain.window import LOCK_WINDOW, Window, authorise, require_free, require_open
from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import ActorKind, TicketStatus

# -- the first waiting ticket of the window's services in the rule's order,
# -- skipping rows another window is claiming this instant; each direction
# -- has its own index whose order is exactly this ORDER BY
_PICK = """
    SELECT id FROM tickets
    WHERE hall_id = $1 AND status = 'waiting' AND service_id = ANY($2::int[])
    ORDER BY priority {direction}, order_at, id
    LIMIT 1
"""


def _pick(direction: str, when: str) -> str:
    """The rule's first ticket for the window `may` allows to call, in one direction, only
    `when` (a one-time filter: the other direction's scan never runs)."""
    return f"""
    SELECT id FROM tickets
    WHERE hall_id = $1 AND status = 'waiting' AND service_id = ANY((SELECT service_ids FROM may)::int[])
      AND {when}
    ORDER BY priority {direction}, order_at, id
    LIMIT 1 FOR UPDATE SKIP LOCKED"""


# -- call-next in one statement: lock the window, check that this caller may call
# -- there now, claim the first waiting ticket by the rule (in the direction the
# -- window's run of green-channel calls says), make it the window's current one
# -- and log it; and, unless $12 says the caller sends them, its events (sent on
# -- commit): ticket.called and window.changed, their envelopes $10 and $11 (on
# -- channel $9) completed here. Answers the window as it was locked (as JSON) and
# -- the ticket claimed; no ticket when the window may not call (the caller finds
# -- why in the window) or nobody waits. $3: max_consecutive_priority; $4, $5: the
# -- caller (a staff id, or NULL) and whether a supervisor; $6–$8 the log's actor.
CALL_NEXT = f"""
WITH w AS (
    {LOCK_WINDOW}
), may AS (
    SELECT w.id, w.staff_id, w.service_ids, w.priority_run < $3 AS green_first FROM w
    WHERE w.staff_id IS NOT NULL AND NOT w.paused AND w.current_ticket_id IS NULL
      AND (w.staff_id = $4 OR $5::bool)
), green AS ({_pick("DESC", "(SELECT green_first FROM may)")}
), normal AS ({_pick("ASC", "NOT (SELECT green_first FROM may)")}
), called AS (
    -- claim it for this window
    UPDATE tickets t SET status = 'called', window_id = may.id, staff_id = may.staff_id, called_at = now()
    FROM may, (SELECT id FROM green UNION ALL SELECT id FROM normal) pick
    WHERE t.id = pick.id
    RETURNING t.*
), win AS (
    -- the window's current ticket, and its run of green-channel calls
    UPDATE windows w SET current_ticket_id = called.id,
           priority_run = CASE WHEN called.priority THEN w.priority_run + 1 ELSE 0 END
    FROM called WHERE w.id = called.window_id
    RETURNING w.priority_run
), logged AS (
    INSERT INTO action_log (hall_id, actor_kind, actor_id, actor_name, window_number, ticket_id,
                            ticket_number, action, rule_ticket_id, rule_ticket_number, details)
    SELECT $1, $6, $7, $8, $2, called.id, called.number, 'call_next', called.id, called.number,
           jsonb_build_object('priority_run', (SELECT priority_run FROM win))
    FROM called
), told AS (
    SELECT pg_notify($9, e.payload) FROM (
        SELECT 1 AS i, ($10::jsonb || jsonb_build_object('ticket', jsonb_build_object(
                   'number', called.number, 'service', s.code, 'category', called.category)))::text AS payload
        FROM called JOIN services s ON s.id = called.service_id WHERE $12::bool
        UNION ALL
        SELECT 2, ($11::jsonb || jsonb_build_object('state', {window_view_sql("w", "called.number")}))::text
        FROM w, called WHERE $12::bool
        ORDER BY i
    ) e
)
SELECT to_jsonb(w) AS locked, ticket.*, (SELECT count(*) FROM told) AS told
FROM w LEFT JOIN (SELECT {TICKET_COLUMNS} FROM called t JOIN services s ON s.id = t.service_id) ticket ON true
"""


# The same choice, read without claiming: what the rule would call now.
RULE_CHOICE = {
    green_first: f"SELECT id, number FROM tickets WHERE id = ({_PICK.format(direction=d)})"
    for green_first, d in ((True, "DESC"), (False, "ASC"))
}


def prefers_green(hall: Hall, w: Window) -> bool:
    return w.priority_run < hall.max_consecutive_priority


async def call_next(
    conn: Connection, hall: Hall, p: Principal, number: int, *, tell: bool = True
) -> tuple[Window, Ticket | None]:
    """叫号 at window `number`: the window after the call, and the ticket called (None when
    nobody waits). 404, 403 and 409 as the window's lock and checks say (`window_calls`).
    With `tell`, its ticket.called and window.changed go out with it (on commit)."""
    staff_id = p.id if p.kind == ActorKind.STAFF else None
    called = events.envelope(hall.id, events.TICKET_CALLED, window=number, recall=False)
    changed = events.envelope(hall.id, events.WINDOW_CHANGED, window=number)
    row = await conn.fetchrow(
        CALL_NEXT,
        hall.id, number, hall.max_consecutive_priority, staff_id, p.is_supervisor, p.kind, p.id, p.name,
        events.CHANNEL, called, changed, tell,
    )  # fmt: skip
    if row is None:
        raise errors.not_found(messages.NO_WINDOW(number=number))
    w = Window(**row["locked"])
    if row["id"] is None:  # why not: the first check that fails says; else nobody waits
        authorise(p, w)
        require_open(w)
        require_free(w)
        return w, None
    ticket = Ticket.from_row(row)
    return w.with_current(ticket), ticket


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
