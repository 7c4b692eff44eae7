"""A window (窗口) as one call sees it: its row, locked, and the checks on its state.

A window call locks the window row first (`lock_window`), so calls at one
window take turns and one window never holds two current tickets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

import asyncpg

from clearhall.server.domain import errors, messages
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.tickets import TICKET_COLUMNS, Ticket
from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import ActorKind


class Call(StrEnum):
    """A window call, named as in its address: POST /api/windows/{n}/<call>."""

    SIGN_IN = "sign-in"
    SIGN_OUT = "sign-out"
    CALL_NEXT = "call-next"
    RECALL = "recall"
    START = "start"
    FINISH = "finish"
    NO_SHOW = "no-show"
    TRANSFER = "transfer"
    SUSPEND = "suspend"
    CALL = "call"
    PAUSE = "pause"
    RESUME = "resume"
    REQUEUE = "requeue"
    UNDO = "undo"
    FINISH_AND_NEXT = "finish-and-call-next"


@dataclass(frozen=True)
class Window:
    id: int
    number: int
    staff_id: int | None
    staff_name: str | None
    party_member: bool | None
    paused: bool
    pause_reason: str | None
    current_ticket_id: str | None
    current_number: str | None
    priority_run: int
    service_ids: list[int]
    service_codes: list[str]

    def with_current(self, t: Ticket | None) -> Window:
        """This window after a call that left `t` (or nothing) at it."""
        return replace(self, current_ticket_id=t.id if t else None, current_number=t.number if t else None)


# -- the window, locked for this call, with what its screens show
LOCK_WINDOW = """
SELECT w.id, w.number, w.staff_id, st.name AS staff_name, st.party_member, w.paused,
       w.pause_reason, w.current_ticket_id,
       (SELECT t.number FROM tickets t WHERE t.id = w.current_ticket_id) AS current_number,
       w.priority_run,
       ARRAY(SELECT ws.service_id FROM window_services ws JOIN services s ON s.id = ws.service_id
             WHERE ws.window_id = w.id ORDER BY s.position, s.code) AS service_ids,
       ARRAY(SELECT s.code FROM window_services ws JOIN services s ON s.id = ws.service_id
             WHERE ws.window_id = w.id ORDER BY s.position, s.code) AS service_codes
FROM windows w LEFT JOIN staff st ON st.id = w.staff_id
WHERE w.hall_id = $1 AND w.number = $2 AND w.active
FOR UPDATE OF w
"""


async def lock_window(conn: Connection, hall_id: int, number: int) -> Window:
    row = await conn.fetchrow(LOCK_WINDOW, hall_id, number)
    if row is None:
        raise errors.not_found(messages.NO_WINDOW(number=number))
    return Window(**dict(row))


def authorise(p: Principal, w: Window) -> None:
    """Staff signed in at this window, or a supervisor."""
    if p.kind != ActorKind.STAFF:
        raise errors.forbidden(messages.STAFF_ACT_ON_WINDOWS)
    if p.is_supervisor or w.staff_id == p.id:
        return
    raise errors.forbidden(messages.NOT_SIGNED_IN_HERE(number=w.number))


def require_open(w: Window) -> None:
    if w.staff_id is None:
        raise errors.conflict(messages.WINDOW_CLOSED(number=w.number))
    if w.paused:
        raise errors.conflict(messages.WINDOW_PAUSED(number=w.number))


async def current(conn: Connection, w: Window) -> Ticket | None:
    if w.current_ticket_id is None:
        return None
    row = await conn.fetchrow(
        f"SELECT {TICKET_COLUMNS} FROM tickets t JOIN services s ON s.id = t.service_id WHERE t.id = $1",
        w.current_ticket_id,
    )
    return Ticket.from_row(row) if row else None


async def window_staff(conn: Connection, hall_id: int, number: int) -> int | None:
    """Who is signed in at the window (0: nobody); None when there is no such window."""
    staff_id: int | None = await conn.fetchval(
        "SELECT coalesce(staff_id, 0) FROM windows WHERE hall_id = $1 AND number = $2 AND active",
        hall_id, number,
    )  # fmt: skip
    return staff_id


async def may_work_at(conn: Connection, hall_id: int, staff_id: int, number: int) -> bool:
    """Whether the hall file lists this window among the staff member's."""
    found = await conn.fetchval(
        "SELECT 1 FROM staff_windows sw JOIN windows w ON w.id = sw.window_id"
        " WHERE sw.staff_id = $1 AND w.hall_id = $2 AND w.number = $3 AND w.active",
        staff_id, hall_id, number,
    )  # fmt: skip
    return bool(found)


def require_free(w: Window) -> None:
    """A window holds at most one current ticket."""
    if w.current_ticket_id is not None:
        raise errors.conflict(messages.WINDOW_BUSY(number=w.number))


WAITING_AT_WINDOW = """
SELECT t.number, s.code AS service, t.category,
       (t.priority AND t.category <> 'appointment') AS green_channel, t.status, t.issued_at
FROM tickets t JOIN services s ON s.id = t.service_id
WHERE t.hall_id = $1 AND t.status = ANY($3::text[])
  AND t.service_id IN (SELECT ws.service_id FROM window_services ws
                       JOIN windows w ON w.id = ws.window_id
                       WHERE w.hall_id = $1 AND w.number = $2)
ORDER BY t.priority DESC, t.order_at, t.id
LIMIT 200
"""


async def waiting_list(conn: Connection, hall_id: int, number: int, status: str) -> list[asyncpg.Record]:
    """Tickets of this window's services in `status`, in the rule's order (numbers and categories only)."""
    return list(await conn.fetch(WAITING_AT_WINDOW, hall_id, number, [status]))
