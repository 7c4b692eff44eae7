"""差评整改 (CONTRACT §10): a bad rating opens a case due in working days on the
hall's calendar; supervisors call back, fix or explain, and close — in that
order; an appeal is decided by another supervisor and an upheld one takes the
rating out of the figures but keeps it; every step is in the action log; the
citizen rates the handling once with the ticket's key."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from clearhall.server.domain import follow_up_views
from clearhall.server.domain.workdays import Calendar, add_working_days
from tests.conftest import KIOSK, RATING, Api, Reply

TZ = "Asia/Shanghai"


async def finished(api: Api, window: int = 1, user: str = "s1") -> dict[str, Any]:
    t = await api.issue("A")
    await api.sign_in(user, window)
    assert (await api.window(user, window, "call-next")).body["ticket"]["id"] == t["id"]
    assert (await api.window(user, window, "finish")).status == 200
    return t


async def bad_rating(api: Api, **extra: Any) -> tuple[dict[str, Any], int]:
    """A finished ticket rated 2 by its citizen: (the ticket, its case id)."""
    t = await finished(api)
    r = await api.post(
        "/api/ratings", {"ticket": t["id"], "key": t["key"], "score": 2, "comment": "等太久", **extra}
    )
    assert r.status == 201, r.body
    return t, r.body["rating"]["case"]["id"]


async def step(api: Api, case: int, kind: str, who: str = "boss", **body: Any) -> Reply:
    text = {} if kind == "close" else {"text": f"{kind}: 已处理"}
    return await api.post(
        f"/api/follow-ups/{case}/steps", {"kind": kind, **text, **body}, token=await api.login(who)
    )


async def satisfaction(api: Api, case: int, key: str, result: str = "satisfied", **kw: Any) -> Reply:
    return await api.post(f"/api/follow-ups/{case}/satisfaction", {"key": key, "result": result}, **kw)


def expected_due(opened_at: str, calendar: Calendar | None = None) -> str:
    return add_working_days(datetime.fromisoformat(opened_at), 5, calendar or Calendar(), TZ).isoformat()


async def test_a_bad_rating_opens_a_case_due_in_working_days(api: Api) -> None:
    t, case_id = await bad_rating(api)
    boss = await api.login("boss")
    listed = await api.get("/api/follow-ups", token=boss)
    assert listed.status == 200 and len(listed.body["follow_ups"]) == 1
    case = listed.body["follow_ups"][0]
    assert case["id"] == case_id and case["kind"] == "rating" and case["state"] == "open"
    assert case["staff"] == {"username": "s1", "name": "李娜"} and case["window"] == 1
    assert case["rating"]["ticket"] == t["number"] and case["rating"]["score"] == 2
    assert case["complaint"] is None and case["steps"] == [] and case["appeal"] == "none"
    assert case["due_at"] == expected_due(case["opened_at"])
    assert case["due_at"].endswith("T23:59:59+08:00")  # the end of the working day, hall time
    assert (await api.get("/api/follow-ups?state=closed", token=boss)).body["follow_ups"] == []
    assert (await api.get("/api/follow-ups?state=overdue", token=boss)).body["follow_ups"] == []
    assert len((await api.get("/api/follow-ups?state=open", token=boss)).body["follow_ups"]) == 1
    bad = await api.get("/api/follow-ups?state=late", token=boss)
    assert bad.status == 400 and bad.body["error"]["field"] == "state"


async def test_the_deadline_skips_the_halls_closed_days(api: Api, conn: asyncpg.Connection) -> None:
    today = datetime.now(ZoneInfo(TZ)).date()
    closed = [today + timedelta(days=n) for n in range(1, 4)]
    await conn.execute("UPDATE halls SET calendar_holidays = $1", closed)
    _, case_id = await bad_rating(api)
    case = (await api.get(f"/api/follow-ups/{case_id}", token=await api.login("boss"))).body["follow_up"]
    assert case["due_at"] == expected_due(case["opened_at"], Calendar.of(holidays=closed))
    assert case["due_at"] != expected_due(case["opened_at"])


async def test_a_case_closes_only_after_a_callback_and_a_fix_or_explanation(
    api: Api, conn: asyncpg.Connection
) -> None:
    t, case = await bad_rating(api)
    assert (await step(api, case, "close")).status == 409
    no_text = await api.post(
        f"/api/follow-ups/{case}/steps", {"kind": "callback"}, token=await api.login("boss")
    )
    assert no_text.status == 400 and no_text.body["error"]["field"] == "text"
    stray = await step(api, case, "callback", upheld=True)
    assert stray.status == 400 and stray.body["error"]["field"] == "upheld"
    r = await step(api, case, "callback")
    assert r.status == 201 and [s["kind"] for s in r.body["follow_up"]["steps"]] == ["callback"]
    assert r.body["follow_up"]["steps"][0]["by"] == {"username": "boss", "name": "郭主任"}
    refused = await step(api, case, "close")
    assert refused.status == 409 and refused.body["error"]["code"] == "conflict"
    assert (await step(api, case, "fix", who="boss2")).status == 201
    closed = await step(api, case, "close")
    assert closed.status == 201 and closed.body["follow_up"]["state"] == "closed"
    assert closed.body["follow_up"]["closed_at"] is not None
    assert (await step(api, case, "explain")).status == 409  # a closed case takes no more steps

    # An explanation does as well as a fix.
    _, other = await bad_rating(api)
    for kind in ("explain", "callback", "close"):
        assert (await step(api, other, kind)).status == 201, kind

    logged = await conn.fetch("SELECT action, actor_name, ticket_id, reason, details FROM action_log"
                              " WHERE action LIKE 'follow_up_%' ORDER BY id")  # fmt: skip
    assert [r["action"] for r in logged] == [
        "follow_up_callback", "follow_up_fix", "follow_up_close",
        "follow_up_explain", "follow_up_callback", "follow_up_close",
    ]  # fmt: skip
    assert logged[0]["ticket_id"] == t["id"] and logged[0]["details"]["follow_up"] == case
    assert logged[1]["actor_name"] == "周科长" and logged[0]["reason"] == "callback: 已处理"


async def test_steps_are_for_supervisors(api: Api) -> None:
    _, case = await bad_rating(api)
    for token in (await api.login("s1"), KIOSK, RATING):
        r = await api.post(f"/api/follow-ups/{case}/steps", {"kind": "callback", "text": "x"}, token=token)
        assert r.status == 403
    assert (await api.get(f"/api/follow-ups/{case}", token=await api.login("s1"))).status == 403
    assert (await step(api, case + 1000, "callback")).status == 404


async def test_an_appeal_is_decided_by_another_supervisor(api: Api, conn: asyncpg.Connection) -> None:
    t, case = await bad_rating(api)
    assert (await step(api, case, "appeal_decision", upheld=True)).status == 409  # nothing to decide
    assert (await step(api, case, "appeal")).status == 201
    assert (await step(api, case, "appeal", who="boss2")).status == 409  # once per case
    mine = await step(api, case, "appeal_decision", upheld=True)
    assert mine.status == 403 and mine.body["error"]["code"] == "forbidden"
    no_verdict = await step(api, case, "appeal_decision", who="boss2")
    assert no_verdict.status == 400 and no_verdict.body["error"]["field"] == "upheld"
    for kind in ("callback", "explain"):
        assert (await step(api, case, kind)).status == 201
    assert (await step(api, case, "close")).status == 409  # the appeal waits for its decision
    decided = await step(api, case, "appeal_decision", who="boss2", upheld=True, text="恶意差评，查实")
    assert decided.status == 201 and decided.body["follow_up"]["appeal"] == "upheld"
    assert decided.body["follow_up"]["rating"]["excluded"] is True
    # Out of the staff member's figures, never deleted.
    row = await conn.fetchrow("SELECT score, excluded FROM ratings WHERE ticket_id = $1", t["id"])
    assert row is not None and row["score"] == 2 and row["excluded"] is True
    assert (await step(api, case, "close")).status == 201
    logged = await conn.fetchrow(
        "SELECT actor_name, details FROM action_log WHERE action = 'follow_up_appeal_decision'"
    )
    assert logged is not None and logged["actor_name"] == "周科长" and logged["details"]["upheld"] is True

    # A rejected appeal leaves the rating in the figures.
    t2, other = await bad_rating(api)
    assert (await step(api, other, "appeal", who="boss2")).status == 201
    assert (await step(api, other, "appeal_decision", upheld=False)).status == 201
    assert await conn.fetchval("SELECT excluded FROM ratings WHERE ticket_id = $1", t2["id"]) is False


async def test_a_complaint_cannot_be_appealed(api: Api) -> None:
    r = await api.post("/api/complaints", {"text": "窗口人员玩手机", "window": 2})
    assert r.status == 201
    assert (await step(api, r.body["complaint"]["follow_up"], "appeal")).status == 409


async def test_the_citizen_rates_the_handling_once(api: Api, conn: asyncpg.Connection) -> None:
    t, case = await bad_rating(api)
    too_early = await satisfaction(api, case, t["key"])
    assert too_early.status == 409
    assert (await step(api, case, "callback")).status == 201
    assert (await step(api, case, "fix")).status == 201
    assert (await satisfaction(api, case, "guess")).status == 401
    assert (await satisfaction(api, case, "\udfff" * 8)).status == 401
    no_key = await api.post(f"/api/follow-ups/{case}/satisfaction", {"result": "satisfied"})
    assert no_key.status == 400 and no_key.body["error"]["field"] == "key"
    wrong = await satisfaction(api, case, t["key"], result="great")
    assert wrong.status == 400 and wrong.body["error"]["field"] == "result"
    r = await satisfaction(api, case, t["key"], result="basically")
    assert r.status == 201 and r.body["satisfaction"] == {"follow_up": case, "result": "basically"}
    assert (await satisfaction(api, case, t["key"])).status == 409
    shown = (await api.get(f"/api/follow-ups/{case}", token=await api.login("boss"))).body["follow_up"]
    assert shown["satisfaction"]["result"] == "basically"
    assert [h["action"] for h in shown["history"]][:3] == ["issue", "call_next", "finish"]
    assert "follow_up_satisfaction" in [h["action"] for h in shown["history"]]
    assert await conn.fetchval("SELECT count(*) FROM action_log WHERE action = 'follow_up_satisfaction'") == 1
    # What the citizen's page can be told of its ticket's cases (for the phone engineer's use).
    mine = await follow_up_views.for_ticket(conn, await conn.fetchval("SELECT id FROM halls"), t["id"])
    assert [(c["id"], c["state"], c["satisfaction"]) for c in mine] == [(case, "open", "basically")]


async def test_a_counter_issued_ticket_cannot_rate_its_own_servers_handling(api: Api) -> None:
    """s1 issued it at the counter (so held its key) and served it; the citizen rated it
    2 at the pad. s1 must not be able to answer 'satisfied' for the citizen."""
    mine = await api.post("/api/tickets", {"service": "A"}, token=await api.login("s1"))
    t = mine.body["ticket"]
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "finish")
    r = await api.post("/api/ratings", {"ticket": t["id"], "score": 2, "reasons": ["态度冷漠"]}, token=RATING)
    case = r.body["rating"]["case"]["id"]
    await step(api, case, "callback")
    await step(api, case, "explain")
    refused = await satisfaction(api, case, t["key"])
    assert refused.status == 403 and refused.body["error"]["code"] == "forbidden"


async def test_an_old_case_state_is_computed_not_stored(api: Api, conn: asyncpg.Connection) -> None:
    _, case = await bad_rating(api)
    await conn.execute("UPDATE follow_ups SET due_at = now() - interval '1 minute' WHERE id = $1", case)
    boss = await api.login("boss")
    overdue = (await api.get("/api/follow-ups?state=overdue", token=boss)).body["follow_ups"]
    assert [c["id"] for c in overdue] == [case] and overdue[0]["state"] == "overdue"
    assert (await api.get("/api/follow-ups?state=open", token=boss)).body["follow_ups"] == []
    for kind in ("callback", "fix", "close"):
        assert (await step(api, case, kind)).status == 201
    closed = (await api.get("/api/follow-ups?state=closed", token=boss)).body["follow_ups"]
    assert [c["id"] for c in closed] == [case]


async def test_the_citizens_ticket_shows_its_case_for_the_satisfaction_question(api: Api) -> None:
    """The phone page learns its case from its own ticket (with the key), and when it
    has been answered; staff reading the ticket see no cases."""
    t, case = await bad_rating(api)
    mine = f"/api/tickets/{t['id']}?key={t['key']}"
    [shown] = (await api.get(mine)).body["ticket"]["follow_ups"]
    assert shown["id"] == case and shown["state"] == "open" and shown["answered"] is False
    assert shown["satisfaction"] is None and shown["due_at"]
    await step(api, case, "callback")
    await step(api, case, "fix")
    [answered] = (await api.get(mine)).body["ticket"]["follow_ups"]
    assert answered["answered"] is True
    assert (await satisfaction(api, case, t["key"])).status in (200, 201)
    [done] = (await api.get(mine)).body["ticket"]["follow_ups"]
    assert done["satisfaction"] == "satisfied"
    staff_view = (await api.get(f"/api/tickets/{t['id']}", token=await api.login("s1"))).body["ticket"]
    assert "follow_ups" not in staff_view
