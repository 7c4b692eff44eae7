"""预约 over HTTP (CONTRACT §12): slots, booking, cancelling, today's bookings.

Public, with no log-in: the services and days open for booking, a service's
slots, booking (`POST /api/appointments`, limited per address and per ID
number), and one booking proven by its code (`?code=`): read, its QR (an SVG of
the booking page's address, which a kiosk's scanner types back), cancel.
Supervisors read the day's bookings slot by slot. Rules:
`domain/appointments.py`; what is shown: `domain/appointment_views.py`.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
import qrcode.image.svg
from aiohttp import web

from clearhall.server.api.forwarded import client_address
from clearhall.server.api.query import query_date
from clearhall.server.api.routes import BODY, Access, Endpoint, ok
from clearhall.server.api.validate import Body, Field
from clearhall.server.domain import appointment_views, appointments, checkin
from clearhall.server.domain.appointments import Booking
from clearhall.server.domain.tickets import local_iso
from clearhall.server.keys import DB, HALL, SECRET

BOOK = Body(
    (
        Field("service", str, required=True, max_length=2, pattern=r"[A-Z]{1,2}",
              description="a service that takes bookings (GET /api/appointments/services)"),
        Field("slot", str, required=True, max_length=40,
              description="the slot's start, as GET /api/appointments/slots gives it (ISO 8601)"),
        Field("id_number", str, required=True, max_length=40,
              description="18-character resident ID (GB 11643); full-width digits and spaces are fine"),
        Field("phone", str, required=True, max_length=20, description="11-digit mobile number"),
    )
)  # fmt: skip


def base_url(request: web.Request) -> str:
    return request.app[HALL].public_url or f"{request.scheme}://{request.host}"


async def list_services(request: web.Request) -> web.Response:
    async with request.app[DB].acquire() as conn:
        return ok(await appointment_views.services(conn, request.app[HALL]))


async def list_slots(request: web.Request) -> web.Response:
    day = query_date(request, "day")
    service = request.query.get("service", "")
    async with request.app[DB].acquire() as conn:
        return ok(await appointment_views.slot_list(conn, request.app[HALL], service, day))


async def day_summary(request: web.Request) -> web.Response:
    day = query_date(request, "day")
    async with request.app[DB].acquire() as conn:
        return ok(await appointment_views.today(conn, request.app[HALL], day))


async def book(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn:
        address = client_address(request)
        booked = await appointments.book(
            conn, hall, request.app[SECRET], address, Booking(**request[BODY]), base_url(request)
        )
    body = {
        "id": booked.id, "code": booked.code, "service": booked.service,
        "slot": local_iso(booked.slot, hall.timezone), "slot_end": local_iso(booked.slot_end, hall.timezone),
        "url": booked.url,
    }  # fmt: skip
    return ok({"appointment": body}, 201)


async def read(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn:
        row = await appointments.proven(
            conn, hall, client_address(request), request.match_info["id"], request.query.get("code")
        )
        return ok({"appointment": await appointment_views.holder(conn, hall, row)})


async def cancel(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn:
        row = await appointments.cancel(
            conn, hall, client_address(request), request.match_info["id"], request.query.get("code")
        )
        return ok({"appointment": await appointment_views.holder(conn, hall, row)})


def qr_svg(text: str) -> bytes:
    """`text` as a QR code, an SVG drawn as one path (black on the page's white)."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=2,
        image_factory=qrcode.image.svg.SvgPathImage,
    )
    code.add_data(text)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue()


async def qr(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    code = request.query.get("code")
    async with request.app[DB].acquire() as conn:
        row = await appointments.proven(conn, hall, client_address(request), request.match_info["id"], code)
    url = appointments.booking_url(base_url(request), row["id"], checkin.normalise_code(code or ""))
    return web.Response(
        body=qr_svg(url), content_type="image/svg+xml", headers={"Cache-Control": "private, no-store"}
    )


ROUTES = (
    Endpoint("GET", "/api/appointments/services", list_services,
             "预约: the services that take bookings, their materials, and the days open for booking with"
             " places left", Access.PUBLIC, tag="appointments"),
    Endpoint("GET", "/api/appointments/slots", list_slots,
             "预约: a service's slots on a day (default today) that can be booked now, with places left",
             Access.PUBLIC, tag="appointments", query=("service", "day")),
    Endpoint("GET", "/api/appointments/today", day_summary,
             "预约: the day's (default today's) bookings per service and slot: booked, arrived, no-shows,"
             " cancelled, capacity", Access.SUPERVISOR, tag="appointments", query=("day",)),
    Endpoint("POST", "/api/appointments", book,
             "预约: book a slot with an ID number and a phone; one per person per service per day. Limited"
             " per address and per ID number", Access.PUBLIC, body=BOOK, status=201, tag="appointments",
             throttled=True),
    Endpoint("GET", "/api/appointments/{id}", read,
             "One booking, to the holder of its code: slot, status, check-in window, what to bring",
             Access.PUBLIC, tag="appointments", query=("code",), throttled=True),
    Endpoint("GET", "/api/appointments/{id}/qr", qr,
             "A booking's QR code (SVG): the booking page's address with its code",
             Access.PUBLIC, tag="appointments", query=("code",), throttled=True),
    Endpoint("DELETE", "/api/appointments/{id}", cancel,
             "Cancel a booking (with its code) until cancel_before_minutes before the slot; the place is"
             " given back", Access.PUBLIC, tag="appointments", query=("code",), throttled=True),
)  # fmt: skip
