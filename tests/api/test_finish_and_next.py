"""办结并叫号 (`POST /api/windows/{n}/finish-and-call-next`, issue 9, item 15): the finish
and the call-next of the two calls in one transaction, with their access, their
Idempotency-Key, their events and their "exactly once"."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import asyncpg
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from clearhall.server.api.middleware import AccessLogger
from clearhall.server.app import create_app
from tests.conftest import DISPLAY, KIOSK, RATING, Api, settings_for
from tests.helpers import connect, next_event, valid_id

FINISH_AND_NEXT = "finish-and-call-next"


async def actions(conn: asyncpg.Connection) -> list[tuple[str, str | None]]:
    rows = await conn.fetch(
        "SELECT action, ticket_number FROM action_log WHERE window_number IS NOT NULL ORDER BY id"
    )
    return [(r["action"], r["ticket_number"]) for r in rows]


async def test_it_finishes_the_current_ticket_then_calls_the_next_by_the_rule(
    api: Api, conn: asyncpg.Connection
) -> None:
    await api.issue("A")  # A001
    await api.issue("A", id_number=valid_id(41))  # A002, with an ID number the caller sees masked
    await api.issue("A", "elderly")  # A003: green channel, called first
    await api.sign_in("s1", 1)
    assert (await api.window("s1", 1, "call-next")).body["ticket"]["number"] == "A003"
    await api.window("s1", 1, "start")
    async with (
        await connect(api, f"token={DISPLAY}") as screen,
        await connect(api, f"token={RATING}") as pad,
    ):
        await next_event(screen, "snapshot")
        await next_event(pad, "snapshot")
        r = await api.window("s1", 1, FINISH_AND_NEXT)
        assert r.status == 200, r.body
        finished = await next_event(screen, "ticket.finished")
        called = await next_event(screen, "ticket.called")
        changed = await next_event(screen, "window.changed")
        asked = await next_event(pad, "rating.requested")
    assert r.body["finished"]["number"] == "A003" and r.body["finished"]["status"] == "done"
    assert r.body["ticket"]["number"] == "A001" and r.body["ticket"]["status"] == "called"
    assert r.body["ticket"]["window"] == 1 and "id_masked" in r.body["ticket"]  # the caller's view
    assert r.body["window"]["current"] == {"number": "A001"}
    assert finished["ticket"]["number"] == "A003" and asked["ticket"]["number"] == "A003"
    assert called["ticket"]["number"] == "A001" and called["window"] == 1 and called["recall"] is False
    assert changed["state"]["current"] == {"number": "A001"}
    assert (await actions(conn))[-2:] == [("finish", "A003"), ("call_next", "A001")]
    finish = await conn.fetchval("SELECT details FROM action_log WHERE action = 'finish'")
    assert finish["then"] == "call-next" and finish["before"]["status"] == "serving"
    # The next one by the rule: A002, then nobody.
    again = await api.window("s1", 1, FINISH_AND_NEXT)
    assert again.body["ticket"]["number"] == "A002" and again.body["finished"]["number"] == "A001"
    assert again.body["ticket"]["id_masked"] is not None
    last = await api.window("s1", 1, FINISH_AND_NEXT)
    assert last.status == 200 and last.body["ticket"] is None, last.body
    assert last.body["finished"]["number"] == "A002" and last.body["window"]["current"] is None
    statuses = {r["number"]: r["status"] for r in await conn.fetch("SELECT number, status FROM tickets")}
    assert statuses == {"A001": "done", "A002": "done", "A003": "done"}


async def test_the_green_run_counts_its_calls_as_call_next_does(api: Api) -> None:
    """max_consecutive_priority = 3: the fourth call after three green ones is the normal ticket."""
    await api.issue("A")  # A001 normal
    for _ in range(4):
        await api.issue("A", "disabled")  # A002..A005
    await api.sign_in("s1", 1)
    called = [(await api.window("s1", 1, "call-next")).body["ticket"]["number"]]
    for _ in range(4):
        called.append((await api.window("s1", 1, FINISH_AND_NEXT)).body["ticket"]["number"])
    assert called == ["A002", "A003", "A004", "A001", "A005"]


async def test_nothing_moves_when_it_cannot_do_both(api: Api, conn: asyncpg.Connection) -> None:
    await api.issue("A")
    await api.issue("A")
    await api.sign_in("s1", 1)
    idle = await api.window("s1", 1, FINISH_AND_NEXT)
    assert idle.status == 409 and idle.body["error"]["code"] == "conflict", idle.body
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "pause", {"reason": "午休"})
    paused = await api.window("s1", 1, FINISH_AND_NEXT)
    assert paused.status == 409 and "只能办结" in paused.body["error"]["message"], paused.body
    english = await api.window("s1", 1, FINISH_AND_NEXT, headers={"Accept-Language": "en"})
    assert "paused" in english.body["error"]["message"]
    # Nothing finished, nothing called: A001 is still current and may be finished alone.
    assert await conn.fetchval("SELECT status FROM tickets WHERE number = 'A001'") == "called"
    assert (await actions(conn))[-1] == ("pause", None)
    done = await api.window("s1", 1, "finish")
    assert done.status == 200 and done.body["ticket"]["number"] == "A001"
    assert await conn.fetchval("SELECT status FROM tickets WHERE number = 'A002'") == "waiting"


async def test_access_and_idempotency_are_the_window_calls(api: Api, conn: asyncpg.Connection) -> None:
    for _ in range(3):
        await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    assert (await api.window("s2", 1, FINISH_AND_NEXT)).status == 403  # not signed in there
    assert (await api.post(f"/api/windows/1/{FINISH_AND_NEXT}", token=KIOSK)).status == 403
    assert (await api.post(f"/api/windows/1/{FINISH_AND_NEXT}")).status == 401
    key = {"Idempotency-Key": "finish-next-1"}
    first, second = await asyncio.gather(
        api.window("s1", 1, FINISH_AND_NEXT, headers=key), api.window("s1", 1, FINISH_AND_NEXT, headers=key)
    )
    assert first.status == second.status == 200 and first.body == second.body
    assert (await api.window("s1", 1, FINISH_AND_NEXT, headers=key)).body == first.body
    assert first.body["finished"]["number"] == "A001" and first.body["ticket"]["number"] == "A002"
    assert await conn.fetchval("SELECT count(*) FROM action_log WHERE action = 'finish'") == 1
    assert await conn.fetchval("SELECT count(*) FROM action_log WHERE action = 'call_next'") == 2
    # A supervisor may act at any window.
    boss = await api.window("boss", 1, FINISH_AND_NEXT)
    assert boss.status == 200 and boss.body["ticket"]["number"] == "A003"


async def test_undo_after_it_is_offered_only_when_nobody_was_called(
    api: Api, conn: asyncpg.Connection
) -> None:
    """docs/api.md: undo puts back a finish only while it is the window's last move, so after
    办结并叫号 that called someone it is refused; when nobody was waiting it was a finish."""
    await api.issue("A")
    await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")  # A001
    r = await api.window("s1", 1, FINISH_AND_NEXT)
    assert r.body["ticket"]["number"] == "A002"
    refused = await api.window("s1", 1, "undo")
    assert refused.status == 409 and "已叫其他号" in refused.body["error"]["message"], refused.body
    assert await conn.fetchval("SELECT status FROM tickets WHERE number = 'A001'") == "done"
    alone = await api.window("s1", 1, FINISH_AND_NEXT)  # A002 finished, nobody waiting
    assert alone.body["ticket"] is None
    back = await api.window("s1", 1, "undo")
    assert back.status == 200 and back.body["ticket"]["number"] == "A002", back.body
    assert back.body["ticket"]["status"] == "called" and back.body["window"]["current"] == {"number": "A002"}


async def test_two_windows_racing_never_call_the_same_ticket(db_url: str, conn: asyncpg.Connection) -> None:
    """Exactly once (CONTRACT §5): windows 1 and 2 (both serve A), on two apps sharing the
    database as two server processes would, press 办结并叫号 back to back until the line is empty."""
    tickets = 60
    servers = [TestServer(create_app(settings_for(db_url)), host="127.0.0.1") for _ in range(2)]
    called: dict[int, list[str]] = {1: [], 2: []}
    finished: list[str] = []

    async def start(api: Api, user: str, n: int) -> None:
        await api.sign_in(user, n)
        first = await api.window(user, n, "call-next")
        assert first.status == 200 and first.body["ticket"] is not None, first.body
        called[n].append(first.body["ticket"]["number"])

    async def work(api: Api, user: str, n: int) -> None:
        while True:
            r = await api.window(user, n, FINISH_AND_NEXT)
            assert r.status == 200, r.body
            finished.append(r.body["finished"]["number"])
            if r.body["ticket"] is None:
                return
            called[n].append(r.body["ticket"]["number"])

    for s in servers:
        await s.start_server(access_log_class=AccessLogger)
    try:
        async with ClientSession() as session:
            apis = [Api(str(s.make_url("")).rstrip("/"), session) for s in servers]
            issued: list[dict[str, Any]] = []
            for i in range(tickets):
                issued.append(await apis[i % 2].issue("A", "elderly" if i % 5 == 0 else "normal"))
            await start(apis[0], "s1", 1)
            await start(apis[1], "s2", 2)
            await asyncio.gather(work(apis[0], "s1", 1), work(apis[1], "s2", 2))
    finally:
        for s in servers:
            await s.close()

    everyone = called[1] + called[2]
    assert len(everyone) == tickets and set(everyone) == {t["number"] for t in issued}
    assert not set(called[1]) & set(called[2])
    assert sorted(finished) == sorted(everyone)
    per_ticket = Counter(
        r["ticket_number"]
        for r in await conn.fetch("SELECT ticket_number FROM action_log WHERE action = 'call_next'")
    )
    assert len(per_ticket) == tickets and set(per_ticket.values()) == {1}
    assert await conn.fetchval("SELECT count(*) FROM tickets WHERE status = 'done'") == tickets
