"""好差评 (CONTRACT §7): one rating per finished ticket, tied to its service,
window and staff member, given by the citizen (with the ticket's key) or by
the rating pad of the window where it was finished. Staff can never rate.

Scores: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意. A 1 or 2 is a bad
rating (差评) and opens a follow-up case due within FOLLOW_UP_DAYS.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from clearhall.server.api import errors
from clearhall.server.api.routes import PUBLIC, REGISTRY
from clearhall.server.api.validate import Body, Field, read_body
from clearhall.server.domain import action_log as audit
from clearhall.server.domain import auth, events, tickets
from clearhall.server.domain.auth import Principal
from clearhall.server.keys import DB, HALL

DIMENSIONS = ("attitude", "efficiency", "professionalism", "integrity")
SCORE_WORDS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
FOLLOW_UP_DAYS = 3

RATING = Body(
    (
        Field("ticket", str, required=True, max_length=64),
        Field(
            "key", str, max_length=64, description="the ticket's key; not needed from the window's rating pad"
        ),
        Field("score", int, required=True, minimum=1, maximum=5),
        Field("dimensions", dict, keys=DIMENSIONS, minimum=1, maximum=5),
        Field("comment", str, max_length=500),
    )
)

TICKET_FOR_RATING = """
SELECT t.id, t.number, t.status, t.service_id, t.window_id, t.staff_id, t.key_hash
FROM tickets t WHERE t.id = $1 AND t.hall_id = $2
FOR UPDATE
"""

INSERT_RATING = """
INSERT INTO ratings (hall_id, ticket_id, service_id, window_id, staff_id, score, dimensions, comment, source)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (ticket_id) DO NOTHING
RETURNING id, ticket_id, score, dimensions, comment, source, created_at
"""


async def rater(request: web.Request, data: dict[str, Any]) -> Principal | None:
    """None for a citizen (judged by the key later), else the rating pad. Staff: 403."""
    if auth.bearer(request) is None:
        if "key" not in data:
            raise errors.unauthorized("需要号票凭证 (the ticket's key is required)")
        return None
    p = await auth.authenticate(request.app[DB], request.app[HALL].id, request)
    if p.kind != "device" or p.device_kind != "rating":
        raise errors.forbidden(
            "只有群众或窗口评价器可以评价 (only the citizen or the window's rating pad may rate)"
        )
    return p


async def rate(request: web.Request) -> web.Response:
    data = await read_body(request, RATING)  # the body carries the credential (the key)
    pad = await rater(request, data)
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn, conn.transaction():
        t = await conn.fetchrow(TICKET_FOR_RATING, data["ticket"], hall.id)
        if t is None:
            raise errors.not_found("没有这个号 (no such ticket)")
        if pad is None and not tickets.key_matches(t["key_hash"], data["key"]):
            raise errors.unauthorized("凭证不正确 (the ticket key is wrong)")
        if pad is not None and pad.window_id != t["window_id"]:
            raise errors.forbidden("这个号不是在本窗口办结的 (this ticket was not finished at this window)")
        if t["status"] != "done":
            raise errors.conflict("只有已办结的号可以评价 (only a finished ticket can be rated)")
        row = await conn.fetchrow(
            INSERT_RATING,
            hall.id, t["id"], t["service_id"], t["window_id"], t["staff_id"], data["score"],
            data.get("dimensions", {}), data.get("comment"), "pad" if pad else "citizen",
        )  # fmt: skip
        if row is None:
            raise errors.conflict("这个号已经评价过了 (this ticket has already been rated)")
        if data["score"] <= 2:
            await conn.execute(
                "INSERT INTO follow_ups (hall_id, rating_id, due_at)"
                " VALUES ($1, $2, now() + make_interval(days => $3))",
                hall.id, row["id"], FOLLOW_UP_DAYS,
            )  # fmt: skip
        actor = pad.actor if pad else audit.Actor("citizen", None, "群众")
        await audit.record(
            conn, hall.id, actor, "rate", ticket_id=t["id"], ticket_number=t["number"],
            details={"score": data["score"], "source": "pad" if pad else "citizen"},
        )  # fmt: skip
        window = await conn.fetchval("SELECT number FROM windows WHERE id = $1", t["window_id"])
        await events.publish(conn, "rating.received", hall.id, window=window, score=data["score"])
    rating = dict(row)
    rating["created_at"] = tickets.local_iso(rating["created_at"], hall.timezone)
    rating["words"] = SCORE_WORDS[rating["score"]]
    rating["follow_up"] = data["score"] <= 2
    return web.json_response({"rating": rating}, status=201)


REGISTRY.add(
    "POST", "/api/ratings", rate, access=PUBLIC,
    summary="好差评: rate a finished ticket once (the citizen's key, or the window's pad)",
    body=RATING, status=201, tag="ratings",
)  # fmt: skip
