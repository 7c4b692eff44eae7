"""Reading the action log: GET /api/audit-log, for supervisors only (CONTRACT §3).

Newest first, filtered by action, window, ticket number or hall-local date,
paged with ?before=<id>. Rows are never changed, so a page once read stays true.
"""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

from aiohttp import web
from clearhall.server.api import errors
from clearhall.server.api.routes import REGISTRY, SUPERVISOR
from clearhall.server.domain import auth
from clearhall.server.keys import DB, HALL

READ_LOG = """
SELECT id, at, actor_kind, actor_name, window_number AS window, ticket_number, action, reason,
       rule_ticket_number, details
FROM action_log
WHERE hall_id = $1
  AND ($2::bigint IS NULL OR id < $2)
  AND ($3::text IS NULL OR action = $3)
  AND ($4::int IS NULL OR window_number = $4)
  AND ($5::text IS NULL OR ticket_number = $5)
  AND ($6::date IS NULL OR (at AT TIME ZONE $7)::date = $6)
ORDER BY id DESC
LIMIT $8
"""


def _query_int(request: web.Request, name: str, low: int, high: int) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise errors.invalid(
            f"参数 {name} 应为 {low}–{high} 的整数 ({name} must be an integer {low}–{high})", name
        )
    return int(raw)


async def get_audit_log(request: web.Request) -> web.Response:
    """The action log, newest first, for supervisors: ?limit ?before ?action ?window ?ticket ?date."""
    hall = request.app[HALL]
    p = await auth.authenticate(request.app[DB], hall.id, request)
    auth.require_staff(p, *auth.SUPERVISORS)
    limit = _query_int(request, "limit", 1, 500) or 100
    before = _query_int(request, "before", 1, 2**62)
    window = _query_int(request, "window", 1, 999_999)
    action = request.query.get("action") or None
    ticket = request.query.get("ticket") or None
    for name, value in (("action", action), ("ticket", ticket)):
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_]{1,32}", value):
            raise errors.invalid(f"参数 {name} 格式不正确 ({name} has the wrong format)", name)
    day = None
    if request.query.get("date"):
        try:
            day = date.fromisoformat(request.query["date"])
        except ValueError:
            raise errors.invalid("参数 date 应为 YYYY-MM-DD (date must be YYYY-MM-DD)", "date") from None
    async with request.app[DB].acquire() as conn:
        rows = await conn.fetch(READ_LOG, hall.id, before, action, window, ticket, day, hall.timezone, limit)
    tz = ZoneInfo(hall.timezone)
    entries = [dict(r) | {"at": r["at"].astimezone(tz).isoformat(timespec="seconds")} for r in rows]
    return web.json_response({"entries": entries, "next_before": entries[-1]["id"] if entries else None})


REGISTRY.add(
    "GET", "/api/audit-log", get_audit_log, access=SUPERVISOR, tag="audit",
    summary="The action log, newest first: who, where, which ticket, what, why, and the rule's choice",
    query=("limit", "before", "action", "window", "ticket", "date"),
)  # fmt: skip
