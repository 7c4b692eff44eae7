"""Window calls (CONTRACT §5): attendance, the calling order, every transition,
out-of-order calls with reasons, Idempotency-Key, and the action log."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import cast

import asyncpg
import pytest

from tests.conftest import DISPLAY, KIOSK, Api
from tests.helpers import connect, next_event, numbers_called, valid_id


async def called_seconds_ago(conn: asyncpg.Connection, seconds: int) -> None:
    """Move every called ticket's call this far into the past."""
    await conn.execute(
        "UPDATE tickets SET called_at = now() - make_interval(secs => $1) WHERE status = 'called'", seconds
    )


async def test_sign_in_rules(api: Api, conn: asyncpg.Connection) -> None:
    await api.sign_in("s1", 1)
    assert (await api.window("s1", 1, "sign-in")).status == 200  # again: harmless
    taken = await api.window("s2", 1, "sign-in")
    assert taken.status == 409 and taken.body["error"]["code"] == "conflict"
    not_mine = await api.window("s3", 1, "sign-in")
    assert not_mine.status == 403
    # Signing in at another window signs the person out of the first.
    moved = await api.window("s1", 2, "sign-in")
    assert moved.status == 200 and moved.body["window"]["staff"]["name"] == "李娜"
    queue = await api.get("/api/queue")
    states = {w["number"]: w["status"] for w in queue.body["windows"]}
    assert states[1] == "closed" and states[2] == "open"
    rows = await conn.fetch("SELECT window_id, signed_out_at FROM attendance ORDER BY id")
    assert len(rows) == 2 and rows[0]["signed_out_at"] is not None and rows[1]["signed_out_at"] is None
    out = await api.window("s1", 2, "sign-out")
    assert out.status == 200 and out.body["window"]["status"] == "closed"
    assert await conn.fetchval("SELECT count(*) FROM attendance WHERE signed_out_at IS NULL") == 0


async def test_window_calls_need_the_person_signed_in_there(api: Api) -> None:
    await api.issue("A")
    r = await api.window("s1", 1, "call-next")
    assert r.status == 403  # s1 may work at 1 but has not signed in
    await api.sign_in("s1", 1)
    assert (await api.window("s2", 1, "call-next")).status == 403
    r = await api.post("/api/windows/1/call-next", token=KIOSK)
    assert r.status == 403 and r.body["error"]["code"] == "forbidden"
    # A supervisor may act at any window.
    r = await api.window("boss", 1, "call-next")
    assert r.status == 200 and r.body["ticket"]["number"] == "A001"
    assert (await api.window("s1", 99, "call-next")).status == 404


async def test_call_next_order_green_first_then_issue_time(api: Api) -> None:
    for category in ("normal", "normal", "elderly", "normal", "military"):
        await api.issue("A", category)
    await api.sign_in("s1", 1)
    assert await numbers_called(api, "s1", 1, 6) == ["A003", "A005", "A001", "A002", "A004", None]


async def test_green_run_yields_to_a_waiting_normal_ticket(api: Api, conn: asyncpg.Connection) -> None:
    await api.issue("A")  # A001 normal
    for _ in range(5):
        await api.issue("A", "disabled")  # A002..A006 green
    await api.sign_in("s1", 1)
    # max_consecutive_priority = 3: three green, then the normal one, then green again.
    assert await numbers_called(api, "s1", 1, 6) == ["A002", "A003", "A004", "A001", "A005", "A006"]


async def test_green_run_is_per_window_and_out_of_order_calls_do_not_count(api: Api) -> None:
    await api.issue("A")  # A001
    await api.issue("A")  # A002
    for _ in range(4):
        await api.issue("A", "elderly")  # A003..A006
    await api.sign_in("s1", 1)
    await api.sign_in("s2", 2)
    assert await numbers_called(api, "s1", 1, 2) == ["A003", "A004"]
    # Window 2's run is its own.
    assert await numbers_called(api, "s2", 2, 1) == ["A005"]
    r = await api.window("s1", 1, "call", {"number": "A002", "reason": "办理预约业务"})
    assert r.status == 200 and r.body["ticket"]["number"] == "A002"
    await api.window("s1", 1, "finish")
    # s1 has called 2 green by call-next; the out-of-order call did not end or extend the run.
    assert await numbers_called(api, "s1", 1, 2) == ["A006", "A001"]


async def test_one_current_ticket_per_window(api: Api) -> None:
    await api.issue("A")
    await api.issue("A")
    await api.sign_in("s1", 1)
    assert (await api.window("s1", 1, "call-next")).status == 200
    again = await api.window("s1", 1, "call-next")
    assert again.status == 409 and again.body["error"]["code"] == "conflict"


async def test_every_transition(api: Api, conn: asyncpg.Connection) -> None:
    t1 = await api.issue("A")
    await api.issue("A")
    await api.sign_in("s1", 1)
    called = await api.window("s1", 1, "call-next")
    assert called.body["ticket"]["status"] == "called" and called.body["ticket"]["window"] == 1
    assert called.body["window"]["current"] == {"number": "A001"}
    recall = await api.window("s1", 1, "recall")
    assert recall.status == 200 and recall.body["ticket"]["number"] == "A001"
    started = await api.window("s1", 1, "start")
    assert started.body["ticket"]["status"] == "serving"
    assert (await api.window("s1", 1, "no-show")).status == 409  # not from serving
    assert (await api.window("s1", 1, "recall")).status == 409
    done = await api.window("s1", 1, "finish")
    assert done.body["ticket"]["status"] == "done" and done.body["window"]["current"] is None
    assert (await api.window("s1", 1, "finish")).status == 409  # nothing current
    mine = await api.get(f"/api/tickets/{t1['id']}?key={t1['key']}")
    assert mine.body["ticket"]["status"] == "done" and mine.body["ticket"]["window"] == 1

    await api.window("s1", 1, "call-next")
    await called_seconds_ago(conn, 61)  # past policy.no_show_after_s (60)
    gone = await api.window("s1", 1, "no-show")
    assert gone.body["ticket"]["status"] == "no_show"
    actions = [r["action"] for r in await conn.fetch("SELECT action FROM action_log ORDER BY id")]
    assert actions[-6:] == ["call_next", "recall", "start", "finish", "call_next", "no_show"]


async def test_transfer_keeps_the_place_in_line(api: Api) -> None:
    early = await api.issue("A")  # A001, issued first
    await api.issue("C")  # C001
    await api.issue("C")  # C002
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    moved = await api.window("s1", 1, "transfer", {"service": "C"})
    assert moved.status == 200 and moved.body["ticket"]["status"] == "waiting"
    assert moved.body["ticket"]["service"] == "C" and moved.body["ticket"]["number"] == "A001"
    await api.sign_in("s4", 4)
    # A001 was issued before C001 and C002, so it is called first in C.
    assert await numbers_called(api, "s4", 4, 3) == ["A001", "C001", "C002"]
    await api.issue("C")
    await api.window("s4", 4, "call-next")
    bad = await api.window("s4", 4, "transfer", {"service": "Z"})
    assert bad.status == 400 and bad.body["error"]["field"] == "service"
    mine = await api.get(f"/api/tickets/{early['id']}?key={early['key']}")
    assert mine.body["ticket"]["status"] == "done" and mine.body["ticket"]["service"] == "C"


async def test_transfer_into_a_service_the_id_already_queues_for_is_refused(api: Api) -> None:
    """One unfinished ticket per ID number and service (CONTRACT §4) holds for transfers too:
    409 with a sentence, not the unique index's 500."""
    person = valid_id(7)
    await api.issue("A", id_number=person)
    await api.issue("C", id_number=person)
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    r = await api.window("s1", 1, "transfer", {"service": "C", "reason": "走错窗口"})
    assert r.status == 409 and r.body["error"]["code"] == "limit_exceeded", r.body
    assert "C" in r.body["error"]["message"]
    # Nothing moved: the ticket is still at the window, and can go elsewhere.
    state = await api.window("s1", 1, "start")
    assert state.status == 200 and state.body["ticket"]["service"] == "A"
    other = await api.window("s1", 1, "transfer", {"service": "B", "reason": "换业务"})
    assert other.status == 200 and other.body["ticket"]["service"] == "B"
    log = await api.get("/api/audit-log?action=transfer", token=await api.login("boss"))
    assert [e["reason"] for e in log.body["entries"]] == ["换业务"]


async def test_suspend_and_requeue_keep_place_and_flag_tell_once(api: Api, conn: asyncpg.Connection) -> None:
    await api.issue("A")  # A001
    await api.issue("A")  # A002
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    r = await api.window("s1", 1, "suspend", {"reason": "缺少材料", "missing": ["营业执照"]})
    assert r.status == 200 and r.body["ticket"]["status"] == "suspended"
    assert r.body["ticket"]["missing"] == ["营业执照"]
    no_reason = await api.window("s1", 1, "suspend", {"missing": []})
    assert no_reason.status == 400 and no_reason.body["error"]["field"] == "reason"
    waiting = await api.get("/api/windows/1/waiting", token=await api.login("s1"))
    assert [t["number"] for t in waiting.body["suspended"]] == ["A001"]
    back = await api.window("s1", 1, "requeue", {"number": "A001"})
    assert back.status == 200 and back.body["ticket"]["status"] == "waiting"
    assert await numbers_called(api, "s1", 1, 1) == ["A001"]  # its old place: before A002
    not_suspended = await api.window("s1", 1, "requeue", {"number": "A002"})
    assert not_suspended.status == 409
    details = await conn.fetch("SELECT details FROM action_log WHERE action = 'suspend' ORDER BY id")
    assert details[0]["details"]["missing"] == ["营业执照"]


async def test_second_suspension_with_new_items_breaks_tell_once(api: Api, conn: asyncpg.Connection) -> None:
    await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "suspend", {"reason": "缺少材料", "missing": ["营业执照"]})
    await api.window("s1", 1, "requeue", {"number": "A001"})
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "suspend", {"reason": "还缺", "missing": ["营业执照", "公章"]})
    rows = await conn.fetch("SELECT details FROM action_log WHERE action = 'suspend' ORDER BY id")
    assert "tell_once_broken" not in rows[0]["details"]
    assert rows[1]["details"]["tell_once_broken"] == ["公章"]


async def test_out_of_order_call_needs_a_reason_and_logs_the_rules_choice(
    api: Api, conn: asyncpg.Connection
) -> None:
    await api.issue("A")  # A001
    await api.issue("A")  # A002
    await api.sign_in("s1", 1)
    no_reason = await api.window("s1", 1, "call", {"number": "A002"})
    assert no_reason.status == 400 and no_reason.body["error"]["field"] == "reason"
    blank = await api.window("s1", 1, "call", {"number": "A002", "reason": "   "})
    assert blank.status == 400
    r = await api.window("s1", 1, "call", {"number": "A002", "reason": "预约号"})
    assert r.status == 200 and r.body["ticket"]["number"] == "A002"
    row = cast(asyncpg.Record, await conn.fetchrow("SELECT * FROM action_log WHERE action = 'call'"))
    assert row["reason"] == "预约号" and row["ticket_number"] == "A002"
    assert row["rule_ticket_number"] == "A001" and row["actor_name"] == "李娜"
    assert row["window_number"] == 1
    await api.window("s1", 1, "finish")
    missing = await api.window("s1", 1, "call", {"number": "A099", "reason": "x"})
    assert missing.status == 404
    other = await api.issue("C")
    wrong_service = await api.window("s1", 1, "call", {"number": other["number"], "reason": "x"})
    assert wrong_service.status == 400


async def test_pause_and_resume(api: Api) -> None:
    await api.issue("A")
    await api.sign_in("s1", 1)
    assert (await api.window("s1", 1, "pause", {})).status == 400
    paused = await api.window("s1", 1, "pause", {"reason": "午休"})
    assert paused.body["window"]["status"] == "paused"
    assert (await api.window("s1", 1, "call-next")).status == 409
    resumed = await api.window("s1", 1, "resume")
    assert resumed.body["window"]["status"] == "open"
    assert (await api.window("s1", 1, "call-next")).body["ticket"]["number"] == "A001"


async def test_idempotency_key_replays_the_first_answer(api: Api, conn: asyncpg.Connection) -> None:
    await api.issue("A")
    await api.issue("A")
    await api.sign_in("s1", 1)
    key = {"Idempotency-Key": "call-7f3a"}
    first, second = await asyncio.gather(
        api.window("s1", 1, "call-next", headers=key), api.window("s1", 1, "call-next", headers=key)
    )
    assert first.status == second.status == 200
    assert first.body == second.body and first.body["ticket"]["number"] == "A001"
    third = await api.window("s1", 1, "call-next", headers=key)
    assert third.body == first.body
    assert await conn.fetchval("SELECT count(*) FROM action_log WHERE action = 'call_next'") == 1
    # Another credential with the same key acts on its own.
    await api.window("s1", 1, "finish")
    boss = await api.window("boss", 1, "call-next", headers=key)
    assert boss.body["ticket"]["number"] == "A002"
    # After 24 hours the key is forgotten.
    await api.window("boss", 1, "finish")
    await conn.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
    await api.issue("A")
    later = await api.window("s1", 1, "call-next", headers=key)
    assert later.body["ticket"]["number"] == "A003"


async def test_failed_call_is_not_remembered_by_its_key(api: Api) -> None:
    await api.sign_in("s1", 1)
    await api.issue("A")
    await api.window("s1", 1, "pause", {"reason": "会议"})
    key = {"Idempotency-Key": "k1"}
    assert (await api.window("s1", 1, "call-next", headers=key)).status == 409
    await api.window("s1", 1, "resume")
    r = await api.window("s1", 1, "call-next", headers=key)
    assert r.status == 200 and r.body["ticket"]["number"] == "A001"


async def test_action_log_is_append_only(api: Api, conn: asyncpg.Connection) -> None:
    await api.issue("A")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute("UPDATE action_log SET reason = 'changed'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute("DELETE FROM action_log")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute("TRUNCATE action_log")
    assert await conn.fetchval("SELECT count(*) FROM action_log WHERE action = 'issue'") == 1


async def test_policy_is_published_in_words(api: Api) -> None:
    r = await api.get("/api/policy")
    assert r.status == 200
    policy = r.body["policy"]
    assert policy["max_consecutive_priority"] == 3
    assert "绿色通道" in policy["text_zh"] and "3" in policy["text_zh"]
    assert "green channel" in policy["text_en"]


async def test_staff_sees_numbers_and_categories_only(api: Api) -> None:
    await api.issue("A", "elderly")
    r = await api.get("/api/windows/1/waiting", token=await api.login("s1"))
    assert r.status == 200
    assert r.body["tickets"] == [
        {"number": "A001", "service": "A", "category": "elderly", "green_channel": True,
         "issued_at": r.body["tickets"][0]["issued_at"]}
    ]  # fmt: skip


async def test_requeue_only_at_a_window_serving_the_tickets_service(api: Api) -> None:
    """Issue 8, finding 13: window 1 serves A only; a suspended C ticket is not its to requeue."""
    await api.issue("C")  # C001
    await api.sign_in("s4", 4)  # window 4 serves C
    await api.window("s4", 4, "call-next")
    await api.window("s4", 4, "suspend", {"reason": "缺材料", "missing": ["户口本"]})
    await api.sign_in("s1", 1)
    elsewhere = await api.window("s1", 1, "requeue", {"number": "C001"})
    assert elsewhere.status == 409 and elsewhere.body["error"]["code"] == "conflict", elsewhere.body
    here = await api.window("s4", 4, "requeue", {"number": "C001"})
    assert here.status == 200 and here.body["ticket"]["status"] == "waiting", here.body


# ---------------------------------------------------------------- issue 9: 过号, undo, 过号顺延, recent calls


async def test_no_show_waits_for_no_show_after_s_since_the_call(api: Api, conn: asyncpg.Connection) -> None:
    """Issue 9, item 2: a ticket marked missed one second after its call (CONTRACT §5)."""
    await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    early = await api.window("s1", 1, "no-show")
    assert early.status == 409 and early.body["error"]["code"] == "conflict", early.body
    left = early.body["error"]["seconds_left"]
    assert 55 <= left <= 60
    assert f"{left} 秒" in early.body["error"]["message"] and "重呼" in early.body["error"]["message"]
    english = await api.window("s1", 1, "no-show", headers={"Accept-Language": "en"})
    assert "recall" in english.body["error"]["message"]
    await called_seconds_ago(conn, 50)
    later = await api.window("s1", 1, "no-show")
    assert later.status == 409 and 9 <= later.body["error"]["seconds_left"] <= 10
    assert (await api.window("s1", 1, "recall")).status == 200  # the suggested recall works meanwhile
    await called_seconds_ago(conn, 60)
    gone = await api.window("s1", 1, "no-show")
    assert gone.status == 200 and gone.body["ticket"]["status"] == "no_show"
    assert await conn.fetchval("SELECT count(*) FROM action_log WHERE action = 'no_show'") == 1


async def test_a_recall_shows_a_number_once_in_recent_calls(api: Api) -> None:
    """Issue 9, item 11: one line per ticket in 最近叫号, at its latest call."""
    await api.issue("A")  # A001
    await api.issue("A")  # A002
    await api.sign_in("s1", 1)
    await api.sign_in("s2", 2)
    await api.window("s1", 1, "call-next")  # A001
    await api.window("s2", 2, "call-next")  # A002
    await api.window("s1", 1, "recall")
    await api.window("s1", 1, "recall")
    calls = (await api.get("/api/queue")).body["recent_calls"]
    assert [(c["number"], c["window"]) for c in calls] == [("A001", 1), ("A002", 2)], calls
    assert datetime.fromisoformat(calls[0]["at"]) >= datetime.fromisoformat(calls[1]["at"])
    async with await connect(api, f"token={DISPLAY}") as ws:
        snapshot = await next_event(ws, "snapshot")
        assert [c["number"] for c in snapshot["recent_calls"]] == ["A001", "A002"]
        await api.window("s2", 2, "recall")
        changed = await next_event(ws, "queue.changed")
        assert [c["number"] for c in changed["recent_calls"]] == ["A002", "A001"]


async def test_a_transfer_into_a_service_nobody_serves_now_says_so(api: Api) -> None:
    """Issue 9, item 5: allowed, but the answer carries "unstaffed": true."""
    await api.issue("A")
    await api.issue("A")
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    moved = await api.window("s1", 1, "transfer", {"service": "C", "reason": "走错"})  # nobody at 2 or 4
    assert moved.status == 200 and moved.body["unstaffed"] is True, moved.body
    await api.sign_in("s4", 4)  # window 4 serves C
    await api.window("s1", 1, "call-next")
    served = await api.window("s1", 1, "transfer", {"service": "C"})
    assert served.status == 200 and "unstaffed" not in served.body, served.body


async def test_the_waiting_list_carries_what_the_console_works_from(
    api: Api, conn: asyncpg.Connection
) -> None:
    """Issue 9, items 1 and 2: today's suspended tickets with what is missing, since when and
    where (for 回队); the current ticket with its call time and the seconds before 过号."""
    await api.issue("A")  # A001
    await api.issue("A", id_number=valid_id(9))  # A002
    await api.issue("A")  # A003
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call-next")
    await api.window("s1", 1, "suspend", {"reason": "缺材料", "missing": ["营业执照", "公章"]})
    s1 = await api.login("s1")
    idle = (await api.get("/api/windows/1/waiting", token=s1)).body
    assert idle["current"] is None and idle["no_show_in_s"] is None
    [held] = idle["suspended"]
    assert held["number"] == "A001" and held["missing"] == ["营业执照", "公章"] and held["window"] == 1
    assert held["reason"] == "缺材料" and "id" not in held
    logged = await conn.fetchval("SELECT at FROM action_log WHERE action = 'suspend'")
    assert datetime.fromisoformat(held["suspended_at"]) == logged.replace(microsecond=0)
    # Window 2 serves A too: its console offers A001 for 回队 as well, saying where it was suspended.
    assert [t["window"] for t in (await api.get("/api/windows/2/waiting", token=s1)).body["suspended"]] == [1]

    await api.window("s1", 1, "call-next")  # A002
    mine = (await api.get("/api/windows/1/waiting", token=s1)).body
    assert mine["current"]["number"] == "A002" and mine["current"]["status"] == "called"
    assert mine["current"]["called_at"] is not None and mine["current"]["id_masked"] is not None
    assert 55 <= mine["no_show_in_s"] <= 60  # policy.no_show_after_s = 60
    await called_seconds_ago(conn, 61)
    assert (await api.get("/api/windows/1/waiting", token=s1)).body["no_show_in_s"] == 0
    # Only the staff member who called it sees the masks.
    boss = (await api.get("/api/windows/1/waiting", token=await api.login("boss"))).body
    assert boss["current"]["number"] == "A002" and "id_masked" not in boss["current"]
    await api.window("s1", 1, "start")
    assert (await api.get("/api/windows/1/waiting", token=s1)).body["no_show_in_s"] is None

    # A ticket suspended yesterday cannot be put back today (requeue looks at today's), so it is not offered.
    await conn.execute("UPDATE tickets SET day = day - 1 WHERE number = 'A001'")
    assert (await api.get("/api/windows/1/waiting", token=s1)).body["suspended"] == []
