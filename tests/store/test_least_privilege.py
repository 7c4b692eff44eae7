"""The external PostgreSQL of docs/operating.md ("The database role"): a superuser
makes an owner role without any right over roles, its database, and the login
role clearhall_app; `clearhall migrate` as the owner makes the schema and gives
clearhall_app its privileges (the owner may not join that role, and need not);
the server then logs in as clearhall_app and works, and may not change the log.

The embedded test cluster has no passwords: the owner is played by a superuser's
connection under SET SESSION AUTHORIZATION, and clearhall_app logs in through
the cluster's peer map (tests/store/test_app_role.py does the same)."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator

import asyncpg
import pytest

from clearhall.server.app import StartupError, create_app
from clearhall.server.keys import DB
from clearhall.server.store import app_role, db
from tests.conftest import HALL_FILE, KIOSK, app_client, settings_for, with_database

OWNER = "clearhall_owner_test"


@pytest.fixture
async def owned(pg_url: str) -> AsyncIterator[str]:
    """The URL of a database made by a superuser for OWNER, with nothing in it."""
    if not pg_url.startswith("postgresql://postgres@"):
        pytest.skip("needs the embedded test cluster, whose peer map lets this user in as clearhall_app")
    name = f"clearhall_test_owned_{os.getpid()}"
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", OWNER):
            await admin.execute(f"CREATE ROLE {OWNER} NOLOGIN")  # NOCREATEROLE, NOSUPERUSER: the defaults
        if not await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", app_role.APP_ROLE):
            await admin.execute(f"CREATE ROLE {app_role.APP_ROLE} LOGIN")
        await admin.execute(f"ALTER ROLE {app_role.APP_ROLE} LOGIN")
        await admin.execute(f"CREATE DATABASE {name} OWNER {OWNER} TEMPLATE template0")
        yield with_database(pg_url, name)
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


async def test_the_owner_migrates_and_the_server_logs_in_as_its_own_role(
    owned: str, caplog: pytest.LogCaptureFixture
) -> None:
    as_app = owned.replace("postgresql://postgres@", f"postgresql://{app_role.APP_ROLE}@", 1)
    with pytest.raises(StartupError, match=r"may not make clearhall.s tables .* run `clearhall migrate`"):
        async with app_client(create_app(settings_for(as_app, config=HALL_FILE))):
            pass  # an empty database: clearhall_app may not make the tables, and says what to do

    owner = await asyncpg.connect(owned)
    try:
        await owner.execute(f"SET SESSION AUTHORIZATION {OWNER}")
        await db.init_connection(owner)
        assert await app_role.owns_schema(owner)
        assert await db.apply_schema(owner)  # `clearhall migrate` (server/migrate.py) does these two
        assert await app_role.grant(owner)
        with caplog.at_level(logging.WARNING):  # a start as the owner: it may not work as the role
            assert await app_role.prepare(owner) is None
        assert "has its privileges, but this database user may not work as it" in caplog.text
        assert await owner.fetchval("SELECT tableowner FROM pg_tables WHERE tablename = 'tickets'") == OWNER
    finally:
        await owner.close()

    async with app_client(create_app(settings_for(as_app, config=HALL_FILE))) as (server, api):
        r = await api.post("/api/tickets", {"service": "A"}, token=KIOSK)
        assert r.status == 201, r.body
        async with server.app[DB].acquire() as conn:
            who = await app_role.check(conn)
            assert (who["name"], who["superuser"], who["owns_log"]) == (app_role.APP_ROLE, False, False)
            for attempt in ("UPDATE action_log SET reason = 'x'", "DELETE FROM action_log_chain"):
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await conn.execute(attempt)
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("ALTER TABLE tickets ADD COLUMN x int")  # nor the schema
