"""Where the benches run: a PostgreSQL (embedded in a temporary folder, or the one
`--database-url` names) and scratch databases made and dropped on it, and the
TARGET table every bench ends with (bench/run_all reads it back).

The embedded server and the temporary folder go away at the end even on error;
on an external server only the scratch databases this run made are dropped.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.harness import postmaster_pid, with_database
from clearhall.server.store.embedded_pg import EmbeddedPostgres


@dataclass(frozen=True)
class Postgres:
    admin_url: str
    postmaster_pid: int | None  # only for the embedded one: its CPU is then measured
    workdir: Path

    async def fresh(self, name: str) -> str:
        """An empty database `name` (dropped first if a crashed run left it); its URL."""
        return await self._create(name, "")

    async def copy(self, template: str, name: str) -> str:
        """A new database `name` holding what `template` holds (a file copy: seconds even
        for gigabytes, and nothing left to flush); its URL."""
        return await self._create(name, f" TEMPLATE {template} STRATEGY FILE_COPY")

    async def _create(self, name: str, how: str) -> str:
        admin = await asyncpg.connect(self.admin_url)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await admin.execute(f"CREATE DATABASE {name}{how}")
        finally:
            await admin.close()
        return with_database(self.admin_url, name)

    async def drop(self, name: str) -> None:
        admin = await asyncpg.connect(self.admin_url)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()

    async def version(self) -> str:
        conn = await asyncpg.connect(self.admin_url)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()


@contextlib.contextmanager
def postgres(database_url: str | None, prefix: str) -> Iterator[Postgres]:
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(workdir, 0o755)  # the embedded server's system user walks in here when we are root
    pg = None if database_url else EmbeddedPostgres(workdir)
    try:
        admin_url = database_url if pg is None else pg.start()
        assert admin_url is not None
        yield Postgres(admin_url, postmaster_pid(pg) if pg else None, workdir)
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------- the targets


@dataclass(frozen=True)
class Target:
    label: str
    wanted: str
    measured: str
    met: bool


def print_targets(targets: list[Target]) -> int:
    """The table bench/engine.py ends with, in the same columns; 0 when every target is met."""
    print(f"{'target':<34}{'wanted':>12}{'measured':>14}  verdict")
    for t in targets:
        print(f"{t.label:<34}{t.wanted:>12}{t.measured:>14}  {'MET' if t.met else 'NOT MET'}")
    return 0 if all(t.met for t in targets) else 1


TARGET_LINE = re.compile(r"^(\S.*?)\s{2,}(\S.*?)\s{2,}(\S.*?)\s{2,}(MET|NOT MET)\s*$")


def read_targets(output: str) -> list[Target]:
    """The target rows of a bench's printed output (engine's table or print_targets')."""
    found = []
    for line in output.splitlines():
        m = TARGET_LINE.match(line)
        if m:
            found.append(Target(m[1].strip(), m[2].strip(), m[3].strip(), m[4] == "MET"))
    return found
