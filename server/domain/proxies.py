"""帮代办 (CONTRACT §12): registered proxies, and what a proxy ticket records.

A proxy takes a ticket for an applicant: the ticket carries the applicant's ID
number (its `id_hash`, which the per-ID caps count) and the proxy's
(`proxy_id_hash`). Anyone may act as a proxy; a *registered* proxy (the hall's
帮办代办员, listed in the hall file's `[[proxies]]` or added by a supervisor) is
shown as such to supervisors, so the integrity signals tell the hall's own
helpers from a stranger who takes tickets for many people (黄牛). Proxies are
known by the keyed hash of their ID number; only the masked number is shown.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from clearhall.server.domain import action_log, booking_texts, errors
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.idcard import id_problem, keyed_hash, mask, normalise_id
from clearhall.server.store.db import Connection
from clearhall.server.store.hall_appointments import ProxyConf

APPLY_FILE = """
INSERT INTO proxies (hall_id, name, id_hash, id_masked, note, source)
SELECT $1, p.name, p.id_hash, p.id_masked, p.note, 'file'
FROM unnest($2::text[], $3::bytea[], $4::text[], $5::text[]) AS p(name, id_hash, id_masked, note)
ON CONFLICT (hall_id, id_hash) DO UPDATE SET
    name = EXCLUDED.name, note = EXCLUDED.note, source = 'file', active = true
"""

# a proxy the file listed and no longer lists stops being registered; a
# supervisor's are theirs to remove
DROP_FROM_FILE = """
UPDATE proxies SET active = false
WHERE hall_id = $1 AND source = 'file' AND active AND NOT (id_hash = ANY($2::bytea[]))
"""


def hashed(secret: bytes, id_number: str) -> tuple[bytes, str]:
    number = normalise_id(id_number)
    return keyed_hash(secret, "id", number), mask(number)


async def apply_file(conn: Connection, hall_id: int, secret: bytes, proxies: tuple[ProxyConf, ...]) -> None:
    """Register the hall file's proxies (at start). A bad number is named by its place, not shown."""
    for i, p in enumerate(proxies, 1):
        problem = id_problem(p.id_number)
        if problem is not None:
            raise ValueError(f"hall file: proxies[{i}].id_number: {problem.en}")
    rows = [(p.name, *hashed(secret, p.id_number), p.note) for p in proxies]
    names, hashes, masks, notes = (list(c) for c in zip(*rows, strict=True)) if rows else ([], [], [], [])
    async with conn.transaction():
        await conn.execute(APPLY_FILE, hall_id, names, hashes, masks, notes)
        await conn.execute(DROP_FROM_FILE, hall_id, hashes)


LIST = """
SELECT p.id, p.name, p.id_masked, p.note, p.source, p.added_at, st.name AS added_by
FROM proxies p LEFT JOIN staff st ON st.id = p.added_by
WHERE p.hall_id = $1 AND p.active ORDER BY p.name, p.id
"""


def shape(r: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": r["id"], "name": r["name"], "id_number": r["id_masked"], "note": r["note"],
        "source": r["source"], "added_by": r["added_by"], "added_at": r["added_at"].isoformat(),
    }  # fmt: skip


async def listing(conn: Connection, hall: Hall) -> list[dict[str, Any]]:
    return [shape(r) for r in await conn.fetch(LIST, hall.id)]


ADD = """
INSERT INTO proxies (hall_id, name, id_hash, id_masked, note, source, added_by)
VALUES ($1, $2, $3, $4, $5, 'supervisor', $6)
ON CONFLICT (hall_id, id_hash) DO UPDATE SET
    name = EXCLUDED.name, note = EXCLUDED.note, source = 'supervisor', active = true,
    added_by = EXCLUDED.added_by, added_at = now()
WHERE NOT proxies.active
RETURNING id
"""


async def add(
    conn: Connection, hall: Hall, secret: bytes, p: Principal, name: str, id_number: str, note: str | None
) -> dict[str, Any]:
    problem = id_problem(id_number)
    if problem is not None:
        raise errors.invalid(problem, "id_number")
    id_hash, id_masked = hashed(secret, id_number)
    async with conn.transaction():
        proxy_id = await conn.fetchval(ADD, hall.id, name, id_hash, id_masked, note, p.id)
        if proxy_id is None:
            raise errors.conflict(booking_texts.PROXY_EXISTS)
        await action_log.record(
            conn, hall.id, p.actor, "add_proxy", details={"proxy": proxy_id, "name": name, "id": id_masked}
        )
    row = next(r for r in await conn.fetch(LIST, hall.id) if r["id"] == proxy_id)
    return shape(row)


REMOVE = "UPDATE proxies SET active = false WHERE id = $1 AND hall_id = $2 AND active RETURNING name, source"


async def remove(conn: Connection, hall: Hall, p: Principal, proxy_id: int) -> None:
    async with conn.transaction():
        row = await conn.fetchrow(REMOVE, proxy_id, hall.id)
        if row is None:
            raise errors.not_found(booking_texts.NO_PROXY)
        if row["source"] == "file":  # the next start would register it again: the file decides
            raise errors.conflict(booking_texts.PROXY_IN_FILE)
        details = {"proxy": proxy_id, "name": row["name"]}
        await action_log.record(conn, hall.id, p.actor, "remove_proxy", details=details)


REGISTERED = "SELECT id_hash FROM proxies WHERE hall_id = $1 AND active AND id_hash = ANY($2::bytea[])"


async def registered(conn: Connection, hall_id: int, hashes: list[bytes]) -> frozenset[bytes]:
    """The ID hashes among `hashes` that are registered proxies."""
    return frozenset(r["id_hash"] for r in await conn.fetch(REGISTERED, hall_id, hashes))
