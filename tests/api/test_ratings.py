"""好差评: only finished tickets, only once, by the citizen's key or the window's pad, never staff."""

from __future__ import annotations

from typing import Any, cast

import asyncpg

from tests.conftest import DISPLAY, RATING, Api


async def finished(api: Api, window: int = 1, user: str = "s1") -> dict[str, Any]:
    t = await api.issue("A")
    await api.sign_in(user, window)
    await api.window(user, window, "call-next")
    await api.window(user, window, "finish")
    return t


async def test_citizen_rates_once_with_the_key(api: Api, conn: asyncpg.Connection) -> None:
    t = await finished(api)
    body = {"ticket": t["id"], "key": t["key"], "score": 5,
            "dimensions": {"attitude": 5, "efficiency": 4, "professionalism": 5, "integrity": 5}, "comment": "很好"}  # fmt: skip
    r = await api.post("/api/ratings", body)
    assert r.status == 201 and r.body["rating"]["score"] == 5 and r.body["rating"]["words"] == "非常满意"
    # R (CONTRACT §7): the visit it rates, where, by whom, how.
    rating = r.body["rating"]
    assert set(rating) >= {"id", "ticket", "score", "dimensions", "reasons", "comment", "channel", "service",
                           "window", "staff", "case_number", "rated_at"}  # fmt: skip
    assert rating["ticket"] == t["number"] and rating["service"] == "A" and rating["window"] == 1
    assert rating["staff"] == "李娜" and rating["channel"] == "phone" and rating["case_number"] is None
    assert rating["reasons"] == [] and rating["comment"] == "很好" and rating["rated_at"].endswith("+08:00")
    again = await api.post("/api/ratings", body)
    assert again.status == 409 and again.body["error"]["code"] == "conflict"
    row = cast(
        asyncpg.Record,
        await conn.fetchrow("SELECT r.*, st.username FROM ratings r JOIN staff st ON st.id = r.staff_id"),
    )
    assert row["username"] == "s1" and row["channel"] == "phone"
    assert row["window_id"] == await conn.fetchval("SELECT id FROM windows WHERE number = 1")
    assert row["service_id"] == await conn.fetchval("SELECT id FROM services WHERE code = 'A'")
    assert await conn.fetchval("SELECT count(*) FROM follow_ups") == 0


async def test_ratings_cannot_be_forged(api: Api) -> None:
    t = await finished(api)
    wrong = await api.post("/api/ratings", {"ticket": t["id"], "key": "guess", "score": 1})
    assert wrong.status == 401
    no_key = await api.post("/api/ratings", {"ticket": t["id"], "score": 1})
    assert no_key.status == 401
    staff = await api.post("/api/ratings", {"ticket": t["id"], "score": 5}, token=await api.login("s1"))
    assert staff.status == 403
    screen = await api.post("/api/ratings", {"ticket": t["id"], "score": 5}, token=DISPLAY)
    assert screen.status == 403
    waiting = await api.issue("A")
    early = await api.post("/api/ratings", {"ticket": waiting["id"], "key": waiting["key"], "score": 5})
    assert early.status == 409
    bad = await api.post("/api/ratings", {"ticket": t["id"], "key": t["key"], "score": 6})
    assert bad.status == 400 and bad.body["error"]["field"] == "score"
    dims = await api.post(
        "/api/ratings", {"ticket": t["id"], "key": t["key"], "score": 5, "dimensions": {"speed": 5}}
    )
    assert dims.status == 400 and dims.body["error"]["field"] == "dimensions.speed"


async def test_the_windows_pad_rates_without_the_key(api: Api) -> None:
    here = await finished(api, window=1, user="s1")
    elsewhere = await finished(api, window=2, user="s2")
    other = await api.post("/api/ratings", {"ticket": elsewhere["id"], "score": 4}, token=RATING)
    assert other.status == 403  # the pad of window 1 rates only what window 1 finished
    r = await api.post("/api/ratings", {"ticket": here["id"], "score": 4}, token=RATING)
    assert r.status == 201 and r.body["rating"]["channel"] == "pad"


async def test_a_bad_rating_opens_a_follow_up(api: Api, conn: asyncpg.Connection) -> None:
    t = await finished(api)
    r = await api.post("/api/ratings", {"ticket": t["id"], "key": t["key"], "score": 2, "comment": "等太久"})
    assert r.status == 201 and r.body["rating"]["follow_up"] is True
    case = cast(asyncpg.Record, await conn.fetchrow("SELECT * FROM follow_ups"))
    assert case["status"] == "open" and case["due_at"] > case["created_at"]
    assert await conn.fetchval("SELECT count(*) FROM action_log WHERE action = 'rate'") == 1


async def test_staff_cannot_rate_a_ticket_they_issued_and_served(api: Api, conn: asyncpg.Connection) -> None:
    """The reviewer's attack (issue 8, finding 2): issue at the counter with one's own
    token (the answer carries the key), serve it, rate it 5 by key with no log-in."""
    s1 = await api.login("s1")
    mine = await api.post("/api/tickets", {"service": "A"}, token=s1)
    assert mine.status == 201
    t = mine.body["ticket"]
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "finish")
    by_key = await api.post("/api/ratings", {"ticket": t["id"], "key": t["key"], "score": 5})
    assert by_key.status == 403 and by_key.body["error"]["code"] == "forbidden", by_key.body
    at_pad = await api.post("/api/ratings", {"ticket": t["id"], "score": 5}, token=RATING)
    assert at_pad.status == 201, at_pad.body  # the citizen at the window still rates it
    row = cast(asyncpg.Record, await conn.fetchrow("SELECT * FROM ratings WHERE ticket_id = $1", t["id"]))
    staff_id = await conn.fetchval("SELECT id FROM staff WHERE username = 's1'")
    assert row["issued_by_staff"] == staff_id and row["issued_by_device"] is None


async def test_a_rating_records_the_kiosk_that_issued_its_ticket(api: Api, conn: asyncpg.Connection) -> None:
    t = await finished(api)
    assert (await api.post("/api/ratings", {"ticket": t["id"], "key": t["key"], "score": 4})).status == 201
    row = cast(asyncpg.Record, await conn.fetchrow("SELECT * FROM ratings WHERE ticket_id = $1", t["id"]))
    kiosk = await conn.fetchval("SELECT id FROM devices WHERE kind = 'kiosk' ORDER BY id LIMIT 1")
    assert row["issued_by_device"] == kiosk and row["issued_by_staff"] is None
