"""The national 好差评 rules on a rating (CONTRACT §7, docs/haochaping.md): a 差评
needs a reason from the hall's list or a comment; its call-back number is kept
on its case for supervisors only; a visit may be rated only within
`rate_within_days` of its finish; a visit left unrated gets the hall's default
rating once, however many processes look; the rating pad and the phone page
read the levels and reasons from GET /api/ratings/rules."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import asyncpg

from clearhall.server.domain import ratings
from clearhall.server.store import db, hall_apply, hallfile
from clearhall.server.store.hall_ratings import RatingsConf
from tests.conftest import HALL_FILE, RATING, Api


async def finished(api: Api, window: int = 1, user: str = "s1") -> dict[str, Any]:
    t = await api.issue("A")
    await api.sign_in(user, window)
    assert (await api.window(user, window, "call-next")).body["ticket"]["id"] == t["id"]
    assert (await api.window(user, window, "finish")).status == 200
    return t


async def rate(api: Api, t: dict[str, Any], score: int, **fields: Any) -> Any:
    return await api.post("/api/ratings", {"ticket": t["id"], "key": t["key"], "score": score, **fields})


async def test_a_bad_rating_needs_a_reason_or_a_comment(api: Api, conn: asyncpg.Connection) -> None:
    t = await finished(api)
    bodies: list[dict[str, Any]] = [{}, {"comment": "   "}, {"reasons": []}]
    for body in bodies:
        r = await rate(api, t, 1, **body)
        assert r.status == 400 and r.body["error"]["field"] == "reasons", (body, r.body)
        assert r.body["error"]["code"] == "invalid_input"
    assert await conn.fetchval("SELECT count(*) FROM ratings") == 0
    lone = await api.post("/api/ratings", {"ticket": t["id"], "key": "\ud800", "score": 5})
    assert lone.status == 401  # not a key, and not a 500
    r = await rate(api, t, 1, reasons=["态度冷漠", "办事拖拉", "态度冷漠"])
    assert r.status == 201 and r.body["rating"]["reasons"] == ["态度冷漠", "办事拖拉"]
    assert r.body["rating"]["comment"] is None and r.body["rating"]["follow_up"] is True

    # Rated is rated: a second rating is 409 whatever it says.
    assert (await rate(api, t, 1)).status == 409
    other = await finished(api)
    r = await rate(api, other, 2, comment="材料要求说了三次都不一样")
    assert r.status == 201 and r.body["rating"]["reasons"] == []
    # The pad is held to the same rule.
    third = await finished(api)
    pad = await api.post("/api/ratings", {"ticket": third["id"], "score": 2}, token=RATING)
    assert pad.status == 400 and pad.body["error"]["field"] == "reasons"


async def test_reasons_come_from_the_halls_list(api: Api, db_url: str) -> None:
    rules = await api.get("/api/ratings/rules")
    assert rules.status == 200
    assert rules.body["bad_reasons"] == [
        "态度冷漠",
        "办事拖拉",
        "一次性告知不到位",
        "多次跑动",
        "收费不合理",
        "其他",
    ]
    assert [level["words"] for level in rules.body["levels"]] == [
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
    ]
    assert rules.body["rate_within_days"] == 7 and rules.body["follow_up_days"] == 5

    t = await finished(api)
    unknown = await rate(api, t, 2, reasons=["太热了"])
    assert unknown.status == 400 and unknown.body["error"]["field"] == "reasons"
    on_a_good_one = await rate(api, t, 4, reasons=["态度冷漠"])
    assert on_a_good_one.status == 400 and on_a_good_one.body["error"]["field"] == "reasons"

    # The hall file's own list replaces the default one, from the next request on.
    conn = await asyncpg.connect(db_url)
    try:
        own = RatingsConf(bad_reasons=("等候时间长", "窗口无人"))
        await hall_apply.apply(conn, replace(hallfile.load(HALL_FILE), ratings=own))
    finally:
        await conn.close()
    assert (await api.get("/api/ratings/rules")).body["bad_reasons"] == ["等候时间长", "窗口无人"]
    assert (await rate(api, t, 2, reasons=["态度冷漠"])).status == 400
    assert (await rate(api, t, 2, reasons=["窗口无人"])).status == 201


async def test_the_call_back_number_is_kept_on_the_case_for_supervisors_only(
    api: Api, conn: asyncpg.Connection
) -> None:
    t = await finished(api)
    bad = await rate(api, t, 2, comment="态度差", contact="1234")
    assert bad.status == 400 and bad.body["error"]["field"] == "contact"
    # Full-width digits and separators, as a phone keyboard may send them.
    r = await rate(api, t, 2, comment="态度差", contact="１３８ ０２１３-７７４２")
    assert r.status == 201 and "contact" not in r.body["rating"]
    assert await conn.fetchval("SELECT contact FROM follow_ups") == "13802137742"
    rating_row = await conn.fetchrow("SELECT * FROM ratings")
    assert rating_row is not None and "13802137742" not in str(dict(rating_row))

    cases = await api.get("/api/follow-ups", token=await api.login("boss"))
    assert cases.status == 200 and cases.body["follow_ups"][0]["contact"] == "13802137742"
    for who in ("s1", "s2"):  # the staff member rated, and any other, never see it
        assert (await api.get("/api/follow-ups", token=await api.login(who))).status == 403
    assert (await api.get(f"/api/tickets/{t['id']}?key={t['key']}")).body["ticket"].get("contact") is None

    # A good rating keeps no number: there is no call-back.
    good = await finished(api)
    assert (await rate(api, good, 5, contact="13802137742")).status == 201
    assert await conn.fetchval("SELECT count(*) FROM follow_ups") == 1


async def test_a_visit_is_rated_within_the_halls_days_of_its_finish(
    api: Api, conn: asyncpg.Connection
) -> None:
    late, in_time, at_pad = await finished(api), await finished(api), await finished(api)
    back = "UPDATE tickets SET finished_at = now() - make_interval(days => $2) WHERE id = $1"
    await conn.execute(back, late["id"], 8)
    await conn.execute(back, in_time["id"], 6)
    await conn.execute(back, at_pad["id"], 8)
    r = await rate(api, late, 5)
    assert r.status == 409 and r.body["error"]["code"] == "conflict"
    assert "7" in r.body["error"]["message"] and "评价期已过" in r.body["error"]["message"]
    en = await api.post(
        "/api/ratings",
        {"ticket": late["id"], "key": late["key"], "score": 5},
        headers={"Accept-Language": "en"},
    )
    assert "within 7 days" in en.body["error"]["message"]
    assert (await api.post("/api/ratings", {"ticket": at_pad["id"], "score": 5}, token=RATING)).status == 409
    assert (await rate(api, in_time, 5)).status == 201
    # The hall's own number of days counts.
    await conn.execute("UPDATE halls SET rate_within_days = 10")
    assert (await rate(api, late, 4)).status == 201


async def test_a_visit_left_unrated_gets_the_default_once(
    api: Api, conn: asyncpg.Connection, db_url: str
) -> None:
    old, recent, rated = await finished(api), await finished(api), await finished(api)
    assert (await rate(api, rated, 5)).status == 201
    await conn.execute(
        "UPDATE tickets SET finished_at = now() - interval '4 days' WHERE id = ANY($1)",
        [old["id"], rated["id"]],
    )
    hall_id = await conn.fetchval("SELECT id FROM halls")
    assert await ratings.give_defaults(conn, hall_id) == 0  # off by default (default_after_days = 0)

    await conn.execute("UPDATE halls SET default_after_days = 3, default_score = 4")
    # Several server processes at the same moment: one default, once.
    others = [await asyncpg.connect(db_url) for _ in range(4)]
    try:
        for other in others:
            await db.init_connection(other)
        given = await asyncio.gather(*(ratings.give_defaults(c, hall_id) for c in others))
    finally:
        for other in others:
            await other.close()
    assert sorted(given) == [0, 0, 0, 1]
    assert await ratings.give_defaults(conn, hall_id) == 0
    row = await conn.fetchrow("SELECT score, channel FROM ratings WHERE ticket_id = $1", old["id"])
    assert row is not None and (row["score"], row["channel"]) == (4, "default")
    assert await conn.fetchval("SELECT count(*) FROM ratings WHERE ticket_id = $1", recent["id"]) == 0
    logged = await conn.fetch("SELECT actor_kind, ticket_id, details FROM action_log WHERE action = 'rate'")
    assert [(r["actor_kind"], r["details"]["channel"]) for r in logged if r["ticket_id"] == old["id"]] == [
        ("system", "default")
    ]
    # The default is the visit's one rating: the citizen cannot rate it after.
    assert (await rate(api, old, 1, comment="太慢")).status == 409
