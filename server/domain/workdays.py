"""The hall's calendar and deadlines counted in working days (CONTRACT §10).

A day is a working day when it is listed in the hall file's `[calendar]
workdays` (a weekend day worked because of a holiday shift, 调休), or when it
is Monday to Friday and not listed in `holidays` (closed days). A workday
listed in both is refused when the hall file is read, so the order of the two
checks below never decides anything.

`add_working_days(start, n, …)` is the deadline of something opened at
`start`: the day it is opened does not count (whatever its hour, and whether
or not it is a working day), the next working day is day 1, and the deadline
is the **end** of the n-th working day in the hall's time zone — 23:59:59 on
that day, hall time. So a case opened on a Friday afternoon (or on a Saturday,
or on the first day of a holiday) with 5 working days is due at the end of
the fifth working day after it. Pure: no clock, no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

END_OF_DAY: Final = time(23, 59, 59)
MOST_DAYS: Final = 366  # no deadline counts more working days than a year has


@dataclass(frozen=True)
class Calendar:
    holidays: frozenset[date] = field(default_factory=frozenset)  # closed days
    workdays: frozenset[date] = field(default_factory=frozenset)  # weekend days worked (调休)

    @classmethod
    def of(cls, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> Calendar:
        return cls(frozenset(holidays), frozenset(workdays))

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5  # Monday 0 … Friday 4

    def working_day_after(self, day: date, n: int) -> date:
        """The n-th working day after `day` (n ≥ 1; `day` itself never counts)."""
        if not 1 <= n <= MOST_DAYS:
            raise ValueError(f"n must be 1–{MOST_DAYS}, not {n}")
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day


def add_working_days(start: datetime, n: int, calendar: Calendar, timezone: str) -> datetime:
    """The deadline of something opened at `start` (an aware moment): the end
    (23:59:59, hall time) of the n-th working day after the hall-local day of `start`."""
    if start.tzinfo is None:
        raise ValueError("start must carry its time zone")
    zone = ZoneInfo(timezone)
    opened_on = start.astimezone(zone).date()
    due_on = calendar.working_day_after(opened_on, n)
    return datetime.combine(due_on, END_OF_DAY, tzinfo=zone)
