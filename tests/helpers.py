"""Helpers the tests share, in one module; fixtures and the `Api` client are in
conftest.py. Test modules import from here and never from each other. What is
here: ID numbers with a correct check character, free loopback ports, a blocking
JSON call for a `clearhall serve` process driven from outside an event loop,
whether a process is alive and the pids of `serve --workers`' children, reading
/ws events, waiting for a condition, and a test server with printers and fast
print timings. A helper used by one module stays in that module.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import ClientSession, WSMsgType
from aiohttp.test_utils import TestServer

from clearhall.server.app import create_app
from clearhall.server.domain.idcard import check_digit
from clearhall.server.printing.conf import PRINT_CONF, PrintConf
from clearhall.server.store import hall_apply, hallfile
from tests.conftest import (
    HALL_FILE,
    KIOSK,
    SECRETS,
    Api,
    app_client,
    keep_log,
    remember_secrets,
    settings_for,
)

# Print timings short enough for a test to see retries, leases and state polls.
FAST = PrintConf(
    worker_step_s=0.7,
    poll_s=0.1,
    state_poll_s=0.3,
    probe_timeout_s=0.5,
    retry_base_s=0.2,
    retry_max_s=0.5,
    max_attempts=100,
    lease_s=5.0,
    agent_result_s=5.0,
)


def valid_id(n: int) -> str:
    """A resident ID number with a correct GB 11643 check character (born 1950–1977), one per n < 10,000,000."""
    born = date(1950, 1, 1) + timedelta(days=n % 10_000)
    first17 = f"430681{born:%Y%m%d}{n // 10_000 % 1000:03d}"
    number = first17 + check_digit(first17)
    SECRETS.add(number)
    return number


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(count: int) -> int:
    """A loopback port free together with the `count - 1` after it (`serve --workers`' ports)."""
    for _ in range(100):
        base = free_port()
        try:
            with contextlib.ExitStack() as held:
                for port in range(base, base + count):
                    held.enter_context(socket.socket()).bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise AssertionError(f"no {count} free ports in a row")


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):  # gone, or going while we read
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def worker_pids(log: str) -> dict[int, int]:
    """From the log of `clearhall serve --workers N`: each worker's number → its latest pid."""
    return {int(k): int(pid) for k, pid in re.findall(r"worker (\d+) started on port \d+, pid (\d+)", log)}


def http_call(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """(status, decoded JSON body or None), blocking; error statuses are answers, not exceptions.
    The secrets sent (the token, a key in the query, the body's) and answered are remembered."""
    remember_secrets([body, dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))])
    if token:
        SECRETS.add(token)
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    answer = json.loads(text) if text else None
    remember_secrets(answer)
    return status, answer


async def next_event(ws: aiohttp.ClientWebSocketResponse, name: str, within: float = 3.0) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        message = await ws.receive(timeout=max(0.01, deadline - time.monotonic()))
        assert message.type == WSMsgType.TEXT, message
        data = json.loads(message.data)
        if data.get("event") == name or data.get("type") == name:
            return data


async def connect(api: Api, query: str, **kw: Any) -> aiohttp.ClientWebSocketResponse:
    return await api.session.ws_connect(api.base + "/ws?" + query, **kw)


@asynccontextmanager
async def serve_process(db_url: str, log: Path, *options: str) -> AsyncIterator[str]:
    """A real `clearhall serve` of tests/hall.toml on `db_url`, its output in `log`,
    once it answers /healthz: its base URL. Stopped (SIGTERM) on the way out, and its
    log kept for the session's check that no log holds a secret."""
    port = free_port()
    with log.open("wb") as out:
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clearhall.server", "serve", "--config", str(HALL_FILE),
            "--database-url", db_url, "--port", str(port), *options, stdout=out, stderr=out,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with ClientSession() as session:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(OSError):
                    async with session.get(base + "/healthz") as r:
                        if r.status == 200:
                            break
                assert time.monotonic() < deadline and server.returncode is None, f"no answer; see {log}"
                await asyncio.sleep(0.2)
        yield base
    finally:
        try:
            server.terminate()
            await asyncio.wait_for(server.wait(), 20)
        finally:
            keep_log(log)


async def numbers_called(api: Api, user: str, window: int, times: int) -> list[str | None]:
    """Call next `times` times at a window, finishing each: the numbers called, in order."""
    out = []
    for _ in range(times):
        r = await api.window(user, window, "call-next")
        assert r.status == 200, r.body
        t = r.body["ticket"]
        out.append(t["number"] if t else None)
        if t:
            assert (await api.window(user, window, "finish")).status == 200
    return out


async def eventually(check: Any, within: float = 10.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def issue_timed(api: Api, **fields: Any) -> tuple[dict[str, Any], float]:
    start = time.monotonic()
    reply = await api.post("/api/tickets", {"service": "A", **fields}, token=KIOSK)
    elapsed = time.monotonic() - start
    assert reply.status == 201, reply.body
    return reply.body["ticket"], elapsed


def printer_conf(address: str, **changes: Any) -> hallfile.PrinterConf:
    return replace(hallfile.PrinterConf(name="printer-1", kiosk="kiosk-1", address=address), **changes)


async def apply_printers(db_url: str, *printers: hallfile.PrinterConf) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        await hall_apply.apply(conn, replace(hallfile.load(HALL_FILE), printers=printers))
    finally:
        await conn.close()


@asynccontextmanager
async def printing_server(
    db_url: str, *printers: hallfile.PrinterConf, conf: PrintConf = FAST
) -> AsyncIterator[tuple[TestServer, Api]]:
    await apply_printers(db_url, *printers)
    app = create_app(settings_for(db_url))
    app[PRINT_CONF] = conf
    async with app_client(app) as served:
        yield served
