"""Wait estimates and services nobody serves now (issue 9, items 9 and 5).

The estimate: the hall file's typical time until there is history, then the
median of recent handling times with a floor; only staffed windows; "—" (null)
only while no staffed window serves the service. `served_now` on services, and
the warning on a ticket issued for a service nobody serves now.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from clearhall.server.domain import action_log as audit
from clearhall.server.domain.hall import load_hall
from clearhall.server.domain.issuing import Order, issue
from clearhall.server.store import db
from tests.conftest import Api


async def handled(api: Api, conn: asyncpg.Connection, *seconds: int) -> None:
    """History for service C at window 4 (s4 signed in, nothing of C waiting): one
    finished ticket per figure, each handled that many seconds from call to finish."""
    for s in seconds:
        t = await api.issue("C")
        called = await api.window("s4", 4, "call-next")
        assert called.body["ticket"]["number"] == t["number"], called.body
        await api.window("s4", 4, "finish")
        await conn.execute(
            "UPDATE tickets SET called_at = finished_at - make_interval(secs => $2) WHERE id = $1", t["id"], s
        )


async def wait_of(api: Api, t: dict[str, Any]) -> int | None:
    r = await api.get(f"/api/tickets/{t['id']}?key={t['key']}")
    wait: int | None = r.body["ticket"]["estimated_wait_s"]
    return wait


async def test_no_estimate_only_while_no_staffed_window_serves_the_service(api: Api) -> None:
    """Issue 9, item 9: "—" (null) only when nobody could call the ticket."""
    await api.issue("C")
    second = await api.issue("C")
    assert second["ahead"] == 1 and second["estimated_wait_s"] is None  # windows 2 and 4 are empty
    await api.sign_in("s4", 4)
    # No history yet: C's typical time, a third of its 30-minute limit = 600 s, × 1 ahead ÷ 1 window.
    assert await wait_of(api, second) == 600
    # A paused window is staffed (a break ends): still a figure, not "—".
    await api.window("s4", 4, "pause", {"reason": "接电话"})
    assert await wait_of(api, second) == 600
    queue = await api.get("/api/queue")
    c = next(s for s in queue.body["services"] if s["code"] == "C")
    assert c["waiting"] == 2 and c["estimated_wait_s"] == 1200 and c["served_now"] is False
    await api.window("s4", 4, "sign-out")
    assert await wait_of(api, second) is None


async def test_the_typical_time_from_the_hall_file_until_there_is_history(
    api: Api, conn: asyncpg.Connection
) -> None:
    await conn.execute("UPDATE services SET typical_minutes = 4 WHERE code = 'C'")  # as the hall file sets it
    await api.sign_in("s4", 4)
    await handled(api, conn, 30, 30, 30)  # three quick finishes are not yet history
    await api.issue("C")
    second = await api.issue("C")
    assert second["estimated_wait_s"] == 240  # 1 ahead × 4 minutes
    queue = await api.get("/api/queue")
    assert next(s for s in queue.body["services"] if s["code"] == "C")["estimated_wait_s"] == 480


async def test_the_median_of_recent_handling_times_is_not_swung_by_quick_finishes(
    api: Api, conn: asyncpg.Connection
) -> None:
    """Issue 9, item 9: three quick finishes moved 约 23 分钟 to 约 1–2 分钟."""
    await api.sign_in("s4", 4)
    await handled(api, conn, *[300] * 10)
    first = await api.issue("C")
    second = await api.issue("C")
    assert (first["estimated_wait_s"], second["estimated_wait_s"]) == (0, 300)
    await api.window("s4", 4, "call-next")  # first and second are served quickly, with a third
    await api.window("s4", 4, "finish")
    await api.window("s4", 4, "call-next")
    await api.window("s4", 4, "finish")
    await handled(api, conn, 15)
    await conn.execute("UPDATE tickets SET called_at = finished_at - interval '15 seconds' WHERE id = ANY($1)",
                       [first["id"], second["id"]])  # fmt: skip
    await api.issue("C")
    after = await api.issue("C")
    assert after["estimated_wait_s"] == 300  # the median of 10 × 300 s and 3 × 15 s


# -- n finished tickets of C, each handled `secs` seconds, finished an hour ago
OLDER_HISTORY = """
INSERT INTO tickets (id, hall_id, service_id, first_service_id, day, seq, number, category, priority,
                     status, order_at, key_hash, called_at, finished_at)
SELECT 'older-' || g, hall_id, id, id, (now() AT TIME ZONE 'Asia/Shanghai')::date, 900 + g, 'C' || 900 + g,
       'normal', false, 'done', now() - interval '2 hours', '\\x00'::bytea,
       now() - interval '1 hour' - make_interval(secs => $2), now() - interval '1 hour'
FROM services, generate_series(1, $1) g WHERE code = 'C'
"""


async def test_handling_times_have_a_floor_and_a_window(api: Api, conn: asyncpg.Connection) -> None:
    await api.sign_in("s4", 4)
    await handled(api, conn, *[10] * 6)  # history, but nobody is served in 10 seconds
    await api.issue("C")
    second = await api.issue("C")
    assert second["estimated_wait_s"] == 60  # the floor: one minute
    # History older than two hours is not recent: back to the typical time.
    await conn.execute(
        "UPDATE tickets SET finished_at = finished_at - interval '3 hours',"
        " called_at = called_at - interval '3 hours' WHERE status = 'done'"
    )
    assert await wait_of(api, second) == 600
    # Only the newest 20 count: 20 of 200 s decide, not the 21 of 1000 s finished before them.
    await conn.execute(OLDER_HISTORY, 21, 1000)
    assert await wait_of(api, second) == 1000
    await conn.execute("UPDATE tickets SET status = 'suspended' WHERE status = 'waiting'")  # out of the way
    await handled(api, conn, *[200] * 20)
    assert await wait_of(api, await api.issue("C")) == 0
    assert await wait_of(api, await api.issue("C")) == 200


async def test_only_staffed_unpaused_windows_share_the_wait(api: Api) -> None:
    await api.issue("C")
    second = await api.issue("C")
    await api.sign_in("s4", 4)
    await api.sign_in("s2", 2)  # window 2 serves A and C
    assert await wait_of(api, second) == 300  # 600 s ÷ 2 windows
    await api.window("s2", 2, "pause", {"reason": "午休"})
    assert await wait_of(api, second) == 600
    await api.window("s2", 2, "resume")
    await api.window("s2", 2, "sign-out")
    assert await wait_of(api, second) == 600


async def test_services_say_whether_a_window_serves_them_now(api: Api) -> None:
    """Issue 9, item 5: served_now on GET /api/services (and /api/queue's services)."""

    async def served() -> dict[str, bool]:
        r = await api.get("/api/services")
        assert r.status == 200
        return {s["code"]: s["served_now"] for s in r.body["services"]}

    assert await served() == {"A": False, "B": False, "C": False}
    await api.sign_in("s1", 1)  # window 1: A
    assert await served() == {"A": True, "B": False, "C": False}
    await api.sign_in("s2", 2)  # window 2: A, C
    assert await served() == {"A": True, "B": False, "C": True}
    await api.window("s2", 2, "pause", {"reason": "午休"})
    assert await served() == {"A": True, "B": False, "C": False}
    queue = await api.get("/api/queue")
    assert {s["code"]: s["served_now"] for s in queue.body["services"]} == {"A": True, "B": False, "C": False}


async def test_issuing_for_a_service_nobody_serves_warns_by_default(conn: asyncpg.Connection) -> None:
    hall = await load_hall(conn, "main")
    assert hall is not None and hall.unstaffed_services == "warn"
    secret = await db.installation_secret(conn)
    actor = audit.Actor("system", None, "test")
    issued = await issue(conn, hall, secret, actor, Order("A"), "http://test")
    assert issued.unstaffed is True and issued.ticket.status == "waiting"
    await conn.execute(
        "UPDATE windows SET staff_id = (SELECT id FROM staff WHERE username = 's1') WHERE number = 1"
    )
    assert (await issue(conn, hall, secret, actor, Order("A"), "http://test")).unstaffed is False


async def test_the_issue_answer_carries_unstaffed(api: Api) -> None:
    t = await api.issue("A")
    assert t["unstaffed"] is True
    await api.sign_in("s1", 1)
    assert "unstaffed" not in await api.issue("A")


async def test_the_issue_answer_places_the_ticket_as_reading_it_does(
    api: Api, conn: asyncpg.Connection
) -> None:
    """The 201's ahead and wait come from the issue's own statement (issuing_sql.ISSUE);
    reading the ticket straight after (tickets.place_in_line) says the same, with and
    without history, green channel and normal."""
    await api.sign_in("s4", 4)
    await handled(api, conn, 200, 300, 400, 500, 600)
    for category in ("normal", "elderly", "normal", "military", "normal"):
        t = await api.issue("C", category)
        r = await api.get(f"/api/tickets/{t['id']}?key={t['key']}")
        read = r.body["ticket"]
        assert (t["ahead"], t["estimated_wait_s"]) == (read["ahead"], read["estimated_wait_s"]), (t, read)
    # the last, normal: the two green-channel tickets and the two normal ones before it
    assert t["ahead"] == 4 and t["estimated_wait_s"] == 1600  # × the 400 s median ÷ 1 window
