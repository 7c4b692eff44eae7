"""Laying 预约 slots (CONTRACT §12), without a clock or a database: the first and
last slot, the last minute of closes_at, closed days and 调休, days_ahead, past
slots; and the edges — a hall-local day that spans two UTC dates, a hall open
round the clock, the days Los Angeles changes its clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from clearhall.server.domain.hall import Hall
from clearhall.server.domain.slots import bookable_days, hall_today, lay, offered, parse_start
from clearhall.server.domain.workdays import Calendar

SHANGHAI, LA = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/Los_Angeles")
MONDAY = date(2026, 12, 7)


def hall(zone: str = "Asia/Shanghai", opens: str = "08:30", closes: str = "17:30", **kw: object) -> Hall:
    fields: dict = dict(
        id=1, code="t", name="测试", timezone=zone, public_url=None, max_consecutive_priority=3,
        daily_tickets_per_id=5, opens_at=time.fromisoformat(opens), closes_at=time.fromisoformat(closes),
        kiosk_tickets_per_minute=0, no_show_after_s=0, no_show_comeback_behind=0, unstaffed_services="warn",
    )  # fmt: skip
    return Hall(**(fields | kw))


def clock(slots: list, zone: ZoneInfo) -> list[str]:
    return [f"{s.start.astimezone(zone):%H:%M}" for s in slots]


def test_slots_run_from_opens_at_while_a_whole_slot_fits_before_closing() -> None:
    laid = lay(hall(), MONDAY, 30)
    assert clock(laid, SHANGHAI)[0] == "08:30" and clock(laid, SHANGHAI)[-1] == "17:00"
    assert len(laid) == 18
    assert laid[-1].end.astimezone(SHANGHAI).time() == time(17, 30)
    assert all(s.end - s.start == timedelta(minutes=30) for s in laid)
    assert all(a.end == b.start for a, b in pairwise(laid))
    # an hour a slot: the last is 16:30–17:30; 50 minutes: 16:50 would end 17:40, so 16:00–16:50
    assert clock(lay(hall(), MONDAY, 60), SHANGHAI)[-1] == "16:30"
    assert clock(lay(hall(), MONDAY, 50), SHANGHAI)[-1] == "16:00"


def test_the_hall_is_open_through_the_last_minute_of_closes_at() -> None:
    # closes_at 17:29 means open until 17:30: a slot ending 17:30 still fits, one ending 17:31 does not
    assert clock(lay(hall(closes="17:29"), MONDAY, 30), SHANGHAI)[-1] == "17:00"
    assert clock(lay(hall(closes="17:28"), MONDAY, 30), SHANGHAI)[-1] == "16:30"
    assert lay(hall(opens="09:00", closes="09:19"), MONDAY, 20)[0].end.astimezone(SHANGHAI).time() == time(
        9, 20
    )
    assert lay(hall(opens="09:00", closes="09:18"), MONDAY, 20) == []


def test_closed_days_have_no_slots_and_a_make_up_workday_has_them() -> None:
    saturday, holiday, make_up = date(2026, 12, 5), date(2026, 10, 1), date(2026, 10, 10)
    calendar = Calendar.of(holidays=[holiday], workdays=[make_up])
    workdays = hall(calendar=calendar)
    assert lay(workdays, saturday, 30) == [] and lay(workdays, holiday, 30) == []
    assert len(lay(workdays, make_up, 30)) == 18  # 调休: a Saturday worked
    assert len(lay(hall(calendar=calendar, open_days="all"), saturday, 30)) == 18
    assert lay(hall(calendar=calendar, open_days="all"), holiday, 30) != []


def test_only_today_through_days_ahead_and_only_slots_still_ahead_are_offered() -> None:
    h = hall(open_days="all")
    now = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
    today = offered(h, MONDAY, 30, now, 7)
    assert clock(today, SHANGHAI)[0] == "10:30"  # 10:00 starts now: too late to book
    assert clock(offered(h, MONDAY, 30, now + timedelta(seconds=-1), 7), SHANGHAI)[0] == "10:00"
    assert len(offered(h, MONDAY + timedelta(days=7), 30, now, 7)) == 18
    assert offered(h, MONDAY + timedelta(days=8), 30, now, 7) == []
    assert offered(h, MONDAY - timedelta(days=1), 30, now, 7) == []
    assert offered(h, MONDAY, 30, datetime(2026, 12, 7, 17, 0, tzinfo=SHANGHAI), 7) == []
    assert offered(h, date(9999, 12, 31), 30, now, 7) == []  # far days are never laid
    days = bookable_days(hall(), now, 7)  # workdays only: Monday 7th to Monday 14th, no weekend
    assert days == [MONDAY + timedelta(days=n) for n in (0, 1, 2, 3, 4, 7)]


def test_a_hall_local_day_can_span_two_utc_dates() -> None:
    """Shanghai is UTC+8: its 00:00–08:00 is the previous UTC date."""
    round_the_clock = hall(opens="00:00", closes="23:59", open_days="all")
    laid = lay(round_the_clock, MONDAY, 30)
    assert len(laid) == 48
    assert laid[0].start == datetime(2026, 12, 6, 16, 0, tzinfo=UTC)  # 00:00 in Shanghai
    assert laid[-1].end == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)  # 24:00 in Shanghai
    assert {s.start.astimezone(SHANGHAI).date() for s in laid} == {MONDAY}
    assert {s.start.date() for s in laid} == {date(2026, 12, 6), MONDAY}
    # 00:30 in Shanghai is still the 6th in UTC, but the hall's today is the 7th
    now = datetime(2026, 12, 6, 16, 30, tzinfo=UTC)
    assert hall_today(round_the_clock, now) == MONDAY
    assert offered(round_the_clock, date(2026, 12, 6), 30, now, 7) == []
    assert clock(offered(round_the_clock, MONDAY, 30, now, 7), SHANGHAI)[0] == "01:00"


def test_los_angeles_spring_forward_day_has_an_hour_fewer_of_slots() -> None:
    h = hall("America/Los_Angeles", opens="00:00", closes="23:59", open_days="all")
    spring = date(2026, 3, 8)  # 02:00 PST becomes 03:00 PDT
    laid = lay(h, spring, 30)
    assert len(laid) == 46
    shown = clock(laid, LA)
    assert shown[:5] == ["00:00", "00:30", "01:00", "01:30", "03:00"]
    assert not any(t.startswith("02:") for t in shown)
    assert all(s.end - s.start == timedelta(minutes=30) for s in laid)
    assert {s.start.astimezone(LA).date() for s in laid} == {spring}
    assert laid[-1].end == datetime(2026, 3, 9, 7, 0, tzinfo=UTC)  # midnight PDT
    # the day before and after: 48 slots each; 08:30 PDT is 15:30 UTC, 08:30 PST 16:30 UTC
    assert len(lay(h, spring - timedelta(days=1), 30)) == len(lay(h, spring + timedelta(days=1), 30)) == 48
    office = hall("America/Los_Angeles", open_days="all")
    assert lay(office, spring + timedelta(days=1), 30)[0].start == datetime(2026, 3, 9, 15, 30, tzinfo=UTC)
    assert lay(office, spring - timedelta(days=1), 30)[0].start == datetime(2026, 3, 7, 16, 30, tzinfo=UTC)


def test_los_angeles_fall_back_day_has_an_hour_more_of_slots() -> None:
    h = hall("America/Los_Angeles", opens="00:00", closes="23:59", open_days="all")
    fall = date(2026, 11, 1)  # 02:00 PDT becomes 01:00 PST
    laid = lay(h, fall, 30)
    assert len(laid) == 50
    shown = clock(laid, LA)
    assert shown[:7] == ["00:00", "00:30", "01:00", "01:30", "01:00", "01:30", "02:00"]
    assert len({s.start for s in laid}) == 50  # the clock repeats, the instants do not
    assert laid[2].start.astimezone(LA).utcoffset() == timedelta(hours=-7)
    assert laid[4].start.astimezone(LA).utcoffset() == timedelta(hours=-8)


def test_a_slot_is_read_with_its_offset_or_on_the_halls_clock() -> None:
    h = hall()
    assert parse_start(h, "2026-12-07T09:00:00+08:00") == datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    assert parse_start(h, "2026-12-07T01:00:00Z") == datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    assert parse_start(h, "2026-12-07T09:00") == datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # hall time
    for bad in ("tomorrow 9am", "", "2026-13-01T09:00", "0001-01-01T00:00", "9999-12-31T23:59-12:00"):
        assert parse_start(h, bad) is None, bad


ZONES = ["Asia/Shanghai", "America/Los_Angeles", "Europe/London", "Australia/Lord_Howe", "Pacific/Kiritimati"]


@given(
    zone=st.sampled_from(ZONES),
    day=st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    minutes=st.integers(5, 60),
    opens=st.integers(0, 12 * 60),
    length=st.integers(60, 11 * 60 + 59),
)
def test_every_slot_is_whole_inside_the_hours_and_on_its_day(
    zone: str, day: date, minutes: int, opens: int, length: int
) -> None:
    start, end = time(opens // 60, opens % 60), time((opens + length) // 60, (opens + length) % 60)
    h = hall(zone, opens=f"{start:%H:%M}", closes=f"{end:%H:%M}", open_days="all")
    laid = lay(h, day, minutes)
    local = ZoneInfo(zone)
    assert laid, (zone, day, minutes)
    for s in laid:
        assert s.end - s.start == timedelta(minutes=minutes)
        assert s.start.astimezone(local).date() == day
    assert all(a.end == b.start for a, b in pairwise(laid))
    closes = datetime.combine(day, end, tzinfo=local) + timedelta(minutes=1)
    assert laid[-1].end <= closes.astimezone(UTC) < laid[-1].end + timedelta(minutes=minutes)
