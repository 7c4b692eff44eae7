"""呼叫导办 (issue 9, item 14): a kiosk calls the guide desk, the call reaches
supervisors' sockets (and nobody else's), stays listed until a supervisor answers it,
and every step is in the action log; a kiosk tapping again and again is throttled."""

from __future__ import annotations

import asyncio

import asyncpg

from tests.conftest import DISPLAY, KIOSK, Api
from tests.helpers import connect, next_event

CALLS = "/api/guide-calls"


async def test_a_guide_call_reaches_supervisors_only_until_answered(
    api: Api, conn: asyncpg.Connection
) -> None:
    boss = await api.login("boss")
    supervisor = await connect(api, f"token={boss}")
    staff = await connect(api, f"token={await api.login('s2')}")
    screen = await connect(api, f"token={DISPLAY}")
    made = await api.post(CALLS, {"screen": "rejoin"}, token=KIOSK)
    assert made.status == 201, made.body
    call = made.body["call"]
    assert call["kiosk"] == "kiosk-1" and call["screen"] == "rejoin" and call["at"].endswith("+08:00")
    heard = await next_event(supervisor, "guide.called")
    assert heard["call"] == call
    for ws in (staff, screen):
        try:
            await next_event(ws, "guide.called", within=1.0)
            raise AssertionError("guide.called reached a socket that is not a supervisor's")
        except TimeoutError:
            pass
    listed = await api.get(CALLS, token=boss)
    assert listed.status == 200 and listed.body["calls"] == [call]
    answered = await api.post(f"{CALLS}/{call['id']}/answer", {}, token=boss)
    assert answered.status == 200 and answered.body["call"]["answered_by"] == "郭主任", answered.body
    gone = await next_event(supervisor, "guide.answered")
    assert gone["call"] == {"id": call["id"], "kiosk": "kiosk-1", "by": "郭主任"}
    assert (await api.get(CALLS, token=boss)).body["calls"] == []
    # Answering again changes nothing; an unknown call is 404.
    assert (await api.post(f"{CALLS}/{call['id']}/answer", {}, token=boss)).status == 200
    assert (await api.post(f"{CALLS}/nope/answer", {}, token=boss)).status == 404
    logged = await conn.fetch(
        "SELECT action, actor_kind, actor_name FROM action_log WHERE action LIKE 'guide_%' ORDER BY id"
    )
    assert [tuple(r) for r in logged] == [
        ("guide_call", "device", "kiosk-1"),
        ("guide_answer", "staff", "郭主任"),
    ]
    await asyncio.gather(supervisor.close(), staff.close(), screen.close())


async def test_a_kiosk_calling_again_and_again_is_throttled(api: Api) -> None:
    assert (await api.post(CALLS, {}, token=KIOSK)).status == 201
    assert (await api.post(CALLS, {"screen": "start"}, token=KIOSK)).status == 201
    third = await api.post(CALLS, {}, token=KIOSK)
    assert third.status == 429 and third.body["error"]["code"] == "rate_limited", third.body
    assert int(third.headers["Retry-After"]) >= 1
    boss = await api.login("boss")
    assert len((await api.get(CALLS, token=boss)).body["calls"]) == 2


async def test_only_kiosks_call_and_only_supervisors_answer(api: Api) -> None:
    assert (await api.post(CALLS, {})).status == 401
    assert (await api.post(CALLS, {}, token=DISPLAY)).status == 403
    assert (await api.post(CALLS, {}, token=await api.login("s1"))).status == 403
    bad = await api.post(CALLS, {"screen": "elsewhere"}, token=KIOSK)
    assert bad.status == 400 and bad.body["error"]["field"] == "screen"
    assert (await api.get(CALLS, token=KIOSK)).status == 403
    assert (await api.get(CALLS, token=await api.login("s1"))).status == 403
