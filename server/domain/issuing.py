"""How a ticket is issued (取号, CONTRACT §4): one use case, one transaction.

`take` is a kiosk's or the counter's request whole: a booking code's try
counted, then `issue` in one transaction with what must commit with the
ticket (its print job, the phone kept for SMS alerts), or a retried
Idempotency-Key's first answer. The HTTP handler only shapes the answer.

Numbers are per service per hall-local day, gapless and unique: the counter
row is bumped in the same statement as the ticket insert, so a rolled-back
issue leaves no hole. Per-ID limits are checked under a transaction lock on
the ID's hash, so two kiosks cannot both let the same ID past the limit. The
ticket's key exists only here and in the answer: it is stored as a hash. A
kiosk device may issue `policy.kiosk_tickets_per_minute` (counted in the
database, `throttle`); staff at the counter are not limited by it. A service
that no staffed, unpaused window serves is refused or issued with a warning,
as the hall's `policy.unstaffed_services` says.

A refused duplicate is not a dead end: the 409 for an ID number that already
holds an unfinished ticket of the service carries where that ticket stands
(`standing_of`: number, status, people ahead, wait; never its id or key), and
the kiosk may have its receipt printed again (补打) by proving the same ID
number once more (`held_ticket`, counted per kiosk and per ID number).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg

from clearhall.server.domain import (
    action_log,
    booking_texts,
    checkin,
    errors,
    events,
    hours,
    idempotency,
    messages,
    throttle,
)
from clearhall.server.domain.hall import SERVED_NOW, Hall
from clearhall.server.domain.idcard import (
    id_problem,
    keyed_hash,
    mask,
    mask_phone,
    normalise_id,
    normalise_phone,
    phone_problem,
)
from clearhall.server.domain.tickets import (
    AHEAD,
    SERVICE_LOAD,
    TICKET_COLUMNS,
    Ticket,
    estimate,
    lock_key,
    place_in_line,
)
from clearhall.server.store.db import Connection, transaction
from clearhall.server.store.kinds import CALLED_FIRST, UNFINISHED, ActorKind, Category


@dataclass(frozen=True)
class Order:
    """What a kiosk or a staff member asked for.

    `appointment`: a booking's code, to check it in (the service may then be
    left out); `walk_in`: an ordinary ticket even though the ID number has a
    booking today; `proxy_id_number`: who takes the ticket for the applicant
    (帮代办), whose `id_number` the caps count.
    """

    service: str | None = None
    category: str = Category.NORMAL
    id_number: str | None = None
    phone: str | None = None
    appointment: str | None = None
    walk_in: bool = False
    proxy_id_number: str | None = None


@dataclass(frozen=True)
class Issued:
    ticket: Ticket
    key: str
    url: str  # the phone page, with the key: printed as the receipt's QR code
    ahead: int
    estimated_wait_s: int | None
    unstaffed: bool = False  # no open window serves its service now (the hall warns, not refuses)


SERVICE_FOR_ISSUE = f"""
SELECT s.id, s.code, s.name, s.real_name_required, s.appointments, {SERVED_NOW} AS served_now
FROM services s
WHERE s.hall_id = $1 AND s.code = $2 AND s.active
"""

OPEN_FOR_ID = """
SELECT id FROM tickets
WHERE service_id = $1 AND id_hash = $2 AND status = ANY($3::text[])
ORDER BY issued_at DESC LIMIT 1
"""

# -- the unfinished ticket an ID number holds for a service (by its code)
HELD_FOR_ID = f"""
SELECT {TICKET_COLUMNS} FROM tickets t JOIN services s ON s.id = t.service_id
WHERE t.hall_id = $1 AND s.code = $2 AND t.id_hash = $3 AND t.status = ANY($4::text[])
ORDER BY t.issued_at DESC LIMIT 1
"""

SELECT_STANDING = f"""
SELECT {TICKET_COLUMNS} FROM tickets t JOIN services s ON s.id = t.service_id WHERE t.id = $1
"""

# 补打 by ID number: a citizen asks once or twice; paper is not for guessing.
REPRINTS_AT_KIOSK = throttle.Rule("held_reprint_kiosk", 6, timedelta(seconds=20))
REPRINTS_OF_ID = throttle.Rule("held_reprint_id", 3, timedelta(minutes=2))
# 预约 codes tried at one kiosk (a scan or a typed code each): a hall's queue of
# bookers checks in one by one; a burst of guesses does not get far.
CODES_AT_KIOSK = throttle.Rule("checkin_code_kiosk", 10, timedelta(seconds=6))

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
                         phone_masked, issued_by_device, issued_by_staff, proxy_id_hash, proxy_id_masked)
    SELECT $1, $2, $3, $3, counter.day, counter.last,
           $5 || CASE WHEN counter.last < 1000 THEN lpad(counter.last::text, 3, '0')
                      ELSE counter.last::text END,
           $6, $7, 'waiting', now(), $8, $9, $10, $11, $12, $13, $14, $15, $16
    FROM counter
    RETURNING *
)
SELECT {TICKET_COLUMNS} FROM t JOIN services s ON s.id = t.service_id
"""


@dataclass(frozen=True)
class Request:
    """Who asked, and the request's Idempotency-Key: a kiosk that lost the answer retries
    with the same key and gets the same ticket back, never a second one."""

    credential: str
    retry_key: str | None


async def take(
    pool: asyncpg.Pool,
    hall: Hall,
    secret: bytes,
    actor: action_log.Actor,
    order: Order,
    base_url: str,
    request: Request,
    *,
    then: Callable[[Connection, Issued], Awaitable[object]],
    answer: Callable[[Issued], dict[str, Any]],
) -> tuple[int, dict[str, Any], bool]:
    """取号 as a kiosk or the counter asks for it: a booking code's try counted first,
    then `issue` (and `then`) in one transaction, answered as `answer` shapes it; or, for
    a retried key, the first answer. Returns (status, answer, replayed)."""
    async with pool.acquire() as conn:
        await count_code_try(conn, hall, actor, order)

    async def run(conn: Connection) -> tuple[int, dict[str, Any]]:
        issued = await issue(conn, hall, secret, actor, order, base_url, then=then)
        return 201, answer(issued)

    return await idempotency.once(pool, request.credential, "issue", request.retry_key, run)


async def count_code_try(conn: Connection, hall: Hall, actor: action_log.Actor, order: Order) -> None:
    """Count a kiosk's try of a booking code, outside (before) the ticket's transaction, so
    an unknown code — a 404 that rolls the ticket back — counts too."""
    if order.appointment is not None and actor.kind == ActorKind.DEVICE:
        wait = await throttle.hit(conn, hall.id, CODES_AT_KIOSK, f"device:{actor.id}")
        if wait is not None:
            raise throttle.refused(booking_texts.TOO_MANY_CODES, wait)


def proven_id(secret: bytes, id_number: str, field: str) -> tuple[bytes, str]:
    """An ID number checked (NFKC first: a full-width digit is a digit) → (keyed hash, mask)."""
    id_number = normalise_id(id_number)
    problem = id_problem(id_number)
    if problem:
        raise errors.invalid(problem, field)
    return keyed_hash(secret, "id", id_number), mask(id_number)


def phone_url(base_url: str, ticket_id: str, key: str) -> str:
    return f"{base_url}/t/{ticket_id}?key={key}"


async def issue(
    conn: Connection,
    hall: Hall,
    secret: bytes,
    actor: action_log.Actor,
    order: Order,
    base_url: str,
    *,
    then: Callable[[Connection, Issued], Awaitable[object]] | None = None,
) -> Issued:
    """Issue a ticket in one transaction: limits, number, ticket, log, event.

    `then` runs inside the same transaction once the ticket exists (the print
    job of a kiosk with a printer), so both commit or neither does.
    """
    service, category, id_number, phone = order.service, order.category, order.id_number, order.phone
    id_hash = id_masked = phone_hash = phone_masked = proxy_hash = proxy_masked = None
    if id_number is not None:
        id_hash, id_masked = proven_id(secret, id_number, "id_number")
    if order.proxy_id_number is not None:
        if id_hash is None:
            raise errors.invalid(booking_texts.PROXY_NEEDS_APPLICANT, "id_number")
        proxy_hash, proxy_masked = proven_id(secret, order.proxy_id_number, "proxy_id_number")
        if proxy_hash == id_hash:
            raise errors.invalid(booking_texts.PROXY_IS_APPLICANT, "proxy_id_number")
    if phone is not None:
        problem = phone_problem(phone)
        if problem:
            raise errors.invalid(problem, "phone")
        phone = normalise_phone(phone)
        phone_hash, phone_masked = keyed_hash(secret, "phone", phone), mask_phone(phone)

    ticket_id = secrets.token_urlsafe(16)
    key = secrets.token_urlsafe(24)
    async with transaction(conn):
        if actor.kind == ActorKind.DEVICE and actor.id is not None:
            # A kiosk's tickets per minute (policy); a refused one rolls back uncounted.
            await throttle.kiosk_ticket(conn, hall.id, hall.kiosk_tickets_per_minute, actor.id)
        # 预约: a booking's code checks it in (or, with walk_in, gives its holder an
        # ordinary ticket); so does the ID number it was booked with, below
        booked = None
        if order.appointment is not None:
            booked = await checkin.by_code(conn, hall, order.appointment, service, walk_in=order.walk_in)
            service = booked.service_code
        if service is None:
            raise errors.invalid(messages.MISSING_FIELD(field="service"), "service")
        svc = await conn.fetchrow(SERVICE_FOR_ISSUE, hall.id, service)
        if svc is None:
            raise errors.invalid(messages.UNKNOWN_SERVICE(service=service), "service")
        if booked is None and id_hash is not None and svc["appointments"] and not order.walk_in:
            booked = await checkin.by_id(conn, hall, svc["id"], id_hash)
        if booked is not None:
            id_hash, id_masked = booked.id_hash, booked.id_masked
            phone_hash, phone_masked = phone_hash or booked.phone_hash, phone_masked or booked.phone_masked
            if not order.walk_in:
                category = Category.APPOINTMENT
        if actor.kind == ActorKind.DEVICE and category != Category.APPOINTMENT:
            await hours.kiosk_may_issue(conn, hall, svc["id"])  # outside hours: 409 closed, unless 延时服务
        if not svc["served_now"] and hall.refuses_unstaffed:
            raise errors.conflict(messages.UNSTAFFED_SERVICE)
        if svc["real_name_required"] and id_hash is None:
            raise errors.invalid(messages.NEEDS_REAL_NAME(service=svc["name"]), "id_number")
        if id_hash is not None:
            # Serialise tickets of the same ID number, then check its limits.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key(id_hash))
            held = await conn.fetchval(OPEN_FOR_ID, svc["id"], id_hash, list(UNFINISHED))
            if held is not None:
                raise errors.DomainError(
                    errors.LIMIT_EXCEEDED, messages.OPEN_TICKET_FOR_ID,
                    ticket=await standing_of(conn, hall, held, asker=actor),
                )  # fmt: skip
            taken = await conn.fetchval(TODAY_FOR_ID, hall.id, id_hash, hall.timezone)
            if taken >= hall.daily_tickets_per_id:
                raise errors.limit_exceeded(
                    messages.DAILY_LIMIT_FOR_ID(taken=taken, limit=hall.daily_tickets_per_id)
                )
        row = await conn.fetchrow(
            ISSUE,
            ticket_id, hall.id, svc["id"], hall.timezone, svc["code"], category,
            category in CALLED_FIRST, hashlib.sha256(key.encode()).digest(), id_hash, id_masked,
            phone_hash, phone_masked,
            actor.id if actor.kind == ActorKind.DEVICE else None,
            actor.id if actor.kind == ActorKind.STAFF else None,
            proxy_hash, proxy_masked,
        )  # fmt: skip
        assert row is not None  # an INSERT … RETURNING returns its row
        ticket = Ticket.from_row(row)
        if booked is not None:  # checked in, or its holder came for an ordinary ticket
            await checkin.checked_in(conn, booked.id, ticket.id)
        elif order.walk_in and id_hash is not None and svc["appointments"]:
            await checkin.walked_in(conn, hall, svc["id"], id_hash, ticket.id)
        details = {"service": ticket.service, "category": category, "real_name": id_hash is not None}
        if booked is not None:
            details["appointment"] = booked.id
        if proxy_masked is not None:
            details["proxy"] = proxy_masked
        ahead, wait = await logged_and_placed(conn, hall, actor, ticket, details)
        url = phone_url(base_url, ticket.id, key)
        issued = Issued(ticket, key, url, ahead, wait, unstaffed=not svc["served_now"])
        if then is not None:
            await then(conn, issued)
    return issued


# -- once the ticket exists, in one round trip: its log row, its event (sent on commit),
# -- and its place in line ($1–$5 as AHEAD and SERVICE_LOAD take them)
AFTER_ISSUE = f"""
WITH logged AS (
    INSERT INTO action_log (hall_id, actor_kind, actor_id, actor_name, ticket_id, ticket_number,
                            action, details)
    VALUES ($1, $6, $7, $8, $5, $9, 'issue', $10)
), told AS (
    SELECT pg_notify($11, $12)
)
SELECT ({AHEAD}) AS ahead, load.*
FROM told LEFT JOIN ({SERVICE_LOAD}) load ON true
"""


async def logged_and_placed(
    conn: Connection, hall: Hall, actor: action_log.Actor, ticket: Ticket, details: dict[str, Any]
) -> tuple[int, int | None]:
    """Log the issue, publish `ticket.issued`, and return its (ahead, estimated_wait_s),
    as `tickets.place_in_line` would."""
    event = {"number": ticket.number, "service": ticket.service, "category": ticket.category}
    row = await conn.fetchrow(
        AFTER_ISSUE,
        hall.id, ticket.service_id, ticket.called_first, ticket.order_at, ticket.id,
        actor.kind, actor.id, actor.name, ticket.number, details,
        events.CHANNEL, events.notification(hall.id, events.TICKET_ISSUED, {"ticket": event}),
    )  # fmt: skip
    assert row is not None  # one row: the notification's
    ahead: int = row["ahead"]
    return ahead, estimate(ahead, row) if row["id"] is not None else None


async def standing_of(
    conn: Connection, hall: Hall, ticket_id: str, *, asker: action_log.Actor | None = None
) -> dict[str, Any]:
    """Where a ticket stands, for the person who proved it (its ID number, phone or key).

    Number, service, status, people ahead, the wait, its window once called, what
    is missing while suspended; never its id, key or person. With `asker`,
    `reprint` says whether that caller may have its receipt printed again: the
    kiosk that issued it, or staff.
    """
    row = await conn.fetchrow(SELECT_STANDING, ticket_id)
    assert row is not None  # the caller found it in this transaction
    t = Ticket.from_row(row)
    ahead, wait = await place_in_line(conn, hall.id, t)
    out: dict[str, Any] = {
        "number": t.number, "service": t.service, "service_name": t.service_name, "category": t.category,
        "status": t.status, "ahead": ahead, "estimated_wait_s": wait, "window": t.window,
    }  # fmt: skip
    if t.status == "suspended":
        out["missing"] = t.missing or []
    if asker is not None:
        out["reprint"] = t.issued_by_device is not None and (
            asker.kind == ActorKind.STAFF or t.issued_by_device == asker.id
        )
    return out


async def held_ticket(
    conn: Connection, hall: Hall, secret: bytes, actor: action_log.Actor, service: str, id_number: str
) -> Ticket:
    """The unfinished ticket of `service` that `id_number` holds, proven again for its 补打.

    Every try is counted (per kiosk, per ID number's hash) before anything is
    looked up; 404 when the ID holds no such ticket; 409 at a kiosk that did
    not issue it (its receipt prints on the issuing kiosk's printer).
    """
    id_hash, _ = proven_id(secret, id_number, "id_number")
    for rule, subject in ((REPRINTS_AT_KIOSK, f"{actor.kind}:{actor.id}"), (REPRINTS_OF_ID, id_hash.hex())):
        wait = await throttle.hit(conn, hall.id, rule, subject)
        if wait is not None:
            raise throttle.refused(messages.REPRINT_TOO_MANY, wait)
    row = await conn.fetchrow(HELD_FOR_ID, hall.id, service, id_hash, list(UNFINISHED))
    if row is None:
        raise errors.not_found(messages.NO_HELD_TICKET)
    ticket = Ticket.from_row(row)
    if actor.kind == ActorKind.DEVICE and ticket.issued_by_device != actor.id:
        raise errors.conflict(messages.REPRINT_ELSEWHERE)
    return ticket
