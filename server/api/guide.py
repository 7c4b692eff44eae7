"""呼叫导办 over HTTP: a kiosk calls the guide desk; supervisors see and answer the calls."""

from __future__ import annotations

from aiohttp import web

from clearhall.server.api.routes import BODY, WHO, Access, Endpoint, ok
from clearhall.server.api.validate import EMPTY, Body, Field
from clearhall.server.domain import guide
from clearhall.server.keys import DB, HALL

CALL = Body((Field("screen", str, choices=guide.SCREENS, description="where the citizen was at the kiosk"),))


async def call_guide(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn:
        made = await guide.call(conn, hall, request[WHO].actor, request[BODY].get("screen"))
    return ok({"call": made.json(hall.timezone)}, 201)


async def list_calls(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn:
        calls = await guide.open_calls(conn, hall)
    return ok({"calls": [c.json(hall.timezone) for c in calls]})


async def answer_call(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn:
        done = await guide.answer(conn, hall, request[WHO].actor, request.match_info["id"])
    return ok({"call": done.json(hall.timezone) | {"answered_by": done.answered_by}})


ROUTES = (
    Endpoint(
        "POST", "/api/guide-calls", call_guide,
        "呼叫导办 A citizen at this kiosk asks for a guide (kiosks only); supervisors get guide.called",
        Access.KIOSK, body=CALL, status=201, tag="kiosk", throttled=True,
    ),
    Endpoint(
        "GET", "/api/guide-calls", list_calls, "Today's guide calls nobody has answered yet, newest first",
        Access.SUPERVISOR, tag="kiosk",
    ),
    Endpoint(
        "POST", "/api/guide-calls/{id}/answer", answer_call,
        "A supervisor takes care of a guide call: logged, and guide.answered drops it from every dashboard",
        Access.SUPERVISOR, body=EMPTY, tag="kiosk",
    ),
)  # fmt: skip
