"""The integrity signals' evidence: a `Signal`, the rows that raised it, and reading them.

A signal (docs/supervision.md, "Integrity signals") carries the rows that raised
it — tickets, ratings or action-log entries — so a supervisor can check every
one. What rows show of a person: an applicant is named only by `ref`, the first
12 hex digits of the keyed hash of the ID (or phone) number the ticket was
taken with (tickets.id_hash, phone_hash). The hash is keyed by the
installation's secret, so the ref tells nobody the number, and the same ref
in two signals is the same person. No ID number, phone number or mask
(`id_masked`, which only the staff member who called a ticket sees) is ever
read here. Staff members are named (username and name): they are who
supervision is about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

import asyncpg

from clearhall.server.domain.text import Text
from clearhall.server.store.db import Connection

MOST_ROWS: Final = 100  # rows listed per signal; `rows_total` says how many there were


def ref(keyed_hash: bytes | None) -> str | None:
    """An applicant's (or a phone's) name in signals: never the number, never its mask."""
    return keyed_hash.hex()[:12] if keyed_hash else None


@dataclass(frozen=True)
class TicketRow:
    number: str
    service: str
    day: date
    status: str
    issued_at: datetime
    called_at: datetime | None
    finished_at: datetime | None
    window: int | None
    staff: str | None  # username of who called it
    staff_name: str | None
    issued_by: str | None  # the kiosk's device name, or the staff member's name
    applicant: str | None  # ref of the ID number it was taken with
    phone: str | None  # ref of the phone number
    proxy: str | None = None  # ref of the ID number of who took it for the applicant (帮代办)


@dataclass(frozen=True)
class RatingRow:
    ticket: str  # its number
    service: str
    window: int | None
    staff: str | None
    staff_name: str | None
    score: int
    channel: str
    finished_at: datetime | None
    rated_at: datetime
    next_visit: str | None  # a visit that ended at the window between the finish and the rating


@dataclass(frozen=True)
class LogRow:
    id: int
    at: datetime
    action: str
    window: int | None
    ticket: str | None
    reason: str | None
    rule_ticket: str | None  # what call-next would have called


Row = TicketRow | RatingRow | LogRow


@dataclass(frozen=True)
class Signal:
    kind: str  # scalping | collusion | rating_pattern | peer_outlier
    rule: str  # the rule within the kind that raised it
    first: date  # the hall-local days its rows span
    last: date
    about: dict[str, Any]  # who or what it is about
    figures: dict[str, Any]  # what was measured
    thresholds: dict[str, Any]  # the hall file's lines it crossed
    why: Text
    rows: Sequence[Row] = field(default_factory=tuple)
    rows_total: int = 0


def joined(*parts: Text) -> Text:
    return Text("".join(p.zh for p in parts), "".join(p.en for p in parts))


def percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def number(value: float) -> str:
    """3, 2.5: a figure as a sentence says it."""
    return f"{value:g}" if value != int(value) else str(int(value))


# -- tickets by id, with where, by whom and from where they were issued
TICKET_ROWS = """
SELECT t.number, s.code AS service, t.day, t.status, t.issued_at, t.called_at, t.finished_at,
       w.number AS window, st.username AS staff, st.name AS staff_name,
       coalesce(d.name, issuer.name) AS issued_by, t.id_hash, t.phone_hash, t.proxy_id_hash
FROM tickets t
JOIN services s ON s.id = t.service_id
LEFT JOIN windows w ON w.id = t.window_id
LEFT JOIN staff st ON st.id = t.staff_id
LEFT JOIN devices d ON d.id = t.issued_by_device
LEFT JOIN staff issuer ON issuer.id = t.issued_by_staff
WHERE t.hall_id = $1 AND t.id = ANY($2::text[])
ORDER BY t.issued_at, t.id
"""


async def ticket_rows(conn: Connection, hall_id: int, ids: Sequence[str]) -> list[TicketRow]:
    rows = await conn.fetch(TICKET_ROWS, hall_id, list(ids[:MOST_ROWS]))
    return [
        TicketRow(
            **{k: r[k] for k in TicketRow.__dataclass_fields__ if k not in ("applicant", "phone", "proxy")},
            applicant=ref(r["id_hash"]),
            phone=ref(r["phone_hash"]),
            proxy=ref(r["proxy_id_hash"]),
        )
        for r in rows
    ]


# Every query that returns ratings as evidence selects these (and next_visit).
RATING_COLUMNS = """
    t.number AS ticket, s.code AS service, w.number AS window, st.username AS staff,
    st.name AS staff_name, r.score, r.channel, t.finished_at, r.created_at AS rated_at
"""
RATING_JOINS = """
JOIN tickets t ON t.id = r.ticket_id
JOIN services s ON s.id = r.service_id
LEFT JOIN windows w ON w.id = r.window_id
LEFT JOIN staff st ON st.id = r.staff_id
"""
RATING_ROWS = f"""
SELECT {RATING_COLUMNS}, NULL AS next_visit FROM ratings r {RATING_JOINS}
WHERE r.hall_id = $1 AND r.id = ANY($2::bigint[])
ORDER BY r.created_at, r.id
"""


def rating_row(r: asyncpg.Record) -> RatingRow:
    return RatingRow(**{k: r[k] for k in RatingRow.__dataclass_fields__})


async def rating_rows(conn: Connection, hall_id: int, ids: Sequence[int]) -> list[RatingRow]:
    return [rating_row(r) for r in await conn.fetch(RATING_ROWS, hall_id, list(ids[:MOST_ROWS]))]


def log_row(r: asyncpg.Record) -> LogRow:
    return LogRow(**{k: r[k] for k in LogRow.__dataclass_fields__})


def busiest_span(
    events: Sequence[tuple[date, Any, Any]], days: int, first: date
) -> tuple[int, list[tuple[date, Any, Any]]]:
    """The `days`-long span of days ending on a day of an event on or after `first`
    that holds the most distinct keys: (how many, its events). `events` are
    (day, key, item) sorted by day; a later span wins a tie."""
    best: tuple[int, list[tuple[date, Any, Any]]] = (0, [])
    for end in sorted({e[0] for e in events if e[0] >= first}):
        inside = [e for e in events if end - timedelta(days=days - 1) <= e[0] <= end]
        count = len({e[1] for e in inside})
        if count >= best[0]:
            best = (count, inside)
    return best
