"""Opening hours held by the server, and 延时服务 (CONTRACT §12).

A hall closed today (a holiday on its calendar): kiosks are refused with
`409 closed`, saying the hours and the next opening; staff at the counter still
issue; a session of extended hours opened by staff (for their windows'
services only) or a supervisor lets kiosks issue for those services until it
ends — in the action log and pushed to the screens."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from clearhall.server.app import create_app
from tests.conftest import DISPLAY, KIOSK, Api, app_client, settings_for
from tests.helpers import valid_id

ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def closed(db_url: str, conn: asyncpg.Connection) -> AsyncIterator[Api]:
    """The test hall with today (hall time) a holiday, and opening on working days only."""
    today = datetime.now(ZONE).date()
    await conn.execute(
        "UPDATE halls SET open_days = 'workdays', calendar_holidays = $1", [today, today + timedelta(days=1)]
    )
    async with app_client(create_app(settings_for(db_url))) as (_, api):
        yield api


def in_an_hour() -> str:
    return f"{datetime.now(ZONE) + timedelta(hours=1):%H:%M}" if datetime.now(ZONE).hour < 22 else "23:59"


async def kiosk_ticket(api: Api, service: str) -> tuple[int, dict]:
    body = {"service": service} | ({"id_number": valid_id(7)} if service == "B" else {})
    r = await api.post("/api/tickets", body, token=KIOSK)
    return r.status, r.body


async def test_a_closed_hall_refuses_kiosks_but_not_the_counter(closed: Api) -> None:
    status, body = await kiosk_ticket(closed, "A")
    assert status == 409 and body["error"]["code"] == "closed"
    assert body["error"]["hours"] == "00:00–23:59"
    opens = datetime.fromisoformat(body["error"]["opens"])
    assert opens.astimezone(ZONE).date() >= datetime.now(ZONE).date() + timedelta(days=2)  # holidays skipped
    assert "办公时间" in body["error"]["message"] and "(" not in body["error"]["message"]  # Chinese only
    services = (await closed.get("/api/services")).body["hall"]
    assert services["open_now"] is False and services["extended"] == []
    counter = await closed.post("/api/tickets", {"service": "A"}, token=await closed.login("s1"))
    assert counter.status == 201, counter.body


async def test_extended_hours_open_one_service_until_ended(closed: Api, conn: asyncpg.Connection) -> None:
    ws = await closed.session.ws_connect(closed.base + f"/ws?token={DISPLAY}")
    assert json.loads((await ws.receive(timeout=3)).data)["type"] == "snapshot"
    s3 = await closed.login("s3")  # works at window 3, which serves B
    r = await closed.post("/api/extended-hours", {"services": ["B"], "until": in_an_hour()}, token=s3)
    assert r.status == 201, r.body
    session = r.body["session"]
    assert session["services"] == ["B"] and session["opened_by"] == "张敏"
    event = json.loads((await ws.receive(timeout=3)).data)
    assert event["event"] == "hours.changed" and event["extended"] == [session]
    await ws.close()

    assert (await kiosk_ticket(closed, "B"))[0] == 201
    assert (await kiosk_ticket(closed, "A"))[0] == 409  # not extended
    assert (await closed.get("/api/extended-hours")).body == {"extended": [session]}
    logged = await conn.fetchrow("SELECT actor_name, details FROM action_log WHERE action = 'extend_hours'")
    assert logged is not None
    assert logged["actor_name"] == "张敏" and logged["details"]["services"] == ["B"]

    ended = await closed.request("DELETE", f"/api/extended-hours/{session['id']}", token=s3)
    assert ended.status == 200, ended.body
    assert (await kiosk_ticket(closed, "B"))[0] == 409
    assert (await closed.get("/api/extended-hours")).body == {"extended": []}
    again = await closed.request("DELETE", f"/api/extended-hours/{session['id']}", token=s3)
    assert again.status == 404


async def test_staff_extend_only_their_windows_services(closed: Api) -> None:
    s3 = await closed.login("s3")
    refused = await closed.post("/api/extended-hours", {"services": ["A"], "until": in_an_hour()}, token=s3)
    assert refused.status == 403
    boss = await closed.login("boss")
    r = await closed.post("/api/extended-hours", {"services": ["A", "C"], "until": in_an_hour()}, token=boss)
    assert r.status == 201 and r.body["session"]["services"] == ["A", "C"]
    ending = await closed.request("DELETE", f"/api/extended-hours/{r.body['session']['id']}", token=s3)
    assert ending.status == 403  # not theirs to end either
    anonymous = await closed.post("/api/extended-hours", {"services": ["A"], "until": in_an_hour()})
    assert anonymous.status == 401
    assert (await kiosk_ticket(closed, "A"))[0] == 201


@pytest.mark.parametrize(
    ("until", "field"),
    [("25:00", "until"), ("yesterday", "until"), ("2020-01-01T10:00:00+08:00", "until"),
     ((datetime.now(ZONE) + timedelta(hours=13)).isoformat(), "until")],
)  # fmt: skip
async def test_until_must_be_a_time_later_today_or_soon(closed: Api, until: str, field: str) -> None:
    boss = await closed.login("boss")
    r = await closed.post("/api/extended-hours", {"services": ["A"], "until": until}, token=boss)
    assert r.status == 400 and r.body["error"]["field"] == field


async def test_unknown_services_are_named(closed: Api) -> None:
    boss = await closed.login("boss")
    r = await closed.post("/api/extended-hours", {"services": ["A", "Z"], "until": in_an_hour()}, token=boss)
    assert r.status == 400 and "Z" in r.body["error"]["message"]


async def test_an_open_hall_issues_without_sessions(api: Api) -> None:
    """The test hall is open all day, every day: nothing changes for it."""
    assert (await kiosk_ticket(api, "A"))[0] == 201
    assert (await api.get("/api/services")).body["hall"]["open_now"] is True
