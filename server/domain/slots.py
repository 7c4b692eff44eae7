"""预约 slots (CONTRACT §12): which slots a service offers, and how many places each has left.

A service that takes bookings (`appointments = true` in the hall file) offers,
on each of the hall's open days, one slot every `slot_minutes` from `opens_at`
for as long as a whole slot fits before the end of `closes_at`'s minute
(`hours.day_hours`): open 08:30–17:30 with 30-minute slots, the last one is
17:00–17:30. Slots are laid in elapsed time, not by the clock face, so on the
day a time zone changes its clocks every slot is a real half hour (a spring-
forward day has one fewer hour of slots, a fall-back day one more). A slot
belongs to the hall-local day it starts on, which is the day it was laid for.

Only days from today (hall time) through `days_ahead` days later are offered,
and of them only the slots that start later than now. `lay` and `offered` are
pure (the moment is an argument), so midnight, time zones and clock changes are
tested without a clock; `places` reads how many places the slots hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from clearhall.server.domain import hours
from clearhall.server.domain.hall import Hall
from clearhall.server.store.db import Connection

# Days further than this from today are never laid: nobody books them, and a
# date near year 1 or 9999 has no instant to lay a slot at.
FURTHEST_DAYS = 400


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware, UTC
    end: datetime

    def local(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        return self.start.astimezone(zone), self.end.astimezone(zone)


@dataclass(frozen=True)
class Offer:
    """A slot as offered to a citizen: its places left (0 = full)."""

    slot: Slot
    capacity: int
    taken: int

    @property
    def left(self) -> int:
        return max(0, self.capacity - self.taken)


def hall_today(hall: Hall, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(hall.timezone)).date()


def lay(hall: Hall, day: date, minutes: int) -> list[Slot]:
    """Every slot of `minutes` on the hall-local `day`: none on a closed day."""
    if minutes <= 0 or not hours.is_open_day(hall, day):
        return []
    opens, closes = hours.day_hours(hall, day)
    start, end = opens.astimezone(UTC), closes.astimezone(UTC)  # elapsed time, not the clock face
    step = timedelta(minutes=minutes)
    out = []
    while start + step <= end:
        out.append(Slot(start, start + step))
        start += step
    return out


def bookable_days(hall: Hall, moment: datetime, days_ahead: int) -> list[date]:
    """The open days a booking may be for: today (hall time) through `days_ahead` days later."""
    today = hall_today(hall, moment)
    days = (today + timedelta(days=n) for n in range(min(days_ahead, FURTHEST_DAYS) + 1))
    return [d for d in days if hours.is_open_day(hall, d)]


def offered(hall: Hall, day: date, minutes: int, moment: datetime, days_ahead: int) -> list[Slot]:
    """The slots of `day` a citizen may book at `moment`: within the days offered, starting later than now."""
    today = hall_today(hall, moment)
    if not today <= day <= today + timedelta(days=min(days_ahead, FURTHEST_DAYS)):
        return []
    return [s for s in lay(hall, day, minutes) if s.start > moment]


def near(hall: Hall, day: date, moment: datetime) -> bool:
    """Whether `day` is close enough to today to lay (see FURTHEST_DAYS)."""
    return abs((day - hall_today(hall, moment)).days) <= FURTHEST_DAYS


def parse_start(hall: Hall, text: str) -> datetime | None:
    """A slot's start as a client sends it: ISO 8601, with its offset or else on the hall's clock."""
    zone = ZoneInfo(hall.timezone)
    try:
        at = datetime.fromisoformat(text)
        at = at if at.tzinfo else at.replace(tzinfo=zone)
        at.astimezone(zone)  # its hall-local day must exist too (not so near year 1 or 9999)
        return at.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


# -- the places taken in a service's slots that start within [from, to)
TAKEN = """
SELECT slot, taken FROM appointment_slots WHERE service_id = $1 AND slot >= $2 AND slot < $3
"""


async def places(
    conn: Connection, hall: Hall, service_id: int, capacity: int, slots: Sequence[Slot]
) -> list[Offer]:
    """The slots with their places taken (one query for them all)."""
    if not slots:
        return []
    rows = await conn.fetch(TAKEN, service_id, slots[0].start, slots[-1].end)
    taken = {r["slot"]: r["taken"] for r in rows}
    return [Offer(s, capacity, taken.get(s.start, 0)) for s in slots]
