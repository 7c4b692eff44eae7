"""How a ticket is issued (取号, CONTRACT §4): one use case, one transaction.

`take` is a kiosk's or the counter's request whole: a booking code's try
counted, then `issue` in one transaction with what must commit with the
ticket (its print job, the phone kept for SMS alerts), or a retried
Idempotency-Key's first answer. The HTTP handler only shapes the answer.

The ticket is one statement (`issuing_sql.ISSUE`: checks, kiosk count, number,
ticket, log row, event, place in line), in a transaction with what follows it,
or alone when nothing does. Numbers are per service per hall-local day,
gapless and unique: the counter row is bumped in that statement only when the
ticket is inserted, so a refused or rolled-back issue leaves no hole. Per-ID
limits are checked under a transaction lock on the ID's hash, so two kiosks
cannot both let the same ID past the limit. The
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

import contextlib
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
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
from clearhall.server.domain.hall import Guide, Hall
from clearhall.server.domain.idcard import (
    id_problem,
    keyed_hash,
    mask,
    mask_phone,
    normalise_id,
    normalise_phone,
    phone_problem,
)
from clearhall.server.domain.issuing_sql import SERVICE_FOR_ISSUE, issue_sql
from clearhall.server.domain.tickets import TICKET_COLUMNS, Ticket, estimate, lock_key, place_in_line
from clearhall.server.store.db import Connection, committing_transaction
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
    guide: Guide = field(default_factory=Guide)  # its service's 一次性告知, for the receipt
    read: Any = None  # what the caller's `read` found, in the ticket's own statement (`issue`)


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
    read: str | None = None,
    alone: bool = False,
) -> tuple[int, dict[str, Any], bool]:
    """取号 as a kiosk or the counter asks for it: a booking code's try counted first,
    then `issue` (with `then`, `read` and `alone`) in one transaction, answered as `answer`
    shapes it; or, for a retried key, the first answer. Returns (status, answer, replayed)."""
    if order.appointment is not None:
        async with pool.acquire() as conn:
            await count_code_try(conn, hall, actor, order)

    async def run(conn: Connection) -> tuple[int, dict[str, Any]]:
        issued = await issue(conn, hall, secret, actor, order, base_url, then=then, read=read, alone=alone)
        return 201, answer(issued)

    key = request.retry_key
    return await idempotency.once(pool, request.credential, "issue", key, run, one_statement=alone)


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


@dataclass(frozen=True)
class Person:
    """Who a ticket is for, as stored: keyed hashes and masks (all None for a walk-in)."""

    id_hash: bytes | None = None
    id_masked: str | None = None
    phone_hash: bytes | None = None
    phone_masked: str | None = None
    proxy_hash: bytes | None = None
    proxy_masked: str | None = None

    @classmethod
    def of(cls, secret: bytes, order: Order) -> Person:
        """The order's ID numbers and phone checked, or 400."""
        id_hash = id_masked = phone_hash = phone_masked = proxy_hash = proxy_masked = None
        if order.id_number is not None:
            id_hash, id_masked = proven_id(secret, order.id_number, "id_number")
        if order.proxy_id_number is not None:
            if id_hash is None:
                raise errors.invalid(booking_texts.PROXY_NEEDS_APPLICANT, "id_number")
            proxy_hash, proxy_masked = proven_id(secret, order.proxy_id_number, "proxy_id_number")
            if proxy_hash == id_hash:
                raise errors.invalid(booking_texts.PROXY_IS_APPLICANT, "proxy_id_number")
        if order.phone is not None:
            problem = phone_problem(order.phone)
            if problem:
                raise errors.invalid(problem, "phone")
            phone = normalise_phone(order.phone)
            phone_hash, phone_masked = keyed_hash(secret, "phone", phone), mask_phone(phone)
        return cls(id_hash, id_masked, phone_hash, phone_masked, proxy_hash, proxy_masked)


async def issue(
    conn: Connection,
    hall: Hall,
    secret: bytes,
    actor: action_log.Actor,
    order: Order,
    base_url: str,
    *,
    then: Callable[[Connection, Issued], Awaitable[object]] | None = None,
    read: str | None = None,
    alone: bool = False,
) -> Issued:
    """Issue a ticket in one transaction: limits, number, ticket, log, event.

    `then` runs inside the same transaction once the ticket exists (the print
    job of a kiosk with a printer), so both commit or neither does. `read` (a
    query of one row at most, $1 the hall and $2 the issuing device) is read
    in the ticket's own statement: `Issued.read`, as JSON. With `alone`, outside
    a transaction, a ticket with no ID number and no booking is issued by that
    one statement, when `read` finds nothing (then `then` is not run).
    """
    person = Person.of(secret, order)
    try:
        if alone and order.appointment is None and person.id_hash is None and not conn.is_in_transaction():
            made = await _issue(conn, hall, actor, order, base_url, person, read=read, alone=True)
            if made is not None:
                return made[0]
        return await _issue_in_transaction(conn, hall, actor, order, base_url, person, then=then, read=read)
    except errors.DomainError:
        # a kiosk past its tickets a minute hears that first, whatever else was wrong
        if actor.kind == ActorKind.DEVICE and actor.id is not None:
            over = await throttle.kiosk_over(conn, hall.id, hall.kiosk_tickets_per_minute, actor.id)
            if over is not None:
                raise over from None
        raise


async def _issue_in_transaction(
    conn: Connection,
    hall: Hall,
    actor: action_log.Actor,
    order: Order,
    base_url: str,
    person: Person,
    *,
    then: Callable[[Connection, Issued], Awaitable[object]] | None,
    read: str | None,
) -> Issued:
    own = not conn.is_in_transaction()
    async with committing_transaction(conn) if own else contextlib.nullcontext():
        booked, service = None, order.service
        if order.appointment is not None:  # 预约: its code checks it in (or, with walk_in, is set aside)
            booked = await checkin.by_code(conn, hall, order.appointment, service, walk_in=order.walk_in)
            service = booked.service_code
        elif person.id_hash is not None and not order.walk_in and service is not None:
            svc = await conn.fetchrow(SERVICE_FOR_ISSUE, hall.id, service)  # so does its ID number
            if svc is not None and svc["appointments"]:
                booked = await checkin.by_id(conn, hall, svc["id"], person.id_hash)
        if booked is not None:
            person = replace(
                person, id_hash=booked.id_hash, id_masked=booked.id_masked,
                phone_hash=person.phone_hash or booked.phone_hash,
                phone_masked=person.phone_masked or booked.phone_masked,
            )  # fmt: skip
        if person.id_hash is not None:  # serialise tickets of the same ID number: its limits
            await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key(person.id_hash))
        made = await _issue(
            conn, hall, actor, replace(order, service=service), base_url, person, read=read, booked=booked
        )
        assert made is not None  # not alone: issued, or refused (raised)
        issued, takes_bookings = made
        if booked is not None:  # checked in, or its holder came for an ordinary ticket
            await checkin.checked_in(conn, booked.id, issued.ticket.id)
        elif order.walk_in and person.id_hash is not None and takes_bookings:
            await checkin.walked_in(conn, hall, issued.ticket.service_id, person.id_hash, issued.ticket.id)
        if then is not None:
            await then(conn, issued)
    return issued


async def _issue(
    conn: Connection,
    hall: Hall,
    actor: action_log.Actor,
    order: Order,
    base_url: str,
    person: Person,
    *,
    read: str | None,
    alone: bool = False,
    booked: checkin.Claimed | None = None,
) -> tuple[Issued, bool] | None:
    """The ticket's statement: (the ticket, whether its service takes bookings); None when
    `alone` and `read` found something; a refusal raised as the first check that fails says."""
    category = Category.APPOINTMENT if booked is not None and not order.walk_in else order.category
    kiosk = actor.id if actor.kind == ActorKind.DEVICE else None
    moment = datetime.now(UTC)
    closed = kiosk is not None and category != Category.APPOINTMENT and not hours.is_open(hall, moment)
    rule = throttle.kiosk_rule(hall.kiosk_tickets_per_minute) if kiosk is not None else None
    details: dict[str, Any] = {"service": order.service, "category": category}
    details["real_name"] = person.id_hash is not None
    if booked is not None:
        details["appointment"] = booked.id
    if person.proxy_masked is not None:
        details["proxy"] = person.proxy_masked
    ticket_id, key = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
    row = await conn.fetchrow(
        issue_sql(read),
        hall.id, kiosk, actor.id if actor.kind == ActorKind.STAFF else None, ticket_id, order.service,
        hall.timezone, category, category in CALLED_FIRST, hashlib.sha256(key.encode()).digest(),
        person.id_hash, person.id_masked, person.phone_hash, person.phone_masked, person.proxy_hash,
        person.proxy_masked, closed, hall.refuses_unstaffed, str(kiosk) if rule else None,
        rule.every if rule else None, rule.burst if rule else None, hall.daily_tickets_per_id,
        actor.kind, actor.id, actor.name, details, events.CHANNEL,
        events.envelope(hall.id, events.TICKET_ISSUED), alone,
    )  # fmt: skip
    assert row is not None  # one row, whatever happened
    if row["id"] is None:
        if alone and row["kiosk"] is not None:
            return None  # something is to follow the ticket: in a transaction, then
        raise await refusal(conn, hall, actor, order, person, row, moment)
    ticket, ahead = Ticket.from_row(row), row["ahead"]
    wait = estimate(ahead, row) if row["load_id"] is not None else None
    issued = Issued(
        ticket, key, phone_url(base_url, ticket.id, key), ahead, wait, unstaffed=not row["served_now"],
        guide=Guide(tuple(row["materials"]), row["place"]), read=row["kiosk"],
    )  # fmt: skip
    return issued, row["appointments"]


async def refusal(
    conn: Connection,
    hall: Hall,
    actor: action_log.Actor,
    order: Order,
    person: Person,
    row: Any,
    at: datetime,
) -> errors.DomainError:
    """Why the ticket's statement issued nothing: the first of its checks that failed."""
    if row["svc_id"] is None:
        if order.service is None:
            return errors.invalid(messages.MISSING_FIELD(field="service"), "service")
        return errors.invalid(messages.UNKNOWN_SERVICE(service=order.service), "service")
    if row["closed"]:
        return hours.refused(hall, at)  # outside hours: 409 closed, unless 延时服务
    if not row["served_now"] and hall.refuses_unstaffed:
        return errors.conflict(messages.UNSTAFFED_SERVICE)
    if row["real_name_required"] and person.id_hash is None:
        return errors.invalid(messages.NEEDS_REAL_NAME(service=row["svc_name"]), "id_number")
    if row["held"] is not None:
        standing = await standing_of(conn, hall, row["held"], asker=actor)
        return errors.DomainError(errors.LIMIT_EXCEEDED, messages.OPEN_TICKET_FOR_ID, ticket=standing)
    if person.id_hash is not None and row["taken"] >= hall.daily_tickets_per_id:
        limit = hall.daily_tickets_per_id
        return errors.limit_exceeded(messages.DAILY_LIMIT_FOR_ID(taken=row["taken"], limit=limit))
    return throttle.refused(messages.KIOSK_TOO_FAST, 1)  # the kiosk's count, just now (`issue` says)


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
