"""Reports (CONTRACT §11; docs/supervision.md, "Reports"): for supervisors only, bad days,
months and formats in the contract's error shape, and a future period allowed but empty.
The figures themselves are test_reports.py's."""

from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl

from tests.conftest import DISPLAY, KIOSK, Api


async def download(api: Api, path: str, token: str) -> tuple[int, bytes]:
    async with api.session.get(api.base + path, headers={"Authorization": f"Bearer {token}"}) as r:
        return r.status, await r.read()


async def test_reports_are_for_supervisors(api: Api) -> None:
    for path in ("/api/reports/daily", "/api/reports/monthly"):
        assert (await api.get(path)).status == 401
        for token in (await api.login("s1"), DISPLAY, KIOSK):
            r = await api.get(f"{path}?format=xlsx", token=token)
            assert r.status == 403 and r.body["error"]["code"] == "forbidden"
        r = await api.get(path, token=await api.login("boss2"))
        assert r.status == 200 and r.body["report"]["to"] >= r.body["report"]["from"]


async def test_bad_days_months_and_formats_are_400(api: Api) -> None:
    boss = await api.login("boss")
    today = (await api.get("/api/reports/daily", token=boss)).body["report"]["from"]
    far = date.fromisoformat(today) + timedelta(days=400)
    for query, field in (("day=2026-13-01", "day"), ("day=20260301", "day"), ("day=2026-3-1", "day"),
                         ("day=%EF%BC%92026-03-01", "day"), ("day=1999-12-31", "day"), (f"day={far}", "day"),
                         ("day=2026-03-01&format=pdf", "format"), ("format=XLSX", "format")):  # fmt: skip
        r = await api.get(f"/api/reports/daily?{query}", token=boss)
        assert r.status == 400 and r.body["error"]["code"] == "invalid_input", (query, r.body)
        assert r.body["error"]["field"] == field and r.body["ok"] is False
    for query, field in (("month=2026-13", "month"), ("month=2026-00", "month"), ("month=202603", "month"),
                         ("month=2026-03-01", "month"), ("month=1999-12", "month"), (f"month={far:%Y-%m}", "month"),
                         ("month=2026-03&format=doc", "format")):  # fmt: skip
        r = await api.get(f"/api/reports/monthly?{query}", token=boss)
        assert r.status == 400 and r.body["error"]["field"] == field, (query, r.body)
    english = await api.get("/api/reports/daily?day=x", token=boss, headers={"Accept-Language": "en"})
    assert english.body["error"]["message"] == "day must be a date, YYYY-MM-DD"


async def test_a_future_day_is_empty(api: Api) -> None:
    boss = await api.login("boss")
    await api.issue("A")
    today = date.fromisoformat((await api.get("/api/reports/daily", token=boss)).body["report"]["from"])
    future = today + timedelta(days=30)
    report = (await api.get(f"/api/reports/daily?day={future}", token=boss)).body["report"]
    assert report["complete"] is False and report["total"]["issued"] == 0 and report["total"]["served"] == 0
    assert all(line["served"] == 0 and line["wait_avg_min"] is None for line in report["services"])
    assert report["total"]["good_rate"] is None
    status, raw = await download(api, f"/api/reports/monthly?month={future:%Y-%m}&format=xlsx", boss)
    assert status == 200 and openpyxl.load_workbook(io.BytesIO(raw)).sheetnames[0] == "汇总"
    assert (await api.get("/api/reports/daily", token=boss)).body["report"]["total"]["issued"] == 1
