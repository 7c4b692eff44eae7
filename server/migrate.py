"""`clearhall migrate`: bring the database up to this clearhall's schema, and stop.

What a start as the tables' owner does before it serves (schema.sql, the
numbered migrations not applied yet, the installation's secret, the role
clearhall_app and its privileges), without serving: the one step of an
upgrade that needs the owner's rights, so that every server process can log in
as clearhall_app, which may not change the schema (docs/operating.md,
"Upgrades"). Two at once take turns (the schema's advisory lock).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from clearhall.server.store import app_role, db
from clearhall.server.store.embedded_pg import EmbeddedPostgres


class MigrateError(RuntimeError):
    """Why nothing could be done, as a sentence."""


async def migrate(url: str, *, embedded: bool = False) -> list[str]:
    """Apply what is missing as the owner whose URL this is; what was done, a line each."""
    conn = await asyncpg.connect(url)
    try:
        await db.init_connection(conn)
        if not await app_role.owns_schema(conn):
            who = await conn.fetchval("SELECT current_user")
            raise MigrateError(
                f"{who} does not own clearhall's tables: give the URL of their owner (docs/operating.md)"
            )
        applied = await db.apply_schema(conn)
        await db.installation_secret(conn)
        granted = await app_role.grant(conn, login=embedded)
        latest = max((version for version, _, _ in db.migrations()), default=0)
    finally:
        await conn.close()
    done = f"applied migrations {', '.join(map(str, applied))}" if applied else "nothing to apply"
    lines = [f"{db.describe(url)}: {done}; the schema is at migration {latest}"]
    if granted:
        lines.append(f"{app_role.APP_ROLE} has its privileges (reads and writes; appends to the action log)")
    else:
        lines.append(f"{app_role.APP_ROLE} is missing and this user may not make it: see docs/operating.md")
    return lines


def run(url: str | None, data_dir: Path) -> list[str]:
    """`clearhall migrate`: on the database of `url`, or else the embedded one of
    `data_dir` (started for it, and stopped again, when no server runs it)."""
    if url is not None:
        return asyncio.run(migrate(url))
    pg = EmbeddedPostgres(data_dir)
    started = not pg.running()
    try:
        return asyncio.run(migrate(pg.start(), embedded=True))
    finally:
        if started:
            pg.stop()
