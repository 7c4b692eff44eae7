"""呼叫导办: a citizen at a kiosk asks for a guide; supervisors see it until one takes it.

A call has no table of its own: it is an action-log entry (`guide_call`, the
kiosk as actor, `details.call` its id and `details.screen` where the citizen
was), and taking care of it is another (`guide_answer`, by the supervisor).
Open calls are today's calls without an answer. `guide.called` and
`guide.answered` reach supervisors' sockets only, so every dashboard shows a
call at once and drops it when anyone has taken it.

A kiosk may call twice at once, then once a minute (`throttle`, counted in the
database): a citizen tapping again and again is told the guide is coming.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from clearhall.server.domain import action_log, errors, events, messages, throttle
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.tickets import local_iso, lock_key
from clearhall.server.store.db import Connection

CALLS_AT_KIOSK = throttle.Rule("guide_call", 2, timedelta(seconds=60))
# Where the citizen was when they called: what the guide should expect.
SCREENS = (
    "start",
    "card",
    "category",
    "real_name",
    "rejoin",
    "duplicate",
    "ticket",
    "checkin",
    "proxy",
    "closed",
)

# -- today's calls of the hall that nobody has answered, newest first
OPEN_CALLS = """
SELECT c.details->>'call' AS id, c.actor_name AS kiosk, c.at, c.details->>'screen' AS screen
FROM action_log c
WHERE c.hall_id = $1 AND c.action = 'guide_call'
  AND c.at >= date_trunc('day', now() AT TIME ZONE $2) AT TIME ZONE $2
  AND NOT EXISTS (SELECT 1 FROM action_log a
                  WHERE a.hall_id = $1 AND a.action = 'guide_answer' AND a.at >= c.at
                    AND a.details->>'call' = c.details->>'call')
ORDER BY c.at DESC
LIMIT 50
"""

# -- one call of today, and who answered it (if anyone did)
FIND_CALL = """
SELECT c.details->>'call' AS id, c.actor_name AS kiosk, c.at, c.details->>'screen' AS screen,
       (SELECT a.actor_name FROM action_log a
         WHERE a.hall_id = $1 AND a.action = 'guide_answer' AND a.at >= c.at
           AND a.details->>'call' = c.details->>'call' LIMIT 1) AS answered_by
FROM action_log c
WHERE c.hall_id = $1 AND c.action = 'guide_call' AND c.details->>'call' = $3
  AND c.at >= date_trunc('day', now() AT TIME ZONE $2) AT TIME ZONE $2
LIMIT 1
"""


@dataclass(frozen=True)
class GuideCall:
    id: str
    kiosk: str  # the kiosk device's name in the hall file
    at: datetime
    screen: str | None
    answered_by: str | None = None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> GuideCall:
        return cls(row["id"], row["kiosk"], row["at"], row["screen"], row.get("answered_by"))

    def json(self, tz: str) -> dict[str, Any]:
        return {"id": self.id, "kiosk": self.kiosk, "at": local_iso(self.at, tz), "screen": self.screen}


async def call(conn: Connection, hall: Hall, kiosk: action_log.Actor, screen: str | None) -> GuideCall:
    """A kiosk calls the guide desk: counted, logged, and sent to supervisors."""
    wait = await throttle.hit(conn, hall.id, CALLS_AT_KIOSK, f"{kiosk.kind}:{kiosk.id}")
    if wait is not None:
        raise throttle.refused(messages.GUIDE_TOO_OFTEN, wait)
    made = GuideCall(secrets.token_urlsafe(9), kiosk.name, datetime.now().astimezone(), screen)
    async with conn.transaction():
        await action_log.record(
            conn, hall.id, kiosk, "guide_call", details={"call": made.id, "screen": screen}
        )
        await events.publish(conn, hall.id, events.GUIDE_CALLED, call=made.json(hall.timezone))
    return made


async def open_calls(conn: Connection, hall: Hall) -> list[GuideCall]:
    return [GuideCall.from_row(r) for r in await conn.fetch(OPEN_CALLS, hall.id, hall.timezone)]


async def answer(conn: Connection, hall: Hall, by: action_log.Actor, call_id: str) -> GuideCall:
    """A supervisor has taken care of a call (once: a second answer changes nothing); 404 unknown."""
    async with conn.transaction():
        # Two supervisors answering at once: one answers, the other sees it answered.
        await conn.execute(
            "SELECT pg_advisory_xact_lock($1)", lock_key(hashlib.sha256(call_id.encode()).digest())
        )
        row = await conn.fetchrow(FIND_CALL, hall.id, hall.timezone, call_id[:64])
        if row is None:
            raise errors.not_found(messages.NO_GUIDE_CALL)
        found = GuideCall.from_row(row)
        if found.answered_by is not None:
            return found
        await action_log.record(
            conn, hall.id, by, "guide_answer", details={"call": found.id, "kiosk": found.kiosk}
        )
        await events.publish(
            conn, hall.id, events.GUIDE_ANSWERED, call={"id": found.id, "kiosk": found.kiosk, "by": by.name}
        )
    return GuideCall(found.id, found.kiosk, found.at, found.screen, answered_by=by.name)
