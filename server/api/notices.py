"""Integrity notices over HTTP (清廉知识上屏), for supervisors."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from clearhall.server.api.routes import BODY, WHO, Access, Endpoint, ok, path_number
from clearhall.server.api.shapes import notice_json
from clearhall.server.api.validate import Body, Field
from clearhall.server.domain import errors, messages, notices
from clearhall.server.keys import DB, HALL

DATE = r"\d{4}-\d{2}-\d{2}"
NOTICE = Body(
    (
        Field("title", str, required=True, max_length=60),
        Field("body", str, required=True, max_length=1000),
        Field("starts_on", str, pattern=DATE, max_length=10, description="first day shown, YYYY-MM-DD"),
        Field("ends_on", str, pattern=DATE, max_length=10, description="last day shown, YYYY-MM-DD"),
        Field("position", int, minimum=0, maximum=10_000, description="smaller first"),
    )
)


def draft(data: dict[str, Any]) -> notices.Draft:
    days: dict[str, date | None] = {}
    for key in ("starts_on", "ends_on"):
        try:
            days[key] = date.fromisoformat(data[key]) if data.get(key) else None
        except ValueError:
            raise errors.invalid(messages.NOT_A_DATE(field=key), key) from None
    return notices.Draft(data["title"], data["body"], position=data.get("position", 0), **days)


def notice_id(request: web.Request) -> int:
    value = path_number(request, "id", 2**31 - 1)
    if value is None:
        raise errors.not_found(messages.NO_NOTICE)
    return value


async def list_notices(request: web.Request) -> web.Response:
    async with request.app[DB].acquire() as conn:
        found = await notices.all_notices(conn, request.app[HALL])
    return ok({"notices": [notice_json(n) for n in found]})


async def create_notice(request: web.Request) -> web.Response:
    notice = await notices.create(request.app[DB], request.app[HALL], request[WHO], draft(request[BODY]))
    return ok({"notice": notice_json(notice)}, 201)


async def update_notice(request: web.Request) -> web.Response:
    notice = await notices.update(
        request.app[DB], request.app[HALL], request[WHO], notice_id(request), draft(request[BODY])
    )
    return ok({"notice": notice_json(notice)})


async def delete_notice(request: web.Request) -> web.Response:
    await notices.delete(request.app[DB], request.app[HALL], request[WHO], notice_id(request))
    return ok({"ok": True})


ONE = r"/api/notices/{id:\d+}"
ROUTES = (
    Endpoint(
        "GET", "/api/notices", list_notices, "All integrity notices, scheduled or not",
        Access.SUPERVISOR, tag="notices",
    ),
    Endpoint(
        "POST", "/api/notices", create_notice, "Add an integrity notice (清廉知识上屏)",
        Access.SUPERVISOR, body=NOTICE, status=201, tag="notices",
    ),
    Endpoint(
        "PUT", ONE, update_notice, "Change a notice: text, dates, order",
        Access.SUPERVISOR, body=NOTICE, tag="notices",
    ),
    Endpoint("DELETE", ONE, delete_notice, "Remove a notice", Access.SUPERVISOR, tag="notices"),
)  # fmt: skip
