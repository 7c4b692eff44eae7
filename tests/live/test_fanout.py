"""Fan-out for a city (issue 13): less work and memory per socket, no guarantee weaker.

The same bytes to every socket, an idle socket without a task or a queue, a kept
snapshot instead of a read per new socket (and never a stale one), and no
per-socket compression."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, cast

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from clearhall.server.domain import events
from clearhall.server.keys import HUB
from clearhall.server.live import hub as hub_module
from clearhall.server.live.clients import Client
from clearhall.server.live.hub import SNAPSHOT_MAX_AGE_S, Hub
from tests.conftest import DISPLAY, KIOSK, Api
from tests.helpers import connect, next_event
from tests.live.helpers import Socket, Transport, listening, sent


def waiting(state: dict[str, Any], service: str) -> int:
    return int(next(s for s in state["services"] if s["code"] == service)["waiting"])


async def test_an_event_is_encoded_once_and_the_same_bytes_go_to_every_socket(server: TestServer) -> None:
    hub: Hub = server.app[HUB]
    sockets = [Socket() for _ in range(3)]
    screen, kiosk, phone = (
        Client(ws=cast(web.WebSocketResponse, s), kind=kind, ticket=ticket, number=number)
        for s, kind, ticket, number in zip(
            sockets, (events.DISPLAY, events.KIOSK, events.CITIZEN), (None, None, "T9"), (None, None, "A009"),
            strict=True,
        )
    )  # fmt: skip
    hub.clients |= {screen, kiosk, phone}
    called = {
        "ticket": {"number": "A001", "service": "A", "category": "normal"},
        "window": 1,
        "recall": False,
    }
    hub.on_notify(None, 0, events.CHANNEL, events.notification(hub.hall.id, events.TICKET_CALLED, called))  # type: ignore[arg-type]
    await sent(hub, screen, kiosk)
    assert sockets[0].frames[0] is sockets[1].frames[0]  # one bytes object, not one per socket
    assert json.loads(sockets[0].frames[0])["ticket"]["number"] == "A001"
    assert sockets[2].frames == []  # another citizen's call
    hub.clients -= {screen, kiosk, phone}


async def test_one_message_reaches_every_socket_before_the_next_is_sent(server: TestServer) -> None:
    """A call and the window's new state arrive together: every screen is sent the call
    first, then the state; a socket with something pending queues both, in order."""
    hub: Hub = server.app[HUB]
    written: list[tuple[Socket, bytes]] = []
    sockets = [Socket(written) for _ in range(4)]
    screens = [
        Client(ws=cast(web.WebSocketResponse, s), kind=events.DISPLAY, transport=cast(asyncio.Transport, t))
        for s, t in zip(sockets, (Transport(), Transport(), Transport(pending=100), Transport()), strict=True)
    ]
    hub.clients |= set(screens)
    called = {
        "ticket": {"number": "A001", "service": "A", "category": "normal"},
        "window": 1,
        "recall": False,
    }
    state = {"number": 1, "status": "open", "staff": None, "current": {"number": "A001"}}
    for event, fields in (
        (events.TICKET_CALLED, called),
        (events.WINDOW_CHANGED, {"window": 1, "state": state}),
    ):
        hub.on_notify(None, 0, events.CHANNEL, events.notification(hub.hall.id, event, fields))  # type: ignore[arg-type]
    slow = screens[2]
    sockets[2].reading.clear()  # and it stopped reading: it must not hold up the others
    await asyncio.wait_for(sent(hub), 3)
    names = [json.loads(data)["event"] for socket, data in written]
    assert names == ["ticket.called"] * 3 + ["window.changed"] * 3
    sockets[2].reading.set()
    await sent(hub, slow)
    assert [json.loads(data)["event"] for data in sockets[2].frames] == ["ticket.called", "window.changed"]
    hub.clients -= set(screens)
    hub.changed = False


async def test_an_idle_socket_holds_no_writer_task_and_no_queue(api: Api, server: TestServer) -> None:
    hub: Hub = server.app[HUB]
    ws = await connect(api, f"token={DISPLAY}")
    await next_event(ws, "snapshot")
    await asyncio.sleep(0.05)
    (client,) = hub.clients
    assert client.writer is None and client.backlog is None
    await api.issue("A")  # something to send: a writer for as long as it takes
    await next_event(ws, "ticket.issued")
    await asyncio.sleep(0.05)
    assert client.writer is None and client.backlog is None
    await ws.close()


async def test_new_sockets_get_the_kept_snapshot_not_a_read_each(
    api: Api, server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reconnect storm costs no query per socket; a snapshot kept too long is read again."""
    hub: Hub = server.app[HUB]
    reads = 0
    real = hub_module.queue_state

    async def counted(*args: Any) -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return await real(*args)

    monkeypatch.setattr(hub_module, "queue_state", counted)
    await listening(hub)
    first = await connect(api, f"token={DISPLAY}")
    await next_event(first, "snapshot")
    assert reads == 1
    storm = await asyncio.gather(*(connect(api, f"token={KIOSK}") for _ in range(30)))
    for ws in storm:
        assert waiting(await next_event(ws, "snapshot"), "A") == 0
    assert reads == 1

    hub.kept_at = time.monotonic() - SNAPSHOT_MAX_AGE_S  # what drifts without an event: read again
    late = await connect(api, f"token={KIOSK}")
    await next_event(late, "snapshot")
    assert reads == 2
    await asyncio.gather(first.close(), late.close(), *(ws.close() for ws in storm))


async def test_a_socket_that_joins_while_a_refresh_is_due_gets_the_fresh_state(
    api: Api, server: TestServer
) -> None:
    """The kept snapshot is not given while it misses an event the hub has heard: a rating
    pad or a phone would not hear the refresh that follows."""
    await listening(server.app[HUB])
    first = await connect(api, f"token={DISPLAY}")
    assert waiting(await next_event(first, "snapshot"), "A") == 0  # kept from now on
    await api.issue("A")
    await next_event(first, "ticket.issued")  # the hub has the event: a refresh is due
    late = await connect(api, f"token={DISPLAY}")
    assert waiting(await next_event(late, "snapshot"), "A") == 1
    await asyncio.gather(first.close(), late.close())


async def test_nothing_is_kept_while_not_listening(server: TestServer) -> None:
    hub: Hub = server.app[HUB]
    await listening(hub)
    hub.listening = False  # as between a lost LISTEN connection and the next
    hub.kept = None
    hub.take({"services": [], "windows": [], "recent_calls": [], "notices": []}, False, False)
    assert hub.kept is None
    hub.listening = True


async def test_sockets_are_not_compressed(api: Api) -> None:
    """Browsers offer permessage-deflate; accepted, it is a zlib compressor per socket
    (~260 KiB) and every message compressed once per socket."""
    ws = await connect(api, f"token={DISPLAY}", compress=15)
    assert ws.compress == 0
    message = await ws.receive(timeout=3)
    assert message.type == WSMsgType.TEXT and json.loads(message.data)["type"] == "snapshot"
    await ws.close()


async def test_a_reloaded_hall_file_is_not_shown_from_the_kept_snapshot(api: Api, server: TestServer) -> None:
    hub: Hub = server.app[HUB]
    await listening(hub)
    ws = await connect(api, f"token={DISPLAY}")
    await next_event(ws, "snapshot")
    assert hub.kept is not None
    hub.hall = hub.hall  # what server/reload.py does with a reloaded hall file
    assert hub.kept is None  # the next socket's snapshot is read, with the new hall
    await ws.close()


async def test_a_socket_that_left_is_sent_nothing_more(server: TestServer) -> None:
    """A message already queued for a socket that has since closed is not sent to it."""
    hub: Hub = server.app[HUB]
    gone = Socket()
    client = Client(ws=cast(web.WebSocketResponse, gone), kind=events.DISPLAY)
    hub.clients.add(client)
    hub.deliver(b'{"n":1}', [client])  # queued …
    hub.leave(client)  # … and its socket ends before the hub sends it
    await sent(hub)
    assert client.writer is None and gone.frames == []


async def test_events_for_a_socket_waiting_for_its_snapshot_come_right_after_it(server: TestServer) -> None:
    hub: Hub = server.app[HUB]
    await listening(hub)
    phone = Socket()
    client = Client(ws=cast(web.WebSocketResponse, phone), kind=events.CITIZEN, ticket="T1", number="A001")
    hub.kept = None  # no snapshot to give at once: it waits for the next read …
    hub.join(client)
    closed = {"ticket": {"id": "T1"}, "window": 1}  # … and its ticket is rated meanwhile
    hub.on_notify(None, 0, events.CHANNEL, events.notification(hub.hall.id, events.RATING_CLOSED, closed))  # type: ignore[arg-type]
    for _ in range(100):
        if len(phone.frames) >= 2:
            break
        await asyncio.sleep(0.02)
    kinds = [json.loads(f).get("event") or json.loads(f)["type"] for f in phone.frames]
    assert kinds[:2] == ["snapshot", "rating.closed"]
    hub.leave(client)
