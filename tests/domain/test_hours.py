"""Opening hours as the server checks them (CONTRACT §12): the first minute of
opens_at through the last minute of closes_at, on the hall's open days, in the
hall's time zone — at midnight, across time zones, on holidays and 调休 days."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from clearhall.server.domain.hall import Hall
from clearhall.server.domain.hours import is_open, next_opening
from clearhall.server.domain.workdays import Calendar

SHANGHAI = Hall(
    id=1, code="main", name="测试厅", timezone="Asia/Shanghai", public_url=None, max_consecutive_priority=3,
    daily_tickets_per_id=5, opens_at=time(8, 30), closes_at=time(17, 30), kiosk_tickets_per_minute=30,
    no_show_after_s=60, no_show_comeback_behind=0, unstaffed_services="warn",
    calendar=Calendar.of(holidays=[date(2026, 10, 1)], workdays=[date(2026, 10, 10)]),
)  # fmt: skip


def local(text: str, zone: str = "Asia/Shanghai") -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def test_open_from_the_first_minute_through_the_last() -> None:
    monday = "2026-11-30"
    assert not is_open(SHANGHAI, local(f"{monday} 08:29:59"))
    assert is_open(SHANGHAI, local(f"{monday} 08:30:00"))
    assert is_open(SHANGHAI, local(f"{monday} 17:30:59"))  # closes_at's own minute is open
    assert not is_open(SHANGHAI, local(f"{monday} 17:31:00"))


def test_the_hall_clock_decides_not_the_servers() -> None:
    """00:40 UTC is 08:40 in Shanghai (open) and still the evening before in Los Angeles."""
    moment = datetime(2026, 11, 30, 0, 40, tzinfo=UTC)
    assert is_open(SHANGHAI, moment)
    los_angeles = replace(SHANGHAI, timezone="America/Los_Angeles")
    assert not is_open(los_angeles, moment)  # 16:40 on Sunday there
    assert next_opening(los_angeles, moment) == local("2026-11-30 08:30", "America/Los_Angeles")


def test_weekends_holidays_and_make_up_workdays() -> None:
    assert not is_open(SHANGHAI, local("2026-11-29 10:00"))  # a Sunday
    assert not is_open(SHANGHAI, local("2026-10-01 10:00"))  # 国庆, a Thursday
    assert is_open(SHANGHAI, local("2026-10-10 10:00"))  # a Saturday worked (调休)
    every_day = replace(SHANGHAI, open_days="all")
    assert is_open(every_day, local("2026-11-29 10:00")) and is_open(every_day, local("2026-10-01 10:00"))


def test_the_next_opening_skips_closed_days() -> None:
    friday_evening = local("2026-11-27 18:00")
    assert next_opening(SHANGHAI, friday_evening) == local("2026-11-30 08:30")
    assert next_opening(SHANGHAI, local("2026-11-30 07:00")) == local("2026-11-30 08:30")
    assert next_opening(SHANGHAI, local("2026-11-30 09:00")) is None  # open now
    assert next_opening(SHANGHAI, local("2026-09-30 18:00")) == local("2026-10-02 08:30")


def test_a_hall_open_all_day_is_open_at_midnight_and_its_last_minute() -> None:
    all_day = replace(SHANGHAI, opens_at=time(0, 0), closes_at=time(23, 59), open_days="all")
    assert is_open(all_day, local("2026-11-29 00:00:00"))
    assert is_open(all_day, local("2026-11-29 23:59:59"))
