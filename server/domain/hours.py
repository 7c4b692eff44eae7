"""Opening hours, checked by the server (CONTRACT §12), and 延时服务.

The hall is open on its open days (`[hall] open_days`: the `[calendar]`'s
working days, or every day) from the first minute of `opens_at` through the
last minute of `closes_at`, in the hall's time zone. Outside them a kiosk's
ticket is refused (`409 closed`, with the hours and the next opening) unless
its service is under an extended-hours session (延时服务) that staff or a
supervisor opened; staff at the counter still issue. Booked appointments are
checked in by their own window (`appointments`), not by the hours.

`is_open` and `next_opening` are pure (the moment is an argument; the hall
carries its calendar, loaded at start), so the edges — midnight, time zones,
the last minute, holidays — are tested without a clock. A session lasts
until its `until` (at most `MOST_HOURS` ahead) or until someone ends it;
opening and ending are in the action log and pushed to every screen
(`hours.changed`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from clearhall.server.domain import action_log, booking_texts, errors, events
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.store.db import Connection

MOST_HOURS = 12  # an extended session longer than this is a second shift, not 延时服务
MOST_DAYS_TO_NEXT = 400  # a hall with no open day within a year and a month has no next opening


def is_open_day(hall: Hall, day: date) -> bool:
    return hall.open_days == "all" or hall.calendar.is_working_day(day)


def day_hours(hall: Hall, day: date) -> tuple[datetime, datetime]:
    """The hall's hours on `day` (its local day): from opens_at to the end of closes_at's minute."""
    zone = ZoneInfo(hall.timezone)
    opens = datetime.combine(day, hall.opens_at, tzinfo=zone)
    closes = datetime.combine(day, hall.closes_at, tzinfo=zone) + timedelta(minutes=1)
    return opens, closes


def is_open(hall: Hall, moment: datetime) -> bool:
    local = moment.astimezone(ZoneInfo(hall.timezone))
    if not is_open_day(hall, local.date()):
        return False
    opens, closes = day_hours(hall, local.date())
    return opens <= local < closes


def next_opening(hall: Hall, moment: datetime) -> datetime | None:
    """When the hall next opens after `moment` (None when it is open, or never opens)."""
    if is_open(hall, moment):
        return None
    day = moment.astimezone(ZoneInfo(hall.timezone)).date()
    for _ in range(MOST_DAYS_TO_NEXT):
        opens, _closes = day_hours(hall, day)
        if opens > moment and is_open_day(hall, day):
            return opens
        day += timedelta(days=1)
    return None


async def now(conn: Connection) -> datetime:
    """The database's clock: every process of the hall reads the same one."""
    moment: datetime = await conn.fetchval("SELECT now()")
    return moment


# -- the extended-hours sessions in force, each with its services' codes
ACTIVE = """
SELECT e.id, e.until, e.opened_at, st.name AS opened_by,
       array(SELECT s.code FROM services s WHERE s.id = ANY(e.service_ids) ORDER BY s.position, s.code)
           AS services
FROM extended_hours e JOIN staff st ON st.id = e.opened_by
WHERE e.hall_id = $1 AND e.ended_at IS NULL AND e.until > now()
ORDER BY e.until, e.id
"""

# -- whether 延时服务 extends service {service} of hall {hall} now
EXTENDED = """EXISTS (
    SELECT 1 FROM extended_hours
    WHERE hall_id = {hall} AND ended_at IS NULL AND until > now() AND {service} = ANY(service_ids))"""


async def sessions(conn: Connection, hall: Hall) -> list[dict[str, Any]]:
    return [session_json(r) for r in await conn.fetch(ACTIVE, hall.id)]


def session_json(r: Any) -> dict[str, Any]:
    return {
        "id": r["id"], "services": list(r["services"]), "until": r["until"].isoformat(),
        "opened_by": r["opened_by"], "opened_at": r["opened_at"].isoformat(),
    }  # fmt: skip


def refused(hall: Hall, moment: datetime) -> errors.DomainError:
    """The 409 of a kiosk's ticket outside the hall's hours (and not extended, which
    issuing.ISSUE asks of `EXTENDED`): the hours, and when the hall next opens."""
    reopens = next_opening(hall, moment)
    hours = f"{hall.opens_at:%H:%M}–{hall.closes_at:%H:%M}"
    return errors.DomainError(
        errors.CLOSED, booking_texts.CLOSED(hours=hours), hours=hours,
        opens=reopens.isoformat() if reopens else None,
    )  # fmt: skip


SERVICES_BY_CODE = "SELECT id, code FROM services WHERE hall_id = $1 AND active AND code = ANY($2::text[])"

# -- the services a staff member may extend: those of the windows they work at
STAFF_SERVICES = """
SELECT DISTINCT ws.service_id FROM staff_windows sw JOIN window_services ws ON ws.window_id = sw.window_id
WHERE sw.staff_id = $1
"""

OPEN = """
INSERT INTO extended_hours (hall_id, service_ids, until, opened_by) VALUES ($1, $2, $3, $4) RETURNING id
"""


def until_of(hall: Hall, value: str, moment: datetime) -> datetime:
    """`until` as sent: "HH:MM" (today, hall time) or an ISO moment; later than now, within MOST_HOURS."""
    zone = ZoneInfo(hall.timezone)
    try:
        if len(value) == 5 and value[2] == ":":
            clock = time.fromisoformat(value)
            at = datetime.combine(moment.astimezone(zone).date(), clock, tzinfo=zone)
        else:
            at = datetime.fromisoformat(value)
            at = at if at.tzinfo else at.replace(tzinfo=zone)
    except ValueError:
        raise errors.invalid(booking_texts.BAD_UNTIL, "until") from None
    if not moment < at <= moment + timedelta(hours=MOST_HOURS):
        raise errors.invalid(booking_texts.UNTIL_RANGE(most=MOST_HOURS), "until")
    return at


async def extend(conn: Connection, hall: Hall, p: Principal, codes: list[str], until: str) -> dict[str, Any]:
    """Open an extended-hours session for `codes` until `until`; staff only for their windows' services."""
    moment = await now(conn)
    at = until_of(hall, until, moment)
    rows = await conn.fetch(SERVICES_BY_CODE, hall.id, codes)
    unknown = sorted(set(codes) - {r["code"] for r in rows})
    if unknown or not codes:
        raise errors.invalid(booking_texts.UNKNOWN_SERVICES(codes=", ".join(unknown) or "—"), "services")
    ids = [r["id"] for r in rows]
    if not p.is_supervisor:
        mine = {r["service_id"] for r in await conn.fetch(STAFF_SERVICES, p.id)}
        if not set(ids) <= mine:
            raise errors.forbidden(booking_texts.NOT_YOUR_SERVICES)
    async with conn.transaction():
        session_id = await conn.fetchval(OPEN, hall.id, ids, at, p.id)
        await action_log.record(
            conn, hall.id, p.actor, "extend_hours",
            details={"session": session_id, "services": sorted(codes), "until": at.isoformat()},
        )  # fmt: skip
        await publish(conn, hall)
    return next(s for s in await sessions(conn, hall) if s["id"] == session_id)


END = """
UPDATE extended_hours SET ended_at = now(), ended_by = $3
WHERE id = $1 AND hall_id = $2 AND ended_at IS NULL AND until > now()
RETURNING service_ids
"""


async def end(conn: Connection, hall: Hall, p: Principal, session_id: int) -> None:
    """End a session before its `until` (whoever may open one for its services may end it)."""
    async with conn.transaction():
        ids = await conn.fetchval(END, session_id, hall.id, p.id)
        if ids is None:
            raise errors.not_found(booking_texts.NO_SESSION)
        if not p.is_supervisor:
            mine = {r["service_id"] for r in await conn.fetch(STAFF_SERVICES, p.id)}
            if not set(ids) <= mine:
                raise errors.forbidden(booking_texts.NOT_YOUR_SERVICES)
        await action_log.record(conn, hall.id, p.actor, "end_extended_hours", details={"session": session_id})
        await publish(conn, hall)


async def publish(conn: Connection, hall: Hall) -> None:
    await events.publish(conn, hall.id, events.HOURS_CHANGED, extended=await sessions(conn, hall))
