"""延时服务 and 帮代办 over HTTP (CONTRACT §12).

Extended hours: anyone may read the sessions in force (the hall screen and the
kiosks show them); staff open one for their windows' services, supervisors for
any (`POST /api/extended-hours {"services", "until"}`), and either may end one
early. Registered proxies: supervisors list, add and remove them; the ID
number goes in once and is only ever shown masked. Rules: `domain/hours.py`,
`domain/proxies.py`.
"""

from __future__ import annotations

from aiohttp import web

from clearhall.server.api.routes import BODY, WHO, Access, Endpoint, ok, path_number
from clearhall.server.api.validate import Body, Field
from clearhall.server.domain import booking_texts, errors, hours, proxies
from clearhall.server.keys import DB, HALL, SECRET

MOST_ID = 2**31 - 1
EXTEND = Body(
    (
        Field("services", list, required=True, max_length=2, max_items=50, description="service codes"),
        Field("until", str, required=True, max_length=40, description='"HH:MM" today (hall time) or ISO'),
    )
)
PROXY = Body(
    (
        Field("name", str, required=True, max_length=40),
        Field("id_number", str, required=True, max_length=40),
        Field("note", str, max_length=80, description="e.g. 大厅帮办代办窗口, or the agency"),
    )
)


async def list_sessions(request: web.Request) -> web.Response:
    async with request.app[DB].acquire() as conn:
        return ok({"extended": await hours.sessions(conn, request.app[HALL])})


async def open_session(request: web.Request) -> web.Response:
    body = request[BODY]
    async with request.app[DB].acquire() as conn:
        session = await hours.extend(conn, request.app[HALL], request[WHO], body["services"], body["until"])
    return ok({"session": session}, 201)


async def end_session(request: web.Request) -> web.Response:
    number = path_number(request, "id", MOST_ID)
    if number is None:
        raise errors.not_found(booking_texts.NO_SESSION)
    async with request.app[DB].acquire() as conn:
        await hours.end(conn, request.app[HALL], request[WHO], number)
    return ok({"ended": number})


async def list_proxies(request: web.Request) -> web.Response:
    async with request.app[DB].acquire() as conn:
        return ok({"proxies": await proxies.listing(conn, request.app[HALL])})


async def add_proxy(request: web.Request) -> web.Response:
    b, hall = request[BODY], request.app[HALL]
    async with request.app[DB].acquire() as conn:
        added = await proxies.add(
            conn, hall, request.app[SECRET], request[WHO], b["name"], b["id_number"], b.get("note")
        )
    return ok({"proxy": added}, 201)


async def remove_proxy(request: web.Request) -> web.Response:
    number = path_number(request, "id", MOST_ID)
    if number is None:
        raise errors.not_found(booking_texts.NO_PROXY)
    async with request.app[DB].acquire() as conn:
        await proxies.remove(conn, request.app[HALL], request[WHO], number)
    return ok({"removed": number})


ROUTES = (
    Endpoint("GET", "/api/extended-hours", list_sessions,
             "延时服务 sessions in force: kiosks issue for their services outside the hall's hours",
             Access.PUBLIC),
    Endpoint(
        "POST", "/api/extended-hours", open_session,
        "Open 延时服务 for services until a time (staff: their windows' services; supervisors: any);"
        " logged and pushed to every screen (hours.changed)", Access.STAFF, body=EXTEND, status=201,
    ),
    Endpoint("DELETE", r"/api/extended-hours/{id:\d+}", end_session, "End a 延时服务 session early; logged",
             Access.STAFF),
    Endpoint("GET", "/api/proxies", list_proxies, "Registered 帮代办 proxies (ID numbers masked)",
             Access.SUPERVISOR, tag="supervision"),
    Endpoint("POST", "/api/proxies", add_proxy, "Register a 帮代办 proxy; logged", Access.SUPERVISOR,
             body=PROXY, status=201, tag="supervision"),
    Endpoint("DELETE", r"/api/proxies/{id:\d+}", remove_proxy, "Remove a registered proxy; logged",
             Access.SUPERVISOR, tag="supervision"),
)  # fmt: skip
