"""The server works as a role that may append to the action log and its chain
but never change them (CONTRACT §11; issue 11, item 1): even with the log's
triggers switched off by a superuser, its own connections are refused."""

from __future__ import annotations

import logging

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from clearhall.server.app import StartupError
from clearhall.server.keys import DB
from clearhall.server.store import app_role
from tests.conftest import KIOSK, Api


async def test_the_pool_works_as_the_append_only_role(
    server: TestServer, api: Api, conn: asyncpg.Connection
) -> None:
    """With a DATABASE_URL of a superuser (as in these tests), the pool works as the
    role through SET ROLE; the embedded database logs in as it (tests/system)."""
    await api.issue("A")  # an action: the role may insert
    async with server.app[DB].acquire() as own:
        who = await app_role.check(own)
        assert who["works_as"] == app_role.APP_ROLE
    await conn.execute("ALTER TABLE action_log DISABLE TRIGGER USER")  # a superuser at work
    await conn.execute("ALTER TABLE action_log_chain DISABLE TRIGGER USER")
    try:
        async with server.app[DB].acquire() as own:
            for attempt in (
                "UPDATE action_log SET reason = 'x'",
                "DELETE FROM action_log",
                "TRUNCATE action_log",
                "DELETE FROM action_log_chain",
                "SET session_replication_role = replica",
            ):
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await own.execute(attempt)
            assert await own.fetchval("SELECT count(*) FROM action_log") >= 1  # it may read
    finally:
        await conn.execute("ALTER TABLE action_log ENABLE TRIGGER USER")
        await conn.execute("ALTER TABLE action_log_chain ENABLE TRIGGER USER")


async def test_a_superuser_connection_is_warned_about(
    conn: asyncpg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        who = await app_role.check(conn)
    assert who["superuser"] and "give it a login role of its own" in caplog.text


async def test_started_as_the_role_itself_it_skips_the_schema_and_works(
    db_url: str, conn: asyncpg.Connection
) -> None:
    """docs/operating.md: the owner's start made the role; a later start logged in as
    it applies nothing (it may not), checks the migrations are there, and serves."""
    from clearhall.server.app import create_app
    from tests.conftest import app_client, settings_for

    if not db_url.startswith("postgresql://postgres@"):
        pytest.skip("needs the embedded test cluster, whose peer map lets this user in as the role")

    async with app_client(create_app(settings_for(db_url))) as (_, api):  # as the owner: schema, role
        assert (await api.get("/healthz")).status == 200
    await conn.execute(f"ALTER ROLE {app_role.APP_ROLE} LOGIN")  # the embedded test cluster maps us to it
    as_role = db_url.replace("postgresql://postgres@", f"postgresql://{app_role.APP_ROLE}@", 1)
    assert as_role != db_url
    async with app_client(create_app(settings_for(as_role))) as (server, api):
        assert (await api.post("/api/tickets", {"service": "A"}, token=KIOSK)).status == 201
        async with server.app[DB].acquire() as own:
            assert await own.fetchval("SELECT session_user") == app_role.APP_ROLE
    await conn.execute("DELETE FROM schema_migrations WHERE version = 1")
    with pytest.raises(StartupError, match=r"lacks migrations \[1\]"):
        async with app_client(create_app(settings_for(as_role))):
            pass
