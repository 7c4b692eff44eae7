"""叫号提醒 by SMS (issue 9, item 13), end to end: a ticket that left a phone number
gets one early warning when a call brings it within `alert_ahead` of the front,
and one message when it is called; a ticket without one gets nothing; a hall
without a notifier keeps no phone number at all. Through the real app, the
database's trigger and the worker, to a fake notifier."""

from __future__ import annotations

from typing import Any

import asyncpg

from clearhall.server.notify.conf import NOTIFYING
from tests.conftest import SECRETS, Api
from tests.helpers import eventually
from tests.notify.fake_notifier import FakeNotifier, notifying_server

PHONE = "13812345678"
SECRETS.add(PHONE)  # sent as "138 1234 5678" below, stored without the spaces


async def call(api: Api, user: str, window: int) -> dict[str, Any]:
    """Finish the window's current ticket, if any, and call the next."""
    await api.window(user, window, "finish")
    r = await api.window(user, window, "call-next")
    assert r.status == 200 and r.body["ticket"], r.body
    return dict(r.body["ticket"])


async def rows(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch("SELECT * FROM notify_outbox ORDER BY id"))


async def test_a_phone_gets_one_warning_as_its_turn_nears_and_one_when_called(
    db_url: str, conn: asyncpg.Connection
) -> None:
    fake = FakeNotifier()
    async with notifying_server(db_url, fake) as (_, api):
        await api.sign_in("s4", 4)  # window 4 serves C only
        before = [await api.issue("C") for _ in range(5)]
        mine = await api.issue("C", phone="138 1234 5678")  # spaces are allowed at the kiosk
        after = await api.issue("C")
        assert mine["ahead"] == 5

        assert (await call(api, "s4", 4))["number"] == before[0]["number"]  # 4 ahead: not yet
        assert (await call(api, "s4", 4))["number"] == before[1]["number"]  # 3 ahead: warn
        await eventually(lambda: _count(fake, 1))
        [near] = fake.got
        assert (near.kind, near.ahead, near.ticket_number, near.channel) == ("near", 3, mine["number"], "sms")
        assert near.address == PHONE and "前面还有 3 人" in near.text.zh

        for t in before[2:]:
            assert (await call(api, "s4", 4))["number"] == t["number"]  # 2, 1, 0 ahead: warned already
        assert (await call(api, "s4", 4))["number"] == mine["number"]
        assert (await api.window("s4", 4, "recall")).status == 200  # the same call, no second message
        await eventually(lambda: _count(fake, 2))
        called = fake.got[1]
        assert (called.kind, called.window, called.ticket_number) == ("called", 4, mine["number"])
        assert "4 号窗口" in called.text.zh and "window 4" in called.text.en

        assert (await call(api, "s4", 4))["number"] == after["number"]  # no phone: nothing
        await eventually(lambda: _all_sent(conn))
    assert [(r["kind"], r["ticket_number"], r["status"]) for r in await rows(conn)] == [
        ("near", mine["number"], "sent"),
        ("called", mine["number"], "sent"),
    ]
    assert len(fake.got) == 2 and fake.tries == 2


async def test_a_ticket_called_again_after_coming_back_gets_the_new_call(
    db_url: str, conn: asyncpg.Connection
) -> None:
    """A new call (after 挂起 and 回队) is a new message; the early warning stays once."""
    fake = FakeNotifier()
    async with notifying_server(db_url, fake) as (_, api):
        await api.sign_in("s4", 4)
        mine = await api.issue("C", phone=PHONE)
        assert (await call(api, "s4", 4))["number"] == mine["number"]
        suspended = await api.window("s4", 4, "suspend", {"reason": "缺材料", "missing": ["户口簿"]})
        assert suspended.status == 200, suspended.body
        back = await api.window("s4", 4, "requeue", {"number": mine["number"]})
        assert back.status == 200, back.body
        assert (await call(api, "s4", 4))["number"] == mine["number"]
        await eventually(lambda: _count(fake, 2))
    assert [m.kind for m in fake.got] == ["called", "called"]


async def test_without_a_notifier_no_phone_number_is_kept(api: Api, conn: asyncpg.Connection) -> None:
    await api.sign_in("s4", 4)
    await api.issue("C", phone=PHONE)
    await api.issue("C", phone="13900001111")
    await call(api, "s4", 4)
    assert await conn.fetchval("SELECT count(*) FROM notify_contacts") == 0
    assert await conn.fetchval("SELECT count(*) FROM notify_outbox") == 0


async def test_alert_ahead_zero_sends_the_call_only(db_url: str, conn: asyncpg.Connection) -> None:
    await conn.execute("UPDATE halls SET alert_ahead = 0")
    fake = FakeNotifier()
    async with notifying_server(db_url, fake) as (_, api):
        assert (await api.get("/api/policy")).body["policy"]["alert_ahead"] == 0
        await api.sign_in("s4", 4)
        await api.issue("C")
        mine = await api.issue("C", phone=PHONE)
        await call(api, "s4", 4)
        assert (await call(api, "s4", 4))["number"] == mine["number"]
        await eventually(lambda: _count(fake, 1))
        await eventually(lambda: _all_sent(conn))
    assert [m.kind for m in fake.got] == ["called"]


async def test_the_phone_number_is_forgotten_once_the_ticket_is_done(
    db_url: str, conn: asyncpg.Connection
) -> None:
    fake = FakeNotifier()
    async with notifying_server(db_url, fake) as (server, api):
        await api.sign_in("s4", 4)
        mine = await api.issue("C", phone=PHONE)
        waiting = await api.issue("C", phone="13900001111")
        assert (await call(api, "s4", 4))["number"] == mine["number"]
        await eventually(lambda: _all_sent(conn))
        await api.window("s4", 4, "finish")
        await server.app[NOTIFYING].sweep()
        kept = await conn.fetch("SELECT ticket_id FROM notify_contacts")
    assert [r["ticket_id"] for r in kept] == [waiting["id"]]  # still waiting: still kept


async def _count(fake: FakeNotifier, n: int) -> bool:
    assert len(fake.got) <= n, [m.kind for m in fake.got]
    return len(fake.got) == n


async def _all_sent(conn: asyncpg.Connection) -> bool:
    return not await conn.fetchval("SELECT count(*) FROM notify_outbox WHERE status <> 'sent'")
