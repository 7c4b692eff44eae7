"""Working days on the hall's calendar (CONTRACT §10): weekends, holidays, 调休
workdays, the new year, and cases opened on a day off. The opening day never
counts; the deadline is the end (23:59:59, hall time) of the n-th working day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from clearhall.server.domain.workdays import Calendar, add_working_days

TZ = "Asia/Shanghai"


def days(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# China's 2026 calendar, as the demo hall has it (国庆 10-01…10-07, worked 09-20 and 10-10;
# 春节 02-15…02-23, worked 02-14 and 02-28; 元旦 01-01…01-03, worked 01-04).
CHINA_2026 = Calendar.of(
    holidays=[*days("2026-01-01", "2026-01-03"), *days("2026-02-15", "2026-02-23"),
              *days("2026-10-01", "2026-10-07"), date(2027, 1, 1)],
    workdays=[date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20), date(2026, 10, 10)],
)  # fmt: skip


def at(text: str) -> datetime:
    """A hall-local moment, e.g. "2026-06-01 10:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(TZ))


def due(opened: str, n: int, calendar: Calendar = CHINA_2026) -> str:
    return add_working_days(at(opened), n, calendar, TZ).isoformat()


def test_plain_weeks_skip_the_weekend() -> None:
    # Monday 2026-06-01: Tue(1) Wed(2) Thu(3) Fri(4) Mon(5)
    assert due("2026-06-01 10:00", 5, Calendar()) == "2026-06-08T23:59:59+08:00"
    # Friday afternoon: Mon(1) … Fri(5)
    assert due("2026-06-05 17:45", 5, Calendar()) == "2026-06-12T23:59:59+08:00"
    assert due("2026-06-05 17:45", 1, Calendar()) == "2026-06-08T23:59:59+08:00"


def test_the_deadline_is_the_end_of_the_working_day_in_the_halls_zone() -> None:
    deadline = add_working_days(at("2026-06-01 00:00"), 1, Calendar(), TZ)
    assert deadline.isoformat() == "2026-06-02T23:59:59+08:00"
    assert deadline.astimezone(UTC).isoformat() == "2026-06-02T15:59:59+00:00"
    # The hour of opening does not matter, only the hall-local day.
    assert due("2026-06-01 23:59", 1, Calendar()) == "2026-06-02T23:59:59+08:00"


def test_the_opening_day_is_the_halls_not_utcs() -> None:
    # 2026-06-01 20:00 UTC is already Tuesday 04:00 in Shanghai.
    opened = datetime(2026, 6, 1, 20, 0, tzinfo=UTC)
    assert add_working_days(opened, 1, Calendar(), TZ).isoformat() == "2026-06-03T23:59:59+08:00"


def test_holidays_are_skipped() -> None:
    # Opened Wednesday 2026-09-30; Oct 1–7 closed, Thu Oct 8 is day 1, Fri 9 day 2,
    # Sat Oct 10 is a 调休 workday: day 3; Mon 12 day 4; Tue 13 day 5.
    assert due("2026-09-30 09:00", 5) == "2026-10-13T23:59:59+08:00"
    assert due("2026-09-30 09:00", 1) == "2026-10-08T23:59:59+08:00"


def test_a_weekend_workday_counts() -> None:
    # Opened Friday 2026-09-18: Sunday Sep 20 is worked (调休) and is day 1.
    assert due("2026-09-18 15:00", 1) == "2026-09-20T23:59:59+08:00"
    assert due("2026-09-18 15:00", 2) == "2026-09-21T23:59:59+08:00"
    # Without the 调休 day the same case is due a day later.
    assert due("2026-09-18 15:00", 1, Calendar()) == "2026-09-21T23:59:59+08:00"


def test_spring_festival_with_workdays_on_both_sides() -> None:
    # Opened Friday 2026-02-13: Sat 14 worked (1); 15–23 closed; Tue 24 (2) … Fri 27 (5);
    # Sat 28 worked (6).
    assert due("2026-02-13 16:00", 1) == "2026-02-14T23:59:59+08:00"
    assert due("2026-02-13 16:00", 5) == "2026-02-27T23:59:59+08:00"
    assert due("2026-02-13 16:00", 6) == "2026-02-28T23:59:59+08:00"


def test_a_deadline_crossing_the_new_year() -> None:
    # Tuesday 2026-12-29: Wed 30 (1), Thu 31 (2), Fri 2027-01-01 closed, Mon 4 (3), Tue 5 (4), Wed 6 (5).
    assert due("2026-12-29 11:00", 5) == "2027-01-06T23:59:59+08:00"
    # And 2025 into 2026: Wed 2025-12-31, then Jan 1–3 closed, Sun Jan 4 worked (1), Mon 5 (2).
    assert due("2025-12-31 10:00", 2) == "2026-01-05T23:59:59+08:00"


def test_a_case_opened_on_a_holiday_or_a_weekend() -> None:
    # Opened on National Day itself: the first working day after is Thu Oct 8.
    assert due("2026-10-01 10:00", 1) == "2026-10-08T23:59:59+08:00"
    assert due("2026-10-03 10:00", 5) == "2026-10-13T23:59:59+08:00"
    # Opened on a Saturday: Monday is day 1.
    assert due("2026-06-06 10:00", 1) == "2026-06-08T23:59:59+08:00"
    assert due("2026-06-07 22:00", 5) == "2026-06-12T23:59:59+08:00"
    # Opened on a 调休 Saturday (a working day): the opening day still does not count.
    assert due("2026-10-10 10:00", 1) == "2026-10-12T23:59:59+08:00"


def test_working_day_rules() -> None:
    assert CHINA_2026.is_working_day(date(2026, 10, 10))  # Saturday, worked
    assert not CHINA_2026.is_working_day(date(2026, 10, 5))  # Monday, closed
    assert not CHINA_2026.is_working_day(date(2026, 10, 11))  # Sunday
    assert CHINA_2026.is_working_day(date(2026, 10, 12))


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(datetime(2026, 6, 1, 10, 0), 5, Calendar(), TZ)  # naive
    with pytest.raises(ValueError):
        add_working_days(at("2026-06-01 10:00"), 0, Calendar(), TZ)
