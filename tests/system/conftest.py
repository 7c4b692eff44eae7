"""Debian's own PostgreSQL for the system tests that need more than the embedded
one: a primary, its streaming replica, a pooler in front (docs/replica.md).

Real servers from the `postgresql` package, each in a folder of its own under
one temporary folder, on free ports of 127.0.0.1 only, with passwords
(scram-sha-256) and no Unix socket. PostgreSQL refuses to run as root, so
under root they run as the embedded database's system user, `clearhall-pg`.
Every server the fixture started is stopped at its end, whatever happened.
Without the package the tests are skipped, except in CI, where they fail.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from clearhall.server.store import app_role, db, hall_apply, hallfile
from clearhall.server.store.embedded_pg import SYSTEM_USER
from tests.conftest import HALL_FILE, SECRETS, keep_log
from tests.helpers import free_port

PG_ROOT = Path("/usr/lib/postgresql")
SUPERUSER_PASSWORD = secrets.token_urlsafe(12)
APP_PASSWORD = secrets.token_urlsafe(12)  # clearhall_app's, the server's login
REPLICATION_PASSWORD = secrets.token_urlsafe(12)
SECRETS.update({SUPERUSER_PASSWORD, APP_PASSWORD, REPLICATION_PASSWORD})


def debian_binary(path: Path | None, package: str) -> Path:
    """`path`, or a skip (a failure in CI) naming the Debian package that brings it."""
    if path is None or not path.exists():
        what = f"no {path}" if path else f"no PostgreSQL under {PG_ROOT}"
        if os.environ.get("CI"):  # in CI these tests run, never skip: .ci/run installs the package
            pytest.fail(f"{what}: .ci/run installs Debian's {package}")
        pytest.skip(f"{what} (apt-get install {package})")
    return path


def pg_bin() -> Path:
    versions = sorted((p for p in PG_ROOT.glob("*/bin/postgres")), key=lambda p: int(p.parts[-3]))
    return debian_binary(versions[-1].parent if versions else None, "postgresql")


def os_user() -> str | None:
    """Whom the servers run as: the embedded database's system user under root, else us."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
        )
    return SYSTEM_USER


def run_as(user: str | None, *args: str | Path, env: dict[str, str] | None = None) -> str:
    """Run a program as `user`; its output, or an assertion error that shows it."""
    with tempfile.TemporaryFile("w+") as out:  # not a pipe: a postmaster would hold it open
        result = subprocess.run(
            [str(a) for a in args], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, user=user, group=user, extra_groups=[] if user else None,
            cwd="/", start_new_session=True, timeout=120, check=False,
        )  # fmt: skip
        out.seek(0)
        text = out.read()
    assert result.returncode == 0, f"{args[0]} failed: {text}"
    return text


@dataclass
class Cluster:
    """One PostgreSQL server: its data folder, port and log."""

    bin: Path
    data: Path
    port: int
    user: str | None

    @property
    def log(self) -> Path:
        return self.data.parent / f"{self.data.name}.log"

    def url(self, user: str = "postgres", database: str = "postgres") -> str:
        password = {"postgres": SUPERUSER_PASSWORD, "clearhall_app": APP_PASSWORD}[user]
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        run_as(self.user, self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        run_as(self.user, self.bin / "pg_ctl", "-D", self.data, "-w", "-m", mode, "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def kill(self) -> None:
        """The last resort on the way out: the postmaster is gone, whatever state it was in."""
        with contextlib.suppress(FileNotFoundError, ValueError, IndexError, ProcessLookupError):
            os.kill(int((self.data / "postmaster.pid").read_text().split()[0]), signal.SIGKILL)


class Clusters:
    """Makes primaries and replicas in one folder, and stops them all at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.bin, self.user = folder, pg_bin(), os_user()
        self.made: list[Cluster] = []

    def _cluster(self, name: str) -> Cluster:
        cluster = Cluster(self.bin, self.folder / name, free_port(), self.user)
        self.made.append(cluster)
        return cluster

    def primary(self) -> Cluster:
        """A primary that lets a replica stream its WAL (the user `replicator`)."""
        cluster = self._cluster(f"primary-{len(self.made)}")
        pwfile = self.folder / "pwfile"
        pwfile.write_text(SUPERUSER_PASSWORD + "\n")
        self.own(pwfile)
        run_as(self.user, self.bin / "initdb", "-D", cluster.data, "-U", "postgres", "--pwfile", pwfile,
               "--auth-local=peer", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C")  # fmt: skip
        pwfile.unlink()
        # initdb's pg_hba.conf already lets `replication` in from 127.0.0.1, by password
        # fsync off: a test's server, with nothing to keep after a crash
        self._settings(cluster, listen_addresses="'127.0.0.1'", port=str(cluster.port),
                       unix_socket_directories="''", wal_level="replica", max_wal_senders="5",
                       hot_standby="on", fsync="off")  # fmt: skip
        cluster.start()
        run_as(self.user, self.bin / "psql", "-v", "ON_ERROR_STOP=1", "-q", "-d", cluster.url(), "-c",
               f"CREATE ROLE replicator REPLICATION LOGIN PASSWORD '{REPLICATION_PASSWORD}'")  # fmt: skip
        return cluster

    def replica_of(self, primary: Cluster) -> Cluster:
        """A hot standby streaming from `primary`: pg_basebackup -R, then its own port."""
        cluster = self._cluster(f"replica-{len(self.made)}")
        run_as(self.user, self.bin / "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port),
               "-U", "replicator", "-D", cluster.data, "-R", "-X", "stream", "--checkpoint=fast",
               env={"PGPASSWORD": REPLICATION_PASSWORD})  # fmt: skip
        self._settings(cluster, port=str(cluster.port))
        cluster.start()
        return cluster

    def _settings(self, cluster: Cluster, **settings: str) -> None:
        """Appended to postgresql.conf: the last of a name wins (a replica's copy has the primary's)."""
        with (cluster.data / "postgresql.conf").open("a") as conf:
            conf.write("".join(f"{name} = {value}\n" for name, value in settings.items()))

    def own(self, path: Path) -> None:
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def stop_all(self) -> None:
        for cluster in reversed(self.made):
            if cluster.running():
                try:
                    cluster.stop("immediate")
                except (AssertionError, subprocess.TimeoutExpired):
                    cluster.kill()


@pytest.fixture(scope="module")
def clusters() -> Iterator[Clusters]:
    pg_bin()  # skip (or fail in CI) before making anything
    folder = Path(tempfile.mkdtemp(prefix="clearhall-clusters-"))
    try:
        folder.chmod(0o755)  # the servers' system user works in here when we are root
        made = Clusters(folder)
        made.own(folder)
        try:
            yield made
        finally:
            made.stop_all()
            for log in sorted(folder.glob("*.log")):  # each server's, and pgbouncer's
                keep_log(log)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def clearhall_database(cluster: Cluster, name: str = "clearhall") -> str:
    """A database for clearhall on `cluster`, set up as its owner would (schema, the hall of
    tests/hall.toml, the role's privileges; docs/operating.md, "The database role"), and
    the URL the server logs in with: its own role, clearhall_app."""
    admin = await asyncpg.connect(cluster.url())
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = 'clearhall_app'"):
            await admin.execute(f"CREATE ROLE clearhall_app LOGIN PASSWORD '{APP_PASSWORD}'")
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    conn = await asyncpg.connect(cluster.url(database=name))
    try:
        await db.init_connection(conn)
        await db.apply_schema(conn)
        await db.installation_secret(conn)
        await hall_apply.apply(conn, hallfile.load(HALL_FILE))
        assert await app_role.prepare(conn) == app_role.APP_ROLE
    finally:
        await conn.close()
    return cluster.url("clearhall_app", name)
