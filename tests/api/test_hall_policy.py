"""The hall file's 过号 and unstaffed-service policy at work (issue 9, items 2 and 5):
no-show at once, 过号顺延 (a missed ticket back once, N behind), refusing tickets
for a service nobody serves now. Each test serves the test hall with its policy changed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import asyncpg

from clearhall.server.app import create_app
from clearhall.server.store import hall_apply, hallfile
from tests.conftest import HALL_FILE, KIOSK, Api, app_client, settings_for
from tests.helpers import numbers_called

MISSABLE = "UPDATE tickets SET called_at = now() - interval '61 seconds' WHERE status = 'called'"  # past 60 s


@asynccontextmanager
async def hall_with(db_url: str, **policy: Any) -> AsyncIterator[Api]:
    """A server of the test hall with some of its policy changed in the hall file."""
    conn = await asyncpg.connect(db_url)
    try:
        await hall_apply.apply(conn, replace(hallfile.load(HALL_FILE), **policy))
    finally:
        await conn.close()
    async with app_client(create_app(settings_for(db_url))) as (_, api):
        yield api


async def test_no_show_at_once_when_the_hall_file_says_0(db_url: str) -> None:
    async with hall_with(db_url, no_show_after_s=0) as api:
        await api.issue("A")
        await api.sign_in("s1", 1)
        await api.window("s1", 1, "call-next")
        gone = await api.window("s1", 1, "no-show")
        assert gone.status == 200 and gone.body["ticket"]["status"] == "no_show", gone.body


async def test_a_missed_ticket_comes_back_once_n_behind_the_head(db_url: str) -> None:
    """Issue 9, item 2: 过号顺延 with policy.no_show_comeback_behind = 2."""
    async with hall_with(db_url, no_show_after_s=0, no_show_comeback_behind=2) as api:
        missed = await api.issue("A")  # A001
        for _ in range(4):
            await api.issue("A")  # A002..A005
        await api.sign_in("s1", 1)
        await api.window("s1", 1, "call-next")
        await api.window("s1", 1, "no-show")
        back = await api.window("s1", 1, "requeue", {"number": "A001"})
        assert back.status == 200 and back.body["ticket"]["status"] == "waiting", back.body
        assert back.body["ticket"]["called_at"] is None and back.body["ticket"]["finished_at"] is None
        mine = await api.get(f"/api/tickets/{missed['id']}?key={missed['key']}")
        assert mine.body["ticket"]["ahead"] == 2
        assert await numbers_called(api, "s1", 1, 2) == ["A002", "A003"]
        # Called in its new place, and missed again: it does not come back a second time.
        again = await api.window("s1", 1, "call-next")
        assert again.body["ticket"]["number"] == "A001"
        await api.window("s1", 1, "no-show")
        twice = await api.window("s1", 1, "requeue", {"number": "A001"})
        assert twice.status == 409 and "已过号顺延过一次" in twice.body["error"]["message"], twice.body
        log = await api.get("/api/audit-log?action=comeback", token=await api.login("boss"))
        assert [(e["window"], e["ticket_number"], e["details"]) for e in log.body["entries"]] == [
            (1, "A001", {"behind": 2, "ahead": 2})
        ]


async def test_a_missed_ticket_goes_to_the_end_when_fewer_wait(db_url: str) -> None:
    async with hall_with(db_url, no_show_after_s=0, no_show_comeback_behind=5) as api:
        await api.issue("A")  # A001
        await api.issue("A")  # A002
        await api.sign_in("s1", 1)
        await api.window("s1", 1, "call-next")
        await api.window("s1", 1, "no-show")
        await api.issue("A")  # A003, issued after the no-show
        assert (await api.window("s1", 1, "requeue", {"number": "A001"})).status == 200
        assert await numbers_called(api, "s1", 1, 4) == ["A002", "A003", "A001", None]


async def test_a_missed_ticket_does_not_come_back_by_default(api: Api, conn: asyncpg.Connection) -> None:
    await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await conn.execute(MISSABLE)
    await api.window("s1", 1, "no-show")
    refused = await api.window("s1", 1, "requeue", {"number": "A001"})
    assert refused.status == 409 and "过号不顺延" in refused.body["error"]["message"], refused.body
    assert await conn.fetchval("SELECT status FROM tickets WHERE number = 'A001'") == "no_show"


async def test_the_policy_publishes_both_choices(db_url: str) -> None:
    """The pages read them: the console counts down to 过号, the kiosk refuses or warns."""
    async with hall_with(db_url, no_show_after_s=45, unstaffed_services="refuse") as api:
        policy = (await api.get("/api/policy")).body["policy"]
        assert policy["no_show_after_s"] == 45 and policy["unstaffed_services"] == "refuse"


async def test_issuing_for_a_service_nobody_serves_is_refused_when_the_hall_says_so(db_url: str) -> None:
    async with hall_with(db_url, unstaffed_services="refuse") as api:
        r = await api.post("/api/tickets", {"service": "A"}, token=KIOSK)
        assert r.status == 409 and r.body["error"]["code"] == "conflict", r.body
        assert r.body["error"]["message"] == "当前无窗口办理此业务"
        await api.sign_in("s1", 1)
        assert (await api.post("/api/tickets", {"service": "A"}, token=KIOSK)).status == 201
        await api.window("s1", 1, "pause", {"reason": "会议"})
        assert (await api.post("/api/tickets", {"service": "A"}, token=KIOSK)).status == 409
        # A transfer into it is still allowed; the answer says nobody serves it now.
        await api.window("s1", 1, "resume")
        await api.window("s1", 1, "call-next")
        moved = await api.window("s1", 1, "transfer", {"service": "C"})
        assert moved.status == 200 and moved.body["unstaffed"] is True, moved.body
