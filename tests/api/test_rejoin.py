"""回队 at the kiosk (issue 9, item 1): POST /api/tickets/rejoin puts a suspended
ticket back in its old place, proven by its QR (ticket and key), by its number and
ID number, or by its number and phone; a missed one once where the hall allows
过号顺延. Logged with the kiosk as actor; wrong guesses are throttled, never a 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import asyncpg

from clearhall.server.app import create_app
from clearhall.server.store import hall_apply, hallfile
from tests.conftest import DISPLAY, HALL_FILE, KIOSK, Api, app_client, settings_for
from tests.helpers import connect, next_event, numbers_called, valid_id

REJOIN = "/api/tickets/rejoin"
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


async def suspended_first(api: Api, **fields: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A001 (with `fields`) called at window 1 and suspended; A002, A003 waiting behind it."""
    first = await api.issue("A", **fields)
    behind = [await api.issue("A"), await api.issue("A")]
    await api.sign_in("s1", 1)
    called = await api.window("s1", 1, "call-next")
    assert called.body["ticket"]["number"] == first["number"], called.body
    r = await api.window("s1", 1, "suspend", {"reason": "缺少材料", "missing": ["营业执照副本"]})
    assert r.status == 200 and r.body["ticket"]["status"] == "suspended", r.body
    return first, behind


async def back_in_its_old_place(api: Api, reply: Any, number: str) -> None:
    assert reply.status == 200, reply.body
    ticket = reply.body["ticket"]
    assert ticket["number"] == number and ticket["status"] == "waiting" and ticket["ahead"] == 0, ticket
    assert reply.body["came_back"] is False
    assert "id" not in ticket and "key" not in ticket and "url" not in ticket
    assert await numbers_called(api, "s1", 1, 1) == [number]  # ahead of A002 and A003


async def test_rejoin_by_the_receipts_qr(api: Api, conn: asyncpg.Connection) -> None:
    first, _ = await suspended_first(api)
    screen = await connect(api, f"token={DISPLAY}")
    reply = await api.post(REJOIN, {"ticket": first["id"], "key": first["key"]}, token=KIOSK)
    told = await next_event(screen, "ticket.rejoined")
    assert told["ticket"] == {"number": first["number"], "service": "A", "category": "normal"}
    await screen.close()
    await back_in_its_old_place(api, reply, first["number"])
    logged = await conn.fetchrow(
        "SELECT actor_kind, actor_name, window_number, details FROM action_log"
        " WHERE action = 'requeue' AND ticket_id = $1",
        first["id"],
    )
    assert logged is not None
    assert (logged["actor_kind"], logged["actor_name"], logged["window_number"]) == (
        "device",
        "kiosk-1",
        None,
    )
    details = logged["details"] if isinstance(logged["details"], dict) else json.loads(logged["details"])
    assert details == {"at": "kiosk", "proof": "qr"}
    assert first["key"] not in json.dumps(details)


async def test_rejoin_by_number_and_id_number_in_any_form(api: Api) -> None:
    id_number = valid_id(4101)
    first, _ = await suspended_first(api, id_number=id_number)
    # full-width digits, a lower-case letter and no leading zeros are the same number and ID
    typed = {"number": "ａ1", "id_number": id_number.translate(FULL_WIDTH)}
    await back_in_its_old_place(api, await api.post(REJOIN, typed, token=KIOSK), first["number"])


async def test_rejoin_by_number_and_phone(api: Api) -> None:
    first, _ = await suspended_first(api, phone="13812345678")
    reply = await api.post(REJOIN, {"number": "A001", "phone": "138-1234 5678"}, token=KIOSK)
    await back_in_its_old_place(api, reply, first["number"])


async def test_wrong_guesses_are_refused_alike_then_throttled_never_a_500(api: Api) -> None:
    id_number = valid_id(4102)
    first, _ = await suspended_first(api, id_number=id_number, phone="13912345678")
    wrong = [
        {"number": "A001", "id_number": valid_id(4103)},
        {"number": "A001", "phone": "13900000000"},
        {"number": "A099", "id_number": id_number},  # no such ticket today: the same answer
        {"ticket": first["id"], "key": "not-the-key"},
    ]
    for body in wrong:
        r = await api.post(REJOIN, body, token=KIOSK)
        assert r.status == 404 and r.body["error"]["code"] == "not_found", (body, r.body)
    # the number A001 has had 2 wrong guesses: 3 more are answered, the next is refused,
    # and then even the right proof waits
    statuses = [(await api.post(REJOIN, wrong[0], token=KIOSK)).status for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    right = await api.post(REJOIN, {"number": "A001", "id_number": id_number}, token=KIOSK)
    assert right.status == 429 and right.body["error"]["code"] == "rate_limited", right.body
    assert int(right.headers["Retry-After"]) >= 1
    # the QR's own count is apart from the number's: the right QR still works
    await back_in_its_old_place(
        api, await api.post(REJOIN, {"ticket": first["id"], "key": first["key"]}, token=KIOSK), "A001"
    )


async def test_malformed_proofs_are_400_never_500(api: Api) -> None:
    for body in (
        {},
        {"number": "A001"},
        {"ticket": "x"},
        {"number": "A001", "id_number": valid_id(4104), "phone": "13812345678"},
        {"ticket": "x", "key": "y", "number": "A001"},
        {"number": "001A", "phone": "13812345678"},
        {"number": "A001", "id_number": "123"},
        {"number": "A001", "phone": "12"},
        {"number": 1, "phone": "13812345678"},
    ):
        r = await api.post(REJOIN, body, token=KIOSK)
        assert r.status == 400 and r.body["error"]["code"] == "invalid_input", (body, r.body)
    assert (await api.post(REJOIN, {"number": "A001", "phone": "13812345678"})).status == 401
    assert (await api.post(REJOIN, {"number": "A001", "phone": "13812345678"}, token=DISPLAY)).status == 403


async def test_a_ticket_that_needs_no_rejoin_says_where_it_stands(api: Api) -> None:
    id_number = valid_id(4105)
    waiting = await api.issue("A", id_number=id_number)
    await api.issue("A")
    r = await api.post(REJOIN, {"number": waiting["number"], "id_number": id_number}, token=KIOSK)
    assert r.status == 409 and r.body["error"]["code"] == "conflict", r.body
    assert r.body["error"]["ticket"]["status"] == "waiting" and r.body["error"]["ticket"]["ahead"] == 0
    assert "id" not in r.body["error"]["ticket"]
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "finish")
    done = await api.post(REJOIN, {"number": waiting["number"], "id_number": id_number}, token=KIOSK)
    assert done.status == 409 and "已办结" in done.body["error"]["message"], done.body


@asynccontextmanager
async def hall_with(db_url: str, **policy: Any) -> AsyncIterator[Api]:
    conn = await asyncpg.connect(db_url)
    try:
        await hall_apply.apply(conn, replace(hallfile.load(HALL_FILE), **policy))
    finally:
        await conn.close()
    async with app_client(create_app(settings_for(db_url))) as (_, api):
        yield api


async def test_a_missed_ticket_comes_back_once_where_the_hall_allows_it(db_url: str) -> None:
    async with hall_with(db_url, no_show_after_s=0, no_show_comeback_behind=1) as api:
        missed = await api.issue("A", phone="13712345678")
        await api.issue("A")
        await api.issue("A")
        await api.sign_in("s1", 1)
        await api.window("s1", 1, "call-next")
        assert (await api.window("s1", 1, "no-show")).status == 200
        proof = {"number": missed["number"], "phone": "13712345678"}
        back = await api.post(REJOIN, proof, token=KIOSK)
        assert back.status == 200 and back.body["came_back"] is True, back.body
        assert back.body["ticket"]["ahead"] == 1  # 过号顺延: one behind the head, not its old place
        await api.window("s1", 1, "call-next")  # A002
        await api.window("s1", 1, "finish")
        again = await api.window("s1", 1, "call-next")
        assert again.body["ticket"]["number"] == missed["number"]
        assert (await api.window("s1", 1, "no-show")).status == 200
        twice = await api.post(REJOIN, proof, token=KIOSK)
        assert twice.status == 409 and twice.body["error"]["code"] == "conflict", twice.body


async def test_a_missed_ticket_does_not_come_back_where_the_hall_says_no(db_url: str) -> None:
    async with hall_with(db_url, no_show_after_s=0) as api:
        missed = await api.issue("A", phone="13612345678")
        await api.sign_in("s1", 1)
        await api.window("s1", 1, "call-next")
        await api.window("s1", 1, "no-show")
        r = await api.post(REJOIN, {"number": missed["number"], "phone": "13612345678"}, token=KIOSK)
        assert r.status == 409 and "重新取号" in r.body["error"]["message"], r.body
