"""The 好差评 figures (docs/haochaping.md, "The figures") against a day computed by hand.

The day D (three days ago, hall time). Window 1, 李娜 (s1):
  T1 5 phone (finished at 00:30 — still D in Shanghai, the day before in UTC)
  T2 4 pad · T3 2 phone → case: callback, fix, close; handling "satisfied"
  T4 1 pad → case: appeal upheld by another supervisor (excluded); overdue · T5 unrated
Window 2, 王强 (s2):
  T6 2 phone → case: callback, explain, close; handling "basically"
  T7 unrated → the default rating (3) · T8 4 phone
A complaint about window 2 (no ticket, no staff): open.
T9 (window 1, 5) was finished at 00:10 the day after D: not D's.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from clearhall.server.domain import ratings
from tests.conftest import RATING, Api

ZONE = ZoneInfo("Asia/Shanghai")


async def finished(api: Api, window: int, user: str) -> dict[str, Any]:
    t = await api.issue("A")
    await api.sign_in(user, window)
    assert (await api.window(user, window, "call-next")).body["ticket"]["id"] == t["id"]
    assert (await api.window(user, window, "finish")).status == 200
    return t


async def rated(
    api: Api, window: int, user: str, score: int | None, pad: bool = False, **extra: Any
) -> dict[str, Any]:
    t = await finished(api, window, user)
    if score is not None:
        body = {"ticket": t["id"], "score": score, **extra}
        r = await (
            api.post("/api/ratings", body, token=RATING)
            if pad
            else api.post("/api/ratings", body | {"key": t["key"]})
        )
        assert r.status == 201, r.body
        t["case"] = (r.body["rating"]["case"] or {}).get("id")
    return t


async def steps(api: Api, case: int, *kinds: str, who: str = "boss", **extra: Any) -> None:
    for kind in kinds:
        body = {"kind": kind} | ({} if kind == "close" else {"text": "处理"}) | extra
        r = await api.post(f"/api/follow-ups/{case}/steps", body, token=await api.login(who))
        assert r.status == 201, r.body


def at(day: date, hh: int, mm: int) -> datetime:
    return datetime.combine(day, time(hh, mm), ZONE)


def line(finished: int, rated: int, unrated: int, excluded: int, levels: tuple[int, ...], default: int,
         replied: int, fixed: int, answers: int, satisfied: int, rates: tuple[float | None, ...],
         open_cases: int, overdue_cases: int, *, person_good: int) -> dict[str, Any]:  # fmt: skip
    good, bad = levels[0] + levels[1], levels[3] + levels[4]
    names = ("good_rate", "bad_rate", "unrated_rate", "active_good_rate", "reply_rate", "fix_rate",
             "satisfaction_rate")  # fmt: skip
    return {
        "finished": finished, "rated": rated, "unrated": unrated, "excluded": excluded,
        "levels": dict(zip(("5", "4", "3", "2", "1"), levels, strict=True)), "good": good, "bad": bad,
        "by_person": rated - default, "person_good": person_good, "default": default, "replied": replied, "fixed": fixed,
        "satisfaction_answers": answers, "satisfied": satisfied, **dict(zip(names, rates, strict=True)),
        "open_cases": open_cases, "overdue_cases": overdue_cases,
    }  # fmt: skip


async def test_the_figures_of_a_day_computed_by_hand(api: Api, conn: asyncpg.Connection) -> None:
    day = datetime.now(ZONE).date() - timedelta(days=3)
    t1 = await rated(api, 1, "s1", 5)
    t2 = await rated(api, 1, "s1", 4, pad=True)
    t3 = await rated(api, 1, "s1", 2, reasons=["态度冷漠"])
    t4 = await rated(api, 1, "s1", 1, pad=True, comment="故意刁难")
    t5 = await rated(api, 1, "s1", None)
    t6 = await rated(api, 2, "s2", 2, comment="等太久")
    t7 = await rated(api, 2, "s2", None)
    t8 = await rated(api, 2, "s2", 4)
    t9 = await rated(api, 1, "s1", 5)
    complaint = await api.post("/api/complaints", {"text": "2号窗口中午无人", "window": 2})
    assert complaint.status == 201

    await steps(api, t3["case"], "callback", "fix", "close")
    assert (
        await api.post(
            f"/api/follow-ups/{t3['case']}/satisfaction", {"key": t3["key"], "result": "satisfied"}
        )
    ).status == 201
    await steps(api, t4["case"], "appeal")
    await steps(api, t4["case"], "appeal_decision", who="boss2", upheld=True)
    await steps(api, t6["case"], "callback", "explain", "close")
    assert (
        await api.post(
            f"/api/follow-ups/{t6['case']}/satisfaction", {"key": t6["key"], "result": "basically"}
        )
    ).status == 201

    # T7 alone is old enough for the default rating; then everything moves to day D.
    move = "UPDATE tickets SET finished_at = $2 WHERE id = $1"
    await conn.execute(move, t7["id"], at(day, 11, 0))
    await conn.execute("UPDATE halls SET default_after_days = 1")
    assert await ratings.give_defaults(conn, await conn.fetchval("SELECT id FROM halls")) == 1
    await conn.execute("UPDATE halls SET default_after_days = 0")
    await conn.execute(move, t1["id"], at(day, 0, 30))
    for t in (t2, t3, t4, t5, t6, t8):
        await conn.execute(move, t["id"], at(day, 10, 0))
    await conn.execute(move, t9["id"], at(day + timedelta(days=1), 0, 10))
    await conn.execute("UPDATE follow_ups SET created_at = $1", at(day, 12, 0))
    await conn.execute("UPDATE follow_ups SET due_at = now() - interval '1 hour' WHERE id = $1", t4["case"])

    boss = await api.login("boss")
    r = await api.get(f"/api/ratings/figures?from={day}&to={day}", token=boss)
    assert r.status == 200, r.body
    f = r.body["figures"]
    assert (f["from"], f["to"]) == (day.isoformat(), day.isoformat())
    assert f["total"] == line(8, 6, 1, 1, (1, 2, 1, 2, 0), 1, 2, 1, 2, 1,
                              (0.5, 0.3333, 0.125, 0.6, 1.0, 0.5, 0.5), 1, 1, person_good=3)  # fmt: skip
    window_1 = line(
        5,
        3,
        1,
        1,
        (1, 1, 0, 1, 0),
        0,
        1,
        1,
        1,
        1,
        (0.6667, 0.3333, 0.2, 0.6667, 1.0, 1.0, 1.0),
        0,
        1,
        person_good=2,
    )
    window_2 = line(
        3,
        3,
        0,
        0,
        (0, 1, 1, 1, 0),
        1,
        1,
        0,
        1,
        0,
        (0.3333, 0.3333, 0.0, 0.5, 1.0, 0.0, 0.0),
        1,
        0,
        person_good=1,
    )
    assert f["windows"] == [{"window": 1} | window_1, {"window": 2} | window_2]
    assert f["staff"] == [
        {"staff": {"username": "s1", "name": "李娜"}} | window_1,
        # the complaint names no staff member: its open case is window 2's, not 王强's
        {"staff": {"username": "s2", "name": "王强"}} | window_2 | {"open_cases": 0},
    ]

    # The next day holds T9 only; a day with nothing has no rates at all.
    after = (await api.get(f"/api/ratings/figures?from={day + timedelta(days=1)}&to={day + timedelta(days=1)}",
                           token=boss)).body["figures"]  # fmt: skip
    assert (after["total"]["finished"], after["total"]["rated"], after["total"]["good_rate"]) == (1, 1, 1.0)
    empty = (await api.get(f"/api/ratings/figures?from={day - timedelta(days=1)}", token=boss)).body[
        "figures"
    ]
    assert empty["to"] == datetime.now(ZONE).date().isoformat()  # `to` is today unless given
    before = (await api.get(f"/api/ratings/figures?to={day - timedelta(days=1)}", token=boss)).body["figures"]
    assert before["from"] == before["to"] and before["total"]["finished"] == 0
    assert before["total"]["good_rate"] is None and before["windows"] == [] and before["staff"] == []


async def test_figures_are_for_supervisors_and_take_dates(api: Api) -> None:
    boss = await api.login("boss")
    today = (await api.get("/api/ratings/figures", token=boss)).body["figures"]
    assert today["from"] == today["to"] == datetime.now(ZONE).date().isoformat()
    assert (await api.get("/api/ratings/figures", token=await api.login("s1"))).status == 403
    assert (await api.get("/api/ratings/figures")).status == 401
    for query, field in (("from=2026-13-01", "from"), ("from=2026-06-02&to=2026-06-01", "to"),
                         ("from=2020-01-01&to=2026-06-01", "from")):  # fmt: skip
        r = await api.get(f"/api/ratings/figures?{query}", token=boss)
        assert r.status == 400 and r.body["error"]["field"] == field, (query, r.body)
