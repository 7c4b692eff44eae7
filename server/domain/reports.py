"""Daily and monthly reports (CONTRACT §11; docs/supervision.md, "Reports").

`daily` and `monthly` read one period, a hall-local day or calendar month,
into a `Report`: a line for the hall's total and one per service, window and
staff member, each a plain row of the figures named in `COLUMNS`. The JSON,
the CSV and the workbook (`api/report_formats.py`) only render these rows, so
the formats always agree. Every column is defined in docs/supervision.md; in
short, for the period:

- issued: tickets issued on its days, for the service they were issued for;
- served / no-shows: visits that ended in it, finished or missed, counted for
  the service, window and staff member of their last call (where they ended);
- wait (issue → that call) and service time (that call → the finish) of those
  visits, in minutes: the average, and the 90th percentile by nearest rank
  (the ⌈0.9·n⌉-th smallest);
- transfers / suspensions: those done in it, at the window and by the person
  who did them, out of the service the ticket was in;
- cards: 红黄牌 issued in it (`report_queries.card_counts`);
- 好差评: `figures.figures` (docs/haochaping.md) for the total, windows and
  staff; the same definitions per service.

A grouping does not break down what does not belong to it (`NOT_BROKEN_DOWN`:
empty in the CSV and workbook, null in JSON). All is read in one read-only
REPEATABLE READ transaction, so every figure counts the same database. The
report also carries the integrity log's head for the period's actions
(`report_queries.HEAD`): printed, it anchors the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from clearhall.server.domain import errors, figures, messages
from clearhall.server.domain import report_queries as q
from clearhall.server.domain.figures import Counts
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.report_queries import SERVICE, STAFF, WINDOW, Head, Key, Values
from clearhall.server.store.db import Connection

__all__ = ["COLUMNS", "GROUPINGS", "SERVICE", "STAFF", "WINDOW", "Head", "Line", "Report", "daily", "monthly"]

COUNT: Final = "count"
MINUTES: Final = "minutes"
RATE: Final = "rate"  # a fraction, 4 places (0.6667), or None when its denominator is 0

EARLIEST: Final = date(2000, 1, 1)
MOST_DAYS_AHEAD: Final = 366  # a future period is allowed (and empty) up to a year from today


@dataclass(frozen=True)
class Column:
    key: str  # in JSON
    title: str  # the Chinese header in the CSV and the workbook
    kind: str  # COUNT | MINUTES | RATE


COLUMNS: Final = (
    Column("issued", "取号数", COUNT),
    Column("served", "办结数", COUNT),
    Column("no_shows", "过号数", COUNT),
    Column("transfers", "转移次数", COUNT),
    Column("suspensions", "挂起次数", COUNT),
    Column("wait_avg_min", "平均等候(分钟)", MINUTES),
    Column("wait_p90_min", "90%等候(分钟)", MINUTES),
    Column("service_avg_min", "平均办理(分钟)", MINUTES),
    Column("service_p90_min", "90%办理(分钟)", MINUTES),
    Column("yellow_cards", "黄牌", COUNT),
    Column("red_cards", "红牌", COUNT),
    Column("rated", "评价数", COUNT),
    Column("unrated", "未评价数", COUNT),
    Column("excluded", "申诉剔除", COUNT),
    Column("level_5", "非常满意", COUNT),
    Column("level_4", "满意", COUNT),
    Column("level_3", "基本满意", COUNT),
    Column("level_2", "不满意", COUNT),
    Column("level_1", "非常不满意", COUNT),
    Column("default_rated", "默认评价", COUNT),
    Column("by_person", "主动评价", COUNT),
    Column("good_rate", "好评率", RATE),
    Column("bad_rate", "差评率", RATE),
    Column("unrated_rate", "未评率", RATE),
    Column("active_good_rate", "主动评价好评率", RATE),
    Column("bad", "差评数", COUNT),
    Column("fixed", "已整改差评", COUNT),
    Column("fix_rate", "差评整改率", RATE),
    Column("satisfaction_answers", "整改评价数", COUNT),
    Column("satisfied", "整改满意数", COUNT),
    Column("satisfaction_rate", "整改满意率", RATE),
)

# The groupings, in order, with their sheet names.
GROUPINGS: Final = ((SERVICE, "按业务"), (WINDOW, "按窗口"), (STAFF, "按人员"))

# What a grouping leaves empty: a ticket is issued for a service, not at a window or by a person;
# a card is about a window or a person, not a service.
NOT_BROKEN_DOWN: Final = {
    "": frozenset[str](),
    SERVICE: frozenset({"yellow_cards", "red_cards"}),
    WINDOW: frozenset({"issued"}),
    STAFF: frozenset({"issued"}),
}


@dataclass(frozen=True)
class Line:
    grouping: str  # SERVICE, WINDOW, STAFF, or "" for the hall's total
    key: str  # the service's code, the window's number, the staff member's username; "" for the total
    name: str  # the service's name, "3号窗口", the staff member's name; "合计" for the total
    values: Values  # by Column.key, in COLUMNS order


@dataclass(frozen=True)
class Report:
    kind: str  # "daily" | "monthly"
    hall_code: str
    hall_name: str
    timezone: str
    first: date
    last: date
    generated_at: datetime
    complete: bool  # the period is over: its figures no longer change
    head: Head | None  # the integrity log's head for the period's actions; None before any
    unsealed: int  # the period's actions not in the chain when the report was made
    total: Line
    lines: dict[str, list[Line]]  # by grouping, in GROUPINGS order


def haochaping(c: Counts) -> Values:
    """The 好差评 columns of one line, from figures' own counts and rates."""
    rates = c.rates()
    return {
        "rated": c.rated,
        "unrated": c.unrated,
        "excluded": c.excluded,
        **{f"level_{n}": c.levels[n] for n in range(5, 0, -1)},
        "default_rated": c.defaults,
        "by_person": c.by_person,
        "good_rate": rates["good_rate"],
        "bad_rate": rates["bad_rate"],
        "unrated_rate": rates["unrated_rate"],
        "active_good_rate": rates["active_good_rate"],
        "bad": c.bad,
        "fixed": c.fixed,
        "fix_rate": rates["fix_rate"],
        "satisfaction_answers": c.answered,
        "satisfied": c.satisfied,
        "satisfaction_rate": rates["satisfaction_rate"],
    }


def blank(grouping: str) -> Values:
    """A line with nothing in it: counts 0, times and rates None, and None where it does not apply."""
    values: Values = {c.key: 0 if c.kind == COUNT else None for c in COLUMNS}
    values |= haochaping(Counts())
    return values | dict.fromkeys(NOT_BROKEN_DOWN[grouping])


def found_or_in_use(listed: list[q.Listed], grouping: str, found: dict[Key, Values]) -> list[q.Listed]:
    """Who a grouping lists: those in use (active; staff: active window staff) and any with figures."""
    return [x for x in listed if x.in_use or (grouping, x.key) in found]


def in_range(first: date, last: date, today: date, field: str) -> None:
    latest = today + timedelta(days=MOST_DAYS_AHEAD)
    if first < EARLIEST or last > latest:
        raise errors.invalid(messages.REPORT_OUT_OF_RANGE(first=EARLIEST, last=latest), field)


def today_in(hall: Hall) -> date:
    return datetime.now(ZoneInfo(hall.timezone)).date()


async def daily(conn: Connection, hall: Hall, day: date) -> Report:
    in_range(day, day, today_in(hall), "day")
    return await build(conn, hall, "daily", day, day)


async def monthly(conn: Connection, hall: Hall, year: int, month: int) -> Report:
    first = date(year, month, 1)
    last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    in_range(first, last, today_in(hall), "month")
    return await build(conn, hall, "monthly", first, last)


async def build(conn: Connection, hall: Hall, kind: str, first: date, last: date) -> Report:
    start, end = figures.day_bounds(first, last, hall.timezone)
    found: dict[Key, Values] = {}

    def add(facts: dict[Key, Values]) -> None:
        for key, values in facts.items():
            found.setdefault(key, {}).update(values)

    async with conn.transaction(isolation="repeatable_read", readonly=True):
        now: datetime = await conn.fetchval("SELECT now()")
        add(await q.facts(conn, q.ENDED, hall.id, start, end))
        add(await q.facts(conn, q.ISSUED, hall.id, first, last))
        add(await q.facts(conn, q.MOVES, hall.id, start, end))
        add(await q.card_counts(conn, hall.id, start, end))
        rated = await figures.figures(conn, hall.id, hall.timezone, first, last)
        add({("", ""): haochaping(rated.total)})
        add({(WINDOW, str(n)): haochaping(c) for n, c in rated.windows})
        add({(STAFF, username): haochaping(c) for username, _, c in rated.staff})
        by_service = await q.service_visits(conn, hall.id, start, end)
        add({(SERVICE, code): haochaping(c) for code, c in by_service.items()})
        listed = await q.listed(conn, hall.id)
        head = await q.head(conn, hall.id, end)
        unsealed = await q.unsealed(conn, hall.id, start, end)

    def line(grouping: str, key: str, name: str) -> Line:
        values = blank(grouping)
        skip = NOT_BROKEN_DOWN[grouping]
        values |= {k: v for k, v in found.get((grouping, key), {}).items() if k in values and k not in skip}
        return Line(grouping, key, name, values)

    lines = {
        grouping: [line(grouping, x.key, x.name) for x in found_or_in_use(listed[grouping], grouping, found)]
        for grouping, _ in GROUPINGS
    }
    return Report(
        kind, hall.code, hall.name, hall.timezone, first, last, now, now >= end, head, unsealed,
        line("", "", "合计"), lines,
    )  # fmt: skip
