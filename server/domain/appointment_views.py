"""What 预约 shows (CONTRACT §12): the services and days open for booking, a
service's slots with places left, one booking to its holder, and the day's
bookings slot by slot for supervisors.

Times go out as ISO 8601 on the hall's clock (with its offset), days as
hall-local dates. The holder sees the ID number and phone only masked; the
supervisors' summary holds counts and nothing of anyone.

Counting (`today`): `booked` is every booking not cancelled (so it includes
the arrivals and the no-shows), `arrived` the ones checked in at a kiosk,
`no_shows` the ones still booked after their check-in window closed (slot +
`checkin_late_minutes`), `cancelled` the cancelled ones, `capacity` the places
the slot was laid with.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from clearhall.server.domain import booking_texts, errors, hours, slots
from clearhall.server.domain.appointments import bookable_service
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.tickets import local_iso
from clearhall.server.store.db import Connection
from clearhall.server.store.hall_appointments import AppointmentRules, load_rules

BOOKABLE_SERVICES = """
SELECT id, code, name, slot_minutes, slot_capacity, materials, place
FROM services WHERE hall_id = $1 AND active AND appointments ORDER BY position, code
"""


def iso(moment: datetime, hall: Hall) -> str:
    return local_iso(moment, hall.timezone) or ""


def rules_json(rules: AppointmentRules) -> dict[str, int]:
    return {
        "cancel_before_minutes": rules.cancel_before_minutes,
        "checkin_early_minutes": rules.checkin_early_minutes,
        "checkin_late_minutes": rules.checkin_late_minutes, "days_ahead": rules.days_ahead,
    }  # fmt: skip


async def services(conn: Connection, hall: Hall) -> dict[str, Any]:
    """The services that take bookings, each with the days it can still be booked on
    (open days from today through `days_ahead` with a slot ahead) and the places left."""
    rules = await load_rules(conn, hall.id)
    moment = await hours.now(conn)
    days = slots.bookable_days(hall, moment, rules.days_ahead)
    out = []
    for svc in await conn.fetch(BOOKABLE_SERVICES, hall.id):
        laid = [
            s for d in days for s in slots.offered(hall, d, svc["slot_minutes"], moment, rules.days_ahead)
        ]
        offers = await slots.places(conn, hall, svc["id"], svc["slot_capacity"], laid)
        by_day: dict[date, list[slots.Offer]] = defaultdict(list)
        for offer in offers:
            by_day[slots.hall_today(hall, offer.slot.start)].append(offer)
        out.append({
            "code": svc["code"], "name": svc["name"], "slot_minutes": svc["slot_minutes"],
            "slot_capacity": svc["slot_capacity"], "materials": list(svc["materials"]), "where": svc["place"],
            "days": [
                {"day": d.isoformat(), "weekday": d.isoweekday(), "slots": len(by_day[d]),
                 "left": sum(o.left for o in by_day[d])}
                for d in days if by_day[d]
            ],
        })  # fmt: skip
    return {"services": out, "rules": rules_json(rules), "timezone": hall.timezone, "now": iso(moment, hall)}


async def slot_list(conn: Connection, hall: Hall, service: str, day: date | None) -> dict[str, Any]:
    """A service's slots on `day` (default today) that can be booked now, with places left;
    none on a closed day, a day past `days_ahead`, or a day gone by."""
    svc = await bookable_service(conn, hall, service)
    rules = await load_rules(conn, hall.id)
    moment = await hours.now(conn)
    day = day or slots.hall_today(hall, moment)
    laid = slots.offered(hall, day, svc["slot_minutes"], moment, rules.days_ahead)
    offers = await slots.places(conn, hall, svc["id"], svc["slot_capacity"], laid)
    return {
        "service": svc["code"], "day": day.isoformat(),
        "slots": [
            {"start": iso(o.slot.start, hall), "end": iso(o.slot.end, hall), "left": o.left} for o in offers
        ],
    }  # fmt: skip


def holder_view(hall: Hall, rules: AppointmentRules, row: asyncpg.Record, moment: datetime) -> dict[str, Any]:
    """One booking as its holder sees it: when, where, what to bring, when to check in,
    until when it may be cancelled; the person only masked."""
    slot: datetime = row["slot"]
    checkin_until = slot + timedelta(minutes=rules.checkin_late_minutes)
    cancel_until = slot - timedelta(minutes=rules.cancel_before_minutes)
    booked = row["status"] == "booked"
    return {
        "id": row["id"], "service": row["service"], "service_name": row["service_name"],
        "day": row["day"].isoformat(), "slot": iso(slot, hall), "slot_end": iso(row["slot_end"], hall),
        "status": row["status"], "missed": booked and moment > checkin_until,
        "checkin_from": iso(slot - timedelta(minutes=rules.checkin_early_minutes), hall),
        "checkin_until": iso(checkin_until, hall),
        "cancel_until": iso(cancel_until, hall), "cancellable": booked and moment <= cancel_until,
        "id_masked": row["id_masked"], "phone_masked": row["phone_masked"],
        "ticket": row["ticket_number"], "materials": list(row["materials"]), "where": row["place"],
        "created_at": iso(row["created_at"], hall),
    }  # fmt: skip


async def holder(conn: Connection, hall: Hall, row: asyncpg.Record) -> dict[str, Any]:
    return holder_view(hall, await load_rules(conn, hall.id), row, await hours.now(conn))


# -- the day's bookings counted per service and slot
COUNTS = """
SELECT service_id, slot, max(slot_end) AS slot_end,
       count(*) FILTER (WHERE status <> 'cancelled') AS booked,
       count(*) FILTER (WHERE status = 'checked_in') AS arrived,
       count(*) FILTER (WHERE status = 'booked' AND slot + make_interval(mins => $3) < now()) AS no_shows,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled
FROM appointments WHERE hall_id = $1 AND day = $2
GROUP BY service_id, slot
"""

# -- the services to show: those taking bookings, and any other with bookings that day
DAY_SERVICES = """
SELECT id, code, name, slot_minutes, slot_capacity FROM services s
WHERE hall_id = $1 AND ((active AND appointments)
      OR EXISTS (SELECT 1 FROM appointments a WHERE a.service_id = s.id AND a.day = $2))
ORDER BY position, code
"""

KEYS = ("booked", "arrived", "no_shows", "cancelled")


async def today(conn: Connection, hall: Hall, day: date | None) -> dict[str, Any]:
    """The day's (default today's) bookings for supervisors: every slot laid that day, and any
    slot with bookings that is no longer laid (the hours changed), with its counts."""
    rules = await load_rules(conn, hall.id)
    moment = await hours.now(conn)
    day = day or slots.hall_today(hall, moment)
    if not slots.near(hall, day, moment):
        raise errors.invalid(booking_texts.DAY_OUT_OF_RANGE(days=slots.FURTHEST_DAYS), "day")
    counts = {
        (r["service_id"], r["slot"]): r
        for r in await conn.fetch(COUNTS, hall.id, day, rules.checkin_late_minutes)
    }
    out = []
    for svc in await conn.fetch(DAY_SERVICES, hall.id, day):
        laid = {s.start: s.end for s in slots.lay(hall, day, svc["slot_minutes"])}
        for service_id, start in counts:
            if service_id == svc["id"] and start not in laid:
                laid[start] = counts[service_id, start]["slot_end"]
        lines = []
        for start in sorted(laid):
            row = counts.get((svc["id"], start))
            line: dict[str, Any] = {
                "start": iso(start, hall),
                "end": iso(laid[start], hall),
                "capacity": svc["slot_capacity"],
            }
            lines.append(line | {k: row[k] if row else 0 for k in KEYS})
        totals = {k: sum(line[k] for line in lines) for k in (*KEYS, "capacity")}
        out.append({"code": svc["code"], "name": svc["name"], "slots": lines, "totals": totals})
    grand = {k: sum(s["totals"][k] for s in out) for k in (*KEYS, "capacity")}
    return {"day": day.isoformat(), "services": out, "totals": grand}
