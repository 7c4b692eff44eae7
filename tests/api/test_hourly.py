"""GET /api/stats/hourly (the supervisor's charts, the wall screen) against a day
crafted by hand: tickets issued through the kiosk, then moved in the database
to day D (three days ago, hall time). Waits are call minus issue.

    T6 A  issued D-1 23:50, called D 00:05 (15 min), done 00:20
    T1 A  issued 08:10, called 08:20 (10 min), done 08:40
    T2 A  issued 08:30, called 09:05 (35 min), 过号 09:07
    T3 A  issued 08:50, called 09:10 (20 min), done 09:30
    T4 C  issued 09:00, called 09:15 (15 min), done 09:45
    T5 C  issued 09:20, still waiting
    T8 A→C issued 10:00 for A, transferred, called at C 10:30 (30 min)
    T7 A  issued 23:55, called D+1 00:01 (6 min)
    C1…C10 C  issued 14:00, called 14:01…14:10 (1…10 min), done 14:20
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from tests.conftest import Api

ZONE = ZoneInfo("Asia/Shanghai")
MOVE = """
UPDATE tickets SET day = $2, status = $3, issued_at = $4, called_at = $5, finished_at = $6,
       service_id = (SELECT id FROM services WHERE code = $7)
WHERE id = $1
"""


def at(day: date, hh: int, mm: int) -> datetime:
    return datetime.combine(day, time(hh, mm), ZONE)


def line(
    issued: int, called: int, finished: int, no_show: int, avg: int | None, p90: int | None
) -> dict[str, Any]:
    return {"issued": issued, "called": called, "finished": finished, "no_show": no_show,
            "avg_wait_s": avg, "p90_wait_s": p90}  # fmt: skip


EMPTY = line(0, 0, 0, 0, None, None)


async def test_a_crafted_day_by_the_hour_and_by_service(api: Api, conn: asyncpg.Connection) -> None:
    d = datetime.now(ZONE).date() - timedelta(days=3)
    before, after = d - timedelta(days=1), d + timedelta(days=1)
    plan = {  # name: (service taken, day, status, issued, called, finished, service now)
        "T6": ("A", before, "done", at(before, 23, 50), at(d, 0, 5), at(d, 0, 20), "A"),
        "T1": ("A", d, "done", at(d, 8, 10), at(d, 8, 20), at(d, 8, 40), "A"),
        "T2": ("A", d, "no_show", at(d, 8, 30), at(d, 9, 5), at(d, 9, 7), "A"),
        "T3": ("A", d, "done", at(d, 8, 50), at(d, 9, 10), at(d, 9, 30), "A"),
        "T4": ("C", d, "done", at(d, 9, 0), at(d, 9, 15), at(d, 9, 45), "C"),
        "T5": ("C", d, "waiting", at(d, 9, 20), None, None, "C"),
        "T8": ("A", d, "called", at(d, 10, 0), at(d, 10, 30), None, "C"),
        "T7": ("A", d, "called", at(d, 23, 55), at(after, 0, 1), None, "A"),
    }
    for n in range(1, 11):
        plan[f"C{n}"] = ("C", d, "done", at(d, 14, 0), at(d, 14, n), at(d, 14, 20), "C")
    for taken, day, status, issued, called, finished, now_in in plan.values():
        ticket = await api.issue(taken)
        await conn.execute(MOVE, ticket["id"], day, status, issued, called, finished, now_in)

    boss = await api.login("boss")
    r = await api.get(f"/api/stats/hourly?day={d}", token=boss)
    assert r.status == 200, r.body
    got = r.body
    assert (got["day"], got["timezone"], got["opens_at"], got["closes_at"]) == (d.isoformat(), "Asia/Shanghai",
                                                                               "00:00", "23:59")  # fmt: skip
    hours = {h["hour"]: {k: v for k, v in h.items() if k != "hour"} for h in got["hours"]}
    assert sorted(hours) == list(range(24))
    want = {
        0: line(0, 1, 1, 0, 900, 900),  # T6: issued the day before, called and done on D
        8: line(3, 1, 1, 0, 600, 600),
        # waits 35, 20 and 15 min: mean 1400 s; the 90th percentile is a wait that happened, the longest
        9: line(2, 3, 2, 1, 1400, 2100),
        10: line(1, 1, 0, 0, 1800, 1800),
        # waits of 1 … 10 min: mean 330 s; the 90th percentile the 9th of 10, not the longest
        14: line(10, 10, 10, 0, 330, 540),
        23: line(1, 0, 0, 0, None, None),  # T7 is called the next day
    }
    assert hours == {h: want.get(h, EMPTY) for h in range(24)}

    # 16 waits: 1…10, 10, 15, 15, 20, 30, 35 min; mean 675 s; the 90th percentile the 15th (⌈0.9 × 16⌉)
    assert got["total"] == line(17, 16, 14, 1, 675, 1800) | {"waiting": 1}
    services = {s["code"]: s for s in got["services"]}
    assert [s["code"] for s in got["services"]] == ["A", "B", "C"]
    assert services["A"] == {"code": "A", "name": "企业开办"} | line(5, 4, 3, 1, 1200, 2100) | {"waiting": 0}
    assert services["B"] == {"code": "B", "name": "不动产登记"} | EMPTY | {"waiting": 0}
    assert services["C"] == {"code": "C", "name": "社保医保"} | line(12, 12, 11, 0, 500, 900) | {"waiting": 1}
    for field in ("issued", "called", "finished", "no_show", "waiting"):  # every column adds up
        assert sum(s[field] for s in got["services"]) == got["total"][field], field
    for field in ("issued", "called", "finished", "no_show"):
        assert sum(h[field] for h in got["hours"]) == got["total"][field], field

    # the days around it: T6's issue on the day before, T7's call on the day after
    r = await api.get(f"/api/stats/hourly?day={before}", token=boss)
    assert r.body["hours"][23] == {"hour": 23} | line(1, 0, 0, 0, None, None)
    assert r.body["total"] == line(1, 0, 0, 0, None, None) | {"waiting": 0}
    r = await api.get(f"/api/stats/hourly?day={after}", token=boss)
    assert r.body["hours"][0] == {"hour": 0} | line(0, 1, 0, 0, 360, 360)


async def test_today_by_default_for_supervisors_only(api: Api) -> None:
    boss = await api.login("boss")
    r = await api.get("/api/stats/hourly", token=boss)
    assert r.status == 200, r.body
    assert r.body["day"] == datetime.now(ZONE).date().isoformat() and len(r.body["hours"]) == 24
    assert r.body["total"] == EMPTY | {"waiting": 0}

    ticket = await api.issue("A")
    r = await api.get("/api/stats/hourly", token=boss)
    assert (r.body["total"]["issued"], r.body["total"]["waiting"]) == (1, 1), r.body
    hour = datetime.fromisoformat(ticket["issued_at"]).astimezone(ZONE).hour
    assert r.body["hours"][hour]["issued"] == 1

    assert (await api.get("/api/stats/hourly", token=await api.login("s1"))).status == 403
    assert (await api.get("/api/stats/hourly")).status == 401
    for bad in ("2026-13-01", "yesterday", "2026-02-30"):
        r = await api.get(f"/api/stats/hourly?day={bad}", token=boss)
        assert r.status == 400 and r.body["error"]["code"] == "invalid_input", r.body
        assert r.body["error"]["field"] == "day", r.body
