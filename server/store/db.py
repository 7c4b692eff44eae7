"""Connections and schema: the pool, schema.sql at start, numbered migrations.

schema.sql is idempotent and applied on every start; files in migrations/
named `NNNN_what.sql` run once each, in order, recorded in schema_migrations.
Two processes starting at once take turns through an advisory lock.

At start the pool waits for a database that does not answer yet (a service
manager may start us before PostgreSQL) and then gives up with a sentence;
anything said about a database URL names its host and database, never its
password.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeAlias
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

SCHEMA = Path(__file__).resolve().parent / "schema.sql"  # a link to the root schema.sql, shipped in the wheel
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# What a query runs on: a connection of its own (the LISTEN connection, tests)
# or one lent by the pool. Use cases take this.
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"

log = logging.getLogger(__name__)


# Statements waiting for their transaction's COMMIT, by connection (`committing_transaction`)
_WAITING: dict[int, list[str]] = {}


@contextlib.asynccontextmanager
async def committing_transaction(conn: Connection) -> AsyncIterator[None]:
    """A transaction whose last statements go with its COMMIT, in one round trip.

    While it is open, `on_commit` queues a statement that needs no answer (a
    NOTIFY, an idempotent request's stored answer) instead of running it. They
    run, in order, in the same message as the COMMIT: a notification is
    delivered exactly when, and only if, the transaction commits, as if it had
    been sent at once, and a failing statement rolls the whole transaction back.
    A console's call (with its Idempotency-Key) is four round trips this way:
    BEGIN, the key's claim, the call, and its stored answer with the COMMIT."""
    await conn.execute("BEGIN")
    waiting: list[str] = []
    _WAITING[id(conn)] = waiting
    try:
        try:
            yield
        finally:
            del _WAITING[id(conn)]
        await conn.execute(";".join([*waiting, "COMMIT"]))
    except BaseException:
        if not conn.is_closed():
            with contextlib.suppress(*DATABASE_DOWN, asyncpg.PostgresError):
                await conn.execute("ROLLBACK")
        raise


def on_commit(conn: Connection, statement: str) -> bool:
    """Queue `statement` (whole: its values written in, by `literal`) for the COMMIT of
    `conn`'s `committing_transaction`; False when none is open (the caller runs it)."""
    waiting = _WAITING.get(id(conn))
    if waiting is None:
        return False
    waiting.append(statement)
    return True


def notify_on_commit(conn: Connection, channel: str, payloads: list[str]) -> bool:
    """Queue notifications for the COMMIT, as `on_commit`."""
    if id(conn) not in _WAITING:
        return False
    for payload in payloads:
        on_commit(conn, f"SELECT pg_notify({literal(channel)}, {literal(payload)})")
    return True


def literal(text: str) -> str:
    """`text` as a SQL string constant: dollar-quoted, with a tag it cannot contain
    (nor end in), whatever quotes or backslashes it holds."""
    tag = "n" + secrets.token_hex(6)
    while f"${tag}" in text:
        tag = "n" + secrets.token_hex(6)
    return f"${tag}${text}${tag}$"


def transaction(conn: Connection) -> contextlib.AbstractAsyncContextManager[object]:
    """A use case's transaction: the caller's, when it already has one (an idempotent
    request's), else its own. Nesting would add a SAVEPOINT and its RELEASE, two round
    trips, for nothing: a use case that fails raises, and the whole transaction rolls back."""
    if conn.is_in_transaction():
        return contextlib.nullcontext()
    return conn.transaction()


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


STATEMENT_CACHE = 100  # asyncpg's default; 0 behind pgbouncer's transaction pooling (docs/replica.md)


async def create_pool(
    url: str, size: int, role: str | None = None, *, statement_cache: bool = True
) -> asyncpg.Pool:
    """The pool; with `role`, every connection works as that role from its start
    (store/app_role.py: the role that may only append to the action log). Without
    `statement_cache` no statement stays prepared between queries: a pooler in
    transaction mode (pgbouncer) may hand the next query another server connection."""
    return await asyncpg.create_pool(
        url,
        min_size=min(2, size),
        max_size=size,
        init=init_connection,
        reset=keep_session,
        command_timeout=30,
        statement_cache_size=STATEMENT_CACHE if statement_cache else 0,
        server_settings={"role": role} if role else None,
    )


CONNECT_TIMEOUT_S = 10.0  # one attempt at start; a host that drops packets would take asyncpg's 60 s


class DatabaseUnavailable(Exception):
    """The database could not be used at start; the message is a sentence for a person."""


async def open_pool(url: str, size: int, wait_s: float, *, statement_cache: bool = True) -> asyncpg.Pool:
    """The pool, once the database answers. A database that does not answer
    (refused, unreachable, starting up, out of connections) is tried again,
    one log line per attempt, for `wait_s` seconds; one that answers no (a
    wrong password, no such database, a malformed URL) is not."""
    deadline = time.monotonic() + wait_s
    delay = 0.5
    while True:
        try:
            # a probe first, on a bounded timeout; the pool keeps asyncpg's own
            probe = await asyncpg.connect(
                url, timeout=max(1.0, min(CONNECT_TIMEOUT_S, deadline - time.monotonic()))
            )
            await probe.close()
            return await create_pool(url, size, statement_cache=statement_cache)
        except (asyncpg.ClientConfigurationError, ValueError) as exc:
            raise DatabaseUnavailable(f"the database URL is not valid: {_reason(exc, url)}") from None
        except DATABASE_DOWN as exc:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DatabaseUnavailable(
                    f"cannot reach {describe(url)} (tried for {wait_s:g} s): {_reason(exc, url)}"
                ) from None
            pause = min(delay, left)
            log.warning("cannot reach %s (%s); retrying in %.1f s", describe(url), _reason(exc, url), pause)
            await asyncio.sleep(pause)
            delay = min(delay * 2, 5.0)
        except asyncpg.PostgresError as exc:
            raise DatabaseUnavailable(
                f"{describe(url)} refused the connection: {_reason(exc, url)}"
            ) from None


def describe(url: str) -> str:
    """`database x on db.example:5432` (or `… on the socket in /run/…`): where a URL points."""
    try:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
    except ValueError:
        return "the database of the URL given"
    host = parts.netloc.rpartition("@")[2] or ",".join(query.get("host", [])) or "the default socket"
    if host.startswith("/"):
        host = f"the socket in {host}"
    name = unquote(parts.path.lstrip("/")) or ",".join(query.get("dbname", [])) or "(the user's own)"
    return f"database {name} on {host}"


def _reason(exc: BaseException, url: str) -> str:
    """An exception as one line, with whatever password the URL holds blotted out."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    for secret in _passwords(url):
        text = text.replace(secret, "***")
    return text


def _passwords(url: str) -> list[str]:
    found = []
    match = re.match(r"[^:/?#]+://([^/?#]*)@", url)
    if match and ":" in match[1]:
        found.append(match[1].split(":", 1)[1])
    found += re.findall(r"[?&]password=([^&#]*)", url)
    found += [unquote(p) for p in found]
    return [p for p in found if p]


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


async def missing_migrations(conn: Connection) -> list[int]:
    """The migrations this clearhall has and the database has not: a server that
    may not change the schema (store/app_role.py) refuses to start on them."""
    done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
    return [version for version, _, _ in migrations() if version not in done]


async def installation_secret(conn: Connection) -> bytes:
    """The per-installation secret, made once on first start."""
    await conn.execute(
        "INSERT INTO installation (secret) VALUES ($1) ON CONFLICT DO NOTHING",
        secrets.token_bytes(32),
    )
    secret: bytes = await conn.fetchval("SELECT secret FROM installation")
    return secret
