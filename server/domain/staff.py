"""Staff members as they see themselves: log-in, their windows, today's counts."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from clearhall.server.domain import action_log, auth
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.store.db import Connection

STAFF_WINDOWS = """
SELECT w.number FROM staff_windows sw JOIN windows w ON w.id = sw.window_id
WHERE sw.staff_id = $1 AND w.active ORDER BY w.number
"""

ME = """
SELECT st.id, st.username, st.name, st.role, st.party_member,
       (SELECT w.number FROM windows w WHERE w.staff_id = st.id) AS window
FROM staff st WHERE st.id = $1
"""

# -- today's own counts, from the action log
MY_COUNTS = """
SELECT count(*) FILTER (WHERE action IN ('call_next', 'call')) AS called,
       count(*) FILTER (WHERE action = 'finish') AS finished,
       count(*) FILTER (WHERE action = 'no_show') AS no_show,
       count(*) FILTER (WHERE action = 'transfer') AS transferred,
       count(*) FILTER (WHERE action = 'suspend') AS suspended
FROM action_log
WHERE hall_id = $1 AND actor_kind = 'staff' AND actor_id = $2
  AND at >= (date_trunc('day', now() AT TIME ZONE $3) AT TIME ZONE $3)
"""


async def log_in(
    pool: asyncpg.Pool,
    hall: Hall,
    username: str,
    password: str,
    lifetime: timedelta,
    address: str | None,
) -> tuple[str, asyncpg.Record, list[int]]:
    """(token, the staff row, the windows they may sign in at); logged.

    `address` is the client's: failed log-ins are throttled by it and by username.
    """
    token, row = await auth.log_in(pool, hall.id, username, password, lifetime, address)
    async with pool.acquire() as conn:
        windows = [w["number"] for w in await conn.fetch(STAFF_WINDOWS, row["id"])]
        await action_log.record(conn, hall.id, action_log.Actor("staff", row["id"], row["name"]), "login")
    return token, row, windows


async def me(conn: Connection, p: Principal) -> tuple[asyncpg.Record, list[int]]:
    row = await conn.fetchrow(ME, p.id)
    assert row is not None  # the principal was just found by this id
    return row, [w["number"] for w in await conn.fetch(STAFF_WINDOWS, p.id)]


async def todays_counts(conn: Connection, hall: Hall, p: Principal) -> dict[str, int]:
    return dict(await conn.fetchrow(MY_COUNTS, hall.id, p.id, hall.timezone) or {})
