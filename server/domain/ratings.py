"""好差评 (CONTRACT §7): one rating per finished ticket, tied to its service,
window and staff member, given by the citizen (with the ticket's key) or by
the rating pad of the window where it was finished. Staff can never rate,
and a ticket a staff member issued at the counter and then served themselves is
rated only at the pad: its key passed through their hands. Every rating keeps
which credential issued its ticket, for the integrity signals.

Scores: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意. A 1 or 2 is a bad
rating (差评) and opens a follow-up case due within FOLLOW_UP_DAYS.

A rating closes the question everywhere at once: `rating.closed` tells the pad
of that window and the ticket's own phone, which stop asking; the score goes to
supervisors only (`rating.received`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

import asyncpg

from clearhall.server.domain import action_log, errors, events, messages, tickets
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import TicketStatus

DIMENSIONS: Final = ("attitude", "efficiency", "professionalism", "integrity")
SCORE_WORDS: Final = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
FOLLOW_UP_DAYS: Final = 3


@dataclass(frozen=True)
class Rating:
    id: int
    ticket_id: str
    score: int
    dimensions: dict[str, int]
    comment: str | None
    source: str  # pad | citizen
    created_at: datetime

    @property
    def bad(self) -> bool:
        return self.score <= 2


TICKET_FOR_RATING = """
SELECT t.id, t.number, t.status, t.service_id, t.window_id, t.staff_id, t.key_hash,
       t.issued_by_device, t.issued_by_staff
FROM tickets t WHERE t.id = $1 AND t.hall_id = $2
FOR UPDATE
"""

INSERT_RATING = """
INSERT INTO ratings (hall_id, ticket_id, service_id, window_id, staff_id, score, dimensions, comment, source,
                     issued_by_device, issued_by_staff)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (ticket_id) DO NOTHING
RETURNING id, ticket_id, score, dimensions, comment, source, created_at
"""

OPEN_FOLLOW_UP = """
INSERT INTO follow_ups (hall_id, rating_id, due_at) VALUES ($1, $2, now() + make_interval(days => $3))
"""


async def rate(
    pool: asyncpg.Pool,
    hall: Hall,
    pad: Principal | None,
    ticket_id: str,
    key: str | None,
    score: int,
    dimensions: dict[str, int],
    comment: str | None,
) -> Rating:
    """Rate a finished ticket once: by its key (`pad` None) or at the pad of its window."""
    async with pool.acquire() as conn, conn.transaction():
        t = await conn.fetchrow(TICKET_FOR_RATING, ticket_id, hall.id)
        if t is None:
            raise errors.not_found(messages.NO_TICKET)
        if pad is None and not tickets.key_matches(t["key_hash"], key or ""):
            raise errors.unauthorized(messages.WRONG_TICKET_KEY)
        if pad is not None and pad.window_id != t["window_id"]:
            raise errors.forbidden(messages.NOT_FINISHED_HERE)
        if pad is None and t["issued_by_staff"] is not None and t["issued_by_staff"] == t["staff_id"]:
            raise errors.forbidden(messages.RATE_AT_THE_PAD)
        if t["status"] != TicketStatus.DONE:
            raise errors.conflict(messages.ONLY_DONE_RATED)
        source = "pad" if pad else "citizen"
        row = await conn.fetchrow(
            INSERT_RATING,
            hall.id, t["id"], t["service_id"], t["window_id"], t["staff_id"], score, dimensions,
            comment, source, t["issued_by_device"], t["issued_by_staff"],
        )  # fmt: skip
        if row is None:
            raise errors.conflict(messages.ALREADY_RATED)
        rating = Rating(**dict(row))
        if rating.bad:
            await conn.execute(OPEN_FOLLOW_UP, hall.id, rating.id, FOLLOW_UP_DAYS)
        actor = pad.actor if pad else action_log.Actor("citizen", None, "群众")
        await action_log.record(
            conn, hall.id, actor, "rate", ticket_id=t["id"], ticket_number=t["number"],
            details={"score": score, "source": source},
        )  # fmt: skip
        window = await conn.fetchval("SELECT number FROM windows WHERE id = $1", t["window_id"])
        # The first rating wins everywhere at once: the pad of that window and the
        # ticket's phone stop asking (rating.closed), supervisors hear the score.
        await events.publish_many(conn, hall.id, [
            (events.RATING_RECEIVED, {"window": window, "score": score}),
            (events.RATING_CLOSED, {"ticket": {"id": t["id"]}, "window": window}),
        ])  # fmt: skip
    return rating


IS_RATED = "SELECT EXISTS (SELECT 1 FROM ratings WHERE ticket_id = $1)"


async def is_rated(conn: Connection, ticket_id: str) -> bool:
    """Whether the ticket has its one rating (for its citizen's page: no score, no channel)."""
    return bool(await conn.fetchval(IS_RATED, ticket_id))
