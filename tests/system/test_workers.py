"""`clearhall serve --demo --workers 2` on its embedded PostgreSQL: the parent starts
the database once and two children on two ports, which share it; children stop by
themselves when their parent is killed with -9 (the database keeps running, as
after any kill -9), the next start reuses it, and SIGTERM stops children and
database. SIGHUP has one child read the hall file again. (tests/system/test_nginx_three.py kills a child and watches it come back.)"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from clearhall.server.workers import HEADER
from tests.conftest import keep_log
from tests.helpers import alive, free_ports, http_call, worker_pids

KIOSK = "demo-kiosk-1-token"  # from server/store/demo_hall.toml


def worker_of(port: int) -> str | None:
    """Which worker answers /healthz on `port`, or None while nothing does."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return str(r.headers[HEADER])
    except OSError:
        return None


def start(data: Path, log: Path, port: int) -> tuple[subprocess.Popen[bytes], list[int]]:
    """The parent, once both children answer; and the children's pids."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    command = [sys.executable, "-m", "clearhall.server", "serve", "--demo", "--workers", "2"]
    command += ["--data-dir", str(data), "--port", str(port)]
    with log.open("ab") as out:
        parent = subprocess.Popen(command, stdout=out, stderr=out, stdin=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 90
    while [worker_of(port), worker_of(port + 1)] != ["1", "2"]:
        assert parent.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)
    pids = worker_pids(log.read_text())
    return parent, [pids[1], pids[2]]


def postmaster(data: Path) -> int | None:
    pidfile = data / "pg" / "postmaster.pid"
    return int(pidfile.read_text().split()[0]) if pidfile.exists() else None


def gone(pids: list[int], within: float = 30) -> bool:
    deadline = time.monotonic() + within
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_workers_share_the_embedded_database_and_stop_with_their_parent(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)  # the embedded database's system user walks in here when we are root
    data, log, port = tmp_path / "data", tmp_path / "serve.log", free_ports(2)
    started: list[int] = []
    try:
        parent, children = start(data, log, port)
        started += [parent.pid, *children]
        assert log.read_text().count("clearhall demo hall:") == 1  # the banner, once: the parent's
        status, body = http_call(f"http://127.0.0.1:{port}/api/tickets", "POST", {"service": "A"}, KIOSK)
        assert status == 201, body
        ticket = body["ticket"]
        status, body = http_call(
            f"http://127.0.0.1:{port + 1}/api/tickets/{ticket['id']}?key={ticket['key']}"
        )
        assert status == 200 and body["ticket"]["number"] == ticket["number"]  # one database
        database = postmaster(data)
        assert database is not None

        parent.send_signal(signal.SIGHUP)  # `clearhall reload`: one child reads the file, tells the other
        deadline = time.monotonic() + 30
        while "hall file reloaded" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        assert "[worker 1] hall file reloaded" in log.read_text()
        assert [worker_of(port), worker_of(port + 1)] == ["1", "2"]
        assert "[worker 2] hall file reloaded" not in log.read_text()

        parent.kill()  # -9: nobody tells the children, they notice
        parent.wait()
        assert gone(children), log.read_text()[-3000:]
        assert "the parent process" in log.read_text() and postmaster(data) == database

        parent, children = start(data, log, port)  # reuses the running database
        started += [parent.pid, *children]
        assert postmaster(data) == database
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(60) == 0
        assert gone(children, within=0) and postmaster(data) is None
        assert ticket["key"] not in log.read_text()
    finally:
        for pid in [*started, postmaster(data) or 0]:
            if pid and alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        keep_log(log)
        keep_log(data / "pg" / "server.log")
