"""The SQL of the daily and monthly reports (`reports.py`; docs/supervision.md, "Reports").

Each query reads one kind of fact for the instants [$2, $3) (or the issue days
$2…$3) and counts it in total and per service, window and staff member with
GROUPING SETS, keyed by what a person reads: the service's code, the window's
number, the staff member's username. A row's `by_*` flags say which grouping
it belongs to (none: the hall's total). `reports.build` runs them all in one
read-only REPEATABLE READ transaction, so they count the same database.

The 好差评 figures of the total, the windows and the staff are
`figures.figures` itself; `SERVICE_VISITS` adds the per-service lines with the
same definitions (docs/haochaping.md, "The figures"), read from the same
columns in the same way: a test holds the two together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

import asyncpg

from clearhall.server.domain.figures import Counts, visit_counts
from clearhall.server.store.db import Connection

SERVICE: Final = "service"
WINDOW: Final = "window"
STAFF: Final = "staff"

# -- the visits that ended in [$2, $3), finished (done) or missed (no_show), for the service,
# -- at the window and by the staff member of their last call; the wait is issue → that call,
# -- the service time that call → the finish (a missed visit has a wait and no service time)
ENDED = """
WITH ended AS (
    SELECT s.code AS service_code, w.number AS window_number, st.username, t.status,
           extract(epoch FROM t.called_at - t.issued_at) AS wait_s,
           CASE WHEN t.status = 'done' THEN extract(epoch FROM t.finished_at - t.called_at) END AS service_s
    FROM tickets t
    JOIN services s ON s.id = t.service_id
    LEFT JOIN windows w ON w.id = t.window_id
    LEFT JOIN staff st ON st.id = t.staff_id
    WHERE t.hall_id = $1 AND t.status IN ('done', 'no_show') AND t.finished_at >= $2 AND t.finished_at < $3
)
SELECT GROUPING(service_code) = 0 AS by_service, GROUPING(window_number) = 0 AS by_window,
       GROUPING(username) = 0 AS by_staff, service_code, window_number, username,
       count(*) FILTER (WHERE status = 'done') AS served,
       count(*) FILTER (WHERE status = 'no_show') AS no_shows,
       round(avg(wait_s) / 60, 1) AS wait_avg_min,
       round(percentile_disc(0.9) WITHIN GROUP (ORDER BY wait_s) / 60, 1) AS wait_p90_min,
       round(avg(service_s) / 60, 1) AS service_avg_min,
       round(percentile_disc(0.9) WITHIN GROUP (ORDER BY service_s) / 60, 1) AS service_p90_min
FROM ended
GROUP BY GROUPING SETS ((), (service_code), (window_number), (username))
"""

# -- the tickets issued on the hall-local days $2…$3, for the service they were issued for
ISSUED = """
SELECT GROUPING(s.code) = 0 AS by_service, false AS by_window, false AS by_staff,
       s.code AS service_code, NULL::int AS window_number, NULL AS username, count(*) AS issued
FROM tickets t JOIN services s ON s.id = t.first_service_id
WHERE t.hall_id = $1 AND t.day BETWEEN $2 AND $3
GROUP BY GROUPING SETS ((), (s.code))
"""

# -- the transfers and suspensions done in [$2, $3): at which window, by whom, and out of which
# -- service (the ticket's at that moment: where its latest earlier transfer took it, else its first)
MOVES = """
WITH moves AS (
    SELECT a.action, a.window_number, st.username,
           coalesce((SELECT p.details->>'to_service' FROM action_log p
                     WHERE p.ticket_id = a.ticket_id AND p.action = 'transfer' AND p.id < a.id
                     ORDER BY p.id DESC LIMIT 1), fs.code) AS service_code
    FROM action_log a
    JOIN tickets t ON t.id = a.ticket_id
    JOIN services fs ON fs.id = t.first_service_id
    LEFT JOIN staff st ON a.actor_kind = 'staff' AND st.id = a.actor_id
    WHERE a.hall_id = $1 AND a.action IN ('transfer', 'suspend') AND a.at >= $2 AND a.at < $3
)
SELECT GROUPING(service_code) = 0 AS by_service, GROUPING(window_number) = 0 AS by_window,
       GROUPING(username) = 0 AS by_staff, service_code, window_number, username,
       count(*) FILTER (WHERE action = 'transfer') AS transfers,
       count(*) FILTER (WHERE action = 'suspend') AS suspensions
FROM moves
GROUP BY GROUPING SETS ((), (service_code), (window_number), (username))
"""

# -- 好差评 per service: figures' visit counts (the same visits, ratings, cases and filters)
# -- grouped by the service they were finished in
SERVICE_VISITS = visit_counts(
    "s.code AS service_code", "service_code", "service_code", joins=" JOIN services s ON s.id = t.service_id"
)

# -- the red and yellow cards (红黄牌) whose rule was broken in [$2, $3), for the window and the
# -- staff member each is about (a red card made of one person's yellows may name no window)
CARDS = """
SELECT false AS by_service, GROUPING(w.number) = 0 AS by_window, GROUPING(st.username) = 0 AS by_staff,
       NULL AS service_code, w.number AS window_number, st.username,
       count(*) FILTER (WHERE c.color = 'yellow') AS yellow_cards,
       count(*) FILTER (WHERE c.color = 'red') AS red_cards
FROM cards c LEFT JOIN windows w ON w.id = c.window_id LEFT JOIN staff st ON st.id = c.staff_id
WHERE c.hall_id = $1 AND c.at >= $2 AND c.at < $3
GROUP BY GROUPING SETS ((), (w.number), (st.username))
"""

# -- who the report lists: every service, window and staff member, with whether they are in
# -- use (active; for staff, active window staff) — the others are listed only with activity
LISTED = """
SELECT 'service' AS grouping, code AS key, name, active, position AS rank FROM services WHERE hall_id = $1
UNION ALL
SELECT 'window', number::text, number || '号窗口', active, number FROM windows WHERE hall_id = $1
UNION ALL
SELECT 'staff', username, name, active AND role = 'staff', 0 FROM staff WHERE hall_id = $1
ORDER BY grouping, rank, key
"""

# -- the head of the chain for the actions done before $2: the highest seq among them. Seqs
# -- follow the actions' times but for late commits (integrity.SETTLE_S, a minute), so only the
# -- hour before the newest chained one needs looking at
HEAD = """
WITH newest AS (
    SELECT a.at FROM action_log a JOIN action_log_chain c ON c.entry_id = a.id
    WHERE a.hall_id = $1 AND a.at < $2
    ORDER BY a.at DESC LIMIT 1
)
SELECT c.seq, c.hash, a.at FROM action_log a JOIN action_log_chain c ON c.entry_id = a.id
WHERE a.hall_id = $1 AND a.at < $2 AND a.at >= (SELECT at FROM newest) - interval '1 hour'
ORDER BY c.seq DESC LIMIT 1
"""

# -- the actions done in [$2, $3) that are not in the chain (yet): the sealer's last second, or
# -- a row slipped in by hand (docs/supervision.md)
UNSEALED = """
SELECT count(*) FROM action_log a
WHERE a.hall_id = $1 AND a.at >= $2 AND a.at < $3
  AND NOT EXISTS (SELECT 1 FROM action_log_chain c WHERE c.entry_id = a.id)
"""

# (grouping, key): ("service", "A"), ("window", "3"), ("staff", "s1"); ("", "") is the total
Key = tuple[str, str]
Values = dict[str, int | float | None]


@dataclass(frozen=True)
class Listed:
    key: str
    name: str
    in_use: bool


@dataclass(frozen=True)
class Head:
    """The integrity log's head for a period: the last seq of its actions, and that entry's hash."""

    seq: int
    hash: str
    at: datetime  # when that entry's action was done


def key_of(row: asyncpg.Record) -> Key | None:
    """Where a GROUPING SETS row counts; None for a grouping's row without a key (no staff)."""
    for flag, grouping, column in (
        ("by_service", SERVICE, "service_code"),
        ("by_window", WINDOW, "window_number"),
        ("by_staff", STAFF, "username"),
    ):
        if row[flag]:
            return None if row[column] is None else (grouping, str(row[column]))
    return ("", "")


def plain(value: object) -> int | float | None:
    if isinstance(value, Decimal):
        return float(value)
    assert value is None or isinstance(value, int | float)
    return value


async def facts(conn: Connection, query: str, hall_id: int, *bounds: object) -> dict[Key, Values]:
    """One query's counts by (grouping, key), each a dict of its figure columns."""
    out: dict[Key, Values] = {}
    for row in await conn.fetch(query, hall_id, *bounds):
        key = key_of(row)
        if key is not None:
            out[key] = {
                name: plain(value)
                for name, value in row.items()
                if not name.startswith("by_") and name not in ("service_code", "window_number", "username")
            }
    return out


async def service_visits(conn: Connection, hall_id: int, start: datetime, end: datetime) -> dict[str, Counts]:
    """The 好差评 counts per service code, as `figures.Counts`."""
    out = {}
    for row in await conn.fetch(SERVICE_VISITS, hall_id, start, end):
        c = Counts()
        c.finished, c.rated, c.unrated = row["finished"], row["rated"], row["unrated"]
        c.excluded = row["excluded"]
        c.levels = {n: row[f"s{n}"] for n in range(1, 6)}
        c.defaults, c.person_good = row["defaults"], row["person_good"]
        c.replied, c.fixed = row["replied"], row["fixed"]
        c.answered, c.satisfied = row["answered"], row["satisfied"]
        out[row["service_code"]] = c
    return out


async def card_counts(conn: Connection, hall_id: int, start: datetime, end: datetime) -> dict[Key, Values]:
    """The 红黄牌 whose rule was broken in [start, end) (`cards.at`), per window and staff member."""
    return await facts(conn, CARDS, hall_id, start, end)


async def listed(conn: Connection, hall_id: int) -> dict[str, list[Listed]]:
    out: dict[str, list[Listed]] = {SERVICE: [], WINDOW: [], STAFF: []}
    for row in await conn.fetch(LISTED, hall_id):
        out[row["grouping"]].append(Listed(row["key"], row["name"], row["active"]))
    return out


async def head(conn: Connection, hall_id: int, end: datetime) -> Head | None:
    row = await conn.fetchrow(HEAD, hall_id, end)
    return Head(row["seq"], row["hash"], row["at"]) if row else None


async def unsealed(conn: Connection, hall_id: int, start: datetime, end: datetime) -> int:
    return int(await conn.fetchval(UNSEALED, hall_id, start, end))
