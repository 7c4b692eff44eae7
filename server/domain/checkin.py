"""Checking a booking in at the kiosk (CONTRACT §12): which booking a ticket order
claims, and whether it is in its check-in window.

A kiosk order claims a booking by its code (the QR on the booking, scanned, or
typed: `by_code`) or by the ID number it was booked with (typed, or read from
the card: `by_id`, for a service that takes bookings: today's booking, or one
whose check-in window holds now, across midnight).
Check-in is open from `checkin_early_minutes` before the slot to
`checkin_late_minutes` after its start; outside it the order is refused with a
409 that says the window, so the kiosk can tell the citizen when to come, or
offer a walk-in number (`walk_in`: the order takes an ordinary ticket, and a
booking of that day counts as arrived, not as a no-show: `walked_in`). The
booking row is locked until the ticket's transaction ends, so one booking
becomes at most one ticket.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from clearhall.server.domain import errors
from clearhall.server.domain.booking_texts import (
    BOOKING_STATES,
    EARLY,
    LATE,
    NO_BOOKING,
    NOT_BOOKED,
    OTHER_SERVICE,
)
from clearhall.server.domain.hall import Hall
from clearhall.server.store.db import Connection
from clearhall.server.store.hall_appointments import AppointmentRules, load_rules

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed at a kiosk


@dataclass(frozen=True)
class Claimed:
    """The booking an order checks in: the ticket takes its person and service."""

    id: str
    service_code: str
    id_hash: bytes
    id_masked: str
    phone_hash: bytes | None
    phone_masked: str | None


def normalise_code(code: str) -> str:
    """A booking code as typed or scanned: case, spaces, dashes and the booking page's
    address around it do not matter (a scanner types the whole QR: …/b/ID?code=K7Q2M9XD)."""
    text = unicodedata.normalize("NFKC", code).strip()  # a full-width Ｋ is a K
    if "code=" in text:
        text = text.rsplit("code=", 1)[1].split("&", 1)[0]
    return "".join(c for c in text.upper() if c.isascii() and c.isalnum())


def code_hash(code: str) -> bytes:
    return hashlib.sha256(normalise_code(code).encode()).digest()


BY_CODE = """
SELECT a.id, a.status, a.slot, a.id_hash, a.id_masked, a.phone_hash, a.phone_masked,
       s.code AS service_code, s.name AS service_name
FROM appointments a JOIN services s ON s.id = a.service_id
WHERE a.hall_id = $1 AND a.code_hash = $2
FOR UPDATE OF a
"""

# -- the booking of this ID number for this service that an arrival now is for:
# -- today's (hall time), or one whose check-in window holds now (a window may
# -- cross midnight); the nearest to now first. $5, $6: the window's minutes.
BY_ID = """
SELECT a.id, a.status, a.slot, a.id_hash, a.id_masked, a.phone_hash, a.phone_masked,
       s.code AS service_code, s.name AS service_name
FROM appointments a JOIN services s ON s.id = a.service_id
WHERE a.hall_id = $1 AND a.service_id = $2 AND a.id_hash = $3 AND a.status = 'booked'
  AND (a.day = (now() AT TIME ZONE $4)::date
       OR a.slot BETWEEN now() - $5 * interval '1 minute' AND now() + $6 * interval '1 minute')
ORDER BY abs(extract(epoch FROM a.slot - now())), a.slot LIMIT 1
FOR UPDATE OF a
"""


async def by_code(
    conn: Connection, hall: Hall, code: str, service: str | None, *, walk_in: bool = False
) -> Claimed:
    """The booking with this code, checked in now (inside the ticket's transaction).
    `walk_in`: its holder takes an ordinary ticket instead, at any time of the day."""
    row = await conn.fetchrow(BY_CODE, hall.id, code_hash(code))
    if row is None:
        raise errors.not_found(NO_BOOKING)
    if row["status"] != "booked":
        raise errors.conflict(NOT_BOOKED(state=BOOKING_STATES[row["status"]]))
    if service is not None and service != row["service_code"]:
        raise errors.conflict(OTHER_SERVICE(name=row["service_name"]))
    return await arriving(conn, hall, row, check_window=not walk_in)


async def by_id(conn: Connection, hall: Hall, service_id: int, id_hash: bytes) -> Claimed | None:
    """The booking of this service this ID number arrives for now, if it has one."""
    rules = await load_rules(conn, hall.id)
    row = await conn.fetchrow(
        BY_ID, hall.id, service_id, id_hash, hall.timezone,
        rules.checkin_late_minutes, rules.checkin_early_minutes,
    )  # fmt: skip
    return await arriving(conn, hall, row, rules) if row is not None else None


async def arriving(
    conn: Connection,
    hall: Hall,
    row: Any,
    rules: AppointmentRules | None = None,
    *,
    check_window: bool = True,
) -> Claimed:
    """The booking's person for the ticket; a check-in (not a walk-in) must be in its window."""
    if check_window:
        rules = rules or await load_rules(conn, hall.id)
        moment: datetime = await conn.fetchval("SELECT now()")
        in_window(hall, rules, row["slot"], moment, row["service_code"])
    person = (row["id_hash"], row["id_masked"], row["phone_hash"], row["phone_masked"])
    return Claimed(row["id"], row["service_code"], *person)


def in_window(hall: Hall, rules: AppointmentRules, slot: datetime, moment: datetime, service: str) -> None:
    """Refuse (409) a check-in before or after the slot's window, saying the window (and the
    booking's service, so the kiosk may offer an ordinary ticket of it: `walk_in`)."""
    opens = slot - timedelta(minutes=rules.checkin_early_minutes)
    closes = slot + timedelta(minutes=rules.checkin_late_minutes)
    if opens <= moment <= closes:
        return
    zone = ZoneInfo(hall.timezone)
    other_day = slot.astimezone(zone).date() != moment.astimezone(zone).date()
    slot_shown = f"{slot.astimezone(zone):%Y-%m-%d %H:%M}" if other_day else hhmm(slot, zone)
    shown = {"slot": slot_shown, "opens": hhmm(opens, zone), "closes": hhmm(closes, zone)}
    window: dict[str, Any] = {
        "service": service, "slot": slot.astimezone(zone).isoformat(),
        "checkin_from": opens.astimezone(zone).isoformat(),
        "checkin_until": closes.astimezone(zone).isoformat(),
    }  # fmt: skip
    early = moment < opens
    raise errors.DomainError(
        errors.CONFLICT, (EARLY if early else LATE)(**shown),
        appointment=window | {"arrival": "early" if early else "late"},
    )  # fmt: skip


def hhmm(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%H:%M}"


CHECKED_IN = "UPDATE appointments SET status = 'checked_in', ticket_id = $2, changed_at = now() WHERE id = $1"


async def checked_in(conn: Connection, appointment_id: str, ticket_id: str) -> None:
    await conn.execute(CHECKED_IN, appointment_id, ticket_id)


# -- a booking of today whose holder came and took an ordinary ticket (walk_in)
WALKED_IN = """
UPDATE appointments SET status = 'checked_in', ticket_id = $4, changed_at = now()
WHERE hall_id = $1 AND service_id = $2 AND id_hash = $3 AND status = 'booked'
  AND day = (now() AT TIME ZONE $5)::date
"""


async def walked_in(conn: Connection, hall: Hall, service_id: int, id_hash: bytes, ticket_id: str) -> None:
    """The holder of today's booking of the service came and chose an ordinary ticket:
    they arrived, so the booking is not a no-show (it keeps the ticket they took)."""
    await conn.execute(WALKED_IN, hall.id, service_id, id_hash, ticket_id, hall.timezone)
