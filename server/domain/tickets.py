"""Tickets (CONTRACT §4): issuing numbers, reading them, and what a citizen sees.

Numbers are per service per hall-local day, gapless and unique: the counter
row is bumped in the same transaction as the ticket insert, so a rolled-back
issue leaves no hole. Per-ID limits are checked under a transaction lock on the
ID's hash, so two kiosks cannot both let the same ID past the limit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from clearhall.server.api import errors
from clearhall.server.domain import action_log as audit
from clearhall.server.domain import events
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.idcard import id_problem, keyed_hash, mask, normalise_id, phone_problem

GREEN_CHANNEL = ("elderly", "disabled", "pregnant", "military")
CATEGORIES = ("normal", *GREEN_CHANNEL, "enterprise")
UNFINISHED = ("waiting", "called", "serving", "suspended")


@dataclass(frozen=True)
class Ticket:
    id: str
    number: str
    service: str
    service_name: str
    category: str
    priority: bool
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

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Ticket:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


# Every query that returns tickets selects these, from tickets t.
TICKET_COLUMNS = """
    t.id, t.number, s.code AS service, s.name AS service_name, t.category, t.priority,
    t.status, t.issued_at, t.order_at, t.service_id,
    (SELECT w.number FROM windows w WHERE w.id = t.window_id) AS window, t.staff_id,
    (SELECT st.name FROM staff st WHERE st.id = t.staff_id) AS staff_name, t.issued_by_device,
    t.called_at, t.started_at, t.finished_at, t.id_masked, t.phone_masked, t.missing
"""


@dataclass(frozen=True)
class Issued:
    ticket: Ticket
    key: str
    ahead: int
    estimated_wait_s: int | None


SERVICE_FOR_ISSUE = """
SELECT id, code, name, real_name_required FROM services
WHERE hall_id = $1 AND code = $2 AND active
"""

OPEN_FOR_ID = """
SELECT 1 FROM tickets
WHERE service_id = $1 AND id_hash = $2 AND status = ANY($3::text[])
"""

TODAY_FOR_ID = """
SELECT count(*) FROM tickets
WHERE hall_id = $1 AND id_hash = $2 AND day = (now() AT TIME ZONE $3)::date
"""

# -- take the next number of this service today (creates the day's counter)
# -- and insert the ticket with it, in one statement
ISSUE = f"""
WITH counter AS (
    INSERT INTO ticket_counters (hall_id, service_id, day, last)
    VALUES ($2, $3, (now() AT TIME ZONE $4)::date, 1)
    ON CONFLICT (service_id, day) DO UPDATE SET last = ticket_counters.last + 1
    RETURNING day, last
), t AS (
    INSERT INTO tickets (id, hall_id, service_id, first_service_id, day, seq, number, category,
                         priority, status, order_at, key_hash, id_hash, id_masked, phone_hash,
                         phone_masked, issued_by_device, issued_by_staff)
    SELECT $1, $2, $3, $3, counter.day, counter.last,
           $5 || CASE WHEN counter.last < 1000 THEN lpad(counter.last::text, 3, '0')
                      ELSE counter.last::text END,
           $6, $7, 'waiting', now(), $8, $9, $10, $11, $12, $13, $14
    FROM counter
    RETURNING *
)
SELECT {TICKET_COLUMNS} FROM t JOIN services s ON s.id = t.service_id
"""

# -- waiting tickets of the same service that call-next would reach first
AHEAD = """
SELECT count(*) FROM tickets
WHERE hall_id = $1 AND service_id = $2 AND status = 'waiting'
  AND (priority > $3 OR (priority = $3 AND (order_at, id) < ($4, $5)))
"""

# -- per service: waiting count, mean handling time of its last 20 tickets
# -- finished in the past 3 hours, and how many open windows serve it now
SERVICE_LOAD = """
SELECT s.id, s.code, s.name,
       (SELECT count(*) FROM tickets t
         WHERE t.hall_id = s.hall_id AND t.service_id = s.id AND t.status = 'waiting') AS waiting,
       (SELECT avg(extract(epoch FROM r.finished_at - r.called_at)) FROM (
            SELECT finished_at, called_at FROM tickets t
            WHERE t.service_id = s.id AND t.status = 'done'
              AND t.finished_at > now() - interval '3 hours' AND t.called_at IS NOT NULL
            ORDER BY t.finished_at DESC LIMIT 20) r) AS mean_handling_s,
       (SELECT count(*) FROM windows w JOIN window_services ws ON ws.window_id = w.id
         WHERE ws.service_id = s.id AND w.active AND w.staff_id IS NOT NULL
           AND NOT w.paused) AS open_windows
FROM services s
WHERE s.hall_id = $1 AND s.active AND ($2::int IS NULL OR s.id = $2)
ORDER BY s.position, s.code
"""


def estimate(ahead: int, mean_handling_s: float | None, open_windows: int) -> int | None:
    """Seconds until called: people ahead × recent mean handling time ÷ open windows.

    None without recent history or without an open window: no made-up figure.
    """
    if mean_handling_s is None or open_windows == 0:
        return None
    return round(ahead * float(mean_handling_s) / open_windows)


async def service_load(
    conn: asyncpg.Connection, hall_id: int, service_id: int | None = None
) -> list[asyncpg.Record]:
    return list(await conn.fetch(SERVICE_LOAD, hall_id, service_id))


async def place_in_line(conn: asyncpg.Connection, hall_id: int, t: Ticket) -> tuple[int, int | None]:
    """(ahead, estimated_wait_s) of a ticket; (0, None) once it is no longer waiting."""
    if t.status != "waiting":
        return 0, None
    ahead: int = await conn.fetchval(AHEAD, hall_id, t.service_id, t.priority, t.order_at, t.id)
    load = await service_load(conn, hall_id, t.service_id)
    if not load:
        return ahead, None
    return ahead, estimate(ahead, load[0]["mean_handling_s"], load[0]["open_windows"])


def lock_key(digest: bytes) -> int:
    return int.from_bytes(digest[:8], "big", signed=True)


async def issue(
    conn: asyncpg.Connection,
    hall: Hall,
    secret: bytes,
    actor: audit.Actor,
    *,
    service: str,
    category: str = "normal",
    id_number: str | None = None,
    phone: str | None = None,
) -> Issued:
    """Issue a ticket in one transaction: limits, number, ticket, log."""
    id_hash = id_masked = phone_hash = phone_masked = None
    if id_number is not None:
        id_number = normalise_id(id_number)
        problem = id_problem(id_number)
        if problem:
            raise errors.invalid(problem, "id_number")
        id_hash, id_masked = keyed_hash(secret, "id", id_number), mask(id_number)
    if phone is not None:
        problem = phone_problem(phone)
        if problem:
            raise errors.invalid(problem, "phone")
        phone_hash, phone_masked = keyed_hash(secret, "phone", phone.strip()), mask(phone.strip())

    ticket_id = secrets.token_urlsafe(16)
    key = secrets.token_urlsafe(24)
    async with conn.transaction():
        svc = await conn.fetchrow(SERVICE_FOR_ISSUE, hall.id, service)
        if svc is None:
            raise errors.invalid(f"未知业务 {service} (unknown service '{service}')", "service")
        if svc["real_name_required"] and id_hash is None:
            raise errors.invalid(
                f"{svc['name']}需要实名取号，请提供身份证号 (this service needs an ID number)",
                "id_number",
            )
        if id_hash is not None:
            # Serialise tickets of the same ID number, then check its limits.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key(id_hash))
            if await conn.fetchval(OPEN_FOR_ID, svc["id"], id_hash, list(UNFINISHED)):
                raise errors.ApiError(
                    409,
                    errors.LIMIT_EXCEEDED,
                    "此身份证号在该业务已有未办结的号 (this ID already holds an unfinished ticket here)",
                )
            taken = await conn.fetchval(TODAY_FOR_ID, hall.id, id_hash, hall.timezone)
            if taken >= hall.daily_tickets_per_id:
                raise errors.ApiError(
                    409,
                    errors.LIMIT_EXCEEDED,
                    f"此身份证号今日已取 {taken} 个号，达到上限 "
                    f"(this ID has reached today's limit of {hall.daily_tickets_per_id} tickets)",
                )
        row = await conn.fetchrow(
            ISSUE,
            ticket_id, hall.id, svc["id"], hall.timezone, svc["code"], category,
            category in GREEN_CHANNEL, hashlib.sha256(key.encode()).digest(), id_hash, id_masked,
            phone_hash, phone_masked,
            actor.id if actor.kind == "device" else None,
            actor.id if actor.kind == "staff" else None,
        )  # fmt: skip
        ticket = Ticket.from_row(row)
        await audit.record(
            conn, hall.id, actor, "issue", ticket_id=ticket.id, ticket_number=ticket.number,
            details={"service": ticket.service, "category": category, "real_name": id_hash is not None},
        )  # fmt: skip
        await events.publish(
            conn, "ticket.issued", hall.id,
            ticket={"number": ticket.number, "service": ticket.service, "category": category},
        )  # fmt: skip
        ahead, wait = await place_in_line(conn, hall.id, ticket)
    return Issued(ticket, key, ahead, wait)


SELECT_TICKET = f"""
SELECT {TICKET_COLUMNS}, t.key_hash
FROM tickets t JOIN services s ON s.id = t.service_id
WHERE t.id = $1 AND t.hall_id = $2
"""


async def fetch(conn: asyncpg.Connection, hall_id: int, ticket_id: str) -> tuple[Ticket, bytes] | None:
    """A ticket and its key's hash; None for an unknown id (ids are 22 characters)."""
    if len(ticket_id) > 64:
        return None
    row = await conn.fetchrow(SELECT_TICKET, ticket_id, hall_id)
    return (Ticket.from_row(row), row["key_hash"]) if row else None


def key_matches(key_hash: bytes, key: str) -> bool:
    return secrets.compare_digest(key_hash, hashlib.sha256(key.encode()).digest())


def local_iso(value: datetime | None, tz: str) -> str | None:
    return value.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds") if value else None


def ticket_json(
    t: Ticket, hall: Hall, *, ahead: int = 0, wait: int | None = None, for_caller: bool = False
) -> dict[str, Any]:
    """T as the API shows it. `for_caller`: the staff who called it may see the masks."""
    out: dict[str, Any] = {
        "id": t.id,
        "number": t.number,
        "service": t.service,
        "service_name": t.service_name,
        "category": t.category,
        "green_channel": t.priority,
        "status": t.status,
        "issued_at": local_iso(t.issued_at, hall.timezone),
        "ahead": ahead,
        "estimated_wait_s": wait,
        "window": t.window,
        "called_at": local_iso(t.called_at, hall.timezone),
        "started_at": local_iso(t.started_at, hall.timezone),
        "finished_at": local_iso(t.finished_at, hall.timezone),
    }
    if t.status == "suspended":
        out["missing"] = t.missing or []
    if for_caller:
        out["id_masked"] = t.id_masked
        out["phone_masked"] = t.phone_masked
    return out
