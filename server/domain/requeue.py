"""Back in line (回队): a suspended ticket's citizen returns, or a missed one's (过号顺延).

`POST /api/windows/{n}/requeue {"number"}` at a window that serves the
ticket's service, for a ticket of today:

- a **suspended** ticket (挂起) goes back to waiting in its old place: the
  citizen left to fetch a document and keeps their turn;
- a **no-show** ticket (过号) comes back only where the hall file's
  `policy.no_show_comeback_behind = N` is above 0, only once, and not in its
  old place: N tickets behind the head of its service's line (all of them, when
  fewer wait). A green-channel ticket stays in the green channel, so it goes
  before every normal ticket whatever N is; a normal ticket goes behind the
  green-channel tickets waiting, and behind N of the line if there are fewer.

Both are in the action log: `requeue`, and `comeback` with N and the number of
tickets ahead of it afterwards. `suspended_list` is what a console offers for
回队: today's suspended tickets of its window's services. A citizen may also
re-join at a kiosk (`rejoin`); both end in `back_in_line`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from clearhall.server.domain import action_log, errors, messages
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.tickets import AHEAD, TICKET_COLUMNS, Ticket
from clearhall.server.domain.window import Window
from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import TicketStatus

ONE_OPEN_PER_ID = "tickets_one_open_per_id"  # schema.sql
TICK = timedelta(microseconds=1)  # the finest step of a timestamptz

FIND_TODAY = """
SELECT t.id, t.number, t.service_id, t.status, t.priority FROM tickets t
WHERE t.hall_id = $1 AND t.number = $2 AND t.day = (now() AT TIME ZONE $3)::date
FOR UPDATE
"""

# -- a suspended ticket waits again, in its old place (order_at is kept)
BACK_IN_PLACE = f"""
WITH back AS (
    UPDATE tickets t SET status = 'waiting', window_id = NULL, staff_id = NULL,
           called_at = NULL, started_at = NULL
    WHERE t.id = $1 AND t.status = 'suspended'
    RETURNING t.*
)
SELECT {TICKET_COLUMNS} FROM back t JOIN services s ON s.id = t.service_id
"""

# -- once only: the action log holds every comeback
CAME_BACK = "SELECT EXISTS (SELECT 1 FROM action_log WHERE ticket_id = $1 AND action = 'comeback')"

# -- the line of one service as call-next orders it: how many waiting tickets
# -- of a higher class (green channel before normal) stand ahead whatever
# -- happens, and the places in line of the first $3 + 1 of the ticket's own class
LINE = """
SELECT now() AS now,
       (SELECT count(*) FROM tickets
         WHERE service_id = $1 AND status = 'waiting' AND priority > $2) AS higher,
       ARRAY(SELECT order_at FROM tickets
             WHERE service_id = $1 AND status = 'waiting' AND priority = $2
             ORDER BY order_at, id LIMIT $3 + 1) AS own_class
"""

# -- a missed ticket waits again at its new place in line
COME_BACK = f"""
WITH back AS (
    UPDATE tickets t SET status = 'waiting', window_id = NULL, staff_id = NULL, called_at = NULL,
           started_at = NULL, finished_at = NULL, order_at = $2
    WHERE t.id = $1 AND t.status = 'no_show'
    RETURNING t.*
)
SELECT {TICKET_COLUMNS} FROM back t JOIN services s ON s.id = t.service_id
"""


# -- today's suspended tickets of a window's services, longest suspended first, with
# -- what is missing and when and where they were suspended (their latest suspend
# -- in the log, along action_log_ticket)
SUSPENDED_AT_WINDOW = """
SELECT t.number, s.code AS service, t.category,
       (t.priority AND t.category <> 'appointment') AS green_channel, t.issued_at,
       coalesce(t.missing, '{}') AS missing, t.suspend_reason,
       l.at AS suspended_at, l.window_number AS suspended_window
FROM tickets t JOIN services s ON s.id = t.service_id
LEFT JOIN LATERAL (SELECT at, window_number FROM action_log
                   WHERE ticket_id = t.id AND action = 'suspend'
                   ORDER BY at DESC, id DESC LIMIT 1) l ON true
WHERE t.hall_id = $1 AND t.status = 'suspended' AND t.day = (now() AT TIME ZONE $3)::date
  AND t.service_id IN (SELECT ws.service_id FROM window_services ws
                       JOIN windows w ON w.id = ws.window_id
                       WHERE w.hall_id = $1 AND w.number = $2)
ORDER BY l.at, t.id
LIMIT 200
"""


async def suspended_list(conn: Connection, hall: Hall, number: int) -> list[asyncpg.Record]:
    """Today's suspended tickets that window `number` may put back in line (no id, no person)."""
    return list(await conn.fetch(SUSPENDED_AT_WINDOW, hall.id, number, hall.timezone))


async def requeue(conn: Connection, hall: Hall, w: Window, p: Principal, number: str) -> Ticket:
    """A suspended or missed ticket's citizen is back; only at a window serving its service."""
    found = await conn.fetchrow(FIND_TODAY, hall.id, number, hall.timezone)
    mine = found is not None and found["service_id"] in w.service_ids
    if found is None or not mine or found["status"] not in (TicketStatus.SUSPENDED, TicketStatus.NO_SHOW):
        raise errors.conflict(messages.NOT_SUSPENDED_HERE(number=number, window=w.number))
    return await back_in_line(conn, hall, p.actor, found, window=w.number)


async def back_in_line(
    conn: Connection,
    hall: Hall,
    actor: action_log.Actor,
    found: asyncpg.Record,
    *,
    window: int | None = None,
    details: dict[str, object] | None = None,
) -> Ticket:
    """A suspended ticket back in its old place, or a missed one once N behind (过号顺延); logged.

    `found` is the ticket's row as FIND_TODAY reads it (id, number, service_id,
    status, priority), suspended or no-show and locked by the caller: a
    window's `requeue`, and 回队 at a kiosk (`rejoin`, where `window` is None).
    """
    if found["status"] == TicketStatus.NO_SHOW:
        return await _come_back(conn, hall, actor, found, window, details)
    row = await conn.fetchrow(BACK_IN_PLACE, found["id"])
    assert row is not None  # suspended, and locked since FIND_TODAY
    ticket = Ticket.from_row(row)
    await action_log.record(
        conn, hall.id, actor, "requeue", window=window, ticket_id=ticket.id,
        ticket_number=ticket.number, details=details,
    )  # fmt: skip
    return ticket


def place_behind(behind: int, higher: int, own_class: list[datetime], now: datetime) -> datetime:
    """The place in line (order_at) that puts a ticket `behind` tickets from the head.

    `higher` tickets of a higher class wait ahead of it whatever its place;
    `own_class` are the places of the waiting tickets of its own class, in
    order. It goes behind `behind - higher` of those (between two of them), or
    at the end of its class when fewer wait.
    """
    k = max(behind - higher, 0)
    if k == 0:
        return own_class[0] - TICK if own_class else now
    if len(own_class) > k:
        return own_class[k - 1] + (own_class[k] - own_class[k - 1]) / 2
    return max(now, own_class[-1] + TICK) if own_class else now


async def come_back(conn: Connection, hall: Hall, w: Window, p: Principal, found: asyncpg.Record) -> Ticket:
    """过号顺延 at window `w`: once, N behind the head of its service's line."""
    return await _come_back(conn, hall, p.actor, found, w.number)


async def _come_back(
    conn: Connection,
    hall: Hall,
    actor: action_log.Actor,
    found: asyncpg.Record,
    window: int | None,
    details: dict[str, object] | None = None,
) -> Ticket:
    behind = hall.no_show_comeback_behind
    if behind == 0:
        raise errors.conflict(messages.NO_COMEBACK(number=found["number"]))
    if await conn.fetchval(CAME_BACK, found["id"]):
        raise errors.conflict(messages.COMEBACK_USED(number=found["number"]))
    line = await conn.fetchrow(LINE, found["service_id"], found["priority"], behind)
    assert line is not None  # a SELECT without FROM returns its row
    order_at = place_behind(behind, line["higher"], list(line["own_class"]), line["now"])
    try:
        row = await conn.fetchrow(COME_BACK, found["id"], order_at)
    except asyncpg.UniqueViolationError as exc:
        # The same ID number took a new ticket for this service meanwhile.
        if exc.constraint_name == ONE_OPEN_PER_ID:
            raise errors.limit_exceeded(messages.OPEN_TICKET_FOR_ID) from None
        raise
    assert row is not None  # a no-show, locked since FIND_TODAY
    ticket = Ticket.from_row(row)
    ahead = await conn.fetchval(AHEAD, hall.id, ticket.service_id, ticket.called_first, order_at, ticket.id)
    await action_log.record(
        conn, hall.id, actor, "comeback", window=window, ticket_id=ticket.id,
        ticket_number=ticket.number, details={"behind": behind, "ahead": ahead, **(details or {})},
    )  # fmt: skip
    return ticket
