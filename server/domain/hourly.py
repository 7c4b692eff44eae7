"""A day of the hall hour by hour and service by service, for the supervisor's
charts and the wall screen (数据大屏): tickets issued, called, finished and
missed, and how long people waited, for one hall-local day.

Definitions (docs/pages.md, "Supervisor dashboard", 图表):

- An hour is the hall's clock hour (00–23 in the hall's timezone) in which the
  thing happened: a ticket counts as issued in the hour of `issued_at`, as
  called in the hour of `called_at`, as finished or missed (过号) in the hour of
  `finished_at`.
- The wait of a called ticket is `called_at - issued_at`: from taking the
  number to the call of the window that has it now (a recall does not move
  `called_at`; a ticket transferred or back in line after 过号 counts at its
  later call, its whole time in the hall before that window). It counts in
  the hour of the call; `avg_wait_s` is its mean and `p90_wait_s` its 90th
  percentile (a wait that happened: PostgreSQL's percentile_disc, as the
  reports have it), in whole seconds, or null when nothing was called. The
  wait is the reports' (issue → the last call); they count the visits that
  ended in the day, this the tickets called in it.
- By service: issued under the service the ticket was taken for
  (`first_service_id`, whose letter the number carries); called, finished,
  missed and waiting under the service it is in now, so that every column adds
  up to the day's total. `waiting`: the day's tickets waiting now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg

from clearhall.server.domain.figures import day_bounds
from clearhall.server.store.db import Connection

HOURS = range(24)

# -- the day's tickets (and the day before's: one issued late and called after
# -- midnight), each thing that happened to them as one event with its time and
# -- service; counted by hall-local hour, by service and in total (GROUPING SETS)
DAY = """
WITH t AS (
    SELECT first_service_id, service_id, status, issued_at, called_at, finished_at
    FROM tickets
    WHERE hall_id = $1 AND day BETWEEN $2::date - 1 AND $2::date
), events AS (
    SELECT 'issued' AS kind, first_service_id AS service_id, issued_at AS at, NULL::float8 AS wait_s FROM t
    UNION ALL
    SELECT 'called', service_id, called_at, extract(epoch FROM called_at - issued_at)::float8
    FROM t WHERE called_at IS NOT NULL
    UNION ALL
    SELECT 'finished', service_id, finished_at, NULL FROM t WHERE status = 'done'
    UNION ALL
    SELECT 'no_show', service_id, finished_at, NULL FROM t WHERE status = 'no_show'
), day_events AS (
    SELECT kind, service_id, wait_s, extract(hour FROM at AT TIME ZONE $5)::int AS hour
    FROM events WHERE at >= $3 AND at < $4
)
SELECT GROUPING(hour) = 0 AS by_hour, GROUPING(service_id) = 0 AS by_service, hour, service_id,
       count(*) FILTER (WHERE kind = 'issued') AS issued,
       count(*) FILTER (WHERE kind = 'called') AS called,
       count(*) FILTER (WHERE kind = 'finished') AS finished,
       count(*) FILTER (WHERE kind = 'no_show') AS no_show,
       round(avg(wait_s) FILTER (WHERE kind = 'called'))::int AS avg_wait_s,
       round(percentile_disc(0.9) WITHIN GROUP (ORDER BY wait_s) FILTER (WHERE kind = 'called'))::int
           AS p90_wait_s
FROM day_events
GROUP BY GROUPING SETS ((hour), (service_id), ())
"""

# -- every service of the hall (those no ticket touched count zeros), in the
# -- order the hall file gives, with the day's tickets waiting now
SERVICES = """
SELECT s.id, s.code, s.name,
       (SELECT count(*) FROM tickets t
        WHERE t.hall_id = s.hall_id AND t.service_id = s.id AND t.day = $2
          AND t.status = 'waiting') AS waiting
FROM services s
WHERE s.hall_id = $1
  AND (s.active OR EXISTS (SELECT 1 FROM tickets t WHERE t.hall_id = $1 AND t.day = $2
                                      AND s.id IN (t.service_id, t.first_service_id)))
ORDER BY s.position, s.code
"""


@dataclass(frozen=True)
class Line:
    """What happened in one hour, to one service, or in the whole day."""

    issued: int = 0
    called: int = 0
    finished: int = 0
    no_show: int = 0
    avg_wait_s: int | None = None
    p90_wait_s: int | None = None


@dataclass(frozen=True)
class ServiceLine:
    code: str
    name: str
    line: Line
    waiting: int


@dataclass(frozen=True)
class Day:
    day: date
    hours: list[Line]  # 24, index = the hall-local hour
    services: list[ServiceLine]
    total: Line
    waiting: int


def line_of(row: asyncpg.Record) -> Line:
    return Line(
        row["issued"], row["called"], row["finished"], row["no_show"], row["avg_wait_s"], row["p90_wait_s"]
    )


async def day_by_hour(conn: Connection, hall_id: int, timezone: str, day: date) -> Day:
    start, end = day_bounds(day, day, timezone)
    hours = {h: Line() for h in HOURS}
    by_service: dict[int, Line] = {}
    total = Line()
    for row in await conn.fetch(DAY, hall_id, day, start, end, timezone):
        if row["by_hour"]:
            hours[row["hour"]] = line_of(row)  # a 25-hour day (DST) folds its repeated hour into one
        elif row["by_service"]:
            by_service[row["service_id"]] = line_of(row)
        else:
            total = line_of(row)
    services = [
        ServiceLine(r["code"], r["name"], by_service.get(r["id"], Line()), r["waiting"])
        for r in await conn.fetch(SERVICES, hall_id, day)
    ]
    return Day(day, [hours[h] for h in HOURS], services, total, sum(s.waiting for s in services))
