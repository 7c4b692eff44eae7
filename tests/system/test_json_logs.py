"""JSON logs (issue 13, Production 5; docs/observability.md): `clearhall serve --demo
--log-format json` writes its log as one JSON object per line, the access log's fields
as keys of their own, no line forged by a CR, LF or Unicode line separator in a path,
and not one secret the run used."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import ClientSession

from clearhall.server.logs import FORMAT_ENV, JsonLines
from clearhall.server.store import hallfile
from tests.conftest import keep_log, with_database
from tests.helpers import free_port, valid_id

DEMO = hallfile.load(hallfile.DEMO)
KIOSK = next(d.token for d in DEMO.devices if d.kind == "kiosk")
PASSWORDS = {s.username: s.password for s in DEMO.staff}
FORGED = "2026-01-01 00:00:00,000 INFO forged: admin logged in"


@asynccontextmanager
async def demo_serving(pg_url: str, folder: Path) -> AsyncIterator[str]:
    """`clearhall serve --demo --log-format json` on a database of its own, its
    standard error (the log) in folder/log and its standard output apart; its URL."""
    name = f"clearhall_json_logs_{os.getpid()}"
    admin = await asyncpg.connect(pg_url)
    await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await admin.execute(f"CREATE DATABASE {name}")
    port = free_port()
    with (folder / "log").open("wb") as log, (folder / "out").open("wb") as out:
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clearhall.server", "serve", "--demo", "--log-format", "json",
            "--port", str(port), "--database-url", with_database(pg_url, name), stdout=out, stderr=log,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with ClientSession() as session:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(OSError):
                    async with session.get(base + "/healthz") as r:
                        if r.status == 200:
                            break
                assert time.monotonic() < deadline and server.returncode is None, (folder / "log").read_text()
                await asyncio.sleep(0.2)
        yield base
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 20)
        keep_log(folder / "log")
        keep_log(folder / "out")  # the demo's banner, and nothing else
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def a_day_at_the_demo(base: str) -> set[str]:
    """Requests that carry every kind of secret; the secrets."""
    person, phone = valid_id(42424), "13987654321"
    secrets = {KIOSK, *PASSWORDS.values(), person, phone, "wrong-guess-77"}
    kiosk = {"Authorization": f"Bearer {KIOSK}"}
    async with ClientSession() as session:
        body = {"service": "A", "id_number": person, "phone": phone}
        async with session.post(base + "/api/tickets", json=body, headers=kiosk) as r:
            assert r.status == 201, await r.text()
            ticket = (await r.json())["ticket"]
        secrets |= {ticket["key"], ticket["url"]}
        async with session.get(f"{base}/api/tickets/{ticket['id']}?key={ticket['key']}") as r:
            assert r.status == 200
        login = {"username": "lina", "password": PASSWORDS["lina"]}
        async with session.post(base + "/api/login", json=login) as r:
            token = (await r.json())["token"]
        secrets.add(token)
        async with session.post(base + "/api/login", json={**login, "password": "wrong-guess-77"}) as r:
            assert r.status == 401
        staff = {"Authorization": f"Bearer {token}"}
        for action in ("sign-in", "call-next"):
            async with session.post(f"{base}/api/windows/1/{action}", headers=staff) as r:
                assert r.status == 200, await r.text()
        async with session.ws_connect(f"{base}/ws?token={token}") as ws:
            await ws.receive(timeout=5)
        for forged in ("%0a", "%0d%0a", "%E2%80%A8", "%C2%85"):
            async with session.get(f"{base}/api/nothing{forged}{FORGED}"):
                pass
        async with session.get(base + "/metrics") as r:
            assert r.status == 200
    await asyncio.sleep(0.5)  # the last access lines and the notifier's
    return secrets


async def test_the_log_is_json_lines_with_every_request_and_no_secret(pg_url: str, tmp_path: Path) -> None:
    async with demo_serving(pg_url, tmp_path) as base:
        secrets = await a_day_at_the_demo(base)
    text = (tmp_path / "log").read_text(encoding="utf-8")
    assert len(text.splitlines()) == text.count("\n")  # a newline ends each line, and nothing else breaks one
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) >= 12, text[-2000:]
    for line in lines:
        assert isinstance(line, dict) and {"time", "level", "logger", "message"} <= line.keys(), line
        assert datetime.fromisoformat(line["time"]).tzinfo is not None
    access = [line for line in lines if line["logger"] == "aiohttp.access"]
    issued = [a for a in access if a["method"] == "POST" and a["path"] == "/api/tickets"]
    assert issued and issued[0]["status"] == 201 and issued[0]["credential"] == "kiosk", issued
    assert isinstance(issued[0]["duration_ms"], float) and issued[0]["remote"] == "127.0.0.1"
    assert issued[0]["message"].startswith("127.0.0.1 POST /api/tickets 201 ")  # the text line, as before
    assert any(a["path"] == "/api/login" and a["status"] == 401 for a in access)
    assert any(a["path"] == "/metrics" and a["status"] == 200 for a in access)
    assert any(
        line["level"] == "WARNING" and "lina" in line["message"] for line in lines
    )  # the failed log-in
    forged = [a["path"] for a in access if a["path"].startswith("/api/nothing")]
    assert len(forged) == 4 and all(p.endswith(FORGED) for p in forged)  # there, inside its own line
    assert not any(line["message"].startswith("2026-01-01") for line in lines)
    for secret in secrets:
        assert secret not in text, f"a secret is in the log: {secret[:4]}…"


def test_a_record_with_every_kind_of_line_break_and_a_trace_is_one_line() -> None:
    message = "a\nb\rc\u2028d\u2029e\x85f\x0bg\x1ch"
    try:
        raise ValueError("inside\nthe trace")
    except ValueError:
        record = logging.LogRecord("clearhall", logging.ERROR, __file__, 1, message, None, sys.exc_info())
    line = JsonLines().format(record)
    assert len(line.splitlines()) == 1 and "\n" not in line
    parsed: dict[str, Any] = json.loads(line)
    assert parsed["message"] == message and parsed["level"] == "ERROR" and parsed["logger"] == "clearhall"
    assert "ValueError: inside\nthe trace" in parsed["trace"]


def test_the_environment_chooses_json_and_refuses_what_it_does_not_know(tmp_path: Path) -> None:
    program = "from clearhall.server import logs, cli; import logging;"
    json_env = {**os.environ, FORMAT_ENV: "json"}
    run = subprocess.run(
        [sys.executable, "-c", program + "logs.configure(); logging.getLogger('x').warning('a\\nb')"],
        env=json_env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert json.loads(run.stderr)["message"] == "a\nb"
    wrong = subprocess.run(
        [sys.executable, "-m", "clearhall.server", "check-config", str(tmp_path / "none.toml")],
        env={**os.environ, FORMAT_ENV: "xml"}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert wrong.returncode == 1 and f"clearhall: {FORMAT_ENV} is text or json, not 'xml'" in wrong.stderr
