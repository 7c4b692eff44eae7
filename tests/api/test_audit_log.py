"""The action log, read by supervisors: every action, the reason, the rule's choice."""

from __future__ import annotations

from tests.conftest import DISPLAY, Api


async def test_supervisors_read_who_did_what_and_why(api: Api) -> None:
    await api.issue("A")  # A001
    await api.issue("A")  # A002
    await api.sign_in("s1", 1)
    await api.window("s1", 1, "call", {"number": "A002", "reason": "预约号"})
    await api.window("s1", 1, "finish")
    boss = await api.login("boss")
    r = await api.get("/api/audit-log", token=boss)
    assert r.status == 200
    actions = [e["action"] for e in r.body["entries"]]
    # Newest first; log-ins are logged too (the supervisor's own is the newest).
    assert actions == ["login", "finish", "call", "sign_in", "login", "issue", "issue"]
    call = r.body["entries"][2]
    assert call["actor_name"] == "李娜" and call["window"] == 1 and call["ticket_number"] == "A002"
    assert call["reason"] == "预约号" and call["rule_ticket_number"] == "A001"
    assert call["at"].endswith("+08:00")

    only_calls = await api.get("/api/audit-log?action=call", token=boss)
    assert [e["ticket_number"] for e in only_calls.body["entries"]] == ["A002"]
    page = await api.get("/api/audit-log?limit=2", token=boss)
    older = await api.get(f"/api/audit-log?limit=2&before={page.body['next_before']}", token=boss)
    ids = [e["id"] for e in page.body["entries"] + older.body["entries"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4


async def test_only_supervisors_read_the_log(api: Api) -> None:
    assert (await api.get("/api/audit-log", token=await api.login("s1"))).status == 403
    assert (await api.get("/api/audit-log", token=DISPLAY)).status == 403
    assert (await api.get("/api/audit-log")).status == 401
    bad = await api.get("/api/audit-log?limit=9999", token=await api.login("boss"))
    assert bad.status == 400 and bad.body["error"]["field"] == "limit"
    bad_date = await api.get("/api/audit-log?date=2026-13-01", token=await api.login("boss"))
    assert bad_date.status == 400 and bad_date.body["error"]["field"] == "date"
