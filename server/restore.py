"""`clearhall restore DUMP [--data-dir DIR]`: a pg_dump of the hall put back into
the embedded PostgreSQL (docs/operating.md, "Backups and a tested restore").

An external PostgreSQL is restored with pg_restore itself; the embedded one has
no server of its own to restore into while clearhall is stopped, so this does
the steps, in order, and stops at the first that fails:

1. the cluster of the data directory is started (made, for a new directory); a
   clearhall still connected to it is refused: stop it first;
2. the dump (pg_dump's custom format) goes into a new database in one
   transaction (`pg_restore --single-transaction --exit-on-error`, without the
   dump's owners and grants: the server's next start makes its role and grants);
3. each hall's action log is verified in it; a chain that does not verify stops
   here and replaces nothing;
4. the server's database (`postgres`) is renamed `postgres_before_<time>`, kept
   until you drop it, and the restored one takes its name;
5. the cluster is stopped again if this started it.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import asyncpg

from clearhall.server.domain import integrity
from clearhall.server.store import db
from clearhall.server.store.embedded_pg import EmbeddedPostgres

SERVED = "postgres"  # the embedded database clearhall serves


class RestoreError(RuntimeError):
    """Why the restore stopped; nothing was replaced."""


def url_of(pg: EmbeddedPostgres, database: str) -> str:
    return f"postgresql://postgres@/{database}?host={pg.socket_dir}"


async def connected(url: str) -> int:
    """How many other connections the served database has (a running clearhall's)."""
    conn = await asyncpg.connect(url)
    try:
        others: int = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", SERVED
        )
        return others
    finally:
        await conn.close()


async def verify_all(url: str) -> list[str]:
    """One line per hall in the restored database; RestoreError for a chain that fails."""
    conn = await asyncpg.connect(url)
    try:
        await db.init_connection(conn)
        lines = []
        for hall in await conn.fetch("SELECT id, code FROM halls ORDER BY id"):
            verdict = await integrity.verify(conn, hall["id"])
            if not verdict.ok:
                bad = verdict.first_bad or {}
                raise RestoreError(
                    f"hall {hall['code']}: the action log does not verify in the dump: entry seq"
                    f" {bad.get('seq')} is {bad.get('problem')}; nothing replaced"
                )
            lines.append(
                f"hall {hall['code']}: {verdict.entries} entries, head {verdict.head_seq}:{verdict.head}"
            )
        return lines
    finally:
        await conn.close()


async def swap(url: str, restored: str, before: str) -> None:
    conn = await asyncpg.connect(url)  # to template1: neither database may have a connection
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", SERVED)
        if exists:
            await conn.execute(f'ALTER DATABASE "{SERVED}" RENAME TO "{before}"')
        await conn.execute(f'ALTER DATABASE "{restored}" RENAME TO "{SERVED}"')
    finally:
        await conn.close()


def tool(pg: EmbeddedPostgres, program: str, *args: str) -> subprocess.CompletedProcess[str]:
    """One of the bundled client programs, on the cluster's socket, as its superuser."""
    command = [str(pg.bin / program), "-h", str(pg.socket_dir), "-U", "postgres", *args]
    return subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)


def restore(dump: Path, data_dir: Path) -> list[str]:
    """Put `dump` back as the served database of `data_dir`'s cluster; what was done."""
    if not dump.is_file():
        raise RestoreError(f"{dump}: no such file")
    pg = EmbeddedPostgres(data_dir)
    started = not pg.running()
    pg.start()
    try:
        stamp = time.strftime("%Y%m%d_%H%M%S")
        restored, before = f"restoring_{stamp}", f"{SERVED}_before_{stamp}"
        admin = url_of(pg, "template1")
        if not started and asyncio.run(connected(admin)):
            raise RestoreError(
                f"a clearhall server is connected to the database in {pg.pgdata}: stop it first"
            )
        made = tool(pg, "createdb", restored)
        if made.returncode != 0:
            raise RestoreError(f"createdb failed: {made.stderr.strip()}")
        try:
            done = tool(pg, "pg_restore", "--no-owner", "--no-privileges", "--single-transaction",
                        "--exit-on-error", "-d", restored, str(dump))  # fmt: skip
            if done.returncode != 0:
                raise RestoreError(f"pg_restore failed, nothing replaced: {done.stderr.strip()[-2000:]}")
            lines = asyncio.run(verify_all(url_of(pg, restored)))
        except BaseException:
            tool(pg, "dropdb", restored)
            raise
        asyncio.run(swap(admin, restored, before))
    finally:
        if started:
            pg.stop()
    return [
        f"restored {dump} into {pg.pgdata}",
        *lines,
        f'the database it replaced is kept as "{before}": once the hall runs as it should, drop it with'
        f" {pg.bin / 'psql'} -h {pg.socket_dir} -U postgres -d template1 -c 'DROP DATABASE \"{before}\"'",
    ]
