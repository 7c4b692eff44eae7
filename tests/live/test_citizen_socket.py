"""A citizen's socket (the phone page, issue 13): the snapshot, then its own ticket's
events and its place (`ticket.place`), never the hall's other events, and a place
only when it changed. Thousands of phones then cost the hub a message each only
when something about them changes, and never a re-read of their ticket."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from tests.conftest import Api
from tests.helpers import connect, next_event

PLACE_FIELDS = {"number", "status", "ahead", "estimated_wait_s", "window"}


async def heard(ws: aiohttp.ClientWebSocketResponse, within: float = 1.0) -> list[dict[str, Any]]:
    """Every message the socket gets until it has been quiet for `within` seconds."""
    got: list[dict[str, Any]] = []
    while True:
        try:
            message = await ws.receive(timeout=within)
        except TimeoutError:
            return got
        got.append(json.loads(message.data))


async def phone(api: Api, ticket: dict[str, Any]) -> aiohttp.ClientWebSocketResponse:
    ws = await connect(api, f"ticket={ticket['id']}&key={ticket['key']}")
    assert (await next_event(ws, "snapshot"))["type"] == "snapshot"  # every socket's first message
    return ws


async def test_a_phone_hears_its_own_ticket_and_its_place_only(api: Api) -> None:
    await api.sign_in("s1", 1)
    mine, other = await api.issue("A"), await api.issue("A")
    ws, behind = await phone(api, mine), await phone(api, other)
    # Its place comes soon after it connects, with no event needed.
    first = (await next_event(ws, "ticket.place"))["ticket"]
    assert set(first) == PLACE_FIELDS
    assert first["number"] == mine["number"] and first["status"] == "waiting" and first["ahead"] == 0
    assert (await next_event(behind, "ticket.place"))["ticket"]["ahead"] == 1

    assert (await api.window("s1", 1, "call-next")).status == 200  # calls mine
    called = await next_event(ws, "ticket.called")
    assert called["ticket"]["number"] == mine["number"] and called["window"] == 1
    now = (await next_event(ws, "ticket.place"))["ticket"]
    assert now["status"] == "called" and now["window"] == 1
    moved = (await next_event(behind, "ticket.place"))["ticket"]
    assert moved["number"] == other["number"] and moved["ahead"] == 0

    # Nothing else: not the other ticket's call, not window.changed, not queue.changed.
    assert (await api.window("s1", 1, "finish")).status == 200
    assert {m["event"] for m in await heard(ws)} <= {"ticket.finished", "ticket.place"}
    assert {m["event"] for m in await heard(behind)} <= {"ticket.place"}
    await asyncio.gather(ws.close(), behind.close())


async def test_a_place_is_sent_again_only_when_it_changed(api: Api) -> None:
    mine = await api.issue("A")
    ws = await phone(api, mine)
    assert (await next_event(ws, "ticket.place"))["ticket"]["ahead"] == 0
    # A burst elsewhere in the hall, and a ticket behind mine: my place is the same.
    await api.sign_in("s4", 4)
    await api.issue("C")
    assert (await api.window("s4", 4, "call-next")).status == 200
    await api.issue("A")
    assert await heard(ws) == []
    # A green-channel ticket goes ahead of mine: my place changed.
    await api.issue("A", "elderly")
    assert (await next_event(ws, "ticket.place"))["ticket"]["ahead"] == 1
    await ws.close()
