"""`clearhall kiosk-bridge` as a kiosk PC runs it: a real process, driven by the
simulated reader's card file, answering on 127.0.0.1; its refusals of a wrong
command line; and the kiosk page's Content-Security-Policy that lets the page
reach it (and no other page)."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import ClientSession, WSMsgType, WSServerHandshakeError

from clearhall.kiosk.bridge.cli import run
from clearhall.server.cli import parser
from tests.conftest import Api, current_test, keep_output
from tests.helpers import free_port, valid_id

HALL = "http://127.0.0.1:8080"
NAME = "欧阳青禾"


def place(card_file: Path, card: dict[str, str]) -> None:
    """Put a card on the simulated reader as its docs say: the file written whole, then renamed."""
    partial = card_file.with_suffix(".partial")
    partial.write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")
    partial.replace(card_file)


@asynccontextmanager
async def bridge_process(*options: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, list[str]]]:
    """`clearhall kiosk-bridge OPTIONS` once it says it listens; its stdout and stderr lines so far."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clearhall.server", "kiosk-bridge", *options,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        while not any("clearhall kiosk-bridge on ws://" in line for line in lines):
            line = await asyncio.wait_for(proc.stdout.readline(), 20)
            assert line, "the bridge stopped:\n" + "".join(lines)
            lines.append(line.decode())
        yield proc, lines
    finally:
        if proc.returncode is None:
            proc.terminate()
        rest, _ = await asyncio.wait_for(proc.communicate(), 20)
        lines.append(rest.decode())
        keep_output(f"the kiosk bridge's output, of {current_test()}", "".join(lines))


async def test_the_command_runs_the_bridge_on_loopback_with_the_simulated_reader(tmp_path: Path) -> None:
    port, card_file, number = free_port(), tmp_path / "card.json", valid_id(7_100_201)
    options = ["--driver", "simulated", "--simulate-file", str(card_file), "--port", str(port),
               "--allow-origin", HALL]  # fmt: skip
    async with bridge_process(*options) as (proc, lines):
        assert f"clearhall kiosk-bridge on ws://127.0.0.1:{port}/: simulated reader, for {HALL}" in lines[-1]
        assert listening_on(port) == ["0100007F"]  # 127.0.0.1, and no other address
        url = f"ws://127.0.0.1:{port}/"
        async with ClientSession() as session:
            with pytest.raises(WSServerHandshakeError) as refused:
                await session.ws_connect(url, origin="http://evil.example")
            assert refused.value.status == 403
            async with session.ws_connect(url, origin=HALL) as ws:
                got = [(await ws.receive(timeout=5)).json() for _ in range(2)]
                assert got == [{"type": "hello", "reader": "simulated", "version": 1},
                               {"type": "reader", "state": "ready", "message": ""}]  # fmt: skip
                card = {"name": NAME, "id_number": number}
                place(card_file, card)
                assert (await ws.receive(timeout=5)).json() == {"type": "card", **card}
                card_file.unlink()
                assert (await ws.receive(timeout=5)).json() == {"type": "removed"}
                proc.send_signal(signal.SIGTERM)
                closed = await ws.receive(timeout=10)
                assert closed.type == WSMsgType.CLOSE and closed.data == 1001  # GOING_AWAY
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    log = "".join(lines)
    assert f"card {number[:4]}{'*' * 10}{number[-4:]} read" in log
    assert "refused a page from http://evil.example" in log
    assert number not in log and NAME not in log


def listening_on(port: int) -> list[str]:
    """The local addresses of the sockets listening on TCP `port`, as Linux prints them in
    /proc/net/tcp and tcp6 (0100007F is 127.0.0.1; 00000000 would be every address)."""
    found = []
    for table in ("tcp", "tcp6"):
        for row in Path("/proc/net", table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":  # 0A: LISTEN
                found.append(address)
    return found


async def test_a_port_in_use_is_said_and_the_command_fails() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clearhall.server", "kiosk-bridge", "--driver", "simulated",
            "--simulate-file", "/nonexistent/card.json", "--port", str(port),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 1
    assert f"kiosk-bridge cannot listen on ws://127.0.0.1:{port}/" in out.decode()


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--library", "/opt/x/libsdtapi.so"], "needs --allow-origin"),
        (["--driver", "simulated"], "needs --simulate-file"),
        (["--allow-origin", "http://hall.example.cn/kiosk"], "not an origin"),
        (["--allow-origin", "hall.example.cn"], "not an origin"),
        (["--allow-origin", HALL, "--port", "70000"], "not a TCP port"),
    ],
)
def test_a_wrong_command_line_is_refused_with_what_to_give(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(parser().parse_args(["kiosk-bridge", *argv])) == 2
    assert said in capsys.readouterr().err


async def test_only_the_kiosk_page_may_reach_the_bridge(api: Api) -> None:
    kiosk = (await api.get("/kiosk")).headers["Content-Security-Policy"]
    assert "connect-src 'self' ws://127.0.0.1:* ws://localhost:*;" in kiosk
    assert "script-src 'self';" in kiosk and "frame-ancestors 'none'" in kiosk
    for other in ("/display", "/console", "/supervisor", "/t/abc", "/rate/1", "/display/window/1"):
        policy = (await api.get(other)).headers["Content-Security-Policy"]
        assert "connect-src 'self';" in policy and "127.0.0.1" not in policy, other
