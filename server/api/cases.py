"""办件编号 over HTTP (CONTRACT §7): POST /api/tickets/{id}/case-number, by the
staff member who served the ticket or a supervisor, once it is finished. The
number may also come with `finish` (see server/domain/case_numbers.py)."""

from __future__ import annotations

from aiohttp import web

from clearhall.server.api.routes import BODY, WHO, Access, Endpoint, ok
from clearhall.server.api.validate import Body, Field
from clearhall.server.domain import case_numbers
from clearhall.server.keys import DB, HALL

CASE_NUMBER = Body(
    (
        Field(
            "case_number", str, required=True, max_length=100,
            description="the case's number in the provincial approval system: letters, digits, . _ / -"
            " (full-width ones are read as ASCII), at most 64",
        ),
    )
)  # fmt: skip


async def give_case_number(request: web.Request) -> web.Response:
    ticket_id = request.match_info["id"]
    number, case_number = await case_numbers.give(
        request.app[DB], request.app[HALL], request[WHO], ticket_id, request[BODY]["case_number"]
    )
    return ok({"ticket": {"id": ticket_id, "number": number, "case_number": case_number}})


ROUTES = (
    Endpoint(
        "POST", "/api/tickets/{id}/case-number", give_case_number,
        "办件编号: the finished ticket's case number in the provincial approval system (the staff member"
        " who served it, or a supervisor); its rating carries it",
        Access.STAFF, body=CASE_NUMBER, tag="tickets",
    ),
)  # fmt: skip
