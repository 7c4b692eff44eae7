"""办件编号 (CONTRACT §7): a finished ticket's case number in the provincial approval
system, given afterwards by the staff member who served it or a supervisor; it
travels with the ticket's rating, and every giving is in the action log."""

from __future__ import annotations

from typing import Any

import asyncpg

from tests.conftest import KIOSK, RATING, Api


async def finished(api: Api, window: int = 1, user: str = "s1") -> dict[str, Any]:
    t = await api.issue("A")
    await api.sign_in(user, window)
    await api.window(user, window, "call-next")
    assert (await api.window(user, window, "finish")).status == 200
    return t


def path(t: dict[str, Any]) -> str:
    return f"/api/tickets/{t['id']}/case-number"


async def test_the_staff_member_who_served_it_gives_the_number_and_the_rating_carries_it(
    api: Api, conn: asyncpg.Connection
) -> None:
    t = await finished(api)
    # Full-width, as a Chinese input method types it.
    r = await api.post(path(t), {"case_number": "ＨＮ２０２６－１１３００４２"}, token=await api.login("s1"))
    assert r.status == 200, r.body
    assert r.body["ticket"] == {"id": t["id"], "number": t["number"], "case_number": "HN2026-1130042"}
    assert await conn.fetchval("SELECT case_number FROM tickets WHERE id = $1", t["id"]) == "HN2026-1130042"
    rated = await api.post("/api/ratings", {"ticket": t["id"], "score": 5}, token=RATING)
    assert rated.status == 201 and rated.body["rating"]["case_number"] == "HN2026-1130042"


async def test_a_rating_shows_a_number_given_after_it(api: Api) -> None:
    t = await finished(api)
    r = await api.post("/api/ratings", {"ticket": t["id"], "score": 1, "reasons": ["办事拖拉"]}, token=RATING)
    assert r.status == 201 and r.body["rating"]["case_number"] is None
    boss = await api.login("boss")
    assert (await api.post(path(t), {"case_number": "430681-2026-77"}, token=boss)).status == 200
    case = (await api.get("/api/follow-ups", token=boss)).body["follow_ups"][0]
    assert case["rating"]["case_number"] == "430681-2026-77"


async def test_who_may_give_it_and_when(api: Api, conn: asyncpg.Connection) -> None:
    waiting = await api.issue("C")  # no window here calls C
    s1 = await api.login("s1")
    early = await api.post(path(waiting), {"case_number": "X1"}, token=await api.login("boss"))
    assert early.status == 409 and early.body["error"]["code"] == "conflict"

    t = await finished(api)
    other_staff = await api.post(path(t), {"case_number": "X1"}, token=await api.login("s2"))
    assert other_staff.status == 403 and other_staff.body["error"]["code"] == "forbidden"
    assert (await api.post(path(t), {"case_number": "X1"}, token=KIOSK)).status == 403
    assert (await api.post(path(t), {"case_number": "X1"}, token=RATING)).status == 403
    assert (await api.post(path(t), {"case_number": "X1"})).status == 401
    for wrong in ("", "有中文", "A B", "-starts-with-a-dash", "X" * 65, "A\x00"):
        r = await api.post(path(t), {"case_number": wrong}, token=s1)
        assert r.status == 400 and r.body["error"]["field"] == "case_number", (wrong, r.body)
    unknown = await api.post("/api/tickets/nonesuch/case-number", {"case_number": "X1"}, token=s1)
    assert unknown.status == 404

    assert (await api.post(path(t), {"case_number": "X1"}, token=s1)).status == 200
    # A supervisor corrects it; the log keeps both and what each replaced.
    assert (await api.post(path(t), {"case_number": "X2"}, token=await api.login("boss"))).status == 200
    logged = await conn.fetch(
        "SELECT actor_name, details FROM action_log WHERE action = 'case_number' AND ticket_id = $1 ORDER BY id",
        t["id"],
    )
    assert [(r["actor_name"], r["details"]["case_number"], r["details"]["replaced"]) for r in logged] == [
        ("李娜", "X1", None),
        ("郭主任", "X2", "X1"),
    ]


async def test_the_number_comes_with_finish(api: Api, conn: asyncpg.Connection) -> None:
    t = await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    bad = await api.window("s1", 1, "finish", {"case_number": "有中文"})
    assert bad.status == 400 and bad.body["error"]["field"] == "case_number"
    assert (
        await conn.fetchval("SELECT status FROM tickets WHERE id = $1", t["id"]) == "called"
    )  # nothing moved
    assert (await api.window("s1", 1, "finish", {"case_number": "ＨＮ-0001"})).status == 200
    assert await conn.fetchval("SELECT case_number FROM tickets WHERE id = $1", t["id"]) == "HN-0001"
    rated = await api.post("/api/ratings", {"ticket": t["id"], "score": 5}, token=RATING)
    assert rated.body["rating"]["case_number"] == "HN-0001"
    # 办结并叫号 takes it as well.
    second, third = await api.issue("A"), await api.issue("A")
    await api.window("s1", 1, "call-next")
    r = await api.window("s1", 1, "finish-and-call-next", {"case_number": "HN-0002"})
    assert r.status == 200 and r.body["ticket"]["id"] == third["id"]
    assert await conn.fetchval("SELECT case_number FROM tickets WHERE id = $1", second["id"]) == "HN-0002"
    logged = await conn.fetchval("SELECT count(*) FROM action_log WHERE action = 'case_number'")
    assert logged == 2


async def test_the_number_comes_with_finish_and_call_next(api: Api, conn: asyncpg.Connection) -> None:
    first = await api.issue("A")
    await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    both = await api.window("s1", 1, "finish-and-call-next", {"case_number": "MLS-2026-0042"})
    assert both.status == 200 and both.body["ticket"] is not None, both.body
    assert (
        await conn.fetchval("SELECT case_number FROM tickets WHERE id = $1", first["id"]) == "MLS-2026-0042"
    )
