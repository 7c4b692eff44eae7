"""Staff log-in and what a staff member sees of themselves."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from clearhall.server.api.forwarded import client_address
from clearhall.server.api.routes import BODY, WHO, Access, Endpoint, ok
from clearhall.server.api.shapes import staff_json
from clearhall.server.api.validate import Body, Field
from clearhall.server.domain import auth, staff
from clearhall.server.keys import DB, HALL, SETTINGS, TOKENS

LOGIN = Body(
    (
        Field("username", str, required=True, max_length=64),
        Field("password", str, required=True, max_length=256),
    )
)


async def login(request: web.Request) -> web.Response:
    data = request[BODY]
    lifetime = timedelta(hours=request.app[SETTINGS].session_hours)
    address = client_address(request)  # behind a trusted proxy: its client's
    token, row, windows = await staff.log_in(
        request.app[DB], request.app[HALL], data["username"], data["password"], lifetime, address
    )
    return ok({"token": token, "staff": staff_json(row, windows)})


async def logout(request: web.Request) -> web.Response:
    await auth.log_out(request.app[DB], request[WHO], request.app.get(TOKENS))
    return ok({"ok": True})


async def me(request: web.Request) -> web.Response:
    async with request.app[DB].acquire() as conn:
        row, windows = await staff.me(conn, request[WHO])
    return ok({"staff": staff_json(row, windows), "window": row["window"]})


async def my_stats(request: web.Request) -> web.Response:
    async with request.app[DB].acquire() as conn:
        counts = await staff.todays_counts(conn, request.app[HALL], request[WHO])
    return ok({"stats": counts})


ROUTES = (
    Endpoint(
        "POST",
        "/api/login",
        login,
        "Staff log-in → bearer token",
        Access.PUBLIC,
        body=LOGIN,
        tag="auth",
        throttled=True,
    ),
    Endpoint("POST", "/api/logout", logout, "End this log-in", Access.STAFF, tag="auth"),
    Endpoint("GET", "/api/me", me, "The logged-in staff member and their window", Access.STAFF, tag="auth"),
    Endpoint("GET", "/api/me/stats", my_stats, "Today's own counts", Access.STAFF, tag="auth"),
)
