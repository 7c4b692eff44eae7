"""红黄牌 (CONTRACT §11; issue 11, item 2): the rules that run on minutes, each at
the moment the test chooses — it fires at its threshold and not a second before
— and a card issued once, however often, by however many evaluators, and by
another process when the lock's holder dies.

The data is made through the real API; the app under test runs no evaluator
of its own, so every card here is issued by the evaluation the test calls, at
the `now` it passes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from clearhall.server import carding
from clearhall.server.app import create_app
from clearhall.server.domain import cards, events
from clearhall.server.keys import DB, HALL
from clearhall.server.store import db, hall_apply, hallfile
from clearhall.server.store.hall_cards import CardsConf
from tests.conftest import HALL_FILE, Api, app_client, settings_for
from tests.helpers import eventually

SECOND = timedelta(seconds=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def hall(db_url: str) -> AsyncIterator[tuple[TestServer, Api]]:
    app = create_app(settings_for(db_url))
    app[carding.EVERY] = 0.0  # no evaluator of its own: evaluations happen when the test says
    async with app_client(app) as served:
        yield served


async def evaluate(server: TestServer, now: datetime, *, lock: bool = True) -> list[cards.Card] | None:
    async with server.app[DB].acquire() as conn:  # as the server's own role
        return await cards.evaluate(conn, server.app[HALL], now, lock=lock)


async def all_cards(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch("SELECT id, rule, subject, color, at FROM cards ORDER BY id"))


async def logged_at(conn: asyncpg.Connection, action: str, ticket_id: str | None = None) -> datetime:
    at: datetime = await conn.fetchval(
        "SELECT at FROM action_log WHERE action = $1 AND ($2::text IS NULL OR ticket_id = $2)"
        " ORDER BY id DESC LIMIT 1",
        action, ticket_id,
    )  # fmt: skip
    return at


async def test_time_limit_from_the_call_at_the_limit_and_not_a_second_before(
    hall: tuple[TestServer, Api], conn: asyncpg.Connection
) -> None:
    server, api = hall
    t = await api.issue("A")  # 企业开办: the default 30-minute limit
    await api.sign_in("s1", 1)
    assert (await api.window("s1", 1, "call-next")).status == 200
    assert (await api.window("s1", 1, "start")).status == 200
    called = await conn.fetchval("SELECT called_at FROM tickets WHERE id = $1", t["id"])
    limit = called + timedelta(minutes=30)

    assert await evaluate(server, limit - SECOND) == []
    [card] = await evaluate(server, limit) or []
    assert (card.color, card.rule, card.ticket, card.window) == ("yellow", "time_limit", t["number"], 1)
    assert (card.staff_username, card.at) == ("s1", limit)
    e = card.evidence
    assert e["threshold"] == {"minutes": 30} and e["rule"] == "time_limit"
    assert e["times"]["since"] == called.astimezone(SHANGHAI).isoformat(timespec="seconds")
    assert e["tickets"][0]["number"] == t["number"] and e["tickets"][0]["started_at"] is not None
    assert t["number"] in e["sentence"]["zh"] and "30" in e["sentence"]["en"]

    assert (await api.window("s1", 1, "finish")).status == 200  # finished late: still the one card
    for later in (limit + SECOND, limit + timedelta(hours=3)):
        assert await evaluate(server, later) == []
    assert [r["rule"] for r in await all_cards(conn)] == ["time_limit"]


async def test_a_ticket_finished_in_time_gets_no_card_however_late_it_is_looked_at(
    hall: tuple[TestServer, Api], conn: asyncpg.Connection
) -> None:
    server, api = hall
    await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "finish")
    await api.window("s1", 1, "pause", {"reason": "离开"})  # neither idle nor an empty post
    assert await evaluate(server, datetime.now(SHANGHAI) + timedelta(hours=5)) == []


async def test_a_long_wait_counts_from_joining_the_line_until_the_call(
    hall: tuple[TestServer, Api], conn: asyncpg.Connection
) -> None:
    server, api = hall
    late = await api.issue("C")  # nobody works at window 4 yet
    joined = await logged_at(conn, "issue", late["id"])
    assert await evaluate(server, joined + timedelta(minutes=30) - SECOND) == []
    [card] = await evaluate(server, joined + timedelta(minutes=30)) or []
    assert (card.rule, card.ticket, card.staff_username, card.window) == (
        "long_wait",
        late["number"],
        None,
        None,
    )
    assert card.evidence["threshold"] == {"minutes": 30}
    assert card.evidence["tickets"] == [{"number": late["number"], "service": "C", "joined_by": "issue"}]
    assert card.evidence["times"]["called_at"] is None  # still waiting when it was issued

    # Called within the half hour: no card, however late the evaluation.
    prompt = await api.issue("C")
    await api.sign_in("s4", 4)
    await api.window("s4", 4, "call-next")  # the first in line: `late`
    await api.window("s4", 4, "finish")
    await api.window("s4", 4, "call-next")  # `prompt`, seconds after it joined
    await api.window("s4", 4, "finish")
    assert await evaluate(server, datetime.now(SHANGHAI) + timedelta(hours=2)) == []
    assert [r["rule"] for r in await all_cards(conn)] == ["long_wait"]
    assert prompt["number"] != late["number"]


async def test_an_idle_window_from_the_later_of_its_last_act_and_the_first_waiting(
    hall: tuple[TestServer, Api], conn: asyncpg.Connection
) -> None:
    server, api = hall
    waiting = await api.issue("A")
    await api.sign_in("s1", 1)  # after the ticket was taken: idle from the sign-in
    signed_in = await logged_at(conn, "sign_in")
    idle = signed_in + timedelta(minutes=10)
    assert await evaluate(server, idle - SECOND) == []
    [card] = await evaluate(server, idle) or []
    assert (card.rule, card.window, card.staff_username, card.ticket) == (
        "idle_window",
        1,
        "s1",
        waiting["number"],
    )
    e = card.evidence
    assert e["freed_by"] == "sign_in" and e["waiting"] == 1 and e["threshold"] == {"minutes": 10}
    assert e["times"]["since"] == e["times"]["free_since"]
    assert await evaluate(server, idle + timedelta(minutes=10)) == []  # one card per idle stretch

    # The window acts (a call and a finish): a new stretch, and a new card only after 10 more minutes.
    await api.issue("A")
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "finish")
    finished = await logged_at(conn, "finish")
    assert await evaluate(server, finished + timedelta(minutes=10) - SECOND) == []
    [again] = await evaluate(server, finished + timedelta(minutes=10)) or []
    assert again.rule == "idle_window" and again.id != card.id


async def test_a_paused_window_or_one_with_nothing_waiting_is_not_idle(
    hall: tuple[TestServer, Api], conn: asyncpg.Connection
) -> None:
    server, api = hall
    await api.sign_in("s1", 1)
    await api.sign_in("s3", 3)
    assert (await api.window("s1", 1, "pause", {"reason": "午休"})).status == 200
    await api.issue("A")  # only window 1 (paused) and 2 (nobody) serve A; window 3 has nothing waiting
    assert await evaluate(server, datetime.now(SHANGHAI) + timedelta(minutes=20)) == []


async def staffed_then_empty(
    api: Api,
    conn: asyncpg.Connection,
    user: str,
    times: tuple[str, str],
    day: str = "2026-03-02",
    window: int = 1,
) -> int:
    """A sign-in and sign-out at a window, moved to hall-local times of `day`."""
    await api.sign_in(user, window)
    assert (await api.window(user, window, "sign-out")).status == 200
    signed_in, signed_out = (datetime.fromisoformat(f"{day}T{t}+08:00") for t in times)
    attendance: int = await conn.fetchval(
        "UPDATE attendance SET signed_in_at = $1, signed_out_at = $2"
        " WHERE id = (SELECT max(id) FROM attendance) RETURNING id",
        signed_in, signed_out,
    )  # fmt: skip
    return attendance


async def test_an_empty_post_counts_opening_hours_after_the_sign_out(
    hall: tuple[TestServer, Api], conn: asyncpg.Connection
) -> None:
    server, api = hall
    await staffed_then_empty(api, conn, "s1", ("10:00:00", "10:30:00"))
    due = datetime.fromisoformat("2026-03-02T10:45:00+08:00")  # absent_minutes = 15
    assert await evaluate(server, due - SECOND) == []
    [card] = await evaluate(server, due) or []
    assert (card.rule, card.window, card.staff_username, card.at) == ("absent", 1, "s1", due)
    assert card.evidence["times"]["signed_out_at"] == "2026-03-02T10:30:00+08:00"
    assert "空岗" in card.evidence["sentence"]["zh"] and "李娜" in card.evidence["sentence"]["zh"]
    assert await evaluate(server, due + timedelta(hours=1)) == []


async def test_no_empty_post_when_someone_comes_back_in_time_or_the_hall_has_closed(
    hall: tuple[TestServer, Api], conn: asyncpg.Connection
) -> None:
    server, api = hall
    await staffed_then_empty(api, conn, "s1", ("10:00:00", "10:30:00"))
    await staffed_then_empty(api, conn, "s2", ("10:44:00", "11:00:00"))  # back within 14 minutes
    await staffed_then_empty(api, conn, "s1", ("23:20:00", "23:50:00"))  # the hall shuts at 23:59
    found = await evaluate(server, datetime.fromisoformat("2026-03-03T09:00:00+08:00")) or []
    assert [c.at for c in found] == [datetime.fromisoformat("2026-03-02T11:15:00+08:00")]  # after s2 left


async def test_each_rule_can_be_switched_off(hall: tuple[TestServer, Api], conn: asyncpg.Connection) -> None:
    server, api = hall
    off = CardsConf(time_limit=False, wait_minutes=0, idle_minutes=0, absent_minutes=0)
    await hall_apply.apply(conn, replace(hallfile.load(HALL_FILE), cards=off))
    await busy_day(api, conn)
    assert await evaluate(server, datetime.now(SHANGHAI) + timedelta(hours=3)) == []
    await hall_apply.apply(conn, hallfile.load(HALL_FILE))  # back on: every rule has something
    rules = {c.rule for c in await evaluate(server, datetime.now(SHANGHAI) + timedelta(hours=3)) or []}
    assert rules == {"time_limit", "long_wait", "idle_window", "absent"}


async def busy_day(api: Api, conn: asyncpg.Connection) -> None:
    """Something for every minute rule to find an hour from now."""
    await api.issue("A")
    await api.issue("A")
    await api.issue("C")  # waits: nobody at window 4
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")  # over its limit in 30 minutes
    await api.sign_in("s2", 2)  # idle while the second A waits
    yesterday = (datetime.now(SHANGHAI) - timedelta(days=1)).date().isoformat()
    await staffed_then_empty(api, conn, "s4", ("10:00:00", "10:30:00"), yesterday, window=4)  # an empty post


async def test_a_card_is_issued_once_by_evaluators_racing_without_the_lock(
    hall: tuple[TestServer, Api], conn: asyncpg.Connection, db_url: str
) -> None:
    server, api = hall
    await busy_day(api, conn)
    now = datetime.now(SHANGHAI) + timedelta(hours=1)
    heard: list[dict[str, Any]] = []
    async with AsyncExitStack() as stack:
        listener = await asyncpg.connect(db_url)
        stack.push_async_callback(listener.close)
        await listener.add_listener(
            events.CHANNEL, lambda _c, _p, _ch, payload: heard.append(json.loads(str(payload)))
        )
        racers = []
        for _ in range(5):
            c = await asyncpg.connect(db_url)
            stack.push_async_callback(c.close)
            await db.init_connection(c)
            racers.append(c)
        hall_ = server.app[HALL]
        results = await asyncio.gather(*(cards.evaluate(c, hall_, now, lock=False) for c in racers))
        issued = [card.id for found in results for card in found or []]
        rows = await all_cards(conn)
        assert sorted(issued) == [r["id"] for r in rows]  # every card issued by exactly one of them
        assert {r["rule"] for r in rows} == {"time_limit", "long_wait", "idle_window", "absent"}
        assert len({(r["rule"], r["subject"]) for r in rows}) == len(rows)

        async def all_heard() -> bool:
            return len([e for e in heard if e["event"] == "card.issued"]) >= len(rows)

        await eventually(all_heard)
        again = await asyncio.gather(*(cards.evaluate(c, hall_, now + SECOND) for c in racers))
        assert all(found in ([], None) for found in again)  # with the lock: one looks, finds nothing new
        await asyncio.sleep(0.3)
    announced = sorted(e["card"]["id"] for e in heard if e["event"] == "card.issued")
    assert announced == sorted(issued)


async def test_another_evaluator_takes_over_when_the_holder_dies(
    hall: tuple[TestServer, Api], conn: asyncpg.Connection, db_url: str
) -> None:
    server, api = hall
    await busy_day(api, conn)
    now = datetime.now(SHANGHAI) + timedelta(hours=1)
    holder = await asyncpg.connect(db_url)  # another process, in the middle of an evaluation
    hall_id = server.app[HALL].id
    await holder.execute("BEGIN")
    assert await holder.fetchval("SELECT pg_try_advisory_xact_lock($1, $2)", cards.CARD_LOCK, hall_id)
    assert await evaluate(server, now) is None  # it is that one's turn
    assert await all_cards(conn) == []
    await conn.execute("SELECT pg_terminate_backend($1)", holder.get_server_pid())  # it dies
    found = await eventually(lambda: evaluate(server, now))
    assert {c.rule for c in found} == {"time_limit", "long_wait", "idle_window", "absent"}
    holder.terminate()
