"""Live events over /ws (CONTRACT §6): snapshot first, then events, to the right
sockets, across processes, through a lost LISTEN connection."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from typing import cast

import aiohttp
import asyncpg
import pytest
from aiohttp import ClientSession, WSMsgType
from aiohttp.test_utils import TestServer

from clearhall.server.api.middleware import AccessLogger
from clearhall.server.keys import HUB
from clearhall.server.live.clients import Client
from tests.conftest import DISPLAY, KIOSK, RATING, Api
from tests.helpers import connect, free_port, next_event
from tests.live.helpers import Socket, listening


async def test_snapshot_first_then_events(api: Api) -> None:
    await api.issue("A")
    ws = await connect(api, f"token={DISPLAY}")
    first = json.loads((await ws.receive(timeout=3)).data)
    assert first["type"] == "snapshot"
    assert {"services", "windows", "recent_calls", "notices"} <= set(first)
    assert next(s for s in first["services"] if s["code"] == "A")["waiting"] == 1

    await api.issue("A", "elderly")
    issued = await next_event(ws, "ticket.issued")
    assert issued["ticket"] == {"number": "A002", "service": "A", "category": "elderly"}
    # A refresh from before A002 may still arrive first: wait for the one that counts it.
    while True:
        changed = await next_event(ws, "queue.changed")
        if next(s for s in changed["services"] if s["code"] == "A")["waiting"] == 2:
            break

    await api.sign_in("s1", 1)
    sent = time.monotonic()
    await api.window("s1", 1, "call-next")
    called = await next_event(ws, "ticket.called", within=1.0)
    assert time.monotonic() - sent < 1.0
    assert called["ticket"]["number"] == "A002" and called["window"] == 1 and called["recall"] is False
    assert "id" not in called["ticket"] and "key" not in json.dumps(called)
    await api.window("s1", 1, "recall")
    recall = await next_event(ws, "ticket.called")
    assert recall["recall"] is True
    await ws.close()


async def test_rating_request_goes_only_to_that_windows_pad(api: Api) -> None:
    pad = await connect(api, f"token={RATING}")
    screen = await connect(api, f"token={DISPLAY}")
    await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "finish")
    asked = await next_event(pad, "rating.requested")
    assert asked["window"] == 1 and asked["ticket"]["number"] == "A001" and asked["staff"]["name"] == "李娜"
    assert asked["ticket"]["id"]
    await next_event(screen, "ticket.finished")
    # The screen gets the queue refresh after the finish, but never the rating request.
    while True:
        try:
            message = await screen.receive(timeout=0.8)
        except TimeoutError:
            break
        assert json.loads(message.data).get("event") != "rating.requested"
    await pad.close()
    await screen.close()


async def test_credentials_and_origin_are_checked(api: Api) -> None:
    for query in ("", "token=nope", "ticket=x&key=y"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await connect(api, query)
        assert refused.value.status == 401
    t = await api.issue("A")
    citizen = await connect(api, f"ticket={t['id']}&key={t['key']}")
    assert json.loads((await citizen.receive(timeout=3)).data)["type"] == "snapshot"
    await citizen.close()
    with pytest.raises(aiohttp.WSServerHandshakeError) as foreign:
        await connect(api, f"token={KIOSK}", headers={"Origin": "https://evil.example"})
    assert foreign.value.status == 403
    same = await connect(api, f"token={KIOSK}", headers={"Origin": api.base})
    await same.close()


async def test_a_rebound_name_is_not_this_server(api: Api) -> None:
    """Issue 8, finding 10: Host and Origin both naming evil.com (DNS rebinding) is refused
    when the hall has a public_url; the public URL and the server's IP address are not."""
    rebound = {"Host": "evil.com", "Origin": "http://evil.com"}
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await connect(api, f"token={KIOSK}", headers=rebound)
    assert refused.value.status == 403
    for origin in ("https://hall.example.cn", api.base):  # tests/hall.toml's public_url; 127.0.0.1
        ws = await connect(api, f"token={KIOSK}", headers={"Origin": origin})
        await ws.close()


async def test_a_socket_that_falls_behind_is_dropped() -> None:
    stalled = Socket()
    stalled.reading.clear()  # its reader stopped: the first message never goes out
    slow = Client(ws=cast(aiohttp.web.WebSocketResponse, stalled), kind="display")
    slow.send(b"0")
    await asyncio.sleep(0)  # its writer is sending the first message
    for i in range(1, 200):
        slow.send(b"%d" % i)
    assert slow.dropped
    assert not slow.backlog  # its backlog is gone; the writer will close it
    stalled.reading.set()
    writer = slow.writer
    assert writer is not None
    await asyncio.wait_for(writer, 3)
    assert stalled.frames == [b"0"] and stalled.closed == (
        aiohttp.WSCloseCode.TRY_AGAIN_LATER,
        b"fell behind",
    )
    assert slow.writer is None and slow.backlog is None


async def test_listener_comes_back_and_resends_state(
    api: Api, server: TestServer, conn: asyncpg.Connection
) -> None:
    await listening(server.app[HUB])
    ws = await connect(api, f"token={DISPLAY}")
    await next_event(ws, "snapshot")
    killed = await conn.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE application_name = 'clearhall-listener' AND datname = current_database()"
    )
    assert killed == 1
    # Back within a couple of seconds: a fresh snapshot, then events flow again.
    await next_event(ws, "snapshot", within=10)
    await api.issue("C")
    assert (await next_event(ws, "ticket.issued"))["ticket"]["service"] == "C"
    await ws.close()


async def test_shutdown_closes_sockets_going_away(db_url: str) -> None:
    from clearhall.server.app import create_app
    from tests.conftest import settings_for

    test_server = TestServer(create_app(settings_for(db_url)), host="127.0.0.1")
    await test_server.start_server(access_log_class=AccessLogger)
    async with ClientSession() as session:
        ws = await session.ws_connect(str(test_server.make_url(f"/ws?token={DISPLAY}")))
        await ws.receive(timeout=3)
        reader = asyncio.create_task(ws.receive(timeout=10))  # a screen is always reading
        started = time.monotonic()
        await test_server.close()
        assert time.monotonic() - started < 5  # the open socket did not hold up the shutdown
        closing = await reader
        assert closing.type == WSMsgType.CLOSE and closing.data == aiohttp.WSCloseCode.GOING_AWAY


def serve(db_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": db_url}
    return subprocess.Popen(
        [sys.executable, "-m", "clearhall.server", "serve", "--hall", "main", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def test_events_cross_server_processes(db_url: str) -> None:
    ports = [free_port(), free_port()]
    processes = [serve(db_url, port) for port in ports]
    try:
        async with ClientSession() as session:
            for port in ports:
                for _ in range(200):
                    try:
                        async with session.get(f"http://127.0.0.1:{port}/healthz") as r:
                            if r.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.1)
            ws = await session.ws_connect(f"http://127.0.0.1:{ports[1]}/ws?token={DISPLAY}")
            await next_event(ws, "snapshot")
            other = Api(f"http://127.0.0.1:{ports[0]}", session)
            await other.issue("A")  # through process 0 ...
            await other.sign_in("s1", 1)
            await other.window("s1", 1, "call-next")
            called = await next_event(ws, "ticket.called")  # ... seen on process 1's socket
            assert called["ticket"]["number"] == "A001" and called["window"] == 1
            await ws.close()
    finally:
        for p in processes:
            p.send_signal(signal.SIGTERM)
        for p in processes:
            p.wait(timeout=30)


def test_keepalive_is_set_on_a_tcp_listener_socket() -> None:
    import socket
    from types import SimpleNamespace

    from clearhall.server.live.hub import keep_alive

    with (
        socket.create_server(("127.0.0.1", 0)) as server,
        socket.create_connection(server.getsockname()) as client,
    ):
        conn = SimpleNamespace(_transport=SimpleNamespace(get_extra_info=lambda name: client))
        keep_alive(cast(asyncpg.Connection, conn))  # a stand-in: only its transport is read
        assert client.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert client.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
