"""办件编号 (CONTRACT §7): the number of a visit's case in the provincial approval
system, kept on its ticket and carried by its rating (and forwarded with it).

Given with `finish` by the staff member finishing it (`attach`, inside the
window call's transaction), or afterwards by that staff member or a
supervisor (`give`, POST /api/tickets/{id}/case-number), for a finished
ticket only. It may be corrected; each giving is in the action log with the
number it replaced. Normalised with NFKC (full-width letters and digits
become ASCII) and then letters, digits and `. _ / -`, at most 64.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

import asyncpg

from clearhall.server.domain import action_log, errors, messages
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import TicketStatus

FORMAT: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")


def normalise(value: str) -> str:
    """The case number as stored, or 400 naming `case_number`."""
    number = unicodedata.normalize("NFKC", value).strip()
    if not FORMAT.fullmatch(number):
        raise errors.invalid(messages.CASE_NUMBER_FORMAT, "case_number")
    return number


SET_NUMBER = """
UPDATE tickets t SET case_number = $2
FROM (SELECT case_number AS was FROM tickets WHERE id = $1) old
WHERE t.id = $1
RETURNING t.number, old.was, (SELECT w.number FROM windows w WHERE w.id = t.window_id) AS window
"""


async def attach(
    conn: Connection, hall_id: int, actor: action_log.Actor, ticket_id: str, case_number: str
) -> str:
    """Store a finished ticket's case number inside the caller's transaction (the finish), and log it.
    The caller has checked who may; returns the number as stored."""
    number = normalise(case_number)
    row = await conn.fetchrow(SET_NUMBER, ticket_id, number)
    if row is None:
        raise errors.not_found(messages.NO_TICKET)
    await action_log.record(
        conn, hall_id, actor, "case_number", window=row["window"], ticket_id=ticket_id,
        ticket_number=row["number"], details={"case_number": number, "replaced": row["was"]},
    )  # fmt: skip
    return number


TICKET = "SELECT id, number, status, staff_id FROM tickets WHERE id = $1 AND hall_id = $2 FOR UPDATE"


async def give(
    pool: asyncpg.Pool, hall: Hall, p: Principal, ticket_id: str, case_number: str
) -> tuple[str, str]:
    """A finished ticket's case number, given afterwards by the staff member who
    finished it or a supervisor. Returns (ticket number, case number)."""
    number = normalise(case_number)
    async with pool.acquire() as conn, conn.transaction():
        t = await conn.fetchrow(TICKET, ticket_id, hall.id) if len(ticket_id) <= 64 else None
        if t is None:
            raise errors.not_found(messages.NO_TICKET)
        if not p.is_supervisor and t["staff_id"] != p.id:
            raise errors.forbidden(messages.CASE_NUMBER_NOT_YOURS)
        if t["status"] != TicketStatus.DONE:
            raise errors.conflict(messages.CASE_NUMBER_NOT_DONE)
        await attach(conn, hall.id, p.actor, t["id"], number)
    return t["number"], number
