"""The day by the hour for supervisors (the dashboard's charts and the wall
screen): GET /api/stats/hourly?day=YYYY-MM-DD (hall-local, default today) →
tickets issued, called, finished and missed, and the average and 90th-percentile
wait, per hall-local hour, per service and for the day (domain/hourly.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from clearhall.server.api.query import query_date
from clearhall.server.api.routes import Access, Endpoint, ok
from clearhall.server.domain import hourly
from clearhall.server.domain.hall import Hall
from clearhall.server.keys import HALL, READ_DB


def line_json(line: hourly.Line) -> dict[str, Any]:
    return {
        "issued": line.issued,
        "called": line.called,
        "finished": line.finished,
        "no_show": line.no_show,
        "avg_wait_s": line.avg_wait_s,
        "p90_wait_s": line.p90_wait_s,
    }


def day_json(d: hourly.Day, hall: Hall) -> dict[str, Any]:
    return {
        "day": d.day.isoformat(),
        "timezone": hall.timezone,
        "opens_at": f"{hall.opens_at:%H:%M}",  # the hours a chart of the day shows at least
        "closes_at": f"{hall.closes_at:%H:%M}",
        "hours": [{"hour": h} | line_json(line) for h, line in enumerate(d.hours)],
        "services": [
            {"code": s.code, "name": s.name} | line_json(s.line) | {"waiting": s.waiting} for s in d.services
        ],
        "total": line_json(d.total) | {"waiting": d.waiting},
    }


async def get_hourly(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    day = query_date(request, "day") or datetime.now(ZoneInfo(hall.timezone)).date()
    found = await request.app[READ_DB].run(hourly.day_by_hour, hall.id, hall.timezone, day)  # may lag
    return ok(day_json(found, hall))


ROUTES = (
    Endpoint(
        "GET", "/api/stats/hourly", get_hourly,
        "One hall-local day (default today) by the hour and by service: tickets issued, called, finished"
        " and missed, average and 90th-percentile wait (issue to call)",
        Access.SUPERVISOR, tag="supervision", query=("day",),
    ),
)  # fmt: skip
