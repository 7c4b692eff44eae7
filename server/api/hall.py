"""The hall as anyone may read it: health, the calling rule, services and hours, the queue."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from clearhall.server.api.routes import Access, Endpoint, ok
from clearhall.server.domain import hall as halls
from clearhall.server.domain import hours, views
from clearhall.server.keys import DB, HALL
from clearhall.server.store.kinds import ASKABLE


async def healthz(request: web.Request) -> web.Response:
    async with request.app[DB].acquire() as conn:
        await conn.fetchval("SELECT 1")
    return ok({"ok": True})


async def get_policy(request: web.Request) -> web.Response:
    return ok({"policy": views.policy(request.app[HALL])})


async def get_services(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn:
        rows = await halls.services(conn, hall)
        extended = await hours.sessions(conn, hall)
    moment = datetime.now(UTC)
    reopens = hours.next_opening(hall, moment)
    return ok(
        {
            "services": [dict(r) for r in rows],
            "categories": list(ASKABLE),
            "hall": {
                "name": hall.name,
                # open today at this hour (its calendar counted); kiosks issue outside
                # hours only for services under 延时服务, listed in `extended`
                "open_now": hours.is_open(hall, moment),
                "opens": reopens.astimezone(ZoneInfo(hall.timezone)).isoformat() if reopens else None,
                "extended": extended,
                "hours": f"{hall.opens_at:%H:%M}–{hall.closes_at:%H:%M}",
                # the screens show the hall's time from this clock, not the browser's
                "timezone": hall.timezone,
                "now": datetime.now(ZoneInfo(hall.timezone)).isoformat(timespec="milliseconds"),
            },
        }
    )


async def get_queue(request: web.Request) -> web.Response:
    async with request.app[DB].acquire() as conn:
        return ok(await views.queue_state(conn, request.app[HALL]))


ROUTES = (
    Endpoint("GET", "/healthz", healthz, "200 once the database answers", Access.PUBLIC, tag="ops"),
    Endpoint("GET", "/api/policy", get_policy, "The calling rule in force, in words", Access.PUBLIC),
    Endpoint("GET", "/api/services", get_services, "Services, hours, the hall's clock", Access.PUBLIC),
    Endpoint("GET", "/api/queue", get_queue, "Waiting lines, windows, recent calls, notices", Access.PUBLIC),
)
