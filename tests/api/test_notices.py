"""Integrity notices (清廉知识上屏): managed by supervisors, scheduled by dates, ordered."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.conftest import DISPLAY, Api


async def test_supervisors_manage_scheduled_ordered_notices(api: Api) -> None:
    boss = await api.login("boss")
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    made = []
    for title, starts, ends, position in [
        ("廉洁从政", None, None, 2),
        ("拒收红包", str(today - timedelta(days=1)), str(today + timedelta(days=1)), 1),
        ("明天才显示", str(today + timedelta(days=1)), None, 0),
        ("已过期", None, str(today - timedelta(days=1)), 0),
    ]:
        body = {"title": title, "body": f"{title}的内容", "position": position}
        body |= {k: v for k, v in (("starts_on", starts), ("ends_on", ends)) if v}
        r = await api.post("/api/notices", body, token=boss)
        assert r.status == 201, r.body
        made.append(r.body["notice"])
    shown = (await api.get("/api/queue")).body["notices"]
    assert [n["title"] for n in shown] == ["拒收红包", "廉洁从政"]
    everything = await api.get("/api/notices", token=boss)
    assert len(everything.body["notices"]) == 4

    edited = await api.request(
        "PUT",
        f"/api/notices/{made[0]['id']}",
        {"title": "廉洁从政", "body": "新内容", "position": 0},
        token=boss,
    )
    assert edited.status == 200 and edited.body["notice"]["body"] == "新内容"
    assert [n["title"] for n in (await api.get("/api/queue")).body["notices"]] == ["廉洁从政", "拒收红包"]
    assert (await api.request("DELETE", f"/api/notices/{made[1]['id']}", token=boss)).status == 200
    assert (await api.request("DELETE", f"/api/notices/{made[1]['id']}", token=boss)).status == 404
    assert [n["title"] for n in (await api.get("/api/queue")).body["notices"]] == ["廉洁从政"]


async def test_notice_rules(api: Api) -> None:
    boss = await api.login("boss")
    staff = await api.login("s1")
    assert (await api.post("/api/notices", {"title": "x", "body": "y"}, token=staff)).status == 403
    assert (await api.get("/api/notices", token=DISPLAY)).status == 403
    backwards = await api.post(
        "/api/notices",
        {"title": "x", "body": "y", "starts_on": "2026-05-02", "ends_on": "2026-05-01"},
        token=boss,
    )
    assert backwards.status == 400 and backwards.body["error"]["field"] == "ends_on"
    bad_date = await api.post(
        "/api/notices", {"title": "x", "body": "y", "starts_on": "2026-02-30"}, token=boss
    )
    assert bad_date.status == 400 and bad_date.body["error"]["field"] == "starts_on"


async def test_screens_hear_about_notice_changes(api: Api) -> None:
    ws = await api.session.ws_connect(api.base + f"/ws?token={DISPLAY}")
    assert json.loads((await ws.receive(timeout=3)).data)["type"] == "snapshot"
    await api.post(
        "/api/notices", {"title": "清正廉洁", "body": "全心全意为人民服务"}, token=await api.login("boss")
    )
    seen = []
    while "queue.changed" not in seen:
        data = json.loads((await ws.receive(timeout=3)).data)
        seen.append(data.get("event"))
        if data.get("event") == "queue.changed":
            assert data["notices"][0]["title"] == "清正廉洁"
    assert seen[0] == "notice.changed"
    await ws.close()
