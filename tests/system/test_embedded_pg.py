"""The embedded PostgreSQL is the server's alone: no other local user reaches it.

Two locks, each tested on its own: the socket's folder is private (0700, owned
by the database's user; a folder someone else made is refused), and the
cluster authenticates by peer (only the server's and the database's own OS
users, as `postgres`), never `trust`. Tested the way the finding was made: a
data directory too long for a socket path (so the socket goes to /tmp), and a
`psql` run as `nobody`. A cluster made by an earlier version (trust, a 0755
socket folder) is tightened on its next start, running or not.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from clearhall.server.store.embedded_pg import (
    SOCKET_NAME,
    SYSTEM_USER,
    EmbeddedPostgres,
    EmbeddedPostgresError,
    binaries,
)

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runuser") is None, reason="needs root to act as other users"
)

LONG = "a-data-directory-whose-path-is-too-long-for-a-unix-socket-" * 2
# pg_hba.conf of a cluster made by an earlier clearhall (`initdb --auth=trust`)
TRUST_HBA = "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n"


def psql(host: Path, as_user: str | None = None, sql: str = "SELECT 1") -> subprocess.CompletedProcess[str]:
    """`sql` as `postgres` through the socket in `host`, run by the OS user `as_user` (default: us)."""
    command = [str(binaries() / "psql"), "-X", "-w", "-At", "-h", str(host), "-U", "postgres", "-c", sql]
    if as_user:
        command = ["runuser", "-u", as_user, "--", *command]
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PGCONNECT_TIMEOUT": "5"}
    return subprocess.run(command, capture_output=True, text=True, cwd="/", env=env, timeout=30)


def refused(result: subprocess.CompletedProcess[str]) -> bool:
    return result.returncode != 0 and result.stdout.strip() != "1"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def owner(path: Path) -> str:
    return pwd.getpwuid(path.lstat().st_uid).pw_name


@pytest.fixture
def folder() -> Iterator[Path]:
    # Not tmp_path: other pytest sessions on this machine may clear old tmp_path roots.
    path = Path(tempfile.mkdtemp(prefix="clearhall-test-"))
    path.chmod(0o755)  # the database's system user walks in here
    yield path
    shutil.rmtree(path)


@pytest.fixture
def long_dir(folder: Path) -> Iterator[Path]:
    data = folder / LONG
    pg = EmbeddedPostgres(data)
    assert pg.socket_dir != pg.pgdata  # the socket does not fit there
    yield data
    pg.stop()
    shutil.rmtree(pg.socket_dir, ignore_errors=True)


class Opened:
    """Opens the socket's folder and the socket to everyone for a while, as a
    careless operator might: then only authentication stands in the way."""

    def __init__(self, socket_dir: Path) -> None:
        self.paths = [socket_dir, socket_dir / SOCKET_NAME]

    def __enter__(self) -> None:
        self.modes = [mode(p) for p in self.paths]
        for p in self.paths:
            p.chmod(0o777)

    def __exit__(self, *exc: object) -> None:
        for p, m in zip(self.paths, self.modes, strict=True):
            p.chmod(m)


def assert_private(pg: EmbeddedPostgres) -> None:
    """No local user but ours reaches the cluster, by either lock; we still do."""
    assert mode(pg.socket_dir) == 0o700
    assert owner(pg.socket_dir) == SYSTEM_USER
    assert psql(pg.socket_dir).stdout.strip() == "1"  # the server's own user gets in
    denied = psql(pg.socket_dir, as_user="nobody")
    assert refused(denied), denied
    with Opened(pg.socket_dir):
        denied = psql(pg.socket_dir, as_user="nobody")
        assert refused(denied) and 'Peer authentication failed for user "postgres"' in denied.stderr, denied
    lines = (pg.pgdata / "pg_hba.conf").read_text().splitlines()
    rules = [line.split() for line in lines if line.strip() and not line.startswith("#")]
    assert rules == [["local", "all", "all", "peer", "map=clearhall"]]


def test_a_long_data_dir_puts_the_socket_in_a_private_folder(long_dir: Path) -> None:
    pg = EmbeddedPostgres(long_dir)
    url = pg.start()
    assert str(pg.socket_dir).startswith(tempfile.gettempdir())
    assert_private(pg)

    async def server_connects() -> int:
        conn = await asyncpg.connect(url)
        try:
            return int(await conn.fetchval("SELECT 1"))
        finally:
            await conn.close()

    assert asyncio.run(server_connects()) == 1
    assert psql(pg.socket_dir, sql="SHOW listen_addresses").stdout.strip() == ""  # no TCP port


@pytest.mark.parametrize("running", [False, True], ids=["stopped", "running"])
def test_an_earlier_trusting_cluster_is_tightened_on_its_next_start(long_dir: Path, running: bool) -> None:
    pg = EmbeddedPostgres(long_dir)
    pg.start()
    # Make it what an earlier clearhall left: trust for everyone, a 0755 socket folder.
    (pg.pgdata / "pg_hba.conf").write_text(TRUST_HBA)
    if running:
        pg._run("pg_ctl", "-D", str(pg.pgdata), "reload")  # the old server is still up (kill -9)
    else:
        pg.stop()
        pg.socket_dir.mkdir(exist_ok=True)
        shutil.chown(pg.socket_dir, SYSTEM_USER, SYSTEM_USER)
    pg.socket_dir.chmod(0o755)

    again = EmbeddedPostgres(long_dir)
    again.start()
    assert_private(again)


def test_a_socket_folder_made_by_someone_else_is_refused(long_dir: Path) -> None:
    pg = EmbeddedPostgres(long_dir)
    folder = pg.socket_dir
    folder.mkdir(mode=0o700)
    shutil.chown(folder, "nobody", "nogroup")
    with pytest.raises(EmbeddedPostgresError, match=rf"{folder}.* belongs to nobody"):
        pg.start()
    assert not (folder / SOCKET_NAME).exists()

    # ours, but anyone may write in it: someone could have put a socket of theirs there
    shutil.chown(folder, SYSTEM_USER, SYSTEM_USER)
    folder.chmod(0o777)
    with pytest.raises(EmbeddedPostgresError, match=rf"{folder}.* others may write"):
        pg.start()

    # a link to somewhere else
    folder.rmdir()
    elsewhere = Path(tempfile.mkdtemp())
    try:
        shutil.chown(elsewhere, SYSTEM_USER, SYSTEM_USER)
        folder.symlink_to(elsewhere)
        with pytest.raises(EmbeddedPostgresError, match=rf"{folder}.* not a folder"):
            pg.start()
    finally:
        folder.unlink()
        shutil.rmtree(elsewhere)


def test_the_cluster_folder_as_socket_folder_is_checked_too(folder: Path) -> None:
    pg = EmbeddedPostgres(folder)
    assert pg.socket_dir == pg.pgdata  # short enough: the socket sits in the cluster's folder
    try:
        pg.start()
        assert_private(pg)
        pg.stop()
        pg.pgdata.chmod(0o750)  # readable by the group: tightened
        pg.start()
        assert mode(pg.pgdata) == 0o700
        pg.stop()
        shutil.chown(pg.pgdata, "nobody")  # someone else's
        with pytest.raises(EmbeddedPostgresError, match=rf"{pg.pgdata}.* belongs to nobody"):
            pg.start()
    finally:
        shutil.chown(pg.pgdata, SYSTEM_USER)
        pg.stop()


def as_user(name: str, work: Callable[[], str]) -> str:
    """`work()` in a forked child that has become the OS user `name` (this
    Python lives where `nobody` may not run it, so no exec); its result, or its error."""
    account = pwd.getpwnam(name)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never back into pytest
        status = 1
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)
            answer = work()
            status = 0
        except BaseException as exc:
            answer = f"{type(exc).__name__}: {exc}"
        finally:
            os.write(write, answer.encode())
            os._exit(status)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, answer
    return answer


def test_run_by_an_ordinary_user_the_cluster_is_that_users_alone(folder: Path) -> None:
    """Not root: the cluster runs as whoever runs the server (here `nobody`), and
    another local user (`daemon`) cannot reach it."""
    data = folder / LONG
    data.mkdir()
    shutil.chown(data, "nobody", "nogroup")

    def start() -> str:
        pg = EmbeddedPostgres(data)
        url = pg.start()

        async def server_connects() -> None:
            conn = await asyncpg.connect(url)
            assert await conn.fetchval("SELECT 1") == 1
            await conn.close()

        asyncio.run(server_connects())
        return str(pg.socket_dir)

    def stop() -> str:
        EmbeddedPostgres(data).stop()
        return ""

    try:
        socket_dir = Path(as_user("nobody", start))
        assert mode(socket_dir) == 0o700 and owner(socket_dir) == "nobody"
        assert refused(psql(socket_dir, as_user="daemon"))
        assert psql(socket_dir, as_user="nobody").stdout.strip() == "1"
        with Opened(socket_dir):
            denied = psql(socket_dir, as_user="daemon")
            assert 'Peer authentication failed for user "postgres"' in denied.stderr, denied
    finally:
        as_user("nobody", stop)
        shutil.rmtree(EmbeddedPostgres(data).socket_dir, ignore_errors=True)


async def test_the_server_logs_in_as_the_role_that_may_only_append_to_the_log(folder: Path) -> None:
    """Issue 11, item 1: with the embedded database the server's connections are the
    append-only role itself (not a superuser that SET ROLE): RESET ROLE changes
    nothing, and the log cannot be changed even with its triggers switched off."""
    from aiohttp.test_utils import TestServer

    from clearhall.server.app import create_app
    from clearhall.server.keys import DB
    from clearhall.server.settings import Settings
    from clearhall.server.store.app_role import APP_ROLE

    app = create_app(Settings(data_dir=folder, demo=True))
    async with TestServer(app) as _:
        pg = EmbeddedPostgres(folder)
        owner = await asyncpg.connect(pg.url)
        try:
            await owner.execute("ALTER TABLE action_log DISABLE TRIGGER USER")
            async with app[DB].acquire() as conn:
                await conn.execute("RESET ROLE")
                assert await conn.fetchval("SELECT session_user") == APP_ROLE
                assert await conn.fetchval("SELECT current_user") == APP_ROLE
                for attempt in (
                    "UPDATE action_log SET reason = 'x'",
                    "DELETE FROM action_log",
                    "TRUNCATE action_log",
                ):
                    with pytest.raises(asyncpg.InsufficientPrivilegeError):
                        await conn.execute(attempt)
            with Opened(pg.socket_dir):  # another local user cannot log in as the server's role either
                as_role = await asyncio.to_thread(
                    subprocess.run,
                    ["runuser", "-u", "nobody", "--", str(binaries() / "psql"), "-X", "-w", "-At",
                     "-h", str(pg.socket_dir), "-U", APP_ROLE, "-c", "SELECT 1"],
                    capture_output=True, text=True, cwd="/", timeout=30,
                )  # fmt: skip
                assert refused(as_role) and "Peer authentication failed" in as_role.stderr, as_role
        finally:
            await owner.close()
