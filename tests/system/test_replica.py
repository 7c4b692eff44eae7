"""Reports from a streaming replica (docs/replica.md), with Debian's PostgreSQL as
primary and replica (tests/system/conftest.py) and the real app on them.

- While the replica is fresh, every read that may lag (daily and monthly
  reports in json, csv and xlsx, the hourly stats, 好差评 figures, signals,
  the action log's listing) is answered from it: they run on a hot standby.
- With its replay paused, a report lags (it does not show the ticket just
  issued) while issuing, calling and the queue do not; once it is further
  behind than allowed, reports come from the primary and are current again.
- Replay resumed, reports go back to the replica.
- With the replica stopped, the hall issues and calls as before, and reports
  still answer, current, from the primary.
- A replica (or a listener's URL, or pgbouncer) without an external database
  is refused at start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from clearhall.server.app import StartupError, check_urls, create_app
from clearhall.server.cli import verify_chain
from clearhall.server.keys import READ_DB
from clearhall.server.settings import Settings
from clearhall.server.store.read_pool import CHECK_S, ReadPool
from tests.conftest import Api, app_client, settings_for
from tests.helpers import eventually
from tests.system.conftest import Clusters, clearhall_database

MAX_LAG_S = 4.0  # short, to see the fallback soon; long enough for a slow machine to read within it
LAGGING_READS = (
    "/api/reports/daily", "/api/reports/daily?format=csv", "/api/reports/daily?format=xlsx",
    "/api/reports/monthly", "/api/reports/monthly?format=csv", "/api/stats/hourly",
    "/api/ratings/figures", "/api/signals", "/api/audit-log",
)  # fmt: skip


async def issued_today(api: Api) -> int:
    r = await api.get("/api/reports/daily", token=await api.login("boss"))
    assert r.status == 200, r.body
    return int(r.body["report"]["total"]["issued"])


async def issue_and_call(api: Api) -> dict[str, Any]:
    """A ticket issued and called at window 1 (whatever it held finished first): the primary's work."""
    ticket = await api.issue()
    finished = await api.window("s1", 1, "finish")
    assert finished.status in (200, 409), finished.body  # 409: nothing was being served
    called = await api.window("s1", 1, "call-next")
    assert called.status == 200 and called.body["ticket"]["id"] == ticket["id"], called.body
    queue = await api.get("/api/queue")
    assert queue.status == 200
    assert any(c.get("number") == ticket["number"] for c in queue.body["recent_calls"]), queue.body
    return ticket


async def test_reports_read_the_replica_and_survive_its_lag_and_its_stop(clusters: Clusters) -> None:
    primary = await asyncio.to_thread(clusters.primary)
    app_url = await clearhall_database(primary)
    replica = await asyncio.to_thread(clusters.replica_of, primary)
    replica_app_url = app_url.replace(f":{primary.port}/", f":{replica.port}/")
    settings = settings_for(app_url, reports_database_url=replica_app_url, reports_max_lag_s=MAX_LAG_S)
    async with app_client(create_app(settings)) as (server, api):
        reads: ReadPool = server.app[READ_DB]
        await eventually(replica_in_use(reads), within=15)
        await api.sign_in("s1", 1)
        await issue_and_call(api)
        await issue_and_call(api)
        boss = await api.login("boss")

        # fresh: every lag-tolerant read is the replica's, and runs there
        await eventually(lambda: issued(api, 2), within=10)
        before = dict(reads.reads)
        await read_all(api, boss)
        assert reads.reads == {
            "replica": before["replica"] + len(LAGGING_READS),
            "primary": before["primary"],
        }
        verdict = await verify_chain(replica_app_url, None, None)  # `clearhall audit verify` on a replica
        assert verdict.ok, verdict.json()

        # replay paused: the report lags, the queue does not ...
        superuser = await asyncpg.connect(replica.url())
        try:
            await superuser.execute("SELECT pg_wal_replay_pause()")
            paused_at = time.monotonic()
            await issue_and_call(api)
            from_replica = reads.reads["replica"]
            assert await issued_today(api) == 2  # the third ticket is not there yet
            assert time.monotonic() - paused_at < MAX_LAG_S, "too slow to see the lag: raise MAX_LAG_S"
            assert reads.reads["replica"] == from_replica + 1
            # ... until it is further behind than allowed: then reports read the primary
            await eventually(lambda: issued(api, 3), within=MAX_LAG_S + 4 * CHECK_S + 5)
            assert not reads.usable and reads.lag_s is not None and reads.lag_s > MAX_LAG_S
            assert time.monotonic() - paused_at >= MAX_LAG_S - CHECK_S

            # replay resumed: back to the replica
            await superuser.execute("SELECT pg_wal_replay_resume()")
        finally:
            await superuser.close()
        await eventually(replica_in_use(reads), within=10)
        from_replica = reads.reads["replica"]
        assert await issued_today(api) == 3
        assert reads.reads["replica"] == from_replica + 1

        # the replica stopped: issuing and calling go on, reports answer, current
        await asyncio.to_thread(replica.stop)
        await issue_and_call(api)
        started = time.monotonic()
        await read_all(api, boss)
        assert await issued_today(api) == 4
        assert time.monotonic() - started < 10, "reads waited for the stopped replica"
        await eventually(replica_in_use(reads, False), within=5)


async def read_all(api: Api, token: str) -> None:
    for path in LAGGING_READS:
        async with api.session.get(api.base + path, headers={"Authorization": f"Bearer {token}"}) as r:
            assert r.status == 200, (path, await r.text())
            await r.read()


async def issued(api: Api, count: int) -> bool:
    return await issued_today(api) == count


def replica_in_use(reads: ReadPool, wanted: bool = True) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return reads.usable == wanted

    return check


def test_a_replica_needs_an_external_database() -> None:
    for embedded in (
        Settings(reports_database_url="postgresql://db2/x"),
        Settings(listen_database_url="postgresql://db1/x"),
        Settings(pgbouncer=True),
    ):
        with pytest.raises(StartupError, match="without a DATABASE_URL"):
            check_urls(embedded)
    check_urls(Settings(database_url="postgresql://db1/x", reports_database_url="postgresql://db2/x"))
