"""投诉 over HTTP (CONTRACT §10): POST /api/complaints, with no log-in, from the
phone page or the kiosk; limited per client address, or per kiosk when a kiosk
sends its device token (429 with Retry-After). A token sent is judged by the route
table (`Access.OPTIONAL`: a wrong one is 401).

→ 201 {"complaint": {"id", "due_at", "follow_up", "key"?}}: `follow_up` is the
case it opened; `key` is given only when the complaint names no ticket — the
citizen's proof for rating the handling later (with a ticket, its key does).
"""

from __future__ import annotations

from aiohttp import web

from clearhall.server.api.forwarded import client_address
from clearhall.server.api.routes import BODY, WHO, Access, Endpoint, ok
from clearhall.server.api.validate import Body, Field
from clearhall.server.domain import complaints
from clearhall.server.domain.tickets import local_iso
from clearhall.server.keys import DB, HALL
from clearhall.server.store.kinds import DeviceKind

COMPLAINT = Body(
    (
        Field("text", str, required=True, max_length=2000, description="what happened; 1–500 characters"
              " once spaces are tidied"),
        Field("ticket", str, max_length=64, description="the ticket it is about; needs its key"),
        Field("key", str, max_length=64, description="the ticket's key"),
        Field("window", int, minimum=1, maximum=999_999, description="the window it is about"),
        Field("contact", str, max_length=30, description="a phone number for the call-back; for supervisors"),
    )
)  # fmt: skip


async def complain(request: web.Request) -> web.Response:
    data, hall = request[BODY], request.app[HALL]
    # A kiosk sends its token and is limited as a device, not as an address.
    who = request.get(WHO)
    kiosk = who.id if who is not None and who.device_kind == DeviceKind.KIOSK else None
    filed = await complaints.file(
        request.app[DB], hall, client_address(request), complaints.Complaint(**data), kiosk
    )
    body = {"id": filed.id, "due_at": local_iso(filed.due_at, hall.timezone), "follow_up": filed.follow_up_id}
    if filed.key is not None:
        body["key"] = filed.key
    return ok({"complaint": body}, 201)


ROUTES = (
    Endpoint(
        "POST", "/api/complaints", complain,
        "投诉: a citizen's complaint, no log-in; opens a follow-up case. Limited per address",
        Access.OPTIONAL, body=COMPLAINT, status=201, tag="follow-ups", throttled=True,
    ),
)  # fmt: skip
