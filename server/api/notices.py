"""清廉知识上屏: the integrity notices on the hall screens, managed by supervisors.

A notice shows from `starts_on` to `ends_on` (hall-local dates, both optional
and inclusive), in `position` order. Every change is logged and pushed to the
screens as `notice.changed`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
from aiohttp import web
from clearhall.server.api import errors
from clearhall.server.api.routes import REGISTRY, SUPERVISOR
from clearhall.server.api.validate import Body, Field, read_body
from clearhall.server.domain import action_log as audit
from clearhall.server.domain import auth, events
from clearhall.server.domain.hall import Hall
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

COLUMNS = "id, title, body, starts_on, ends_on, position"


def notice_json(row: asyncpg.Record) -> dict[str, Any]:
    out = dict(row)
    for key in ("starts_on", "ends_on"):
        out[key] = out[key].isoformat() if out[key] else None
    return out


def dates(data: dict[str, Any]) -> tuple[date | None, date | None]:
    parsed = []
    for key in ("starts_on", "ends_on"):
        try:
            parsed.append(date.fromisoformat(data[key]) if data.get(key) else None)
        except ValueError:
            raise errors.invalid(f"{key} 不是有效日期 ({key} is not a date)", key) from None
    starts, ends = parsed
    if starts and ends and ends < starts:
        raise errors.invalid("结束日期早于开始日期 (ends_on is before starts_on)", "ends_on")
    return starts, ends


async def supervisor(request: web.Request) -> auth.Principal:
    p = await auth.authenticate(request.app[DB], request.app[HALL].id, request)
    auth.require_staff(p, *auth.SUPERVISORS)
    return p


def notice_id(request: web.Request) -> int:
    value = int(request.match_info["id"])
    if value > 2**31 - 1:
        raise errors.not_found("没有这条公告 (no such notice)")
    return value


async def changed(conn: asyncpg.Connection, hall: Hall, p: auth.Principal, what: str, row: Any) -> None:
    await audit.record(
        conn, hall.id, p.actor, f"notice_{what}", details={"notice": row["id"], "title": row["title"]}
    )
    await events.publish(conn, "notice.changed", hall.id, notice=row["id"])


async def list_notices(request: web.Request) -> web.Response:
    await supervisor(request)
    async with request.app[DB].acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {COLUMNS} FROM notices WHERE hall_id = $1 ORDER BY position, id", request.app[HALL].id
        )
    return web.json_response({"notices": [notice_json(r) for r in rows]})


async def create_notice(request: web.Request) -> web.Response:
    p = await supervisor(request)
    data = await read_body(request, NOTICE)
    starts, ends = dates(data)
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            f"""INSERT INTO notices (hall_id, title, body, starts_on, ends_on, position)
                VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}""",
            hall.id, data["title"], data["body"], starts, ends, data.get("position", 0),
        )  # fmt: skip
        await changed(conn, hall, p, "create", row)
    return web.json_response({"notice": notice_json(row)}, status=201)


async def update_notice(request: web.Request) -> web.Response:
    p = await supervisor(request)
    data = await read_body(request, NOTICE)
    starts, ends = dates(data)
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            f"""UPDATE notices SET title = $3, body = $4, starts_on = $5, ends_on = $6, position = $7
                WHERE hall_id = $1 AND id = $2 RETURNING {COLUMNS}""",
            hall.id, notice_id(request), data["title"], data["body"], starts, ends, data.get("position", 0),
        )  # fmt: skip
        if row is None:
            raise errors.not_found("没有这条公告 (no such notice)")
        await changed(conn, hall, p, "update", row)
    return web.json_response({"notice": notice_json(row)})


async def delete_notice(request: web.Request) -> web.Response:
    p = await supervisor(request)
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            f"DELETE FROM notices WHERE hall_id = $1 AND id = $2 RETURNING {COLUMNS}",
            hall.id,
            notice_id(request),
        )
        if row is None:
            raise errors.not_found("没有这条公告 (no such notice)")
        await changed(conn, hall, p, "delete", row)
    return web.json_response({"ok": True})


ONE = r"/api/notices/{id:\d+}"
REGISTRY.add(
    "GET",
    "/api/notices",
    list_notices,
    summary="All integrity notices, scheduled or not",
    access=SUPERVISOR,
    tag="notices",
)
REGISTRY.add(
    "POST",
    "/api/notices",
    create_notice,
    summary="Add an integrity notice (清廉知识上屏)",
    access=SUPERVISOR,
    body=NOTICE,
    status=201,
    tag="notices",
)
REGISTRY.add(
    "PUT",
    ONE,
    update_notice,
    summary="Change a notice: text, dates, order",
    access=SUPERVISOR,
    body=NOTICE,
    tag="notices",
)
REGISTRY.add("DELETE", ONE, delete_notice, summary="Remove a notice", access=SUPERVISOR, tag="notices")
