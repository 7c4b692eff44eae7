"""The action log for supervisors (CONTRACT §3, §11): GET /api/audit-log reads
it, newest first, filtered by action, window, ticket number or hall-local date,
paged with ?before=<id>; GET /api/audit/verify recomputes its SHA-256 chain.
"""

from __future__ import annotations

import re
from datetime import date

from aiohttp import web

from clearhall.server.api.routes import Access, Endpoint, ascii_number, ok
from clearhall.server.api.shapes import log_entry_json
from clearhall.server.domain import action_log, errors, integrity, messages
from clearhall.server.keys import DB, HALL


def query_int(request: web.Request, name: str, low: int, high: int) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    number = ascii_number(raw, high)
    if number is None or number < low:
        raise errors.invalid(messages.QUERY_NOT_INTEGER(name=name, low=low, high=high), name)
    return number


def query_date(request: web.Request, name: str) -> date | None:
    if not request.query.get(name):
        return None
    try:
        return date.fromisoformat(request.query[name])
    except ValueError:
        raise errors.invalid(messages.QUERY_NOT_DATE(name=name), name) from None


def query_word(request: web.Request, name: str) -> str | None:
    value = request.query.get(name) or None
    if value is not None and not re.fullmatch(r"[A-Za-z0-9_]{1,32}", value):
        raise errors.invalid(messages.QUERY_WRONG_FORMAT(name=name), name)
    return value


async def get_audit_log(request: web.Request) -> web.Response:
    """The action log, newest first, for supervisors: ?limit ?before ?action ?window ?ticket ?date."""
    hall = request.app[HALL]
    wanted = action_log.Filter(
        limit=query_int(request, "limit", 1, 500) or 100,
        before=query_int(request, "before", 1, 2**62),
        action=query_word(request, "action"),
        window=query_int(request, "window", 1, 999_999),
        ticket=query_word(request, "ticket"),
        day=query_date(request, "date"),
    )
    async with request.app[DB].acquire() as conn:
        rows = await action_log.read(conn, hall.id, hall.timezone, wanted)
    entries = [log_entry_json(r, hall) for r in rows]
    return ok({"entries": entries, "next_before": entries[-1]["id"] if entries else None})


async def get_verify(request: web.Request) -> web.Response:
    """Recompute the integrity log's chain: ok, or the first changed, missing or inserted entry."""
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn:
        verdict = await integrity.verify(conn, hall.id)
    return ok(verdict.json())


ROUTES = (
    Endpoint(
        "GET", "/api/audit-log", get_audit_log,
        "The action log, newest first: who, where, which ticket, what, why, and the rule's choice",
        Access.SUPERVISOR, tag="audit", query=("limit", "before", "action", "window", "ticket", "date"),
    ),
    Endpoint(
        "GET", "/api/audit/verify", get_verify,
        "Recompute the integrity log's SHA-256 chain: ok with the head, or the first changed, missing"
        " or inserted entry",
        Access.SUPERVISOR, tag="audit",
    ),
)  # fmt: skip
