"""红黄牌 (CONTRACT §11; issue 11, item 2): the rules one act breaks — an
out-of-order call, a ticket suspended again (一次性告知), a 差评 that stands —
each carded at the moment of the act and not a second before; and red cards,
made of a person's yellows within the period, each yellow spent once.

As in test_cards.py, the app under test runs no evaluator of its own: every
card here is issued by the evaluation the test calls, at the `now` it passes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from clearhall.server import carding
from clearhall.server.app import create_app
from clearhall.server.domain import cards, events
from clearhall.server.keys import DB, HALL
from tests.conftest import Api, app_client, settings_for
from tests.helpers import eventually

SECOND = timedelta(seconds=1)


@pytest.fixture
async def hall(db_url: str) -> AsyncIterator[tuple[TestServer, Api]]:
    app = create_app(settings_for(db_url))
    app[carding.EVERY] = 0.0  # no evaluator of its own: evaluations happen when the test says
    async with app_client(app) as served:
        yield served


async def evaluate(server: TestServer, now: datetime) -> list[cards.Card]:
    async with server.app[DB].acquire() as conn:
        found = await cards.evaluate(conn, server.app[HALL], now)
    assert found is not None
    return found


async def last_logged(conn: asyncpg.Connection, action: str) -> datetime:
    at: datetime = await conn.fetchval(
        "SELECT at FROM action_log WHERE action = $1 ORDER BY id DESC LIMIT 1", action
    )
    return at


async def ok(reply: Any) -> Any:
    assert reply.status in (200, 201), reply.body
    return reply.body


async def test_an_out_of_order_call_is_carded_at_the_call(
    hall: tuple[TestServer, Api], conn: asyncpg.Connection
) -> None:
    server, api = hall
    first, second = await api.issue("A"), await api.issue("A")
    await api.sign_in("s1", 1)
    await ok(await api.window("s1", 1, "call", {"number": second["number"], "reason": "急件，领导交办"}))
    called = await last_logged(conn, "call")
    assert await evaluate(server, called - SECOND) == []
    [card] = await evaluate(server, called)
    assert (card.rule, card.staff_username, card.window, card.ticket, card.at) == (
        "out_of_order_call",
        "s1",
        1,
        second["number"],
        called,
    )
    e = card.evidence
    assert e["tickets"] == [
        {"number": second["number"], "called": True},
        {"number": first["number"], "rule": True},
    ]
    assert e["reason"] == "急件，领导交办" and len(e["entries"]) == 1
    assert first["number"] in e["sentence"]["zh"] and "out of order" in e["sentence"]["en"]
    # Calling by number the ticket the rule would call anyway is no deviation.
    await ok(await api.window("s1", 1, "finish"))
    await ok(await api.window("s1", 1, "call", {"number": first["number"], "reason": "按顺序"}))
    assert await evaluate(server, await last_logged(conn, "call") + SECOND) == []


async def suspend(api: Api, number: str, missing: list[str], *, back: bool = True) -> None:
    await ok(await api.window("s1", 1, "call-next"))
    await ok(await api.window("s1", 1, "suspend", {"reason": "缺材料", "missing": missing}))
    if back:
        await ok(await api.window("s1", 1, "requeue", {"number": number}))


async def test_a_second_suspension_breaks_tell_once_unless_it_names_the_same_documents(
    hall: tuple[TestServer, Api], conn: asyncpg.Connection
) -> None:
    server, api = hall
    t = await api.issue("A")
    await api.sign_in("s1", 1)
    await suspend(api, t["number"], ["身份证原件"])
    assert await evaluate(server, await last_logged(conn, "suspend")) == []  # once is not twice
    await suspend(api, t["number"], ["身份证原件"])  # still without it: the hall told them once
    assert await evaluate(server, await last_logged(conn, "suspend")) == []
    await suspend(api, t["number"], ["户口簿", "身份证原件"], back=False)  # something new: not told at first
    third = await last_logged(conn, "suspend")
    assert await evaluate(server, third - SECOND) == []
    [card] = await evaluate(server, third)
    assert (card.rule, card.staff_username, card.window, card.ticket, card.at) == (
        "suspended_twice",
        "s1",
        1,
        t["number"],
        third,
    )
    e = card.evidence
    assert e["new_items"] == ["户口簿"] and e["named_before"] == ["身份证原件"] and len(e["entries"]) == 3
    assert len(e["times"]["before"]) == 2
    assert "第 3 次挂起" in e["sentence"]["zh"] and "户口簿" in e["sentence"]["zh"]


async def test_a_second_suspension_naming_nothing_is_carded(
    hall: tuple[TestServer, Api], conn: asyncpg.Connection
) -> None:
    server, api = hall
    t = await api.issue("A")
    await api.sign_in("s1", 1)
    await suspend(api, t["number"], [])
    await suspend(api, t["number"], [], back=False)
    [card] = await evaluate(server, await last_logged(conn, "suspend"))
    assert card.rule == "suspended_twice" and card.evidence["missing"] == []
    assert "未列明" in card.evidence["sentence"]["zh"] and "nothing named" in card.evidence["sentence"]["en"]


async def bad_rating(api: Api) -> tuple[dict[str, Any], int]:
    t = await api.issue("A")
    await api.sign_in("s1", 1)
    await ok(await api.window("s1", 1, "call-next"))
    await ok(await api.window("s1", 1, "finish"))
    body = await ok(
        await api.post(
            "/api/ratings", {"ticket": t["id"], "key": t["key"], "score": 1, "reasons": ["办事拖拉"]}
        )
    )
    return t, int(body["rating"]["case"]["id"])


async def step(api: Api, case: int, kind: str, who: str = "boss", **body: Any) -> None:
    text = {} if kind == "close" else {"text": f"{kind}：已处理"}
    await ok(
        await api.post(
            f"/api/follow-ups/{case}/steps", {"kind": kind, **text, **body}, token=await api.login(who)
        )
    )


async def test_a_bad_rating_stands_when_its_case_closes_without_an_upheld_appeal(
    hall: tuple[TestServer, Api], conn: asyncpg.Connection
) -> None:
    server, api = hall
    t, case = await bad_rating(api)
    await step(api, case, "callback")
    await step(api, case, "explain")
    assert await evaluate(server, datetime.now().astimezone() + timedelta(minutes=1)) == []  # open: not yet
    await step(api, case, "close")
    closed = await conn.fetchval("SELECT closed_at FROM follow_ups WHERE id = $1", case)
    assert await evaluate(server, closed - SECOND) == []
    [card] = await evaluate(server, closed)
    assert (card.rule, card.staff_username, card.window, card.ticket, card.at) == (
        "bad_rating",
        "s1",
        1,
        t["number"],
        closed,
    )
    e = card.evidence
    assert (e["score"], e["reasons"], e["follow_up"], e["appeal"]) == (1, ["办事拖拉"], case, "none")
    assert "差评成立" in e["sentence"]["zh"] and "stands" in e["sentence"]["en"]

    # An upheld appeal takes it out: no card. A rejected one leaves it standing.
    for upheld in (True, False):
        _, other = await bad_rating(api)
        await step(api, other, "appeal")
        await step(api, other, "appeal_decision", who="boss2", upheld=upheld)
        await step(api, other, "callback")
        await step(api, other, "explain")
        await step(api, other, "close")
    found = await evaluate(server, datetime.now().astimezone() + timedelta(minutes=1))
    assert [(c.rule, c.evidence["appeal"]) for c in found] == [("bad_rating", "rejected")]


async def test_three_yellows_make_a_red_card_and_are_spent(
    hall: tuple[TestServer, Api], conn: asyncpg.Connection
) -> None:
    server, api = hall
    tickets = [await api.issue("A") for _ in range(5)]
    await api.sign_in("s1", 1)
    for t in reversed(tickets[1:]):  # 指呼 three times, the fourth last: each out of order
        await ok(await api.window("s1", 1, "call", {"number": t["number"], "reason": "熟人"}))
        await ok(await api.window("s1", 1, "finish"))
        if t is tickets[2]:
            third = await last_logged(conn, "call")
            found = await evaluate(server, third)
            yellows = [c for c in found if c.color == "yellow"]
            [red] = [c for c in found if c.color == "red"]
    assert len(yellows) == 3 and all(y.rule == "out_of_order_call" for y in yellows)
    assert (red.rule, red.staff_username, red.window, red.ticket, red.at) == (
        "red_after_yellows",
        "s1",
        None,
        None,
        third,
    )
    e = red.evidence
    assert [y["id"] for y in e["yellows"]] == [y.id for y in yellows]
    assert e["threshold"] == {"yellows": 3, "days": 30} and e["tickets"] == [
        {"number": y.ticket} for y in yellows
    ]
    assert (
        "李娜" in e["sentence"]["zh"] and "3 张黄牌" in e["sentence"]["zh"] and "指呼" in e["sentence"]["zh"]
    )
    assert await conn.fetchval("SELECT yellows FROM cards WHERE id = $1", red.id) == [y.id for y in yellows]

    fourth = await evaluate(server, await last_logged(conn, "call"))  # a fourth yellow: no red yet
    assert [(c.color, c.rule) for c in fourth] == [("yellow", "out_of_order_call")]
    assert await evaluate(server, datetime.now().astimezone() + timedelta(minutes=1)) == []


async def yellow(conn: asyncpg.Connection, username: str, at: datetime, n: int) -> None:
    await conn.execute(
        "INSERT INTO cards (hall_id, color, rule, subject, staff_id, at, evidence)"
        " SELECT hall_id, 'yellow', 'out_of_order_call', $2, id, $3, '{}' FROM staff WHERE username = $1",
        username, f"test:{username}:{n}", at,
    )  # fmt: skip


async def test_a_red_card_needs_its_yellows_within_the_period(
    hall: tuple[TestServer, Api], conn: asyncpg.Connection
) -> None:
    server, _ = hall
    now = datetime.now().astimezone()
    for n, days in enumerate((20, 5, 0)):  # the first 20 days before the last: one red
        await yellow(conn, "s2", now - timedelta(days=days, hours=1), n)
    for n, days in enumerate((31, 1, 0)):  # 31 days between the first and the last: none
        await yellow(conn, "s3", now - timedelta(days=days, hours=1), n)
    [red] = await evaluate(server, now)
    assert (red.color, red.staff_username, len(red.evidence["yellows"])) == ("red", "s2", 3)
    await yellow(conn, "s3", now - timedelta(minutes=30), 3)  # now three within 30 days
    [red] = await evaluate(server, now)
    assert (
        red.staff_username == "s3"
        and [y["at"][:10] for y in red.evidence["yellows"]][-1] == now.date().isoformat()
    )


async def test_a_card_too_long_for_a_notification_is_announced_cut_and_kept_whole(
    hall: tuple[TestServer, Api], conn: asyncpg.Connection, db_url: str
) -> None:
    server, api = hall
    t = await api.issue("A")
    await api.sign_in("s1", 1)
    documents = [f"{n:02d}" + "证明材料" * 24 for n in range(20)]  # as many and as long as a suspension takes
    await suspend(api, t["number"], documents[:10])
    await suspend(api, t["number"], documents, back=False)
    heard: list[dict[str, Any]] = []
    listener = await asyncpg.connect(db_url)
    try:
        await listener.add_listener(events.CHANNEL, lambda *args: heard.append(json.loads(str(args[-1]))))
        [card] = await evaluate(server, await last_logged(conn, "suspend"))

        async def announced() -> list[dict[str, Any]]:
            return [e["card"] for e in heard if e["event"] == "card.issued"]

        [sent] = await eventually(announced)
    finally:
        await listener.close()
    assert card.evidence["missing"] == documents and len(card.evidence["new_items"]) == 10  # kept whole
    assert sent["id"] == card.id and sent["evidence"]["truncated"] is True
    assert sent["evidence"]["rule"] == "suspended_twice" and "…" in sent["evidence"]["sentence"]["zh"]
