"""The action log for supervisors (CONTRACT §3, §11): GET /api/audit-log reads
it, newest first, filtered by action, window, ticket number or hall-local date,
paged with ?before=<id>; GET /api/audit/verify recomputes its SHA-256 chain.
"""

from __future__ import annotations

from aiohttp import web

from clearhall.server.api.query import query_date, query_int, query_word
from clearhall.server.api.routes import Access, Endpoint, ok
from clearhall.server.api.shapes import log_entry_json
from clearhall.server.domain import action_log, integrity
from clearhall.server.keys import DB, HALL, READ_DB


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
    rows = await request.app[READ_DB].run(action_log.read, hall.id, hall.timezone, wanted)  # may lag
    entries = [log_entry_json(r, hall) for r in rows]
    return ok({"entries": entries, "next_before": entries[-1]["id"] if entries else None})


async def get_verify(request: web.Request) -> web.Response:
    """Recompute the integrity log's chain: ok, or the first changed, missing or inserted entry.
    On the primary, never a replica: the verdict is about the record as it is now."""
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
