"""What happens to 差评整改 cases by themselves (CONTRACT §10): a case whose
deadline passes is announced to supervisors (`follow_up.overdue`) exactly once,
found by the housekeeping of every server process without anyone looking;
and a closed case's call-back number is erased after the hall's retention.

The clock is moved by moving the cases' timestamps in the database."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from typing import Any

import asyncpg
import pytest

from clearhall.server import housekeeping
from clearhall.server.app import create_app
from clearhall.server.domain import events, follow_ups
from clearhall.server.store import db
from tests.conftest import Api, app_client, settings_for
from tests.helpers import connect, eventually, next_event


async def bad_case(api: Api, contact: str | None = None) -> int:
    t = await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "finish")
    body: dict[str, Any] = {"ticket": t["id"], "key": t["key"], "score": 1, "reasons": ["办事拖拉"]}
    if contact:
        body["contact"] = contact
    r = await api.post("/api/ratings", body)
    assert r.status == 201, r.body
    return int(r.body["rating"]["case"]["id"])


MAKE_LATE = "UPDATE follow_ups SET due_at = now() - interval '1 minute' WHERE id = ANY($1)"


async def test_overdue_is_announced_once_however_many_processes_look(api: Api, db_url: str) -> None:
    cases = [await bad_case(api) for _ in range(3)]
    heard: list[dict[str, Any]] = []
    async with AsyncExitStack() as stack:
        listener = await asyncpg.connect(db_url)
        stack.push_async_callback(listener.close)

        def on_notify(_c: object, _pid: int, _channel: str, payload: object) -> None:
            event = json.loads(str(payload))
            if event.get("event") == "follow_up.overdue":
                heard.append(event)

        await listener.add_listener(events.CHANNEL, on_notify)
        sweepers = []
        for _ in range(6):
            c = await asyncpg.connect(db_url)
            stack.push_async_callback(c.close)
            await db.init_connection(c)
            sweepers.append(c)
        hall_id = await sweepers[0].fetchval("SELECT id FROM halls")
        await sweepers[0].execute(MAKE_LATE, cases[:2])

        marked = await asyncio.gather(
            *(follow_ups.mark_overdue(c, hall_id, "Asia/Shanghai") for c in sweepers)
        )
        found = [i for ids in marked for i in ids]
        assert len(found) == len(set(found))  # nobody announced a case another did

        async def all_heard() -> bool:
            return len(heard) >= 2

        await eventually(all_heard)
        again = await asyncio.gather(
            *(follow_ups.mark_overdue(c, hall_id, "Asia/Shanghai") for c in sweepers)
        )
        assert again == [[]] * len(sweepers)
        assert sorted(e["follow_up"]["id"] for e in heard) == sorted(cases[:2])
        assert all(e["follow_up"]["state"] == "overdue" and e["follow_up"]["window"] == 1 for e in heard)
        logged = await sweepers[0].fetch(
            "SELECT actor_kind, details FROM action_log WHERE action = 'follow_up_overdue' ORDER BY id"
        )
        assert sorted(r["details"]["follow_up"] for r in logged) == sorted(cases[:2])
        assert {r["actor_kind"] for r in logged} == {"system"}
        rows = await sweepers[0].fetch("SELECT id, overdue_at FROM follow_ups ORDER BY id")
        assert [r["overdue_at"] is not None for r in rows] == [True, True, False]
    assert len(heard) == 2


async def test_the_housekeeping_finds_overdue_cases_by_itself(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two server processes on one database, each sweeping often; a supervisor's
    socket hears of each case once, and nobody had to ask for the list."""
    monkeypatch.setattr(housekeeping, "CASES_EVERY_S", 0.1)
    async with app_client(create_app(settings_for(db_url))) as (_, first), \
            app_client(create_app(settings_for(db_url))) as (_, second):  # fmt: skip
        supervisor = await connect(second, f"token={await second.login('boss')}")
        staff = await connect(second, f"token={await second.login('s2')}")
        conn = await asyncpg.connect(db_url)
        try:
            one = await bad_case(first)
            await conn.execute(MAKE_LATE, [one])
            event = await next_event(supervisor, "follow_up.overdue", within=10)
            assert event["follow_up"]["id"] == one and event["follow_up"]["staff"] == {"name": "李娜"}
            # Another case going overdue later: nothing about the first in between.
            two = await bad_case(first)
            await conn.execute(MAKE_LATE, [two])
            while True:
                seen = await next_event(supervisor, "follow_up.overdue", within=10)
                assert seen["follow_up"]["id"] != one, "announced twice"
                if seen["follow_up"]["id"] == two:
                    break
            assert (
                await conn.fetchval("SELECT count(*) FROM action_log WHERE action = 'follow_up_overdue'") == 2
            )
            # Staff sockets never hear of cases.
            with pytest.raises(TimeoutError):
                await next_event(staff, "follow_up.overdue", within=0.5)
        finally:
            await conn.close()
            await supervisor.close()
            await staff.close()


async def test_a_closed_cases_call_back_number_is_erased_after_the_retention(
    api: Api, conn: asyncpg.Connection
) -> None:
    kept_open, closed_long_ago, closed_lately = (await bad_case(api, "13800000001"), await bad_case(api, "13800000002"),
                                                 await bad_case(api, "13800000003"))  # fmt: skip
    boss = await api.login("boss")
    for case in (closed_long_ago, closed_lately):
        for kind in ("callback", "fix", "close"):
            body = {"kind": kind} | ({} if kind == "close" else {"text": "已回访整改"})
            assert (await api.post(f"/api/follow-ups/{case}/steps", body, token=boss)).status == 201
    back = "UPDATE follow_ups SET closed_at = now() - make_interval(days => $2) WHERE id = $1"
    await conn.execute(back, closed_long_ago, 91)
    await conn.execute(back, closed_lately, 89)
    hall_id = await conn.fetchval("SELECT id FROM halls")
    assert await follow_ups.erase_contacts(conn, hall_id) == 1
    contacts = {r["id"]: r["contact"] for r in await conn.fetch("SELECT id, contact FROM follow_ups")}
    assert contacts == {kept_open: "13800000001", closed_long_ago: None, closed_lately: "13800000003"}
    # The hall's own retention counts.
    await conn.execute("UPDATE halls SET contact_retention_days = 30")
    assert await follow_ups.erase_contacts(conn, hall_id) == 1
    assert await conn.fetchval("SELECT contact FROM follow_ups WHERE id = $1", closed_lately) is None
