"""The 好差评 figures (CONTRACT §7, §11; GB/T 39735-2020) for hall-local days
`first`…`last`, in total, per window and per staff member. Every figure is
defined in docs/haochaping.md; in short:

The visits are the tickets finished (`done`) in the range, each counted where
and by whom it was served, with its one rating if it has one (given whenever).
A rating an upheld appeal took out (`excluded`) counts in `excluded` only:
finished = rated + unrated + excluded.

    好评率        good_rate          = ratings 4–5 / rated
    差评率        bad_rate           = ratings 1–2 / rated
    未评率        unrated_rate       = unrated / finished
    主动评价好评率 active_good_rate   = 4–5 given by a person / ratings given by a person
                                       (rated minus the `default` ones)
    差评回复率     reply_rate         = bad ratings whose case has a callback / bad ratings
    整改率        fix_rate           = bad ratings whose case was closed with a fix / bad ratings
    整改满意率     satisfaction_rate  = handling rated `satisfied` / handling rated at all

A rate is a fraction rounded to 4 places, or null when its denominator is 0.
`open_cases` and `overdue_cases` count the cases (bad ratings' and
complaints') opened in the range that are open or overdue now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import asyncpg

from clearhall.server.domain.follow_ups import STATE_SQL
from clearhall.server.store.db import Connection

MOST_DAYS: Final = 400

# -- the visits finished in [$2, $3) with their ratings and their bad ratings' cases,
# -- counted by `group_by` (the figures here, the reports' lines per service)
VISITS = """
WITH visits AS (
    SELECT {keys}, r.id AS rating_id, r.score, r.channel,
           coalesce(r.excluded, false) AS excluded
    FROM tickets t{joins} LEFT JOIN ratings r ON r.ticket_id = t.id
    WHERE t.hall_id = $1 AND t.status = 'done' AND t.finished_at >= $2 AND t.finished_at < $3
), cases AS (
    SELECT f.rating_id, f.satisfaction,
           EXISTS (SELECT 1 FROM follow_up_steps s WHERE s.follow_up_id = f.id AND s.kind = 'callback')
               AS called_back,
           f.status = 'closed'
               AND EXISTS (SELECT 1 FROM follow_up_steps s WHERE s.follow_up_id = f.id AND s.kind = 'fix')
               AS fixed
    FROM follow_ups f JOIN visits v ON v.rating_id = f.rating_id
), counted AS (
    SELECT v.*, c.called_back, c.fixed, c.satisfaction, v.rating_id IS NOT NULL AND NOT v.excluded AS kept
    FROM visits v LEFT JOIN cases c ON c.rating_id = v.rating_id
)
SELECT {select},
       count(*) AS finished,
       count(*) FILTER (WHERE kept) AS rated,
       count(*) FILTER (WHERE rating_id IS NULL) AS unrated,
       count(*) FILTER (WHERE excluded) AS excluded,
       count(*) FILTER (WHERE kept AND score = 1) AS s1,
       count(*) FILTER (WHERE kept AND score = 2) AS s2,
       count(*) FILTER (WHERE kept AND score = 3) AS s3,
       count(*) FILTER (WHERE kept AND score = 4) AS s4,
       count(*) FILTER (WHERE kept AND score = 5) AS s5,
       count(*) FILTER (WHERE kept AND channel = 'default') AS defaults,
       count(*) FILTER (WHERE kept AND channel <> 'default' AND score >= 4) AS person_good,
       count(*) FILTER (WHERE kept AND score <= 2 AND called_back) AS replied,
       count(*) FILTER (WHERE kept AND score <= 2 AND fixed) AS fixed,
       count(*) FILTER (WHERE kept AND satisfaction IS NOT NULL) AS answered,
       count(*) FILTER (WHERE kept AND satisfaction = 'satisfied') AS satisfied
FROM counted
GROUP BY {group_by}
"""


def visit_counts(keys: str, select: str, group_by: str, joins: str = "") -> str:
    """VISITS with the visits' own `keys` (from tickets t and `joins`), counted by `group_by`."""
    return VISITS.format(keys=keys, select=select, group_by=group_by, joins=joins)


# -- per window, per staff member and in total (GROUPING SETS)
VISIT_COUNTS = visit_counts(
    "t.id, t.window_id, t.staff_id",
    "GROUPING(window_id) = 0 AS by_window, GROUPING(staff_id) = 0 AS by_staff, window_id, staff_id",
    "GROUPING SETS ((), (window_id), (staff_id))",
)

CASE_COUNTS = f"""
SELECT GROUPING(f.window_id) = 0 AS by_window, GROUPING(f.staff_id) = 0 AS by_staff, f.window_id, f.staff_id,
       count(*) FILTER (WHERE {STATE_SQL} = 'open') AS open_cases,
       count(*) FILTER (WHERE {STATE_SQL} = 'overdue') AS overdue_cases
FROM follow_ups f
WHERE f.hall_id = $1 AND f.created_at >= $2 AND f.created_at < $3
GROUP BY GROUPING SETS ((), (f.window_id), (f.staff_id))
"""

NAMES = """
SELECT 'window' AS kind, id, number::text AS key, NULL AS name FROM windows WHERE hall_id = $1
UNION ALL
SELECT 'staff', id, username, name FROM staff WHERE hall_id = $1
"""


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Counts:
    finished: int = 0
    rated: int = 0
    unrated: int = 0
    excluded: int = 0
    levels: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))
    defaults: int = 0
    person_good: int = 0
    replied: int = 0
    fixed: int = 0
    answered: int = 0
    satisfied: int = 0
    open_cases: int = 0
    overdue_cases: int = 0

    @property
    def good(self) -> int:
        return self.levels[4] + self.levels[5]

    @property
    def bad(self) -> int:
        return self.levels[1] + self.levels[2]

    @property
    def by_person(self) -> int:
        return self.rated - self.defaults

    def rates(self) -> dict[str, float | None]:
        return {
            "good_rate": ratio(self.good, self.rated),  # 好评率
            "bad_rate": ratio(self.bad, self.rated),  # 差评率
            "unrated_rate": ratio(self.unrated, self.finished),  # 未评率
            "active_good_rate": ratio(self.person_good, self.by_person),  # 主动评价好评率
            "reply_rate": ratio(self.replied, self.bad),  # 差评回复率
            "fix_rate": ratio(self.fixed, self.bad),  # 整改率
            "satisfaction_rate": ratio(self.satisfied, self.answered),  # 整改满意率
        }


@dataclass(frozen=True)
class Figures:
    first: date
    last: date
    total: Counts
    windows: list[tuple[int, Counts]]  # (window number, counts), by number
    staff: list[tuple[str, str, Counts]]  # (username, name, counts), by username


def day_bounds(first: date, last: date, timezone: str) -> tuple[datetime, datetime]:
    """[start of `first`, start of the day after `last`), hall time."""
    zone = ZoneInfo(timezone)
    return datetime.combine(first, time(), zone), datetime.combine(last + timedelta(days=1), time(), zone)


async def figures(conn: Connection, hall_id: int, timezone: str, first: date, last: date) -> Figures:
    start, end = day_bounds(first, last, timezone)
    total = Counts()
    windows: dict[int, Counts] = {}
    staff: dict[int, Counts] = {}

    def slot(row: asyncpg.Record) -> Counts | None:
        """Where a row of a GROUPING SETS query counts: a window, a staff member or the total."""
        if row["by_window"]:
            return None if row["window_id"] is None else windows.setdefault(row["window_id"], Counts())
        if row["by_staff"]:
            return None if row["staff_id"] is None else staff.setdefault(row["staff_id"], Counts())
        return total

    for row in await conn.fetch(VISIT_COUNTS, hall_id, start, end):
        counts = slot(row)
        if counts is None:
            continue
        counts.finished, counts.rated, counts.unrated = row["finished"], row["rated"], row["unrated"]
        counts.excluded, counts.defaults = row["excluded"], row["defaults"]
        counts.person_good = row["person_good"]
        counts.levels = {n: row[f"s{n}"] for n in range(1, 6)}
        counts.replied, counts.fixed = row["replied"], row["fixed"]
        counts.answered, counts.satisfied = row["answered"], row["satisfied"]
    for row in await conn.fetch(CASE_COUNTS, hall_id, start, end):
        counts = slot(row)
        if counts is not None:
            counts.open_cases, counts.overdue_cases = row["open_cases"], row["overdue_cases"]
    names = {(r["kind"], r["id"]): (r["key"], r["name"]) for r in await conn.fetch(NAMES, hall_id)}
    by_window = [(int(names[("window", i)][0]), c) for i, c in windows.items()]
    by_staff = [(names[("staff", i)][0], names[("staff", i)][1], c) for i, c in staff.items()]
    return Figures(
        first, last, total, sorted(by_window, key=lambda w: w[0]), sorted(by_staff, key=lambda s: s[0])
    )
