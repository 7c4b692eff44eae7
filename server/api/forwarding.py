"""GET /api/ratings/forwarding (supervisor, CONTRACT §7): how forwarding to the
provincial 好差评 platform stands: whether the hall forwards ([ratings.forward]
url), counts by state, the oldest item not yet delivered and its last error."""

from __future__ import annotations

from aiohttp import web

from clearhall.server.api.routes import Access, Endpoint, ok
from clearhall.server.domain.tickets import local_iso
from clearhall.server.forwarding import outbox
from clearhall.server.forwarding.payload import target_of
from clearhall.server.keys import DB, HALL


async def get_forwarding(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn:
        seen = await outbox.state(conn, hall.id)
        configured = await target_of(conn, hall.id) is not None
    oldest = seen["oldest_pending"]
    if oldest is not None:
        oldest = {
            "kind": oldest["kind"],
            "id": oldest["ref_id"],
            "idempotency_key": oldest["idempotency_key"],
            "attempts": oldest["attempts"],
            "last_error": oldest["last_error"],
            "created_at": local_iso(oldest["created_at"], hall.timezone),
            "next_attempt_at": local_iso(oldest["next_attempt_at"], hall.timezone),
        }
    return ok({"configured": configured, "counts": seen["counts"], "oldest_pending": oldest})


ROUTES = (
    Endpoint(
        "GET", "/api/ratings/forwarding", get_forwarding,
        "Forwarding to the provincial 好差评 platform: counts by state, the oldest pending item",
        Access.SUPERVISOR, tag="ratings",
    ),
)  # fmt: skip
