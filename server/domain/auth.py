"""Who is asking: staff log-ins, device tokens, roles (CONTRACT §3).

Staff log in with a password (argon2id) and get a random bearer token that is
stored only as its SHA-256 and expires after a working day. Devices present
the token from the hall file, also stored hashed. 401 means no valid
credential; 403 means a valid one that may not do this.

Log-in attempts are throttled by username and by address (`throttle`), and a
failed one is logged (username and address, never the password). Log-out
tells every server process, on the events channel, so each closes the
sockets of that log-in (`SESSION_ENDED`, handled by the hub, never sent to a
client).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

import asyncpg
from argon2.exceptions import InvalidHashError, VerificationError

from clearhall.server.domain import errors, messages, throttle
from clearhall.server.domain.action_log import Actor
from clearhall.server.domain.events import CHANNEL
from clearhall.server.domain.token_cache import TokenCache
from clearhall.server.store import kinds
from clearhall.server.store.credentials import hasher, token_hash
from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import ActorKind, DeviceKind

# Checks run on two threads of their own: each thread's allocator keeps the
# 19 MiB argon2 used, so a shared pool of many threads would keep many times
# that after a log-in rush.
_hashing = ThreadPoolExecutor(max_workers=2, thread_name_prefix="argon2")
# Checked against when the username is unknown, so both cases take as long.
_DUMMY_HASH = hasher.hash("not a password of anyone")

SUPERVISORS = kinds.SUPERVISORS
# The message on the events channel that ends a log-in's sockets in every process.
SESSION_ENDED: Final = "session.ended"
# The message on the events channel after which every process forgets the tokens it
# remembers (`token_cache`): someone signed in or out at a window.
CREDENTIALS_CHANGED: Final = "credentials.changed"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Principal:
    kind: ActorKind  # STAFF or DEVICE
    id: int
    name: str
    credential: str  # "session:<id>" or "device:<id>": what idempotency keys are scoped to
    role: str | None = None  # staff role
    device_kind: str | None = None  # a DeviceKind
    window_id: int | None = None  # a device's window
    window: int | None = None  # the window (number) a staff member is signed in at

    @property
    def actor(self) -> Actor:
        return Actor(self.kind, self.id, self.name)

    @property
    def is_supervisor(self) -> bool:
        return self.role in SUPERVISORS

    @property
    def session_id(self) -> int | None:
        """The staff log-in (sessions.id) behind this principal; None for a device."""
        kind, _, number = self.credential.partition(":")
        return int(number) if kind == "session" else None


FIND_SESSION = """
SELECT s.id AS session_id, st.id, st.name, st.role,
       (SELECT w.number FROM windows w WHERE w.staff_id = st.id AND w.active) AS window,
       extract(epoch FROM s.expires_at - now())::float8 AS expires_in_s
FROM sessions s JOIN staff st ON st.id = s.staff_id
WHERE s.token_hash = $1 AND s.hall_id = $2 AND s.ended_at IS NULL
  AND s.expires_at > now() AND st.active
"""

FIND_DEVICE = """
SELECT id, name, kind, window_id FROM devices
WHERE token_hash = $1 AND hall_id = $2 AND active
"""


async def principal_for_token(
    conn: Connection, hall_id: int, token: str, cache: TokenCache[Principal] | None = None
) -> Principal | None:
    """The token's principal, from `cache` when it remembers it (and into it when not)."""
    digest = token_hash(token)
    if cache is not None and (known := cache.get(digest)) is not None:
        return known
    principal, expires_in_s = await _look_up(conn, hall_id, digest)
    if principal is not None and cache is not None:
        cache.put(digest, principal, expires_in_s)
    return principal


async def _look_up(conn: Connection, hall_id: int, digest: bytes) -> tuple[Principal | None, float | None]:
    row = await conn.fetchrow(FIND_SESSION, digest, hall_id)
    if row:
        staff = Principal(
            ActorKind.STAFF,
            row["id"],
            row["name"],
            f"session:{row['session_id']}",
            role=row["role"],
            window=row["window"],
        )
        return staff, row["expires_in_s"]
    row = await conn.fetchrow(FIND_DEVICE, digest, hall_id)
    if row:
        device = Principal(
            ActorKind.DEVICE,
            row["id"],
            row["name"],
            f"device:{row['id']}",
            device_kind=row["kind"],
            window_id=row["window_id"],
        )
        return device, None
    return None, None


async def authenticate(
    pool: asyncpg.Pool, hall_id: int, token: str, cache: TokenCache[Principal] | None = None
) -> Principal:
    """The principal of a bearer token, or 401."""
    if len(token) > 200:
        raise errors.unauthorized()
    if cache is not None and (known := cache.get(token_hash(token))) is not None:
        return known  # no connection taken from the pool
    async with pool.acquire() as conn:
        principal = await principal_for_token(conn, hall_id, token, cache)
    if principal is None:
        raise errors.unauthorized(messages.TOKEN_UNKNOWN)
    return principal


def require_staff(p: Principal, *roles: str) -> None:
    if p.kind != ActorKind.STAFF:
        raise errors.forbidden(messages.STAFF_ONLY)
    if roles and p.role not in roles:
        raise errors.forbidden(messages.SUPERVISOR_ONLY)


def require_device(p: Principal, *allowed: DeviceKind) -> None:
    if p.kind != ActorKind.DEVICE or p.device_kind not in allowed:
        raise errors.forbidden(messages.DEVICE_MAY_NOT)


async def verify_password(stored: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            return hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.get_running_loop().run_in_executor(_hashing, check)


FIND_STAFF = """
SELECT id, username, name, role, party_member, password_hash FROM staff
WHERE hall_id = $1 AND username = $2 AND active
"""

CREATE_SESSION = """
INSERT INTO sessions (hall_id, staff_id, token_hash, expires_at)
VALUES ($1, $2, $3, now() + $4::interval)
RETURNING id
"""


async def log_in(
    pool: asyncpg.Pool,
    hall_id: int,
    username: str,
    password: str,
    lifetime: timedelta,
    address: str | None,
) -> tuple[str, asyncpg.Record]:
    """A new session for a correct password; 401 for a wrong one, 429 when throttled.

    `address` is the client's, as the HTTP layer saw it.
    """
    where = throttle.address_key(address)
    async with pool.acquire() as conn:
        await throttle.before_log_in(conn, hall_id, username, where)
        row = await conn.fetchrow(FIND_STAFF, hall_id, username)
    if not await verify_password(row["password_hash"] if row else None, password):
        # %r: a username is the caller's text, and must not forge a log line.
        log.warning("failed log-in for %r from %s", username, where)
        async with pool.acquire() as conn:
            await throttle.log_in_failed(conn, hall_id, where)
        raise errors.unauthorized(messages.WRONG_PASSWORD)
    assert row is not None
    token = secrets.token_urlsafe(32)
    async with pool.acquire() as conn, conn.transaction():
        await throttle.log_in_succeeded(conn, hall_id, username, where)
        await conn.execute(CREATE_SESSION, hall_id, row["id"], token_hash(token), lifetime)
    return token, row


# -- end the session and tell every process's hub, in one statement
END_SESSION = """
WITH ended AS (
    UPDATE sessions SET ended_at = now() WHERE id = $1 AND ended_at IS NULL RETURNING id, hall_id
)
SELECT pg_notify($2, json_build_object('type', $3::text, 'hall', hall_id, 'session', id)::text)
FROM ended
"""


async def log_out(
    pool: asyncpg.Pool, principal: Principal, cache: TokenCache[Principal] | None = None
) -> None:
    if principal.session_id is None:
        return
    async with pool.acquire() as conn:
        await conn.execute(END_SESSION, principal.session_id, CHANNEL, SESSION_ENDED)
    if cache is not None:
        cache.forget()  # at once here; the other processes when the notification comes


async def credentials_changed(conn: Connection, hall_id: int) -> None:
    """Tell every process, when the caller's transaction commits, to forget remembered tokens."""
    message = json.dumps({"type": CREDENTIALS_CHANGED, "hall": hall_id})
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, message)


LIVE_SESSIONS = """
SELECT s.id FROM sessions s JOIN staff st ON st.id = s.staff_id
WHERE s.id = ANY($1::bigint[]) AND s.ended_at IS NULL AND s.expires_at > now() AND st.active
"""


async def live_sessions(conn: Connection, ids: list[int]) -> set[int]:
    """Those of these sessions still valid: not logged out, not expired, their staff active."""
    return {r["id"] for r in await conn.fetch(LIVE_SESSIONS, ids)}
