"""Undo (撤销) of a window's last finish or no-show (issue 9, item 2): within
10 seconds, exactly the state before, logged as its own action, and refused
once something else happened at the window or the ticket was rated."""

from __future__ import annotations

import asyncio
from typing import cast

import asyncpg
import pytest

from clearhall.server.domain import undo
from tests.conftest import DISPLAY, RATING, Api
from tests.helpers import connect, next_event

MISSABLE = "UPDATE tickets SET called_at = now() - interval '61 seconds' WHERE status = 'called'"  # past 60 s


TICKET_STATE = """
SELECT status, called_at, started_at, finished_at, window_id, staff_id FROM tickets WHERE number = $1
"""


async def test_undo_a_finish_restores_the_exact_state_and_is_logged(
    api: Api, conn: asyncpg.Connection
) -> None:
    """Issue 9, item 2: F finished a ticket by mistake; undo puts it back as it was."""
    await api.issue("A")
    await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "start")
    serving = dict(cast(asyncpg.Record, await conn.fetchrow(TICKET_STATE, "A001")))
    assert (await api.window("s1", 1, "finish")).body["ticket"]["status"] == "done"
    async with await connect(api, f"token={DISPLAY}") as ws:
        await next_event(ws, "snapshot")
        back = await api.window("s1", 1, "undo")
        assert back.status == 200, back.body
        changed = await next_event(ws, "window.changed")
    assert back.body["ticket"]["number"] == "A001" and back.body["ticket"]["status"] == "serving"
    assert back.body["window"]["current"] == {"number": "A001"}
    assert changed["window"] == 1 and changed["state"]["current"] == {"number": "A001"}
    assert dict(cast(asyncpg.Record, await conn.fetchrow(TICKET_STATE, "A001"))) == serving
    current = "SELECT t.number FROM windows w JOIN tickets t ON t.id = w.current_ticket_id WHERE w.number = 1"
    assert await conn.fetchval(current) == "A001"
    row = cast(asyncpg.Record, await conn.fetchrow("SELECT * FROM action_log ORDER BY id DESC LIMIT 1"))
    finish_id = await conn.fetchval("SELECT id FROM action_log WHERE action = 'finish'")
    who = (row["action"], row["ticket_number"], row["window_number"], row["actor_name"])
    assert who == ("undo", "A001", 1, "李娜")
    assert row["details"] == {"undid": "finish", "entry": finish_id, "status": "serving"}
    # Undone once: there is nothing more to undo, and the ticket goes on as before.
    again = await api.window("s1", 1, "undo")
    assert again.status == 409 and again.body["error"]["code"] == "conflict"
    assert (await api.window("s1", 1, "call-next")).status == 409  # A001 is still current
    assert (await api.window("s1", 1, "finish")).body["ticket"]["status"] == "done"


async def test_undo_a_no_show_puts_the_ticket_back_at_the_window(api: Api, conn: asyncpg.Connection) -> None:
    await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await conn.execute(MISSABLE)
    called = dict(cast(asyncpg.Record, await conn.fetchrow(TICKET_STATE, "A001")))
    assert (await api.window("s1", 1, "no-show")).status == 200
    back = await api.window("s1", 1, "undo")
    assert back.status == 200 and back.body["ticket"]["status"] == "called", back.body
    assert dict(cast(asyncpg.Record, await conn.fetchrow(TICKET_STATE, "A001"))) == called
    assert (await api.window("s1", 1, "start")).body["ticket"]["status"] == "serving"
    log = await api.get("/api/audit-log?action=undo", token=await api.login("boss"))
    assert [(e["ticket_number"], e["details"]["undid"]) for e in log.body["entries"]] == [("A001", "no_show")]


async def test_undo_is_refused_once_the_window_called_someone_else(api: Api) -> None:
    await api.issue("A")
    await api.issue("A")
    await api.sign_in("s1", 1)
    nothing = await api.window("s1", 1, "undo")
    assert nothing.status == 409 and "没有可撤销" in nothing.body["error"]["message"], nothing.body
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "finish")
    await api.window("s1", 1, "call-next")  # A002
    refused = await api.window("s1", 1, "undo")
    assert refused.status == 409 and "已叫其他号" in refused.body["error"]["message"], refused.body
    # After A002 is transferred away, A001's finish is still not the last thing done here.
    await api.window("s1", 1, "transfer", {"service": "C"})
    assert (await api.window("s1", 1, "undo")).status == 409
    # Another person's token: the window's access rules, as for every call.
    assert (await api.window("s2", 1, "undo")).status == 403


async def test_undo_is_refused_after_its_seconds(
    api: Api, conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(undo, "UNDO_WITHIN_S", 1)  # the server runs in this process
    await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "finish")
    await asyncio.sleep(1.2)
    late = await api.window("s1", 1, "undo")
    assert late.status == 409 and "1 秒" in late.body["error"]["message"], late.body
    assert await conn.fetchval("SELECT status FROM tickets WHERE number = 'A001'") == "done"


async def test_undo_of_a_finish_is_refused_once_it_is_rated(api: Api, conn: asyncpg.Connection) -> None:
    t = await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "finish")
    # The rating pad of window 1 rates it.
    rated = await api.post("/api/ratings", {"ticket": t["id"], "score": 5}, token=RATING)
    assert rated.status == 201, rated.body
    refused = await api.window("s1", 1, "undo")
    assert refused.status == 409 and "已评价" in refused.body["error"]["message"], refused.body
    assert await conn.fetchval("SELECT status FROM tickets WHERE id = $1", t["id"]) == "done"
    assert await conn.fetchval("SELECT count(*) FROM action_log WHERE action = 'undo'") == 0
