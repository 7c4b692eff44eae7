"""Reads that may lag: where the supervisor's reports, charts, 好差评 figures,
integrity signals and action-log listing read (docs/replica.md).

With a streaming replica (REPORTS_DATABASE_URL) they read it while it answers
and is at most `max_lag_s` behind the primary; otherwise, and whenever a read
on it fails (the replica stopped, a query cancelled by a recovery conflict),
they read the primary. A stopped, paused or lagging replica costs the hall
some load on the primary, never an answer. Without a replica every read goes
to the primary. Nothing that decides anything reads here: issuing, calling,
ratings, limits, the sealer and `audit verify`, the queue, the screens, the
citizen's ticket and log-ins use the primary's pool alone.

How far behind: every CHECK_S the primary's WAL position is noted with the
time, and the replica is as fresh as the newest noted position it has
replayed. (`now() - pg_last_xact_replay_timestamp()` would call the caught-up
replica of a quiet hall minutes late.) A replica that has replayed none of the
positions noted in the last `max_lag_s` and a bit is too far behind; one that
is not in recovery (promoted, or not a replica) is not used at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, TypeVar

import asyncpg

from clearhall.server.store.db import (
    DATABASE_DOWN,
    STATEMENT_CACHE,
    Connection,
    describe,
    init_connection,
    keep_session,
)

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

CHECK_S = 1.0  # how often the replica's lag is measured
CONNECT_TIMEOUT_S = 3.0  # a replica whose host drops packets must not hold a report for asyncpg's 60 s
# A read on the replica that fails with one of these is read again on the primary:
# the replica went away, or PostgreSQL cancelled the query because replaying the
# primary's changes needed what it was reading ("conflict with recovery").
TRY_PRIMARY = (*DATABASE_DOWN, asyncpg.SerializationError)

PRIMARY_POSITION = "SELECT pg_current_wal_lsn()"
REPLICA_POSITION = "SELECT pg_is_in_recovery() AS replica, pg_last_wal_replay_lsn() AS replayed"


class ReadPool:
    """`run(query, *args)`: `query(conn, *args)` on the replica when fresh enough, else on the primary."""

    def __init__(
        self, primary: asyncpg.Pool, replica: asyncpg.Pool | None, max_lag_s: float, where: str = ""
    ) -> None:
        self.primary, self.replica, self.max_lag_s, self.where = primary, replica, max_lag_s, where
        self.usable = False  # the replica answers and is fresh enough (until the next check says otherwise)
        self.lag_s: float | None = None  # how far behind at the last check; None: not known
        self.reads = {"replica": 0, "primary": 0}  # reads served by each, since start
        self.positions: deque[tuple[float, int]] = deque()  # (monotonic time, the primary's WAL position)
        self.logged: bool | None = None  # whether the replica was in use when last logged
        self.task: asyncio.Task[None] | None = None

    async def run(
        self, query: Callable[Concatenate[Connection, P], Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        if self.replica is not None and self.usable:
            try:
                async with self.replica.acquire() as conn:
                    result = await query(conn, *args, **kwargs)
            except TRY_PRIMARY as exc:
                self.set_state(None, f"a read on it failed ({reason(exc)})")
            else:
                self.reads["replica"] += 1
                return result
        async with self.primary.acquire() as conn:
            result = await query(conn, *args, **kwargs)
        self.reads["primary"] += 1
        return result

    # ------------------------------------------------------------ watching the replica

    async def watch(self) -> None:
        while True:
            try:
                lag = await self.measure()
            except (*DATABASE_DOWN, asyncpg.PostgresError) as exc:
                self.set_state(None, f"its lag cannot be measured ({reason(exc)})")
            except Exception:  # a bug: never leave a replica in use unwatched
                log.exception("measuring the replica's lag failed")
                self.set_state(None, "its lag cannot be measured")
            else:
                if lag is None:
                    self.set_state(None, "it is not in recovery (promoted, or not a replica)")
                elif math.isnan(lag):
                    pass  # just started: not known yet, and the primary is read meanwhile
                elif lag > self.max_lag_s:
                    behind = f"over {self.max_lag_s:g} s" if math.isinf(lag) else f"{lag:.1f} s"
                    self.set_state(lag, f"it is {behind} behind; {self.max_lag_s:g} s are allowed")
                else:
                    self.set_state(lag)
            await asyncio.sleep(CHECK_S)

    async def measure(self) -> float | None:
        """Seconds the replica is behind the primary: inf when it has replayed none of the
        positions noted over `max_lag_s`, nan when that is not known yet (just started);
        None when it is not in recovery."""
        assert self.replica is not None
        async with self.primary.acquire() as conn:
            position: int = await conn.fetchval(PRIMARY_POSITION, timeout=CONNECT_TIMEOUT_S)
        now = time.monotonic()
        self.positions.append((now, position))
        while self.positions[0][0] < now - self.max_lag_s - 3 * CHECK_S:
            self.positions.popleft()
        async with self.replica.acquire() as conn:
            row = await conn.fetchrow(REPLICA_POSITION, timeout=CONNECT_TIMEOUT_S)
        if row is None or not row["replica"] or row["replayed"] is None:
            return None
        # the newest moment whose position the replica has replayed (positions only grow)
        fresh_at = max((at for at, lsn in self.positions if lsn <= row["replayed"]), default=None)
        if fresh_at is None:
            return float("inf") if now - self.positions[0][0] >= self.max_lag_s else float("nan")
        return time.monotonic() - fresh_at

    def set_state(self, lag: float | None, why_not: str = "") -> None:
        """Use the replica or not (`why_not`), logged when that changes."""
        usable = not why_not
        if usable != self.logged:
            if usable:
                log.info("reports read from the replica, %s (%.1f s behind)", self.where, lag)
            else:
                log.warning("reports read from the primary, not the replica, %s: %s", self.where, why_not)
            self.logged = usable
        self.usable, self.lag_s = usable, lag

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self.replica is not None:
            self.task = asyncio.create_task(self.watch())

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.replica is not None:
            await self.replica.close()


async def open_reads(
    primary: asyncpg.Pool,
    url: str | None,
    *,
    max_lag_s: float,
    role: str | None = None,
    statement_cache: bool = True,
    size: int = 4,
) -> ReadPool:
    """The read pool: over `url`'s replica when given, started; no connection is made
    yet, so a replica that is down does not hold up the start (reads go to the primary
    until it answers). `role`: the role the primary's pool works as, the same on the
    replica (it is a copy of the primary's cluster)."""
    replica = None
    if url is not None:
        replica = await asyncpg.create_pool(
            url,
            min_size=0,
            max_size=size,
            init=init_connection,
            reset=keep_session,
            command_timeout=30,
            timeout=CONNECT_TIMEOUT_S,
            statement_cache_size=STATEMENT_CACHE if statement_cache else 0,
            server_settings={"application_name": "clearhall-reports"} | ({"role": role} if role else {}),
        )
    reads = ReadPool(primary, replica, max_lag_s, describe(url) if url else "")
    reads.start()
    return reads


def reason(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
