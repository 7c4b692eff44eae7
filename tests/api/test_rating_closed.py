"""The first rating wins everywhere at once (issue 9, item 17): `rating.closed`
reaches the rating pad of the window and the citizen's socket of that very
ticket, whoever rated; nobody else; and the ticket tells its citizen `rated`.

The pad is window 1's (RATING); tickets are finished there by s1.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from tests.conftest import DISPLAY, RATING, Api
from tests.helpers import connect, next_event


async def finished(api: Api) -> dict[str, Any]:
    t = await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    assert (await api.window("s1", 1, "finish")).status == 200
    return t


async def citizen(api: Api, t: dict[str, Any]) -> aiohttp.ClientWebSocketResponse:
    return await connect(api, f"ticket={t['id']}&key={t['key']}")


async def hears_nothing(ws: aiohttp.ClientWebSocketResponse, name: str) -> None:
    try:
        got = await next_event(ws, name, within=1.0)
    except TimeoutError:
        return
    raise AssertionError(f"{name} reached a socket it is not for: {got}")


async def test_a_phone_rating_closes_the_pads_question(api: Api) -> None:
    first, other = await finished(api), await finished(api)
    pad = await connect(api, f"token={RATING}")
    phone, other_phone = await citizen(api, first), await citizen(api, other)
    screen = await connect(api, f"token={DISPLAY}")

    r = await api.post("/api/ratings", {"ticket": first["id"], "key": first["key"], "score": 4})
    assert r.status == 201, r.body

    closed = await next_event(pad, "rating.closed")
    # Which ticket and where; no score, no person.
    assert set(closed) == {"type", "event", "at", "ticket", "window"}, closed
    assert closed["ticket"] == {"id": first["id"]} and closed["window"] == 1
    assert (await next_event(phone, "rating.closed"))["ticket"] == {"id": first["id"]}
    await asyncio.gather(hears_nothing(screen, "rating.closed"), hears_nothing(other_phone, "rating.closed"))
    await asyncio.gather(pad.close(), phone.close(), other_phone.close(), screen.close())


async def test_a_pad_rating_closes_the_phones_form(api: Api) -> None:
    first, other = await finished(api), await finished(api)
    phone, other_phone = await citizen(api, first), await citizen(api, other)
    screen = await connect(api, f"token={DISPLAY}")
    supervisor = await connect(api, f"token={await api.login('boss')}")

    r = await api.post("/api/ratings", {"ticket": first["id"], "score": 2, "comment": "等太久"}, token=RATING)
    assert r.status == 201, r.body

    closed = await next_event(phone, "rating.closed")
    assert closed["ticket"] == {"id": first["id"]} and closed["window"] == 1
    assert "score" not in closed
    # The supervisors hear of the rating itself, not of this; the phone never hears the score.
    assert (await next_event(supervisor, "rating.received"))["score"] == 2
    await asyncio.gather(
        hears_nothing(other_phone, "rating.closed"),
        hears_nothing(screen, "rating.closed"),
        hears_nothing(supervisor, "rating.closed"),
        hears_nothing(phone, "rating.received"),
    )
    await asyncio.gather(phone.close(), other_phone.close(), screen.close(), supervisor.close())


async def test_the_ticket_tells_its_citizen_whether_it_is_rated(api: Api) -> None:
    t = await finished(api)
    path = f"/api/tickets/{t['id']}?key={t['key']}"
    before = await api.get(path)
    assert before.status == 200 and before.body["ticket"]["rated"] is False
    waiting = await api.issue("A")
    fresh = await api.get(f"/api/tickets/{waiting['id']}?key={waiting['key']}")
    assert fresh.body["ticket"]["rated"] is False

    assert (await api.post("/api/ratings", {"ticket": t["id"], "score": 5}, token=RATING)).status == 201
    after = await api.get(path)
    assert after.body["ticket"]["rated"] is True
    # Staff read the ticket without learning whether (or how) they were rated.
    staff = await api.get(f"/api/tickets/{t['id']}", token=await api.login("s1"))
    assert staff.status == 200 and "rated" not in staff.body["ticket"]
    # The key rules stay: a wrong key is refused, rated or not.
    wrong = await api.get(f"/api/tickets/{t['id']}?key=guess")
    assert wrong.status == 401
