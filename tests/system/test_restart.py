"""Restart: `clearhall serve --demo` on its embedded PostgreSQL keeps every
acknowledged ticket and its numbering through a clean stop, a `kill -9` of
the server, and a power cut (server and database both killed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import keep_log
from tests.helpers import free_port, http_call

KIOSK = "demo-kiosk-1-token"  # from server/store/demo_hall.toml


def call(port: int, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    return http_call(f"http://127.0.0.1:{port}{path}", method, body, token)


class Server:
    def __init__(self, data_dir: Path, log: Path) -> None:
        self.data_dir, self.log, self.port = data_dir, log, free_port()
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        self.output = log.open("a")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "clearhall.server",
                "serve",
                "--demo",
                "--data-dir",
                str(data_dir),
                "--port",
                str(self.port),
            ],
            stdout=self.output,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + 90
        while True:
            if self.process.poll() is not None:
                self.output.close()
                raise AssertionError(log.read_text())
            try:
                if call(self.port, "GET", "/healthz") == (200, {"ok": True}):
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)

    def issue(self) -> dict[str, Any]:
        status, body = call(self.port, "POST", "/api/tickets", {"service": "A"}, KIOSK)
        assert status == 201, body
        return body["ticket"]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.process.send_signal(sig)
        self.process.wait(timeout=60)
        self.output.close()
        keep_log(self.log)  # the logs so far, for the session's check that they hold no secret
        keep_log(self.data_dir / "pg" / "server.log")


def postmaster_pid(data_dir: Path) -> int | None:
    pidfile = data_dir / "pg" / "postmaster.pid"
    return int(pidfile.read_text().split()[0]) if pidfile.exists() else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and b"postgres" in Path(f"/proc/{pid}/cmdline").read_bytes()


def test_tickets_and_numbers_survive_stop_kill_and_power_cut(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)  # the embedded database's system user walks in here when we are root
    data, log = tmp_path / "data", tmp_path / "server.log"
    kept: list[dict[str, Any]] = []

    server = Server(data, log)
    kept += [server.issue(), server.issue()]
    assert [t["number"] for t in kept] == ["A001", "A002"]
    server.stop()  # clean stop: the embedded database stops with it
    assert server.process.returncode == 0
    assert postmaster_pid(data) is None

    server = Server(data, log)
    kept.append(server.issue())
    server.stop(signal.SIGKILL)  # the server dies; its database keeps running
    pid = postmaster_pid(data)
    assert pid is not None and alive(pid)

    server = Server(data, log)  # reuses the running database
    assert postmaster_pid(data) == pid
    kept.append(server.issue())
    server.stop(signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)  # power cut: the database dies too, leaving a stale pid file
    for _ in range(100):
        if not alive(pid):
            break
        time.sleep(0.05)

    server = Server(data, log)  # recovers from the WAL
    kept.append(server.issue())
    assert [t["number"] for t in kept] == ["A001", "A002", "A003", "A004", "A005"]
    for t in kept:
        status, body = call(server.port, "GET", f"/api/tickets/{t['id']}?key={t['key']}")
        assert status == 200 and body["ticket"]["number"] == t["number"]
    server.stop()
    assert postmaster_pid(data) is None

    text = log.read_text()
    assert "Running on" in text
    assert not any(t["key"] in text for t in kept)  # no ticket key in any log line
