"""好差评 patterns: the integrity signals about ratings (kind `rating_pattern`).

- `top_and_fast`: of the ratings a person gave (pad or phone, not `default`)
  to one staff member at one window on the days asked for, at least
  `top_fast_ratings`, a share of `top_fast_share` or more were 5 and given
  within `top_fast_seconds` of the finish — what a pad pressed by the counter
  looks like. The hall's own share on those days is given beside it.
- `pad_late`: a rating pad's ratings that did not follow their visit's finish
  — given more than `pad_gap_seconds` after it, or after another visit had
  ended at that window (the pad rated an older visit, not the one just
  finished) — `pad_late_ratings` or more at one window in one hall-local day.
  The pad asks by itself as a visit is finished; a rating long after, while
  nobody was at the counter for it, is what a stored-up rating looks like.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any, Final

from clearhall.server.domain.figures import day_bounds
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.signal_rows import (
    MOST_ROWS,
    RATING_COLUMNS,
    RATING_JOINS,
    Signal,
    percent,
    rating_row,
    rating_rows,
)
from clearhall.server.domain.signal_texts import PAD_LATE, TOP_FAST
from clearhall.server.store.db import Connection
from clearhall.server.store.hall_signals import SignalsConf

# -- per window and staff member: ratings given by a person in [$2, $3), and how
# -- many of them were 5 within $4 of the finish
RATING_GROUPS: Final = """
SELECT w.number AS window, st.username, st.name, count(*) AS n,
       count(*) FILTER (WHERE r.score = 5 AND r.created_at - t.finished_at <= $4::interval) AS top_fast,
       array_agg(r.id ORDER BY r.created_at, r.id) AS ratings,
       min((r.created_at AT TIME ZONE $5)::date) AS first, max((r.created_at AT TIME ZONE $5)::date) AS last
FROM ratings r
JOIN tickets t ON t.id = r.ticket_id
JOIN windows w ON w.id = r.window_id
JOIN staff st ON st.id = r.staff_id
WHERE r.hall_id = $1 AND r.created_at >= $2 AND r.created_at < $3 AND r.channel <> 'default'
GROUP BY w.number, st.username, st.name
ORDER BY w.number, st.username
"""

# -- pad ratings in [$2, $3) more than $4 after their visit's finish, or after
# -- another visit had ended at that window: the visits ended at each window
# -- (finished or missed) from the day before the first day asked for, in order
PAD_LATE_RATINGS: Final = f"""
WITH ends AS (
    SELECT t.id, t.finished_at,
           lead(t.finished_at) OVER later AS next_end, lead(t.number) OVER later AS next_number
    FROM tickets t
    WHERE t.hall_id = $1 AND t.day BETWEEN $5 AND $6 AND t.finished_at IS NOT NULL AND t.window_id IS NOT NULL
    WINDOW later AS (PARTITION BY t.window_id ORDER BY t.finished_at, t.id)
)
SELECT {RATING_COLUMNS}, CASE WHEN e.next_end < r.created_at THEN e.next_number END AS next_visit,
       (r.created_at AT TIME ZONE $7)::date AS day
FROM ratings r {RATING_JOINS}
LEFT JOIN ends e ON e.id = r.ticket_id
WHERE r.hall_id = $1 AND r.channel = 'pad' AND r.created_at >= $2 AND r.created_at < $3
  AND w.number IS NOT NULL
  AND (r.created_at - t.finished_at > $4::interval OR e.next_end < r.created_at)
ORDER BY w.number, r.created_at, r.id
"""


async def rating_patterns(
    conn: Connection, hall: Hall, th: SignalsConf, first: date, last: date
) -> list[Signal]:
    return await top_and_fast(conn, hall, th, first, last) + await pad_late(conn, hall, th, first, last)


async def top_and_fast(
    conn: Connection, hall: Hall, th: SignalsConf, first: date, last: date
) -> list[Signal]:
    start, end = day_bounds(first, last, hall.timezone)
    fast = timedelta(seconds=th.top_fast_seconds)
    groups = await conn.fetch(RATING_GROUPS, hall.id, start, end, fast, hall.timezone)
    total = sum(g["n"] for g in groups)
    hall_share = sum(g["top_fast"] for g in groups) / total if total else 0.0
    out = []
    for g in groups:
        share = g["top_fast"] / g["n"]
        if g["n"] < th.top_fast_ratings or share < th.top_fast_share:
            continue
        why = TOP_FAST(
            window=g["window"],
            staff=g["name"],
            count=g["n"],
            top_fast=g["top_fast"],
            share=percent(share),
            seconds=th.top_fast_seconds,
            least=th.top_fast_ratings,
            line=percent(th.top_fast_share),
            hall_share=percent(hall_share),
        )
        signal = Signal(
            kind="rating_pattern",
            rule="top_and_fast",
            first=g["first"],
            last=g["last"],
            about={
                "kind": "window_and_staff",
                "window": g["window"],
                "staff": {"username": g["username"], "name": g["name"]},
            },
            figures={
                "ratings": g["n"],
                "top_and_fast": g["top_fast"],
                "share": round(share, 4),
                "hall_share": round(hall_share, 4),
            },
            thresholds={
                "top_fast_ratings": th.top_fast_ratings,
                "top_fast_share": th.top_fast_share,
                "top_fast_seconds": th.top_fast_seconds,
            },
            why=why,
            rows=await rating_rows(conn, hall.id, g["ratings"]),
            rows_total=g["n"],
        )
        out.append(signal)
    return out


async def pad_late(conn: Connection, hall: Hall, th: SignalsConf, first: date, last: date) -> list[Signal]:
    start, end = day_bounds(first, last, hall.timezone)
    gap, day_before = timedelta(seconds=th.pad_gap_seconds), first - timedelta(days=1)
    found = await conn.fetch(PAD_LATE_RATINGS, hall.id, start, end, gap, day_before, last, hall.timezone)
    by_window_day: dict[tuple[int, date], list[Any]] = defaultdict(list)
    for r in found:
        by_window_day[(r["window"], r["day"])].append(r)
    out = []
    for (window, day), rows in by_window_day.items():
        if len(rows) < th.pad_late_ratings:
            continue
        staff = {r["staff"]: r["staff_name"] for r in rows if r["staff"]}
        why = PAD_LATE(
            window=window,
            day=day.isoformat(),
            count=len(rows),
            gap=th.pad_gap_seconds,
            limit=th.pad_late_ratings,
        )
        signal = Signal(
            kind="rating_pattern",
            rule="pad_late",
            first=day,
            last=day,
            about={
                "kind": "window",
                "window": window,
                "staff": [{"username": u, "name": n} for u, n in sorted(staff.items())],
            },
            figures={"ratings": len(rows), "after_another_visit": sum(1 for r in rows if r["next_visit"])},
            thresholds={"pad_gap_seconds": th.pad_gap_seconds, "pad_late_ratings": th.pad_late_ratings},
            why=why,
            rows=[rating_row(r) for r in rows[:MOST_ROWS]],
            rows_total=len(rows),
        )
        out.append(signal)
    return out
