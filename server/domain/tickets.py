"""Tickets (CONTRACT §4): the Ticket, reading one, and its place in line.

Issuing is `issuing`; calling is `calling`; every other move is `window_calls`.
Every query that returns tickets selects TICKET_COLUMNS and maps the row in
`Ticket.from_row`, the one place a ticket row becomes a Ticket.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg

from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import TicketStatus


@dataclass(frozen=True)
class Ticket:
    id: str
    number: str
    service: str
    service_name: str
    category: str
    green_channel: bool  # 绿色通道 (elderly, disabled, pregnant, military)
    called_first: bool  # the tickets.priority column: green channel or a checked-in appointment
    status: str
    issued_at: datetime
    order_at: datetime
    service_id: int
    window: int | None
    staff_id: int | None  # who called it
    staff_name: str | None
    issued_by_device: int | None
    called_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    id_masked: str | None
    phone_masked: str | None
    missing: list[str] | None
    proxy_masked: str | None  # 帮代办: the masked ID number of who took it for the applicant

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Ticket:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


# Every query that returns tickets selects these, from tickets t.
TICKET_COLUMNS = """
    t.id, t.number, s.code AS service, s.name AS service_name, t.category,
    (t.priority AND t.category <> 'appointment') AS green_channel, t.priority AS called_first,
    t.status, t.issued_at, t.order_at, t.service_id,
    (SELECT w.number FROM windows w WHERE w.id = t.window_id) AS window, t.staff_id,
    (SELECT st.name FROM staff st WHERE st.id = t.staff_id) AS staff_name, t.issued_by_device,
    t.called_at, t.started_at, t.finished_at, t.id_masked, t.phone_masked, t.missing,
    t.proxy_id_masked AS proxy_masked
"""


# -- waiting tickets of the same service that call-next would reach first
AHEAD = """
SELECT count(*) FROM tickets
WHERE hall_id = $1 AND service_id = $2 AND status = 'waiting'
  AND (priority > $3 OR (priority = $3 AND (order_at, id) < ($4, $5)))
"""

# How the wait is estimated (docs/ordering.md): recent handling times once
# there are enough of them, else the service's typical time from the hall file.
RECENT_FINISHES = 20  # at most this many of the newest finished tickets …
RECENT_HOURS = 2  # … finished within this many hours
MIN_HISTORY = 5  # fewer recent finishes than this is not yet history
FLOOR_S = 60  # no service is handled in under a minute, whatever a burst of quick finishes says

# -- per service: waiting count; the median handling time (call to finish) of
# -- its newest finished tickets and how many there are; its typical time from
# -- the hall file (a third of its time limit when not given); and the staffed
# -- windows that serve it, unpaused and all
SERVICE_LOAD = f"""
SELECT s.id, s.code, s.name,
       (SELECT count(*) FROM tickets t
         WHERE t.hall_id = s.hall_id AND t.service_id = s.id AND t.status = 'waiting') AS waiting,
       r.finished AS recent_finishes, r.median_s AS recent_median_s,
       coalesce(s.typical_minutes * 60.0, s.time_limit_minutes * 60.0 / 3) AS typical_s,
       w.open_windows, w.staffed_windows
FROM services s
CROSS JOIN LATERAL (
    SELECT count(*) AS finished,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY d.handling_s) AS median_s
    FROM (SELECT extract(epoch FROM t.finished_at - t.called_at) AS handling_s FROM tickets t
          WHERE t.service_id = s.id AND t.status = 'done' AND t.called_at IS NOT NULL
            AND t.finished_at > now() - interval '{RECENT_HOURS} hours'
          ORDER BY t.finished_at DESC LIMIT {RECENT_FINISHES}) d
) r
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE NOT w.paused) AS open_windows, count(*) AS staffed_windows
    FROM windows w JOIN window_services ws ON ws.window_id = w.id
    WHERE ws.service_id = s.id AND w.active AND w.staff_id IS NOT NULL
) w
WHERE s.hall_id = $1 AND s.active AND ($2::int IS NULL OR s.id = $2)
ORDER BY s.position, s.code
"""


def handling_s(load: asyncpg.Record) -> float:
    """One ticket's handling time at this service, as the estimate takes it.

    The median of recent finishes (a few quick or slow ones do not move it),
    never under a minute; until there are MIN_HISTORY of them, the typical
    time from the hall file.
    """
    if load["recent_finishes"] < MIN_HISTORY or load["recent_median_s"] is None:
        return float(load["typical_s"])
    return max(float(load["recent_median_s"]), FLOOR_S)


def estimate(ahead: int, load: asyncpg.Record) -> int | None:
    """Seconds until called: people ahead × handling time ÷ the windows serving the service.

    Only staffed windows count, unpaused ones while there are any (a paused
    window is on a break and will call again). None only when no staffed window
    serves the service: then nobody knows when it will be called.
    """
    windows = load["open_windows"] or load["staffed_windows"]
    if windows == 0:
        return None
    return round(ahead * handling_s(load) / windows)


async def service_load(conn: Connection, hall_id: int, service_id: int | None = None) -> list[asyncpg.Record]:
    return list(await conn.fetch(SERVICE_LOAD, hall_id, service_id))


async def place_in_line(conn: Connection, hall_id: int, t: Ticket) -> tuple[int, int | None]:
    """(ahead, estimated_wait_s) of a ticket; (0, None) once it is no longer waiting."""
    if t.status != TicketStatus.WAITING:
        return 0, None
    ahead: int = await conn.fetchval(AHEAD, hall_id, t.service_id, t.called_first, t.order_at, t.id)
    load = await service_load(conn, hall_id, t.service_id)
    if not load:
        return ahead, None
    return ahead, estimate(ahead, load[0])


@dataclass(frozen=True)
class Place:
    """Where a ticket stands, as its citizen's socket is told (`ticket.place`)."""

    number: str
    status: str
    ahead: int
    estimated_wait_s: int | None
    window: int | None

    def json(self) -> dict[str, object]:
        return {
            "number": self.number, "status": self.status, "ahead": self.ahead,
            "estimated_wait_s": self.estimated_wait_s, "window": self.window,
        }  # fmt: skip


# -- every service's load (SERVICE_LOAD, $2 NULL); the tickets asked for; each
# -- waiting ticket of their services numbered in call-next's order (AHEAD counts
# -- the same: higher priority first, then (order_at, id)), from 0 at the front
PLACES = f"""
WITH load AS ({SERVICE_LOAD}),
mine AS (
    SELECT t.id, t.number, t.status, t.service_id,
           (SELECT w.number FROM windows w WHERE w.id = t.window_id) AS window
    FROM tickets t WHERE t.hall_id = $1 AND t.id = ANY($3::text[])
), line AS (
    SELECT t.id, row_number() OVER (PARTITION BY t.service_id
                                    ORDER BY t.priority DESC, t.order_at, t.id) - 1 AS ahead
    FROM tickets t
    WHERE t.hall_id = $1 AND t.status = 'waiting'
      AND t.service_id IN (SELECT service_id FROM mine WHERE status = 'waiting')
)
SELECT m.id, m.number, m.status, m.window, line.ahead, load.id AS load_id,
       load.recent_finishes, load.recent_median_s, load.typical_s, load.open_windows, load.staffed_windows
FROM mine m
LEFT JOIN line ON line.id = m.id
LEFT JOIN load ON load.id = m.service_id
"""


async def places_in_line(conn: Connection, hall_id: int, ticket_ids: Collection[str]) -> dict[str, Place]:
    """`place_in_line` of many tickets at once, in one query, with its answers: by ticket id
    (an unknown id is left out); a ticket no longer waiting stands 0 ahead, no wait."""
    places = {}
    for r in await conn.fetch(PLACES, hall_id, None, list(ticket_ids)):
        if r["status"] != TicketStatus.WAITING:
            ahead, wait = 0, None
        else:
            ahead = r["ahead"]
            wait = None if r["load_id"] is None else estimate(ahead, r)
        places[r["id"]] = Place(r["number"], r["status"], ahead, wait, r["window"])
    return places


def lock_key(digest: bytes) -> int:
    return int.from_bytes(digest[:8], "big", signed=True)


SELECT_TICKET = f"""
SELECT {TICKET_COLUMNS}, t.key_hash
FROM tickets t JOIN services s ON s.id = t.service_id
WHERE t.id = $1 AND t.hall_id = $2
"""


async def fetch(conn: Connection, hall_id: int, ticket_id: str) -> tuple[Ticket, bytes] | None:
    """A ticket and its key's hash; None for an unknown id (ids are 22 characters)."""
    if len(ticket_id) > 64:
        return None
    row = await conn.fetchrow(SELECT_TICKET, ticket_id, hall_id)
    return (Ticket.from_row(row), row["key_hash"]) if row else None


def key_matches(key_hash: bytes, key: str) -> bool:
    return secrets.compare_digest(key_hash, hashlib.sha256(key.encode()).digest())


def local_iso(value: datetime | None, tz: str) -> str | None:
    return value.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds") if value else None
