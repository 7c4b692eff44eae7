"""Idempotency-Key on window calls: a retried request gets the first answer.

The key row is claimed inside the call's own transaction, so a concurrent
retry waits on the row and then replays the stored answer; a call that fails
rolls its claim back, and the retry acts afresh. Keys live 24 hours and are
scoped to the credential and the endpoint. Only successful answers are kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from clearhall.server.domain import errors, messages
from clearhall.server.store.db import Connection, committing_transaction, literal, on_commit

MAX_KEY_LENGTH = 200

# -- claim the key, or take over one older than 24 hours
CLAIM = """
INSERT INTO idempotency_keys (principal, endpoint, key) VALUES ($1, $2, $3)
ON CONFLICT (principal, endpoint, key) DO UPDATE
    SET created_at = now(), status = NULL, body = NULL
    WHERE idempotency_keys.created_at < now() - interval '24 hours'
RETURNING key
"""

STORED = """
SELECT status, body FROM idempotency_keys WHERE principal = $1 AND endpoint = $2 AND key = $3
"""

STORE = """
UPDATE idempotency_keys SET status = $4, body = $5
WHERE principal = $1 AND endpoint = $2 AND key = $3
"""


def check_key(key: str) -> str:
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise errors.invalid(messages.BAD_IDEMPOTENCY_KEY(most=MAX_KEY_LENGTH), "Idempotency-Key")
    return key


async def claim(conn: Connection, principal: str, endpoint: str, key: str) -> tuple[int, Any] | None:
    """None when this request is the first with the key; else the stored (status, body)."""
    if await conn.fetchval(CLAIM, principal, endpoint, key) is not None:
        return None
    row = await conn.fetchrow(STORED, principal, endpoint, key)
    return (row["status"], row["body"]) if row and row["status"] is not None else None


async def store(conn: Connection, principal: str, endpoint: str, key: str, status: int, body: Any) -> None:
    """Keep the answer; with the COMMIT when the transaction lets it wait (one round trip fewer)."""
    values = [literal(principal), literal(endpoint), literal(key), str(int(status)),
              f"{literal(json.dumps(body, ensure_ascii=False))}::jsonb"]  # fmt: skip
    stored = re.sub(r"\$(\d)", lambda m: values[int(m[1]) - 1], STORE)  # in one pass
    if not on_commit(conn, stored):
        await conn.execute(STORE, principal, endpoint, key, status, body)


async def purge(conn: Connection) -> None:
    await conn.execute("DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'")


async def once(
    pool: asyncpg.Pool,
    principal: str,
    endpoint: str,
    key: str | None,
    run: Callable[[Connection], Awaitable[tuple[int, Any]]],
    *,
    one_statement: bool = False,
) -> tuple[int, Any, bool]:
    """Run `run` in one transaction, or replay its first answer for a retried key.

    Returns (status, answer, replayed). Without a key, simply runs it; and when `run`
    is `one_statement` (its whole work, events included, in one SQL statement, which
    PostgreSQL makes atomic by itself), without BEGIN and COMMIT: two round trips fewer.
    """
    if key is None and one_statement:
        async with pool.acquire() as conn:
            status, answer = await run(conn)
        return status, answer, False
    async with pool.acquire() as conn, committing_transaction(conn):
        if key is not None:
            stored = await claim(conn, principal, endpoint, check_key(key))
            if stored is not None:
                return stored[0], stored[1], True
        status, answer = await run(conn)
        if key is not None:
            await store(conn, principal, endpoint, key, status, answer)
    return status, answer, False
