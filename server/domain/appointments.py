"""预约 (CONTRACT §12): booking a slot, proving a booking by its code, cancelling it.

- A booking names a service that takes bookings, one of the slots it offers
  now (`slots.offered`), an ID number (checked and normalised as at the kiosk:
  full-width digits are the same number) and a mobile number, which is how the
  hall reaches the citizen. Both are kept only as keyed hashes and masked forms.
- Every attempt is counted per client address and per ID number (`throttle`,
  in the database) before anything is looked up, and stays counted when the
  booking is refused.
- No-shows: bookings of this ID number still `booked` after their check-in
  window closed (slot + `checkin_late_minutes`), with slots within the last
  `no_show_days`. At `no_show_limit` of them booking is refused (409) until
  enough have left that window; the answer says until when.
- One booking per ID number per service per hall-local day: the ID's
  bookings are serialised by a transaction lock, then checked (409 with the
  booking it has); the unique index stays the last word.
- The place is taken in one statement that adds one only while the slot has
  room (`TAKE`), so the last place goes to exactly one of any number of
  simultaneous bookers; the others get 409. A cancellation gives it back in
  the same transaction.
- The booking's code (8 characters of `checkin.CODE_ALPHABET`) is given once, in
  the 201 and its URL, and stored as its SHA-256 (`checkin.code_hash`), which
  the kiosk's check-in looks up. Proving a booking compares that hash in
  constant time; wrong ids and codes are counted per address, and past the
  limit every answer is 429, right or wrong.
- Booking and cancelling go in the action log, with the ID number masked and
  no phone number.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import asyncpg

from clearhall.server.domain import (
    action_log,
    booking_texts,
    checkin,
    errors,
    hours,
    messages,
    slots,
    throttle,
)
from clearhall.server.domain.checkin import CODE_ALPHABET
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.idcard import keyed_hash, mask_phone, normalise_phone, phone_problem
from clearhall.server.domain.issuing import proven_id
from clearhall.server.domain.text import Text
from clearhall.server.domain.tickets import local_iso, lock_key
from clearhall.server.store.db import Connection
from clearhall.server.store.hall_appointments import AppointmentRules, load_rules

CITIZEN: Final = action_log.Actor("citizen", None, "群众")
# A family books a few at once from one phone, and a mobile network puts many
# phones behind one address: twenty at once, then two a minute.
BOOKINGS_BY_ADDRESS: Final = throttle.Rule("appointments_address", 20, timedelta(seconds=30))
# One person books a few services over the week, and tries again when a slot fills up.
BOOKINGS_BY_ID: Final = throttle.Rule("appointments_id", 8, timedelta(minutes=2))
# Wrong ids or codes from one address (a person mistypes; guessing a code does not pay).
CODE_GUESSES_BY_ADDRESS: Final = throttle.Rule("appointment_codes_address", 10, timedelta(seconds=30))
CODE_LENGTH: Final = 8
APPOINTMENT_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
MOST_CODE_CHARS: Final = 300  # the QR's whole URL, as a scanner types it


@dataclass(frozen=True)
class Booking:
    """What a citizen asked for (the body of POST /api/appointments)."""

    service: str
    slot: str
    id_number: str
    phone: str


@dataclass(frozen=True)
class Booked:
    id: str
    code: str  # given once: stored only as its hash
    service: str
    slot: datetime
    slot_end: datetime
    url: str  # the booking page, with the code: the booking's QR


def booking_url(base_url: str, appointment_id: str, code: str) -> str:
    return f"{base_url}/b/{appointment_id}?code={code}"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


BOOKABLE = """
SELECT id, code, name, appointments, slot_minutes, slot_capacity, materials, place
FROM services WHERE hall_id = $1 AND code = $2 AND active
"""


async def bookable_service(conn: Connection, hall: Hall, code: str) -> asyncpg.Record:
    """The service `code`, if it takes bookings; else 400 naming `service`."""
    svc = await conn.fetchrow(BOOKABLE, hall.id, code)
    if svc is None:
        raise errors.invalid(messages.UNKNOWN_SERVICE(service=code[:8]), "service")
    if not svc["appointments"]:
        raise errors.invalid(booking_texts.NOT_BOOKABLE(name=svc["name"]), "service")
    return svc


# -- this ID number's no-shows: still booked after the check-in window of a slot
# -- within the last no_show_days days, oldest first
NO_SHOWS = """
SELECT slot FROM appointments
WHERE hall_id = $1 AND id_hash = $2 AND status = 'booked'
  AND slot + make_interval(mins => $3) < now() AND slot > now() - make_interval(days => $4)
ORDER BY slot
"""

HELD = """
SELECT slot FROM appointments
WHERE service_id = $1 AND day = $2 AND id_hash = $3 AND status <> 'cancelled'
LIMIT 1
"""

# -- take one place in the slot while it has room; the slot's first booking
# -- makes its row (a capacity is at least 1). No row back: the slot is full.
TAKE = """
INSERT INTO appointment_slots AS s (service_id, slot, taken) VALUES ($1, $2, 1)
ON CONFLICT (service_id, slot) DO UPDATE SET taken = s.taken + 1 WHERE s.taken < $3
RETURNING taken
"""

GIVE_BACK = """
UPDATE appointment_slots SET taken = taken - 1 WHERE service_id = $1 AND slot = $2 AND taken > 0
"""

INSERT = """
INSERT INTO appointments (id, hall_id, service_id, day, slot, slot_end, code_hash,
                          id_hash, id_masked, phone_hash, phone_masked)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
"""


def shown(moment: datetime, hall: Hall) -> str:
    """A moment as a citizen reads it: "2026-12-01 09:30" (hall time)."""
    return f"{moment.astimezone(ZoneInfo(hall.timezone)):%Y-%m-%d %H:%M}"


async def book(
    conn: Connection, hall: Hall, secret: bytes, address: str | None, b: Booking, base_url: str
) -> Booked:
    """Book one place (one transaction once the attempt is counted), or refuse saying why."""
    id_hash, id_masked = proven_id(secret, b.id_number, "id_number")
    problem = phone_problem(b.phone)
    if problem:
        raise errors.invalid(problem, "phone")
    phone = normalise_phone(b.phone)
    start = slots.parse_start(hall, b.slot)
    if start is None:
        raise errors.invalid(booking_texts.BAD_SLOT, "slot")
    # Counted before anything is looked up, outside the booking's transaction: a refused
    # booking still counts.
    for rule, subject in (
        (BOOKINGS_BY_ADDRESS, throttle.address_key(address)),
        (BOOKINGS_BY_ID, id_hash.hex()),
    ):
        wait = await throttle.hit(conn, hall.id, rule, subject)
        if wait is not None:
            raise throttle.refused(booking_texts.BOOKINGS_TOO_FAST, wait)
    svc = await bookable_service(conn, hall, b.service)
    rules = await load_rules(conn, hall.id)
    async with conn.transaction():
        moment = await hours.now(conn)
        day = slots.hall_today(hall, start)
        slot = next(
            (
                s
                for s in slots.offered(hall, day, svc["slot_minutes"], moment, rules.days_ahead)
                if s.start == start
            ),
            None,
        )
        if slot is None:
            raise errors.invalid(booking_texts.NO_SUCH_SLOT, "slot")
        # One person's bookings one at a time: the checks below then see each other's.
        await conn.execute(
            "SELECT pg_advisory_xact_lock($1)", lock_key(hashlib.sha256(b"book:" + id_hash).digest())
        )
        await not_suspended(conn, hall, rules, id_hash)
        held = await conn.fetchval(HELD, svc["id"], day, id_hash)
        if held is not None:
            text = already(hall, svc["name"], held)
            raise errors.DomainError(errors.CONFLICT, text, reason="already_booked")
        if await conn.fetchval(TAKE, svc["id"], slot.start, svc["slot_capacity"]) is None:
            raise errors.DomainError(errors.CONFLICT, booking_texts.SLOT_FULL, reason="slot_full")
        person = (id_hash, id_masked, keyed_hash(secret, "phone", phone), mask_phone(phone))
        made = await insert(conn, hall, svc["id"], day, slot, person)
        if made is None:  # raced past the lock after all: the unique index says one a day
            text = already(hall, svc["name"], await conn.fetchval(HELD, svc["id"], day, id_hash))
            raise errors.DomainError(errors.CONFLICT, text, reason="already_booked")
        appointment_id, code = made
        await action_log.record(
            conn, hall.id, CITIZEN, "appointment_book",
            details={"appointment": appointment_id, "service": svc["code"],
                     "slot": local_iso(slot.start, hall.timezone), "id_masked": id_masked},
        )  # fmt: skip
    url = booking_url(base_url, appointment_id, code)
    return Booked(appointment_id, code, svc["code"], slot.start, slot.end, url)


def already(hall: Hall, name: str, slot: datetime) -> Text:
    day, time = shown(slot, hall).split(" ")
    return booking_texts.BOOKED_ALREADY(day=day, time=time, name=name)


async def insert(
    conn: Connection, hall: Hall, service_id: int, day: date, slot: slots.Slot,
    person: tuple[bytes, str, bytes, str],
) -> tuple[str, str] | None:  # fmt: skip
    """Insert the booking with a fresh code (a code already in use is drawn again);
    None when this ID number already has a booking that day."""
    for _ in range(5):
        appointment_id, code = secrets.token_urlsafe(16), new_code()
        try:
            async with conn.transaction():  # a savepoint: a clash undoes only this insert
                await conn.execute(
                    INSERT, appointment_id, hall.id, service_id, day, slot.start, slot.end,
                    checkin.code_hash(code), *person,
                )  # fmt: skip
            return appointment_id, code
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name == "appointments_one_per_day":
                return None
            if exc.constraint_name != "appointments_code_hash_key":
                raise
    raise RuntimeError("no free booking code in five draws")  # 2^40 codes: never


async def not_suspended(conn: Connection, hall: Hall, rules: AppointmentRules, id_hash: bytes) -> None:
    """409 while this ID number has `no_show_limit` no-shows within `no_show_days`, saying until when."""
    if rules.no_show_limit <= 0:
        return
    missed = [
        r["slot"]
        for r in await conn.fetch(NO_SHOWS, hall.id, id_hash, rules.checkin_late_minutes, rules.no_show_days)
    ]
    if len(missed) < rules.no_show_limit:
        return
    # booking is back once fewer than the limit remain: when this one leaves the window
    until = missed[len(missed) - rules.no_show_limit] + timedelta(days=rules.no_show_days)
    raise errors.DomainError(
        errors.CONFLICT,
        booking_texts.SUSPENDED(days=rules.no_show_days, count=len(missed), until=shown(until, hall)),
        reason="suspended",
        suspended_until=until.astimezone(ZoneInfo(hall.timezone)).isoformat(),
    )


# -- one booking with what its holder is shown
HOLDER = """
SELECT a.id, a.status, a.day, a.slot, a.slot_end, a.code_hash, a.id_masked, a.phone_masked,
       a.created_at, a.changed_at, a.service_id, s.code AS service, s.name AS service_name,
       s.materials, s.place, t.number AS ticket_number
FROM appointments a JOIN services s ON s.id = a.service_id LEFT JOIN tickets t ON t.id = a.ticket_id
WHERE a.id = $1 AND a.hall_id = $2
"""


async def proven(
    conn: Connection, hall: Hall, address: str | None, appointment_id: str, code: str | None
) -> asyncpg.Record:
    """The booking `appointment_id`, if `code` is its code; else 404 (counted per address, 429 past it)."""
    subject = throttle.address_key(address)
    wait = await throttle.waiting(conn, hall.id, CODE_GUESSES_BY_ADDRESS, subject)
    if wait is not None:
        raise throttle.refused(booking_texts.CODE_GUESSES, wait)
    row = None
    if APPOINTMENT_ID.fullmatch(appointment_id):
        row = await conn.fetchrow(HOLDER, appointment_id, hall.id)
    given = checkin.code_hash(code) if code and len(code) <= MOST_CODE_CHARS else b""
    # an old booking's code is erased ([retention]): nothing proves it any more
    if row is None or row["code_hash"] is None or not hmac.compare_digest(row["code_hash"], given):
        wait = await throttle.hit(conn, hall.id, CODE_GUESSES_BY_ADDRESS, subject)
        if wait is not None:
            raise throttle.refused(booking_texts.CODE_GUESSES, wait)
        raise errors.not_found(booking_texts.NO_BOOKING)
    return row


LOCK = "SELECT status, slot, service_id FROM appointments WHERE id = $1 FOR UPDATE"
CANCEL = "UPDATE appointments SET status = 'cancelled', changed_at = now() WHERE id = $1"


async def cancel(
    conn: Connection, hall: Hall, address: str | None, appointment_id: str, code: str | None
) -> asyncpg.Record:
    """Cancel a booking until `cancel_before_minutes` before its slot, giving its place back;
    409 after that, or when it is no longer booked. Returns the booking as it now is."""
    found = await proven(conn, hall, address, appointment_id, code)
    rules = await load_rules(conn, hall.id)
    async with conn.transaction():
        row = await conn.fetchrow(LOCK, found["id"])
        assert row is not None  # bookings are never deleted
        if row["status"] != "booked":
            raise errors.conflict(booking_texts.NOT_BOOKED(state=booking_texts.BOOKING_STATES[row["status"]]))
        until = row["slot"] - timedelta(minutes=rules.cancel_before_minutes)
        if await hours.now(conn) > until:
            raise errors.conflict(
                booking_texts.TOO_LATE_TO_CANCEL(
                    minutes=rules.cancel_before_minutes, until=shown(until, hall)
                )
            )
        await conn.execute(CANCEL, found["id"])
        await conn.execute(GIVE_BACK, row["service_id"], row["slot"])
        await action_log.record(
            conn, hall.id, CITIZEN, "appointment_cancel",
            details={"appointment": found["id"], "service": found["service"],
                     "slot": local_iso(row["slot"], hall.timezone), "id_masked": found["id_masked"]},
        )  # fmt: skip
    again = await conn.fetchrow(HOLDER, found["id"], hall.id)
    assert again is not None
    return again
