"""Daily and monthly reports (CONTRACT §11; docs/supervision.md, "Reports") against a day
computed by hand, in JSON, CSV and xlsx.

The day D is today, hall time: transfers and suspensions are read from the action log,
whose times nobody can move. Everything is done through the API; then the tickets' times
are moved to these (minutes: wait = issue → last call, service = last call → finish):

  ticket  issued for  where, by whom                      issued called ended  wait service  rating
  A4      A → C       2 s2 transfers it; 4 s4 serves it    09:20  10:00  10:30   40   30     4 phone
  A1      A           1 s1                                 09:00  09:05  09:15    5   10     5 pad
  A2      A           1 s1                                 09:00  09:15  09:35   15   20     2 phone: callback, fix, close; satisfied
  A3      A           1 s1, no-show                        09:10  09:35  09:37   25    —
  C2      C           2 s1                                 09:40  09:42  09:50    2    8     1 phone: callback, explain, close; basically
  C1      C           4 s4 suspends it, requeue, serves    09:30  09:40  09:52   10   12     —
  C3      C           4 s4                                 10:00  10:06  10:09    6    3     default (3)
  A5      A           waiting
Cards are added by hand (`CARDS`); the card evaluator does not run here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import asyncpg
import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from clearhall.server import carding
from clearhall.server.app import create_app
from clearhall.server.domain import integrity, ratings
from tests.conftest import RATING, Api, app_client, settings_for
from tests.helpers import eventually

ZONE = ZoneInfo("Asia/Shanghai")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OPS = ("issued", "served", "no_shows", "transfers", "suspensions",
       "wait_avg_min", "wait_p90_min", "service_avg_min", "service_p90_min")  # fmt: skip
RATED = ("rated", "unrated", "excluded", "level_5", "level_4", "level_3", "level_2", "level_1",
         "default_rated", "by_person", "good_rate", "bad_rate", "unrated_rate", "active_good_rate",
         "bad", "fixed", "fix_rate", "satisfaction_answers", "satisfied", "satisfaction_rate")  # fmt: skip
N = None
NOBODY = (N, 0, 0, 0, 0, N, N, N, N)
UNRATED = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, N, N, N, N, 0, 0, N, 0, 0, N)
# -- the day by hand: (OPS), (RATED)
TOTAL = ((8, 6, 1, 1, 1, 14.7, 40.0, 13.8, 30.0),
         (5, 1, 0, 1, 1, 1, 1, 1, 1, 4, 0.4, 0.4, 0.1667, 0.5, 2, 1, 0.5, 2, 1, 0.5))  # fmt: skip
SERVICES = {
    "A": ((5, 2, 1, 1, 0, 15.0, 25.0, 15.0, 20.0),
          (2, 0, 0, 1, 0, 0, 1, 0, 0, 2, 0.5, 0.5, 0.0, 0.5, 1, 1, 1.0, 1, 1, 1.0)),
    "B": ((0, 0, 0, 0, 0, N, N, N, N), UNRATED),
    "C": ((3, 4, 0, 0, 1, 14.5, 40.0, 13.3, 30.0),
          (3, 1, 0, 0, 1, 1, 0, 1, 1, 2, 0.3333, 0.3333, 0.25, 0.5, 1, 0, 0.0, 1, 0, 0.0)),
}  # fmt: skip
WINDOW_4 = ((N, 3, 0, 0, 1, 18.7, 40.0, 15.0, 30.0),
            (2, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0.5, 0.0, 0.3333, 1.0, 0, 0, N, 0, 0, N))  # fmt: skip
WINDOWS = {
    1: ((N, 2, 1, 0, 0, 15.0, 25.0, 15.0, 20.0), SERVICES["A"][1]),
    2: ((N, 1, 0, 1, 0, 2.0, 2.0, 8.0, 8.0),
        (1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0.0, 1.0, 0.0, 0.0, 1, 0, 0.0, 1, 0, 0.0)),
    3: (NOBODY, UNRATED),
    4: WINDOW_4,
}  # fmt: skip
STAFF = {
    "s1": ((N, 3, 1, 0, 0, 11.8, 25.0, 12.7, 20.0),
           (3, 0, 0, 1, 0, 0, 1, 1, 0, 3, 0.3333, 0.6667, 0.0, 0.3333, 2, 1, 0.5, 2, 1, 0.5)),
    "s2": ((N, 0, 0, 1, 0, N, N, N, N), UNRATED),
    "s3": (NOBODY, UNRATED),
    "s4": WINDOW_4,
}  # fmt: skip
# -- cards by hand: (color, rule, staff, window, hour); the last one is the day before D
CARDS = (("yellow", "idle_window", "s1", 1, 9), ("yellow", "time_limit", "s4", 4, 10),
         ("red", "red", "s4", None, 11), ("yellow", "idle_window", "s1", 1, -8))  # fmt: skip
# -- and so (yellow, red): in total, per window, per person (nobody else has one)
CARDS_BY_HAND = {("total", ""): [2, 1], ("window", 1): [1, 0], ("window", 4): [1, 0],
                 ("staff", "s1"): [1, 0], ("staff", "s4"): [1, 1]}  # fmt: skip


@pytest.fixture
async def api(db_url: str) -> AsyncIterator[Api]:
    """The real app with no card evaluator: the day's cards are the test's own."""
    app = create_app(settings_for(db_url))
    app[carding.EVERY] = 0
    async with app_client(app) as (_, client):
        yield client


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(), ZONE) + timedelta(hours=hh, minutes=mm)


@dataclass
class Day:
    day: date
    hall: int
    tickets: dict[str, dict[str, Any]]


async def ok(reply: Any) -> Any:
    assert reply.status in (200, 201), reply.body
    return reply.body


async def call_next(api: Api, user: str, window: int, expected: dict[str, Any]) -> None:
    body = await ok(await api.window(user, window, "call-next"))
    assert body["ticket"]["id"] == expected["id"], body


async def rate(api: Api, t: dict[str, Any], score: int, **extra: Any) -> int | None:
    body = {"ticket": t["id"], "score": score, "key": t["key"], **extra}
    rating = (await ok(await api.post("/api/ratings", body)))["rating"]
    return (rating["case"] or {}).get("id")


async def handle(api: Api, t: dict[str, Any], case: int | None, kinds: tuple[str, ...], verdict: str) -> None:
    boss = await api.login("boss")
    for kind in kinds:
        step = {"kind": kind} | ({} if kind == "close" else {"text": "已处理"})
        await ok(await api.post(f"/api/follow-ups/{case}/steps", step, token=boss))
    await ok(await api.post(f"/api/follow-ups/{case}/satisfaction", {"key": t["key"], "result": verdict}))


async def build_day(api: Api, conn: asyncpg.Connection) -> Day:
    day = await conn.fetchval("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date")
    hall = await conn.fetchval("SELECT id FROM halls")
    t: dict[str, dict[str, Any]] = {}
    # A4: issued for A, transferred to C at window 2 by s2, served at window 4 by s4
    await api.sign_in("s2", 2)
    t["A4"] = await api.issue("A")
    await call_next(api, "s2", 2, t["A4"])
    await ok(await api.window("s2", 2, "transfer", {"service": "C", "reason": "应办社保"}))
    await ok(await api.window("s2", 2, "sign-out"))
    await api.sign_in("s4", 4)
    await call_next(api, "s4", 4, t["A4"])
    await ok(await api.window("s4", 4, "finish"))
    # A1, A2 served and A3 missed at window 1 by s1
    await api.sign_in("s1", 1)
    for name in ("A1", "A2", "A3"):
        t[name] = await api.issue("A")
        await call_next(api, "s1", 1, t[name])
        if name == "A3":  # 过号 waits no_show_after_s after the call
            await conn.execute("UPDATE tickets SET called_at = now() - interval '2 min' WHERE id = $1", t[name]["id"])  # fmt: skip
            await ok(await api.window("s1", 1, "no-show"))
        else:
            await ok(await api.window("s1", 1, "finish"))
    # C2 at window 2 by s1 (signing in there signs s1 out of window 1)
    await api.sign_in("s1", 2)
    t["C2"] = await api.issue("C")
    await call_next(api, "s1", 2, t["C2"])
    await ok(await api.window("s1", 2, "finish"))
    # C1 suspended at window 4, back in line, served; then C3
    t["C1"] = await api.issue("C")
    await call_next(api, "s4", 4, t["C1"])
    await ok(await api.window("s4", 4, "suspend", {"reason": "缺材料", "missing": ["身份证复印件"]}))
    await ok(await api.window("s4", 4, "requeue", {"number": t["C1"]["number"]}))
    await call_next(api, "s4", 4, t["C1"])
    await ok(await api.window("s4", 4, "finish"))
    t["C3"] = await api.issue("C")
    await call_next(api, "s4", 4, t["C3"])
    await ok(await api.window("s4", 4, "finish"))
    t["A5"] = await api.issue("A")

    # 好差评
    await ok(await api.post("/api/ratings", {"ticket": t["A1"]["id"], "score": 5}, token=RATING))
    await rate(api, t["A4"], 4)
    await handle(api, t["A2"], await rate(api, t["A2"], 2, reasons=["态度冷漠"]), ("callback", "fix", "close"),
                 "satisfied")  # fmt: skip
    await handle(api, t["C2"], await rate(api, t["C2"], 1, comment="等太久"), ("callback", "explain", "close"),
                 "basically")  # fmt: skip
    # C3 alone is old enough for its default rating, then comes back to D with the rest
    await conn.execute("UPDATE tickets SET finished_at = now() - interval '3 days' WHERE id = $1", t["C3"]["id"])  # fmt: skip
    await conn.execute("UPDATE halls SET default_after_days = 1")
    assert await ratings.give_defaults(conn, hall) == 1
    await conn.execute("UPDATE halls SET default_after_days = 0")

    times = {"A4": (9, 20, 10, 0, 10, 30), "A1": (9, 0, 9, 5, 9, 15), "A2": (9, 0, 9, 15, 9, 35),
             "A3": (9, 10, 9, 35, 9, 37), "C2": (9, 40, 9, 42, 9, 50), "C1": (9, 30, 9, 40, 9, 52),
             "C3": (10, 0, 10, 6, 10, 9)}  # fmt: skip
    for name, (ih, im, ch, cm, fh, fm) in times.items():
        await conn.execute(
            "UPDATE tickets SET issued_at = $2, called_at = $3, finished_at = $4 WHERE id = $1",
            t[name]["id"], at(day, ih, im), at(day, ch, cm), at(day, fh, fm),
        )  # fmt: skip
    for color, rule, user, window, hour in CARDS:
        await conn.execute(
            """INSERT INTO cards (hall_id, color, rule, subject, staff_id, window_id, at, evidence)
               VALUES ($1, $2, $3, $4, (SELECT id FROM staff WHERE username = $5),
                       (SELECT id FROM windows WHERE number = $6), $7, '{}'::jsonb)""",
            hall, color, rule, f"test:{rule}:{hour}", user, window, at(day, hour),
        )  # fmt: skip
    return Day(day, hall, t)


def expected(ops: tuple[Any, ...], rated: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(OPS, ops, strict=True)) | dict(zip(RATED, rated, strict=True))


def without_cards(line: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in line.items() if k not in ("yellow_cards", "red_cards")}


async def sealed(conn: asyncpg.Connection, hall: int) -> None:
    """Every action chained (the app's own sealer may be at it too)."""

    async def done() -> bool:
        await integrity.seal(conn, hall)
        return not await conn.fetchval(
            "SELECT count(*) FROM action_log a WHERE NOT EXISTS (SELECT 1 FROM action_log_chain c WHERE c.entry_id = a.id)"
        )

    await eventually(done)


async def download(api: Api, path: str, token: str) -> tuple[int, bytes, Any]:
    async with api.session.get(api.base + path, headers={"Authorization": f"Bearer {token}"}) as r:
        return r.status, await r.read(), r.headers


async def daily_json(api: Api, day: date) -> dict[str, Any]:
    r = await api.get(f"/api/reports/daily?day={day}", token=await api.login("boss"))
    assert r.status == 200, r.body
    return dict(r.body["report"])


async def test_the_daily_report_is_the_day_computed_by_hand(api: Api, conn: asyncpg.Connection) -> None:
    d = await build_day(api, conn)
    report = await daily_json(api, d.day)
    assert (report["kind"], report["from"], report["to"]) == ("daily", d.day.isoformat(), d.day.isoformat())
    assert report["hall"] == {"code": "main", "name": "测试政务服务中心"} and report["complete"] is False
    assert [c["field"] for c in report["columns"]][:9] == list(OPS)
    assert without_cards(report["total"]) == expected(*TOTAL)
    # every service and window, the window staff (no supervisor acted); the names as people read them
    assert [s["service"] for s in report["services"]] == ["A", "B", "C"]
    assert [s["staff"] for s in report["staff"]] == ["s1", "s2", "s3", "s4"]
    assert [w["name"] for w in report["windows"]] == ["1号窗口", "2号窗口", "3号窗口", "4号窗口"]
    assert report["services"][0]["name"] == "企业开办" and report["staff"][0]["name"] == "李娜"
    for name, key, table in (("services", "service", SERVICES), ("windows", "window", WINDOWS),
                             ("staff", "staff", STAFF)):  # fmt: skip
        for line in report[name]:
            assert without_cards(line) == {key: line[key], "name": line["name"]} | expected(*table[line[key]])
    assert {(s["yellow_cards"], s["red_cards"]) for s in report["services"]} == {(None, None)}

    assert [report["total"]["yellow_cards"], report["total"]["red_cards"]] == CARDS_BY_HAND[("total", "")]
    for grouping, lines in (("window", report["windows"]), ("staff", report["staff"])):
        for line in lines:
            cards = CARDS_BY_HAND.get((grouping, line[grouping]), [0, 0])
            assert [line["yellow_cards"], line["red_cards"]] == cards, line


async def test_the_lines_add_up_and_agree_with_the_figures(api: Api, conn: asyncpg.Connection) -> None:
    d = await build_day(api, conn)
    report = await daily_json(api, d.day)
    counts = [c["field"] for c in report["columns"] if c["kind"] == "count"]
    for key in counts:
        total = report["total"][key]
        by = {g: [line[key] for line in report[g]] for g in ("services", "windows", "staff")}
        if key in ("yellow_cards", "red_cards"):
            # a card counts for the person and the window it names: a red card names no window
            # (and a long-wait card nobody); here every card names a person
            assert sum(by["staff"]) == total >= sum(by["windows"]) and set(by["services"]) == {None}
        elif key == "issued":  # issued for a service, not at a window or by a person
            assert sum(by["services"]) == total and set(by["windows"]) == set(by["staff"]) == {None}
        else:
            assert sum(by["services"]) == sum(by["windows"]) == sum(by["staff"]) == total, key
    # 好差评: the report's figures are GET /api/ratings/figures' for the total, windows and staff
    boss = await api.login("boss")
    figures = (await api.get(f"/api/ratings/figures?from={d.day}&to={d.day}", token=boss)).body["figures"]

    def same(line: dict[str, Any], f: dict[str, Any]) -> None:
        named = {"served": "finished", "default_rated": "default"}
        for key in ("served", *RATED):
            theirs = f["levels"][key[-1]] if key.startswith("level_") else f[named.get(key, key)]
            assert line[key] == theirs, (key, line[key], theirs)

    same(report["total"], figures["total"])
    windows, staff = {w["window"]: w for w in report["windows"]}, {s["staff"]: s for s in report["staff"]}
    for f in figures["windows"]:
        same(windows[f["window"]], f)
    for f in figures["staff"]:
        same(staff[f["staff"]["username"]], f)
    assert len(figures["windows"]) == 3 and len(figures["staff"]) == 2


def number(text: str) -> int | float | None:
    if text == "":
        return None
    return int(text) if text.lstrip("-").isdigit() else float(text)


async def test_the_csv_holds_the_same_numbers(api: Api, conn: asyncpg.Connection) -> None:
    d = await build_day(api, conn)
    report = await daily_json(api, d.day)
    path = f"/api/reports/daily?day={d.day}&format=csv"
    status, raw, headers = await download(api, path, await api.login("boss"))
    assert status == 200 and headers["Content-Type"] == "text/csv; charset=utf-8"
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the Chinese
    disposition = headers["Content-Disposition"]
    assert disposition.startswith(
        f"attachment; filename=\"clearhall-main-daily-{d.day}.csv\"; filename*=UTF-8''"
    )
    assert unquote(disposition.split("''", 1)[1]) == f"测试政务服务中心日报-{d.day}.csv"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    titles = {c["title"]: c["field"] for c in report["columns"]}
    assert rows[0] == ["分组", "编号", "名称", *titles]
    assert "\r\n" in raw.decode("utf-8-sig")
    parsed = [(r[0], r[1], r[2], {titles[t]: number(v) for t, v in zip(rows[0][3:], r[3:], strict=True)})
              for r in rows[1:]]  # fmt: skip
    expected_rows = [("合计", "", "合计", report["total"])]
    for group, name, key in (
        ("业务", "services", "service"),
        ("窗口", "windows", "window"),
        ("人员", "staff", "staff"),
    ):
        for line in report[name]:
            values = {k: v for k, v in line.items() if k not in (key, "name")}
            expected_rows.append((group, str(line[key]), line["name"], values))
    assert parsed == expected_rows
    assert parsed[0][3]["wait_avg_min"] == 14.7 and parsed[0][3]["unrated_rate"] == 0.1667


async def test_the_workbook_holds_the_same_numbers(api: Api, conn: asyncpg.Connection) -> None:
    d = await build_day(api, conn)
    boss = await api.login("boss")
    await sealed(conn, d.hall)
    report = await daily_json(api, d.day)
    status, raw, headers = await download(api, f"/api/reports/daily?day={d.day}&format=xlsx", boss)
    assert status == 200 and headers["Content-Type"] == XLSX
    assert unquote(headers["Content-Disposition"].split("''", 1)[1]) == f"测试政务服务中心日报-{d.day}.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(raw))
    assert book.sheetnames == ["汇总", "按业务", "按窗口", "按人员"]
    titles = [c["title"] for c in report["columns"]]
    keys = [c["field"] for c in report["columns"]]
    for sheet_name, name, key, heads in (("按业务", "services", "service", ["业务代码", "业务名称"]),
                                        ("按窗口", "windows", "window", ["窗口号", "窗口"]),
                                        ("按人员", "staff", "staff", ["用户名", "姓名"])):  # fmt: skip
        sheet = book[sheet_name]
        assert isinstance(sheet, Worksheet)
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert rows[0] == [*heads, *titles]
        assert sheet.freeze_panes == "C2"  # the header row and the names stay in view
        assert all(cell.font.b for cell in sheet[1])
        assert all((sheet.column_dimensions[letter].width or 0) >= 6 for letter in ("A", "B", "C", "Z"))
        lines = [[line[key], line["name"], *(line[k] for k in keys)] for line in report[name]]
        assert rows[1:-1] == lines
        assert rows[-1] == ["合计", "测试政务服务中心", *(report["total"][k] for k in keys)]
        rate_column = 3 + keys.index("good_rate")
        assert sheet.cell(2, rate_column).number_format == "0.00%"
    summary = book["汇总"]
    assert isinstance(summary, Worksheet) and summary.freeze_panes == "A2"
    facts = {r[0]: r[1] for r in summary.iter_rows(min_row=2, values_only=True)}
    assert facts["大厅"] == "测试政务服务中心（main）" and facts["统计期间"] == d.day.isoformat()
    assert (facts["合计：办结数"], facts["合计：平均等候(分钟)"], facts["合计：好评率"]) == (6, 14.7, 0.4)
    assert (facts["完整性日志末条序号 (seq)"], facts["完整性日志末条哈希 (hash)"]) == (
        report["head"]["seq"], report["head"]["hash"])  # fmt: skip
    hint = f"clearhall audit verify --anchor {report['head']['seq']}:{report['head']['hash']}"
    assert facts["核验命令"] == hint


async def test_the_daily_head_is_the_chain_at_the_days_last_seq(api: Api, conn: asyncpg.Connection) -> None:
    d = await build_day(api, conn)
    boss = await api.login("boss")  # a log-in is an action: before the chain is read
    await sealed(conn, d.hall)
    last = await conn.fetchrow(
        """SELECT c.seq, c.hash FROM action_log_chain c JOIN action_log a ON a.id = c.entry_id
           WHERE a.at < $1 ORDER BY c.seq DESC LIMIT 1""",
        at(d.day, 24),
    )
    assert last is not None
    report = await daily_json(api, d.day)
    assert report["head"]["seq"] == last["seq"] and report["head"]["hash"] == last["hash"]
    assert report["unsealed"] == 0 and len(report["head"]["hash"]) == 64
    verdict = await integrity.verify(conn, d.hall, anchor=(last["seq"], last["hash"]))
    assert verdict.ok, verdict
    # the day before D has no action of this test: its head is older, or there is none
    before = await daily_json(api, d.day - timedelta(days=1))
    assert before["head"] is None or before["head"]["seq"] < last["seq"]
    month = (await api.get(f"/api/reports/monthly?month={d.day:%Y-%m}", token=boss)).body["report"]
    assert month["head"]["seq"] >= last["seq"]


async def test_a_month_is_the_sum_of_its_days(api: Api, conn: asyncpg.Connection) -> None:
    d = await build_day(api, conn)
    other = d.day - timedelta(days=1) if d.day.day > 1 else d.day + timedelta(days=1)
    for name, hours in (("A1", (9, 9, 9)), ("C3", (15, 15, 16))):
        await conn.execute(
            "UPDATE tickets SET day = $2, issued_at = $3, called_at = $4, finished_at = $5 WHERE id = $1",
            d.tickets[name]["id"], other, *(at(other, h) for h in hours),
        )  # fmt: skip
    boss = await api.login("boss")
    month = (await api.get(f"/api/reports/monthly?month={d.day:%Y-%m}", token=boss)).body["report"]
    first = date(d.day.year, d.day.month, 1)
    assert (month["kind"], month["from"]) == ("monthly", first.isoformat())
    days = []
    day = first
    while day.month == first.month:
        days.append(await daily_json(api, day))
        day += timedelta(days=1)
    assert month["to"] == days[-1]["from"]
    assert [x["total"]["served"] for x in days if x["total"]["served"]] == (
        [2, 4] if other < d.day else [4, 2]
    )
    counts = [c["field"] for c in month["columns"] if c["kind"] == "count"]
    for name, key in (("services", "service"), ("windows", "window"), ("staff", "staff")):
        for line in month[name]:
            for column in counts:
                days_lines = [next(x for x in one[name] if x[key] == line[key]) for one in days]
                summed = [x[column] for x in days_lines]
                assert line[column] == (None if None in summed else sum(summed)), (name, line[key], column)
    for column in counts:
        assert month["total"][column] == sum(x["total"][column] for x in days), column
    assert month["total"]["served"] == 6 and month["total"]["issued"] == 8
