"""How many round trips to PostgreSQL a request takes (issue 13: the time of a call
went to round trips, not to Python). Counted, not timed: the statements a request's
own task sends, each one trip (a statement asyncpg has not prepared on that
connection yet costs one more: each is sent twice before counting)."""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
from aiohttp import web

from clearhall.server.app import create_app
from tests.conftest import KIOSK, Api, app_client, settings_for
from tests.helpers import apply_printers, printer_conf

TRIPS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("trips", default=None)


@web.middleware
async def count_trips(request: web.Request, handler: Callable[[web.Request], Awaitable[Any]]) -> Any:
    TRIPS.set([])  # this request's task only: background tasks have their own context
    response = await handler(request)
    response.headers["X-Trips"] = str(len(TRIPS.get() or []))
    return response


@asynccontextmanager
async def counting(db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Api]:
    """A server whose answers say, in X-Trips, how many round trips each request took."""
    simple, extended = asyncpg.Connection.execute, asyncpg.Connection._do_execute  # type: ignore[attr-defined]

    async def execute(self: asyncpg.Connection, query: str, *args: Any, **kw: Any) -> str:
        if not args and (trips := TRIPS.get()) is not None:
            trips.append(query[:40])  # a simple query: one message, one answer
        return await simple(self, query, *args, **kw)

    async def do_execute(self: asyncpg.Connection, query: str, *args: Any, **kw: Any) -> Any:
        if (trips := TRIPS.get()) is not None:
            trips.append(query.strip()[:40])
        return await extended(self, query, *args, **kw)

    monkeypatch.setattr(asyncpg.Connection, "execute", execute)
    monkeypatch.setattr(asyncpg.Connection, "_do_execute", do_execute)
    app = create_app(settings_for(db_url))
    app.middlewares.insert(0, count_trips)
    async with app_client(app) as (_, client):
        yield client


@pytest.fixture
async def api(db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Api]:
    async with counting(db_url, monkeypatch) as client:
        yield client


async def trips(api: Api, path: str, body: Any = None, **kw: Any) -> int:
    r = await api.post(path, body, **kw)
    assert r.status in (200, 201), r.body
    return int(r.headers["X-Trips"])


async def test_a_window_call_is_one_round_trip_three_at_most_and_four_with_a_key(api: Api) -> None:
    token = await api.login("s1")
    await api.sign_in("s1", 1)
    for _ in range(6):
        await api.issue("A")
    for _ in range(2):  # prepared on every pooled connection that may serve it
        await trips(api, "/api/windows/1/call-next", token=token)
        await trips(api, "/api/windows/1/finish", token=token)
    # one statement each: the window locked and checked, the ticket claimed or moved, the
    # log row, the events
    assert await trips(api, "/api/windows/1/call-next", token=token) == 1
    assert await trips(api, "/api/windows/1/finish", token=token) == 1
    # a start sends its events from Python: BEGIN, the move, the events with the COMMIT
    await trips(api, "/api/windows/1/call-next", token=token)
    assert await trips(api, "/api/windows/1/start", token=token) == 3
    await trips(api, "/api/windows/1/finish", token=token)
    # a console sends an Idempotency-Key: its claim is one more; the answer goes with the COMMIT
    key = {"Idempotency-Key": "round-trips-1"}
    assert await trips(api, "/api/windows/1/call-next", token=token, headers=key) == 4


async def test_a_kiosk_ticket_is_one_round_trip_and_four_with_a_key(api: Api) -> None:
    for _ in range(3):  # the first finds that the kiosk has no printer
        await api.issue("A")
    # one statement, without BEGIN and COMMIT: the service and its checks, the kiosk's
    # count, the number and the ticket, its log row, its event, its place in line, and
    # the kiosk's printer (none: nothing is to follow the ticket)
    assert await trips(api, "/api/tickets", {"service": "A"}, token=KIOSK) == 1
    # a kiosk's page sends an Idempotency-Key: BEGIN; the key's claim; the ticket's
    # statement; its stored answer with the COMMIT
    for i in range(2):
        await trips(api, "/api/tickets", {"service": "A"}, token=KIOSK, headers={"Idempotency-Key": f"k{i}"})
    key = {"Idempotency-Key": "round-trips-ticket"}
    assert await trips(api, "/api/tickets", {"service": "A"}, token=KIOSK, headers=key) == 4


async def test_a_kiosk_ticket_with_a_printer_is_three_round_trips_and_its_print(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await apply_printers(db_url, printer_conf("agent://"))
    async with counting(db_url, monkeypatch) as api:
        for _ in range(3):
            await api.issue("A")
        # BEGIN; the ticket's statement, which also reads the kiosk's printer and takes its
        # print job's id; the print job's INSERT with the COMMIT; then, committed, the
        # print: here the agent printer's state (no agent is connected)
        assert await trips(api, "/api/tickets", {"service": "A"}, token=KIOSK) == 3 + 1


async def test_a_printer_that_comes_later_still_gets_its_job(
    db_url: str, monkeypatch: pytest.MonkeyPatch, conn: asyncpg.Connection
) -> None:
    """A kiosk last seen without a printer is issued in one statement; one that has a printer
    by then makes that statement issue nothing (no number, no count) and the ticket is issued
    in a transaction with its print job."""
    async with counting(db_url, monkeypatch) as api:
        for _ in range(3):
            await api.issue("A")
        await apply_printers(db_url, printer_conf("agent://"))
        r = await api.post("/api/tickets", {"service": "A"}, token=KIOSK)
        assert r.status == 201 and r.body["ticket"]["print"]["status"] in ("queued", "failed")
        # the statement that stepped back; BEGIN; the statement; the job with the COMMIT; the print
        assert int(r.headers["X-Trips"]) == 1 + 3 + 1
        assert r.body["ticket"]["number"] == "A004"  # no number taken by the one that stepped back
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM print_jobs WHERE ticket_id = $1", r.body["ticket"]["id"]
            )
            == 1
        )
        assert await trips(api, "/api/tickets", {"service": "A"}, token=KIOSK) == 3 + 1  # known now
    assert await conn.fetchval("SELECT count(*) FROM tickets") == 5
