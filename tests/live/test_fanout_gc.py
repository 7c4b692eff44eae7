"""Fan-out for a city (issue 13): open sockets out of the garbage collector's full
collections (`clients.Collector`), and what an idle socket keeps once it is open.

Settled sockets are frozen; a closed socket's cycles are collected once enough
of them closed; nothing stays frozen after the hub stops; a frozen socket still
gets every event, and still ends when its client goes."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest
from aiohttp.test_utils import TestServer

from clearhall.server.keys import HUB
from clearhall.server.live import clients as clients_module
from clearhall.server.live.clients import Collector
from tests.conftest import DISPLAY, Api
from tests.helpers import connect, next_event


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(clients_module, "SETTLE_S", 0.05)
    monkeypatch.setattr(clients_module, "THAW_AFTER", 2)
    monkeypatch.setattr(clients_module, "THAW_EVERY_S", 60.0)
    yield
    gc.unfreeze()


async def test_sockets_are_frozen_once_settled_and_thawed_when_enough_closed(quick: None) -> None:
    collector = Collector()
    collector.open()
    assert collector.settling is not None and gc.get_freeze_count() == 0
    await asyncio.sleep(0.15)
    assert collector.settling is None and gc.get_freeze_count() > 0

    class Cycle:
        def __init__(self) -> None:
            self.me = self

    lost = Cycle()  # what a closed socket leaves: a cycle, frozen with the rest
    gone = weakref.ref(lost)
    gc.freeze()
    alive = gc.get_freeze_count()
    del lost
    loop = asyncio.get_running_loop()
    collector.close()
    assert collector.thawing is not None  # the periodic thaw, not sooner:
    assert collector.thawing.when() > loop.time() + 30  # one closed is not yet worth it
    collector.close()
    assert collector.thawing is not None and collector.thawing.when() < loop.time() + 1
    await asyncio.sleep(0.15)
    assert collector.thawing is None and collector.closed == 0
    assert 0 < gc.get_freeze_count() < alive  # the cycle was collected, the rest frozen again
    assert gone() is None
    collector.stop()
    assert gc.get_freeze_count() == 0


async def test_what_is_frozen_is_collected_at_least_every_thaw_every_s(
    quick: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clients_module, "THAW_EVERY_S", 0.1)
    collector = Collector()
    collector.open()  # one socket, which never closes

    class Cycle:
        def __init__(self) -> None:
            self.me = self

    lost = Cycle()
    gone = weakref.ref(lost)
    await asyncio.sleep(0.08)  # settled: the cycle frozen with everything alive
    assert gc.get_freeze_count() > 0
    del lost
    gc.collect()
    assert gone() is not None  # frozen: no collection reaches it
    await asyncio.sleep(0.15)  # no socket closed, yet the thaw came
    assert gone() is None
    collector.stop()


async def test_a_frozen_socket_gets_its_events_and_its_headers_are_not_kept(
    quick: None, api: Api, server: TestServer
) -> None:
    hub = server.app[HUB]
    ws = await connect(api, f"token={DISPLAY}")
    assert ws._response.headers["X-Content-Type-Options"] == "nosniff"  # sent, as before
    await next_event(ws, "snapshot")
    await asyncio.sleep(0.15)
    assert gc.get_freeze_count() > 0
    (client,) = hub.clients
    assert len(client.ws.headers) == 0
    await api.issue("A")
    assert (await next_event(ws, "ticket.issued"))["ticket"]["number"] == "A001"
    await ws.close()
    for _ in range(50):
        if not hub.clients:
            break
        await asyncio.sleep(0.02)
    assert not hub.clients and hub.collector.sockets == 0
