"""Integrity signals about ratings and window calls (docs/supervision.md), each on a
crafted day: raised at its line, not just below it, with its rows and sentence.

The day is built through the API (tickets, calls, finishes, suspensions, pad
ratings); ratings and finishes are then moved in time in the database, and
`signals.find` is asked directly. The lines are tests/hall.toml's `[signals]`:
top_fast_ratings 5 (share 0.9 within 5 s), pad_gap_seconds 180,
pad_late_ratings 1, suspensions_per_day 3, out_of_order_per_day 2, peer_factor
3 over at least 2 peers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from clearhall.server.domain import signals
from clearhall.server.domain.hall import load_hall
from clearhall.server.domain.signal_rows import LogRow, RatingRow, Signal
from tests.conftest import RATING, Api
from tests.helpers import valid_id

ZONE = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return datetime.now(ZONE).date()


async def found(conn: asyncpg.Connection, rule: str) -> list[Signal]:
    hall = await load_hall(conn, "main")
    assert hall is not None
    _, all_signals = await signals.find(conn, hall, today(), today())
    return [s for s in all_signals if s.rule == rule]


def ratings(signal: Signal) -> list[RatingRow]:
    assert all(isinstance(r, RatingRow) for r in signal.rows)
    return [r for r in signal.rows if isinstance(r, RatingRow)]


def seconds_after_finish(r: RatingRow) -> float:
    assert r.finished_at is not None
    return (r.rated_at - r.finished_at).total_seconds()


async def finished(api: Api, user: str, window: int, service: str = "A", **person: Any) -> dict[str, Any]:
    t = await api.issue(service, **person)
    await api.sign_in(user, window)
    called = await api.window(user, window, "call-next")
    assert called.body["ticket"]["id"] == t["id"], called.body
    assert (await api.window(user, window, "finish")).status == 200
    return t


async def pad_rating(api: Api, ticket: dict[str, Any], score: int = 5) -> None:
    r = await api.post("/api/ratings", {"ticket": ticket["id"], "score": score}, token=RATING)
    assert r.status == 201, r.body


async def test_ratings_always_top_and_seconds_after_the_finish(api: Api, conn: asyncpg.Connection) -> None:
    ts = []
    for _ in range(4):
        ts.append(await finished(api, "s1", 1))
        await pad_rating(api, ts[-1])
    assert await found(conn, "top_and_fast") == []  # 4 ratings: fewer than the line's 5
    ts.append(await finished(api, "s1", 1))
    await pad_rating(api, ts[-1])
    other = await finished(api, "s2", 2)  # the hall's share counts everyone's ratings
    r = await api.post("/api/ratings", {"ticket": other["id"], "key": other["key"], "score": 4})
    assert r.status == 201, r.body

    [signal] = await found(conn, "top_and_fast")
    assert signal.kind == "rating_pattern" and (signal.first, signal.last) == (today(), today())
    assert signal.about == {
        "kind": "window_and_staff",
        "window": 1,
        "staff": {"username": "s1", "name": "李娜"},
    }
    assert signal.figures == {"ratings": 5, "top_and_fast": 5, "share": 1.0, "hall_share": round(5 / 6, 4)}
    assert [r.ticket for r in ratings(signal)] == [t["number"] for t in ts]
    assert all(r.score == 5 and r.channel == "pad" and seconds_after_finish(r) <= 5 for r in ratings(signal))
    assert "5 条（100%）为“非常满意”且在办结后 5 秒内给出" in signal.why.zh
    assert "The hall's share is 83%" in signal.why.en and "the line is 90% of at least 5" in signal.why.en

    # One of the five given a minute after its finish: 80% is below the line.
    await conn.execute(
        "UPDATE ratings SET created_at = created_at + interval '60 seconds' WHERE ticket_id = $1", ts[0]["id"]
    )
    assert await found(conn, "top_and_fast") == []


async def test_pad_ratings_that_did_not_follow_their_visit(api: Api, conn: asyncpg.Connection) -> None:
    async def finish_earlier(t: dict[str, Any], seconds: int) -> None:
        await conn.execute(
            "UPDATE tickets SET finished_at = finished_at - make_interval(secs => $2) WHERE id = $1",
            t["id"], seconds,
        )  # fmt: skip

    near = await finished(api, "s1", 1)  # rated 170 s after its finish: just below the gap
    await finish_earlier(near, 170)
    await pad_rating(api, near)
    late = await finished(api, "s1", 1)  # rated 10 minutes after its finish
    await finish_earlier(late, 600)
    await pad_rating(api, late, 4)
    older = await finished(api, "s1", 1)
    later = await finished(api, "s1", 1)  # the next visit ended before the pad rated the older one
    await pad_rating(api, older)
    await pad_rating(api, later)  # its own rating, right after its finish

    [signal] = await found(conn, "pad_late")
    assert signal.about == {"kind": "window", "window": 1, "staff": [{"username": "s1", "name": "李娜"}]}
    assert [r.ticket for r in ratings(signal)] == [late["number"], older["number"]]
    rows = {r.ticket: r for r in ratings(signal)}
    assert rows[older["number"]].next_visit == later["number"]
    assert (
        seconds_after_finish(rows[late["number"]]) >= 600
        and seconds_after_finish(rows[older["number"]]) < 180
    )
    assert signal.figures == {"ratings": 2, "after_another_visit": 2}  # the late one came after `near` ended
    assert f"{today()} 有 2 条评价不是紧随所评之号的办结" in signal.why.zh
    assert "more than 180 s after it, or after another visit had ended there" in signal.why.en


async def test_suspensions_far_above_the_peers_of_the_day(api: Api, conn: asyncpg.Connection) -> None:
    async def suspend(user: str, window: int, service: str = "A", **person: Any) -> None:
        await api.issue(service, **person)
        await api.sign_in(user, window)
        assert (await api.window(user, window, "call-next")).status == 200
        r = await api.window(user, window, "suspend", {"reason": "缺材料", "missing": ["营业执照"]})
        assert r.status == 200, r.body

    await finished(api, "s2", 2, "C")  # two peers at work, neither suspending
    await finished(api, "s3", 3, "B", id_number=valid_id(201))
    for _ in range(2):
        await suspend("s1", 1)
    assert await found(conn, "suspensions") == []  # 2: below the line of 3
    await suspend("s1", 1)

    [signal] = await found(conn, "suspensions")
    assert signal.kind == "peer_outlier"
    assert signal.about == {"kind": "staff", "staff": {"username": "s1", "name": "李娜"}}
    assert signal.figures == {"suspensions": 3, "calls": 3, "peers": 2, "peer_median": 0}
    assert signal.thresholds == {"suspensions_per_day": 3, "peer_factor": 3.0, "peers": 2}
    assert all(isinstance(r, LogRow) and r.action == "suspend" and r.reason == "缺材料" for r in signal.rows)
    assert [r.window for r in signal.rows] == [1, 1, 1] and signal.rows_total == 3
    assert "李娜" in signal.why.zh and "挂起 3 次" in signal.why.zh and "中位数为 0" in signal.why.zh
    assert "the median of the 2 others who worked that day is 0" in signal.why.en

    # The peers suspend once each: 3 is no more than 3 × their median of 1.
    await suspend("s2", 2, "C")
    await suspend("s3", 3, "B", id_number=valid_id(202))
    assert await found(conn, "suspensions") == []


async def test_out_of_order_calls_far_above_the_peers(api: Api, conn: asyncpg.Connection) -> None:
    await finished(api, "s2", 2, "C")
    await finished(api, "s4", 4, "C")
    a1, a2, a3, a4 = [await api.issue("A") for _ in range(4)]
    await api.sign_in("s1", 1)

    async def call(ticket: dict[str, Any]) -> None:
        r = await api.window("s1", 1, "call", {"number": ticket["number"], "reason": "老人优先"})
        assert r.status == 200, r.body
        assert (await api.window("s1", 1, "finish")).status == 200

    await call(a2)  # out of order: the rule would call a1
    await call(a1)  # by number, but the rule's own choice: not out of order
    assert await found(conn, "out_of_order_calls") == []  # 1: below the line of 2
    await call(a4)  # the rule would call a3
    [signal] = await found(conn, "out_of_order_calls")
    assert signal.about == {"kind": "staff", "staff": {"username": "s1", "name": "李娜"}}
    assert signal.figures["out_of_order_calls"] == 2 and signal.figures["peer_median"] == 0
    assert [(r.ticket, r.rule_ticket, r.reason) for r in signal.rows if isinstance(r, LogRow)] == [
        (a2["number"], a1["number"], "老人优先"),
        (a4["number"], a3["number"], "老人优先"),
    ]
    assert "指呼（不按规则顺序叫号）2 次" in signal.why.zh
    assert "called 2 tickets out of order" in signal.why.en


async def test_nobody_to_compare_with_is_no_signal(api: Api, conn: asyncpg.Connection) -> None:
    """One peer at work is fewer than the line's 2: a day alone at the hall raises nothing."""
    await finished(api, "s2", 2, "C")
    for _ in range(4):
        await api.issue("A")
        await api.sign_in("s1", 1)
        await api.window("s1", 1, "call-next")
        await api.window("s1", 1, "suspend", {"reason": "缺材料"})
    assert await found(conn, "suspensions") == []
