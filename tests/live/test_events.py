"""The event catalogue (domain/events.py): one shape per event, the right audience,
no internal ids, and docs/events.md written from it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from clearhall.server.domain import events
from clearhall.server.live.clients import Client
from tests.conftest import DISPLAY, Api
from tests.helpers import connect, next_event

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events.md"
QUEUE_FIELDS = {"services", "windows", "recent_calls", "notices"}


async def test_queue_changed_has_one_shape_and_no_internal_ids(api: Api) -> None:
    ws = await connect(api, f"token={DISPLAY}")
    snapshot = json.loads((await ws.receive(timeout=3)).data)
    assert set(snapshot) == {"type"} | QUEUE_FIELDS
    await api.issue("A")
    await api.sign_in("s1", 1)
    for call in ("call-next", "start", "finish"):
        assert (await api.window("s1", 1, call)).status == 200
    seen: list[dict[str, Any]] = []
    try:
        while True:
            received = await ws.receive(timeout=1.5)
            seen.append(json.loads(received.data))
    except TimeoutError:
        pass
    await ws.close()
    names = [m["event"] for m in seen]
    assert {"ticket.issued", "ticket.called", "ticket.finished", "window.changed", "queue.changed"} <= set(
        names
    )
    for message in seen:
        assert "hall" not in message, message  # the hall's database id stays inside
        event = events.BY_NAME[str(message["event"])]
        assert set(message) == {"type", "event", "at", *event.fields}, message
    # Every queue.changed is the whole state, the last one after the finish.
    changes = [m for m in seen if m["event"] == "queue.changed"]
    assert all(set(m) == {"type", "event", "at"} | QUEUE_FIELDS for m in changes)
    window_1 = next(w for w in changes[-1]["windows"] if w["number"] == 1)
    assert window_1["current"] is None and window_1["status"] == "open"


async def test_rating_received_goes_to_supervisors_only(api: Api) -> None:
    boss = await api.login("boss")
    supervisor = await connect(api, f"token={boss}")
    staff = await connect(api, f"token={await api.login('s2')}")
    screen = await connect(api, f"token={DISPLAY}")
    ticket = await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "finish")
    r = await api.post("/api/ratings", {"ticket": ticket["id"], "key": ticket["key"], "score": 5})
    assert r.status == 201, r.body
    received = await next_event(supervisor, "rating.received")
    assert received["score"] == 5 and received["window"] == 1
    for ws in (staff, screen):
        try:
            await next_event(ws, "rating.received", within=1.0)
            raise AssertionError("rating.received reached a socket that is not a supervisor's")
        except TimeoutError:
            pass
    await asyncio.gather(supervisor.close(), staff.close(), screen.close())


def client(kind: str, window: int | None = None, ticket: str | None = None) -> Client:
    number = {"T1": "A001", "T2": "A002"}.get(ticket or "")
    return Client(ws=web.WebSocketResponse(), kind=kind, window=window, ticket=ticket, number=number)


def test_rating_closed_is_for_that_pad_and_that_ticket_only() -> None:
    closed = events.RATING_CLOSED
    assert set(closed.fields) == {"ticket", "window"}  # no score, no person

    assert client(events.RATING, window=3).wants(closed, 3, "T1")
    assert not client(events.RATING, window=4).wants(closed, 3, "T1")
    assert client(events.CITIZEN, ticket="T1").wants(closed, 3, "T1")
    assert not client(events.CITIZEN, ticket="T2").wants(closed, 3, "T1")
    assert not client(events.CITIZEN).wants(closed, 3, "T1")
    for kind in (events.DISPLAY, events.KIOSK, events.STAFF, events.SUPERVISOR):
        assert not client(kind, window=3).wants(closed, 3, "T1"), kind


def test_a_citizen_hears_its_own_tickets_events_only() -> None:
    """Issue 13: a phone hears its ticket's call (named by its number), not another's,
    nor the hall's other events; the screens hear every call."""
    assert client(events.CITIZEN, ticket="T1").wants(events.TICKET_CALLED, 3, None, "A001")
    assert not client(events.CITIZEN, ticket="T2").wants(events.TICKET_CALLED, 3, None, "A001")
    assert client(events.DISPLAY).wants(events.TICKET_CALLED, 3, None, "A001")
    for hall_wide in (
        events.QUEUE_CHANGED,
        events.WINDOW_CHANGED,
        events.TICKET_ISSUED,
        events.NOTICE_CHANGED,
    ):
        assert not client(events.CITIZEN, ticket="T1").wants(hall_wide, 3, None, "A001"), hall_wide.name


def test_the_catalogue_refuses_other_fields() -> None:
    try:
        events.TICKET_CALLED.payload({"ticket": {}, "window": 1})
    except ValueError as exc:
        assert "recall" in str(exc)
    else:
        raise AssertionError("an event without its fields was accepted")


def test_docs_are_written_from_the_catalogue() -> None:
    assert DOCS.read_text(encoding="utf-8") == events.document(), (
        "docs/events.md is stale: python -m clearhall.server.domain.events > docs/events.md"
    )
