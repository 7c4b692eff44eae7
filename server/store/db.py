"""Connections and schema: the pool, schema.sql at start, numbered migrations.

schema.sql is idempotent and applied on every start; files in migrations/
named `NNNN_what.sql` run once each, in order, recorded in schema_migrations.
Two processes starting at once take turns through an advisory lock.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

SCHEMA = Path(__file__).resolve().parent / "schema.sql"  # a link to the root schema.sql, shipped in the wheel
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# What a query runs on: a connection of its own (the LISTEN connection, tests)
# or one lent by the pool. Use cases take this.
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

SCHEMA_LOCK = 0x636C6561  # "clea": any fixed number, shared by all processes

# The database went away (restarting, unreachable, out of connections): not the
# request's fault, and not a bug.
DATABASE_DOWN = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    # a connection cut while PostgreSQL was telling it so can be left mid-state
    asyncpg.InternalClientError,
)


async def init_connection(conn: Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def keep_session(conn: Connection) -> None:
    """The pool's reset on release, which does nothing: clearhall keeps no session
    state on pooled connections (no LISTEN, no session locks held, no cursors),
    so asyncpg's default reset would be a wasted round trip per request."""


async def create_pool(url: str, size: int) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        url,
        min_size=min(2, size),
        max_size=size,
        init=init_connection,
        reset=keep_session,
        command_timeout=30,
    )


def migrations() -> list[tuple[int, str, Path]]:
    found = []
    for path in sorted(MIGRATIONS.glob("*.sql")):
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", path.name)
        if match:
            found.append((int(match[1]), match[2], path))
    return found


async def apply_schema(conn: Connection) -> list[int]:
    """Apply schema.sql, then the migrations not yet applied. Returns those applied."""
    applied = []
    await conn.execute("SELECT pg_advisory_lock($1)", SCHEMA_LOCK)
    try:
        await conn.execute(SCHEMA.read_text(encoding="utf-8"))
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, name, path in migrations():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text(encoding="utf-8"))
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name
                )
            applied.append(version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", SCHEMA_LOCK)
    return applied


async def installation_secret(conn: Connection) -> bytes:
    """The per-installation secret, made once on first start."""
    await conn.execute(
        "INSERT INTO installation (secret) VALUES ($1) ON CONFLICT DO NOTHING",
        secrets.token_bytes(32),
    )
    secret: bytes = await conn.fetchval("SELECT secret FROM installation")
    return secret
