"""Tickets over HTTP: take a number (取号) and read one (CONTRACT §4); and, at a kiosk,
回队 after a suspension (`rejoin`) and 补打 of a held ticket proven by its ID number."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from clearhall.server.api.routes import BODY, WHO, Access, Endpoint, ok
from clearhall.server.api.shapes import ticket_json
from clearhall.server.api.validate import Body, Field
from clearhall.server.domain import (
    errors,
    follow_up_views,
    issuing,
    messages,
    ratings,
    rejoin,
    tickets,
)
from clearhall.server.domain import hall as halls
from clearhall.server.domain.issuing import Issued, Order
from clearhall.server.domain.tickets import local_iso
from clearhall.server.keys import DB, HALL, PRINTING, SECRET
from clearhall.server.notify import worker as notify
from clearhall.server.printing import jobs
from clearhall.server.printing.print_jobs import Pending
from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import ASKABLE

ISSUE = Body(
    (
        Field(
            "service",
            str,
            max_length=2,
            pattern=r"[A-Z]{1,2}",
            description="the service's code; may be left out when `appointment` is given",
        ),
        Field("category", str, choices=ASKABLE),
        Field(
            "id_number", str, max_length=40, description="18-character resident ID (GB 11643); spaces ignored"
        ),
        Field("phone", str, max_length=20, description="11-digit mobile number; spaces and dashes ignored"),
        Field(
            "appointment",
            str,
            max_length=300,
            description="预约: a booking's code (typed, or its QR as a scanner types it) to check it in",
        ),
        Field("walk_in", bool, description="an ordinary ticket although this ID number has a booking today"),
        Field(
            "proxy_id_number",
            str,
            max_length=40,
            description="帮代办: the ID number of who takes the ticket for the applicant (id_number)",
        ),
    )
)


async def issue_ticket(request: web.Request) -> web.Response:
    who, hall, runtime = request[WHO], request.app[HALL], request.app[PRINTING]
    order = Order(**request[BODY])
    base_url = hall.public_url or f"{request.scheme}://{request.host}"
    queued: list[Pending] = []

    async def with_ticket(conn: Connection, issued: Issued) -> None:
        # The print job commits with the ticket; printing itself waits for the commit.
        job = await jobs.queue_ticket(conn, hall, who, issued, runtime)
        if job is not None:
            queued.append(job)
        # 叫号提醒 by SMS: the phone number is kept, with the ticket, where a notifier sends
        await notify.keep_contact(conn, request.app, hall.id, issued.ticket.id, order.phone)

    def answer_of(issued: Issued) -> dict[str, Any]:
        body = ticket_json(issued.ticket, hall, ahead=issued.ahead, wait=issued.estimated_wait_s)
        if issued.unstaffed:  # no open window serves the service now (policy.unstaffed_services = "warn")
            body["unstaffed"] = True
        return {"ticket": body | {"key": issued.key, "url": issued.url}}

    request_of = issuing.Request(who.credential, request.headers.get("Idempotency-Key"))
    # Without a key, and with nothing expected to follow it, the ticket is one statement
    alone = request_of.retry_key is None and jobs.printerless(runtime, who)
    alone = alone and not notify.keeps_contact(request.app, order.phone)
    status, answer, replayed = await issuing.take(
        request.app[DB], hall, request.app[SECRET], who.actor, order, base_url, request_of,
        then=with_ticket, answer=answer_of, read=jobs.ticket_read(who), alone=alone,
    )  # fmt: skip
    if replayed:
        async with request.app[DB].acquire() as conn:
            printed = await jobs.ticket_print_status(conn, answer["ticket"]["id"])
        if printed is not None:
            answer["ticket"]["print"] = printed.json()
    elif queued:
        answer["ticket"]["print"] = (await runtime.print_now(queued[0])).json()
    return ok(answer, status)


async def get_ticket(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    key = request.query.get("key")
    async with request.app[DB].acquire() as conn:
        found = await tickets.fetch(conn, hall.id, request.match_info["id"])
        if found is None:
            raise errors.not_found(messages.NO_TICKET)
        ticket, key_hash = found
        if key is not None and not tickets.key_matches(key_hash, key):
            raise errors.unauthorized(messages.WRONG_TICKET_KEY)
        ahead, wait = await tickets.place_in_line(conn, hall.id, ticket)
        printed = await jobs.ticket_print_status(conn, ticket.id)
        guide = await halls.guide(conn, ticket.service_id)  # 一次性告知, for the phone page
        # Its citizen (the key) learns whether it is rated and how its cases stand; staff never do.
        rated = await ratings.is_rated(conn, ticket.id) if key is not None else None
        cases = await follow_up_views.for_ticket(conn, hall.id, ticket.id) if key is not None else []
    viewer = request.get(WHO)
    caller = viewer is not None and viewer.id == ticket.staff_id
    body = ticket_json(ticket, hall, ahead=ahead, wait=wait, for_caller=caller, rated=rated) | guide.json()
    if printed is not None:
        body["print"] = printed.json()  # the kiosk follows a queued print to its end
    if key is not None:  # 差评整改 and complaints: the phone offers to rate their handling
        body["follow_ups"] = [
            {"id": c["id"], "kind": c["kind"], "state": c["state"], "answered": c["answered"],
             "due_at": local_iso(c["due_at"], hall.timezone), "satisfaction": c["satisfaction"]}
            for c in cases
        ]  # fmt: skip
    return ok({"ticket": body})


REJOIN = Body(
    (
        Field("ticket", str, max_length=64, description="the ticket's id, from its receipt's QR code"),
        Field("key", str, max_length=100, description="the ticket's key, from its receipt's QR code"),
        Field("number", str, max_length=20, description="the ticket's number, e.g. A012"),
        Field("id_number", str, max_length=40, description="the ID number the ticket was taken with"),
        Field("phone", str, max_length=20, description="the phone number the ticket was taken with"),
    )
)

REPRINT_HELD = Body(
    (
        Field("service", str, required=True, max_length=2, pattern=r"[A-Z]{1,2}"),
        Field("id_number", str, required=True, max_length=40, description="the ID number, proven again"),
    )
)


async def rejoin_ticket(request: web.Request) -> web.Response:
    """回队: the proven ticket back in line (a suspended one in its old place)."""
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn:
        done = await rejoin.rejoin(
            conn, hall, request.app[SECRET], request[WHO].actor, rejoin.Proof(**request[BODY])
        )
    return ok({"ticket": done.standing, "came_back": done.came_back})


async def reprint_held(request: web.Request) -> web.Response:
    """补打 of the unfinished ticket an ID number holds, after a refused duplicate."""
    who, hall, runtime, body = request[WHO], request.app[HALL], request.app[PRINTING], request[BODY]
    async with request.app[DB].acquire() as conn:
        held = await issuing.held_ticket(
            conn, hall, request.app[SECRET], who.actor, body["service"], body["id_number"]
        )
    pending = await jobs.reprint(request.app[DB], hall, who, held.id, runtime)
    outcome = await runtime.print_now(pending)
    async with request.app[DB].acquire() as conn:
        standing = await issuing.standing_of(conn, hall, held.id)
    return ok({"ticket": standing, "print": outcome.json()}, 201)


ROUTES = (
    Endpoint(
        "POST", "/api/tickets", issue_ticket,
        "Take a number (取号); retry with the same Idempotency-Key to get the same ticket",
        Access.ISSUER, body=ISSUE, status=201, tag="tickets", headers=("Idempotency-Key",), throttled=True,
    ),
    Endpoint(
        "GET", "/api/tickets/{id}", get_ticket, "A ticket, for its citizen (?key=) or staff",
        Access.TICKET, tag="tickets", query=("key",),
    ),
    Endpoint(
        "POST", "/api/tickets/rejoin", rejoin_ticket,
        "回队 A suspended (or missed) ticket back in line, proven by its QR (ticket, key) or its number"
        " with the ID or phone number; wrong proofs are throttled",
        Access.ISSUER, body=REJOIN, tag="tickets", throttled=True,
    ),
    Endpoint(
        "POST", "/api/tickets/reprint-by-id", reprint_held,
        "补打 The receipt of the unfinished ticket an ID number holds for a service, at the kiosk that"
        " issued it; the ID number is proven again; throttled and logged",
        Access.ISSUER, body=REPRINT_HELD, status=201, tag="tickets", throttled=True,
    ),
)  # fmt: skip
