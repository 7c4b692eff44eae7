"""The hall file's `[appointments]` (预约, CONTRACT §12) and `[[proxies]]` (帮代办).

`[appointments]` holds the hall-wide booking rules: read (called from
`hallfile.parse`), stored on the hall's row of `appointment_rules` (called from
`hall_apply.apply`) and read back by the booking code (`load_rules`). Which
services take bookings, and their slots, are keys of each `[[services]]`
(`appointments`, `slot_minutes`, `slot_capacity`), read here too.

`[[proxies]]` lists registered proxies (帮代办人员) by name and ID number. The
file is read here; the numbers are checked and hashed with the installation's
secret at start (`domain/proxies.apply_file`), since only the domain knows
ID numbers and the secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from clearhall.server.store.db import Connection
from clearhall.server.store.hall_reader import Reader, array, table

MOST_MINUTES = 24 * 60
MOST_CAPACITY = 1_000  # places in one slot: more is a typo, or not an appointment
MOST_NO_SHOWS = 100
MOST_DAYS = 366
MOST_PROXIES = 1_000
MOST_NOTE_CHARS = 80


@dataclass(frozen=True)
class AppointmentRules:
    cancel_before_minutes: int = 60  # a booking may be cancelled until this long before its slot
    checkin_early_minutes: int = 30  # check-in opens this long before the slot …
    checkin_late_minutes: int = 15  # … and closes this long after its start
    no_show_limit: int = 3  # this many no-shows within no_show_days suspend booking; 0 = never
    no_show_days: int = 30
    days_ahead: int = 7  # slots are offered from today through this many days ahead


@dataclass(frozen=True)
class ServiceSlots:
    """A service's booking keys in `[[services]]`."""

    appointments: bool = False
    slot_minutes: int = 30
    slot_capacity: int = 2


@dataclass(frozen=True)
class ProxyConf:
    name: str
    id_number: str  # as written in the file: checked and hashed at start
    note: str | None = None


def read_rules(top: Reader, data: dict[str, Any]) -> AppointmentRules:
    reader = Reader(top.source, top.text, table(top, data, "appointments"), "appointments", "appointments")
    d = AppointmentRules()
    rules = AppointmentRules(
        cancel_before_minutes=reader.number(
            "cancel_before_minutes", d.cancel_before_minutes, least=0, most=MOST_MINUTES
        ),
        checkin_early_minutes=reader.number(
            "checkin_early_minutes", d.checkin_early_minutes, least=0, most=MOST_MINUTES
        ),
        checkin_late_minutes=reader.number(
            "checkin_late_minutes", d.checkin_late_minutes, least=0, most=MOST_MINUTES
        ),
        no_show_limit=reader.number("no_show_limit", d.no_show_limit, least=0, most=MOST_NO_SHOWS),
        no_show_days=reader.positive("no_show_days", d.no_show_days, most=MOST_DAYS),
        days_ahead=reader.positive("days_ahead", d.days_ahead, most=MOST_DAYS),
    )
    reader.finish()
    return rules


def read_service_slots(reader: Reader) -> ServiceSlots:
    """The booking keys of one `[[services]]` table (the caller finishes the reader)."""
    d = ServiceSlots()
    slots = ServiceSlots(
        appointments=reader.get("appointments", bool, d.appointments),
        slot_minutes=reader.positive("slot_minutes", d.slot_minutes, most=MOST_MINUTES),
        slot_capacity=reader.positive("slot_capacity", d.slot_capacity, most=MOST_CAPACITY),
    )
    return slots


def read_proxies(top: Reader, data: dict[str, Any]) -> tuple[ProxyConf, ...]:
    proxies: list[ProxyConf] = []
    for i, reader in array(top, top.source, top.text, data, "proxies"):
        if i >= MOST_PROXIES:
            raise reader.fail(None, f"at most {MOST_PROXIES} proxies in the file")
        id_number = reader.text_value("id_number")
        # The checksum is checked at start (domain/proxies.py); here only its shape,
        # so a typo is named with its line. Full-width digits are read as digits.
        if not re.fullmatch(r"\s*[0-9０-９]{17}[0-9０-９XxＸｘ]\s*", id_number):
            raise reader.fail("id_number", "must be an 18-character ID number (17 digits, then a digit or X)")
        if any(p.id_number == id_number for p in proxies):  # the number itself is not repeated
            raise reader.fail("id_number", "the same ID number is listed twice")
        note = reader.text_value("note", None)
        if note is not None and len(note) > MOST_NOTE_CHARS:
            raise reader.fail("note", f"at most {MOST_NOTE_CHARS} characters")
        proxies.append(ProxyConf(reader.text_value("name"), id_number, note))
        reader.finish()
    return tuple(proxies)


COLUMNS = tuple(f.name for f in fields(AppointmentRules))

APPLY_RULES = f"""
INSERT INTO appointment_rules (hall_id, {", ".join(COLUMNS)})
VALUES ($1, {", ".join(f"${i + 2}" for i in range(len(COLUMNS)))})
ON CONFLICT (hall_id) DO UPDATE SET {", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS)}
"""

SELECT_RULES = f"SELECT {', '.join(COLUMNS)} FROM appointment_rules WHERE hall_id = $1"


async def apply_rules(conn: Connection, hall_id: int, rules: AppointmentRules) -> None:
    """Store the rules on the hall's row (inside the caller's transaction)."""
    await conn.execute(APPLY_RULES, hall_id, *(getattr(rules, c) for c in COLUMNS))


async def load_rules(conn: Connection, hall_id: int) -> AppointmentRules:
    row = await conn.fetchrow(SELECT_RULES, hall_id)
    return AppointmentRules(**dict(row)) if row else AppointmentRules()
