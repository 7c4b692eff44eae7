"""红黄牌 over HTTP and the socket (CONTRACT §11; issue 11, item 2): the running
evaluator issues a card by itself and supervisors, and nobody else, hear it the
moment it is issued; the list by hall-local days, person and colour; a
supervisor's note kept with the card and in the log; and a card nobody can
delete, not even the server's own database role."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from clearhall.server import carding
from clearhall.server.app import create_app
from clearhall.server.keys import DB
from tests.conftest import DISPLAY, Api, app_client, settings_for
from tests.helpers import connect, next_event

CARD_FIELDS = {"id", "color", "rule", "staff", "window", "ticket", "at", "issued_at", "evidence", "notes"}


@pytest.fixture
async def lively(db_url: str) -> AsyncIterator[tuple[TestServer, Api]]:
    """The app with its evaluator looking every 0.2 s instead of 30 s."""
    app = create_app(settings_for(db_url))
    app[carding.EVERY] = 0.2
    async with app_client(app) as served:
        yield served


async def test_the_evaluator_issues_by_itself_and_supervisors_alone_hear_it(
    lively: tuple[TestServer, Api],
) -> None:
    _, api = lively
    boss = await api.login("boss")
    supervisor = await connect(api, f"token={boss}")
    staff = await connect(api, f"token={await api.login('s2')}")
    screen = await connect(api, f"token={DISPLAY}")
    first, second = await api.issue("A"), await api.issue("A")
    await api.sign_in("s1", 1)
    r = await api.window("s1", 1, "call", {"number": second["number"], "reason": "熟人插队"})
    assert r.status == 200, r.body

    heard = (await next_event(supervisor, "card.issued", within=5.0))["card"]
    assert set(heard) == CARD_FIELDS
    assert (heard["color"], heard["rule"], heard["window"], heard["ticket"]) == (
        "yellow",
        "out_of_order_call",
        1,
        second["number"],
    )
    assert heard["staff"] == {"username": "s1", "name": "李娜"} and heard["notes"] == []
    assert (
        heard["evidence"]["reason"] == "熟人插队" and first["number"] in heard["evidence"]["sentence"]["zh"]
    )
    for ws in (staff, screen):
        with pytest.raises(TimeoutError):
            await next_event(ws, "card.issued", within=1.0)
    listed = await api.get("/api/cards", token=boss)
    assert listed.status == 200 and listed.body["cards"] == [heard]  # the same card, as the list shows it
    await asyncio.sleep(0.6)  # evaluated again and again: still one
    assert len((await api.get("/api/cards", token=boss)).body["cards"]) == 1
    await asyncio.gather(supervisor.close(), staff.close(), screen.close())


async def put_card(conn: asyncpg.Connection, at: str, username: str, color: str, rule: str = "absent") -> int:
    card: int = await conn.fetchval(
        "INSERT INTO cards (hall_id, color, rule, subject, staff_id, window_id, at, evidence)"
        " SELECT s.hall_id, $3, $4, $5, s.id, (SELECT id FROM windows WHERE number = 1), $2, $6"
        " FROM staff s WHERE s.username = $1 RETURNING id",
        username, datetime.fromisoformat(at), color, rule, f"test:{at}", {"rule": rule},
    )  # fmt: skip
    return card


async def test_cards_by_hall_local_days_person_and_colour(api: Api, conn: asyncpg.Connection) -> None:
    late = await put_card(conn, "2026-03-01T23:30:00+08:00", "s1", "yellow")  # 15:30 UTC: still the 1st here
    early = await put_card(conn, "2026-03-02T00:30:00+08:00", "s2", "red", "red_after_yellows")
    boss = await api.login("boss")

    async def ids(query: str) -> list[int]:
        r = await api.get("/api/cards" + query, token=boss)
        assert r.status == 200, r.body
        return [c["id"] for c in r.body["cards"]]

    assert await ids("?from=2026-03-01&to=2026-03-01") == [late]
    assert await ids("?from=2026-03-01&to=2026-03-02") == [early, late]  # newest first
    assert await ids("?from=2026-03-02") == [early]  # from alone: that day
    assert await ids("?from=2026-03-01&to=2026-03-02&staff=s2") == [early]
    assert await ids("?from=2026-03-01&to=2026-03-02&color=yellow") == [late]
    assert await ids("?from=2026-03-01&to=2026-03-02&staff=nobody") == []
    assert await ids("") == []  # today's
    one = (await api.get(f"/api/cards/{late}", token=boss)).body["card"]
    assert set(one) == CARD_FIELDS and one["at"] == "2026-03-01T23:30:00+08:00" and one["window"] == 1
    assert one["staff"] == {"username": "s1", "name": "李娜"} and one["ticket"] is None

    for query, field in (
        ("?color=green", "color"),
        ("?from=2026-03-02&to=2026-03-01", "to"),
        ("?to=yesterday", "to"),
    ):
        bad = await api.get("/api/cards" + query, token=boss)
        assert bad.status == 400 and bad.body["error"]["field"] == field, bad.body
    assert (await api.get("/api/cards/999999", token=boss)).status == 404
    assert (await api.get("/api/cards", token=await api.login("s1"))).status == 403


async def test_a_note_is_kept_with_the_card_and_in_the_log(api: Api, conn: asyncpg.Connection) -> None:
    card = await put_card(conn, "2026-03-01T10:45:00+08:00", "s1", "yellow")
    note: dict[str, Any] = {"text": "系统故障：叫号机 10:20–10:50 断网"}
    r = await api.post(f"/api/cards/{card}/notes", note, token=await api.login("boss"))
    assert r.status == 201, r.body
    assert [n["text"] for n in r.body["card"]["notes"]] == [note["text"]]
    assert r.body["card"]["notes"][0]["by"] == {"username": "boss", "name": "郭主任"}
    again = await api.post(f"/api/cards/{card}/notes", {"text": "已核实"}, token=await api.login("boss2"))
    assert [n["text"] for n in again.body["card"]["notes"]] == [note["text"], "已核实"]
    shown = (await api.get(f"/api/cards/{card}", token=await api.login("boss"))).body["card"]
    assert shown["notes"] == again.body["card"]["notes"]
    assert shown["evidence"] == {"rule": "absent"}  # the card itself as it was

    log = (await api.get("/api/audit-log?action=card_note", token=await api.login("boss"))).body["entries"]
    assert [(e["reason"], e["details"]["card"], e["actor_name"]) for e in log] == [
        ("已核实", card, "周科长"),
        (note["text"], card, "郭主任"),
    ]
    for body, status in (({"text": ""}, 400), ({}, 400), ({"text": "x" * 501}, 400)):
        assert (
            await api.post(f"/api/cards/{card}/notes", body, token=await api.login("boss"))
        ).status == status
    assert (await api.post("/api/cards/999999/notes", note, token=await api.login("boss"))).status == 404
    assert (await api.post(f"/api/cards/{card}/notes", note, token=await api.login("s1"))).status == 403


async def test_a_card_is_never_deleted_not_even_by_the_servers_role(
    server: TestServer, api: Api, conn: asyncpg.Connection
) -> None:
    card = await put_card(conn, "2026-03-01T10:45:00+08:00", "s1", "yellow")
    boss = await api.login("boss")
    assert (await api.post(f"/api/cards/{card}/notes", {"text": "误报？"}, token=boss)).status == 201
    assert (await api.request("DELETE", f"/api/cards/{card}", token=boss)).status == 405

    attempts = (
        "DELETE FROM cards", "UPDATE cards SET color = 'yellow'", "TRUNCATE cards CASCADE",
        "DELETE FROM card_notes", "UPDATE card_notes SET text = ''", "TRUNCATE card_notes",
    )  # fmt: skip
    for attempt in attempts:  # the trigger refuses even a superuser
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(attempt)
    await conn.execute("ALTER TABLE cards DISABLE TRIGGER USER")  # a superuser at work
    await conn.execute("ALTER TABLE card_notes DISABLE TRIGGER USER")
    try:
        async with server.app[DB].acquire() as own:  # the server's role has no such privilege
            for attempt in attempts:
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await own.execute(attempt)
    finally:
        await conn.execute("ALTER TABLE cards ENABLE TRIGGER USER")
        await conn.execute("ALTER TABLE card_notes ENABLE TRIGGER USER")
    assert await conn.fetchval("SELECT count(*) FROM cards") == 1
    assert await conn.fetchval("SELECT count(*) FROM card_notes") == 1
