"""clearhall behind pgbouncer in transaction mode (docs/replica.md, "Connection
poolers"): Debian's pgbouncer in front of Debian's PostgreSQL (conftest.py),
with fewer server connections than the app's pool, so that its connections
really are shared transaction by transaction.

- The pool through pgbouncer with its statement cache off (CLEARHALL_PGBOUNCER),
  the event listener straight to PostgreSQL (LISTEN_DATABASE_URL): tickets
  issued at once, called at two windows at once, each exactly once; a hall
  screen's socket hears every call; pgbouncer counted the transactions.
- The same pool with asyncpg's statement cache on breaks through it (a named
  prepared statement lives on one server connection): why the option exists.
- Told it is behind pgbouncer without a direct URL for the listener, or
  logging in as the tables' owner, the server refuses to start, in a sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from clearhall.server.app import StartupError, create_app
from clearhall.server.store import db
from tests.conftest import DISPLAY, Api, app_client, settings_for
from tests.helpers import connect, free_port
from tests.system.conftest import (
    APP_PASSWORD,
    SUPERUSER_PASSWORD,
    Clusters,
    clearhall_database,
    debian_binary,
    run_as,
)

PGBOUNCER = Path("/usr/sbin/pgbouncer")
SERVER_CONNECTIONS = 2  # per database and user; the app's pool has 4
# what a statement prepared on one server connection and used on another looks like
PREPARED_ELSEWHERE = (asyncpg.InvalidSQLStatementNameError, asyncpg.DuplicatePreparedStatementError)


@dataclass
class Bounced:
    direct: str  # clearhall_app straight to PostgreSQL
    pooled: str  # clearhall_app through pgbouncer
    owner: str  # the superuser through pgbouncer
    console: tuple[str, ...]  # psql on pgbouncer's own database, its console


@pytest.fixture(scope="module")
async def bounced(clusters: Clusters) -> AsyncIterator[Bounced]:
    binary = debian_binary(PGBOUNCER, "pgbouncer")
    primary = await asyncio.to_thread(clusters.primary)
    direct = await clearhall_database(primary)
    port = free_port()
    folder = clusters.folder
    (folder / "userlist.txt").write_text(
        f'"clearhall_app" "{APP_PASSWORD}"\n"postgres" "{SUPERUSER_PASSWORD}"\n'
    )
    (folder / "pgbouncer.ini").write_text(
        f"""[databases]
* = host=127.0.0.1 port={primary.port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {folder / "userlist.txt"}
pool_mode = transaction
default_pool_size = {SERVER_CONNECTIONS}
stats_users = clearhall_app
logfile = {folder / "pgbouncer.log"}
"""
    )
    for name in ("userlist.txt", "pgbouncer.ini"):
        clusters.own(folder / name)
    # pgbouncer refuses to run as root: as the servers' user, in the foreground
    bouncer = await asyncio.create_subprocess_exec(
        binary, folder / "pgbouncer.ini", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        user=clusters.user, group=clusters.user, extra_groups=[] if clusters.user else None,
        start_new_session=True,
    )  # fmt: skip
    try:
        pooled = direct.replace(f":{primary.port}/", f":{port}/")
        await answering(pooled, bouncer)
        owner = f"postgresql://postgres:{SUPERUSER_PASSWORD}@127.0.0.1:{port}/clearhall"
        stats = f"postgresql://clearhall_app:{APP_PASSWORD}@127.0.0.1:{port}/pgbouncer"
        console = (str(clusters.bin / "psql"), "-X", "-A", "-F", "\t", "-d", stats)
        yield Bounced(direct, pooled, owner, console)
    finally:
        with contextlib.suppress(ProcessLookupError):
            bouncer.terminate()
        try:
            await asyncio.wait_for(bouncer.wait(), 10)
        except TimeoutError:
            bouncer.kill()
            await bouncer.wait()


async def answering(url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            conn = await asyncpg.connect(url, statement_cache_size=0)
        except (OSError, asyncpg.PostgresError):
            assert process.returncode is None, "pgbouncer stopped: see pgbouncer.log"
            assert time.monotonic() < deadline, "pgbouncer does not answer"
            await asyncio.sleep(0.2)
        else:
            await conn.close()
            return


async def transactions(bounced: Bounced) -> int:
    """The transactions pgbouncer has passed to the clearhall database (its SHOW STATS)."""
    out = await asyncio.to_thread(run_as, None, *bounced.console, "-c", "SHOW STATS")
    lines = [line.split("\t") for line in out.splitlines() if "\t" in line]
    head = lines[0]
    row = next(r for r in lines[1:] if r[0] == "clearhall")
    return int(row[head.index("total_xact_count")])


async def test_the_hall_works_through_pgbouncer_with_a_direct_listener(bounced: Bounced) -> None:
    settings = settings_for(bounced.pooled, listen_database_url=bounced.direct, pgbouncer=True)
    before = await transactions(bounced)
    async with app_client(create_app(settings)) as (_server, api):
        screen = await connect(api, f"token={DISPLAY}")
        assert json.loads((await screen.receive(timeout=5)).data)["type"] == "snapshot"
        await api.sign_in("s1", 1)
        await api.sign_in("s2", 2)
        issued = await asyncio.gather(*(api.issue("A") for _ in range(16)))
        assert len({t["number"] for t in issued}) == 16
        called = await asyncio.gather(call_all(api, "s1", 1), call_all(api, "s2", 2))
        assert sorted(called[0] + called[1]) == sorted(t["number"] for t in issued)  # each exactly once
        assert called[0] and called[1]
        heard = await calls_heard(screen, 16)
        assert sorted(heard) == sorted(t["number"] for t in issued)
        await screen.close()
    assert await transactions(bounced) - before > 16 * 3  # the pool's work went through pgbouncer


async def call_all(api: Api, user: str, window: int) -> list[str]:
    numbers: list[str] = []
    while True:
        r = await api.window(user, window, "call-next")
        assert r.status == 200, r.body
        if r.body["ticket"] is None:
            return numbers
        numbers.append(r.body["ticket"]["number"])
        assert (await api.window(user, window, "finish")).status == 200


async def calls_heard(screen: aiohttp.ClientWebSocketResponse, count: int) -> list[str]:
    heard: list[str] = []
    while len(heard) < count:
        message = json.loads((await screen.receive(timeout=5)).data)
        if message.get("event") == "ticket.called":
            heard.append(message["ticket"]["number"])
    return heard


async def test_a_statement_cache_breaks_through_transaction_pooling(bounced: Bounced) -> None:
    async def many(pool: asyncpg.Pool) -> list[BaseException | int]:
        async def one(n: int) -> int:
            async with pool.acquire() as conn:
                return int(await conn.fetchval("SELECT count(*) + $1 FROM services", n))

        return await asyncio.gather(*(one(n) for n in range(200)), return_exceptions=True)

    for statement_cache, broken in ((False, False), (True, True)):
        pool = await db.create_pool(bounced.pooled, 4, statement_cache=statement_cache)
        try:
            results = await many(pool)
        finally:
            await pool.close()
        failures = [r for r in results if isinstance(r, BaseException)]
        assert bool(failures) == broken, failures[:3]
        assert all(isinstance(f, PREPARED_ELSEWHERE) for f in failures), failures[:3]


async def test_behind_pgbouncer_the_server_wants_a_direct_listener_and_its_own_role(bounced: Bounced) -> None:
    for settings, words in (
        (settings_for(bounced.pooled, pgbouncer=True), "set LISTEN_DATABASE_URL"),
        (settings_for(bounced.owner, listen_database_url=bounced.direct, pgbouncer=True), "owns the tables"),
    ):
        with pytest.raises(StartupError, match=words):
            async with app_client(create_app(settings)):
                pass
