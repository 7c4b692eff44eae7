"""The supervisor dashboard grows up (issue 11, item 5), in a real headless
Chromium under the page's Content-Security-Policy (the `page` fixture fails on
any violation): the charts (/supervisor#charts) are drawn by the vendored
ECharts with the day's numbers of GET /api/stats/hourly and the 好差评 figures;
电子监察 (/supervisor#integrity) shows the cards, newest first with their
evidence, the signals with their sentences and the cases to do; 核验记录 says
the record is intact, then names the entry a superuser changed, in red; the
report buttons save real files. The supervisor works at window 12 (xuming).
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import threading
import urllib.parse
import zipfile
from typing import Any

import pytest

from tests.pages.helpers import PASSWORDS, WAIT_MS, Hall, text, wait_until

CHARTS = ("chHourly", "chServices", "chByWindow", "chByStaff")
CJK = re.compile(r"[\u3400-\u9fff]")


def sql(pg_url: str, *statements: str) -> list[dict[str, Any]]:
    """Statements on the module's hall database as the superuser (what a tamperer would
    be), in one session; the rows of the last."""
    import asyncpg

    from tests.conftest import with_database

    rows: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    async def work() -> None:
        conn = await asyncpg.connect(with_database(pg_url, f"clearhall_pages_{os.getpid()}"))
        try:
            for statement in statements[:-1]:
                await conn.execute(statement)
            rows.extend(dict(r) for r in await conn.fetch(statements[-1]))
        finally:
            await conn.close()

    def run() -> None:
        try:
            asyncio.run(work())
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if errors:
        raise errors[0]
    return rows


def get(hall: Hall, path: str) -> dict[str, Any]:
    status, body = hall.call("GET", path, token=hall.login("supervisor"))
    assert status == 200, (path, body)
    return dict(body)


def log_in(p: Any, base: str, where: str, size: tuple[int, int] = (1366, 768)) -> None:
    p.set_viewport_size({"width": size[0], "height": size[1]})
    p.goto(base + "/supervisor" + where)
    p.fill("#username", "supervisor")
    p.fill("#password", PASSWORDS["supervisor"])
    p.click("#loginBtn")
    p.wait_for_selector("#dashView", state="visible", timeout=WAIT_MS)
    p.wait_for_selector("#live[data-state='online']", timeout=WAIT_MS)


def serve(hall: Hall, score: int | None, **extra: Any) -> dict[str, Any]:
    """A ticket of H that xuming calls and finishes at window 12, rated `score` by its key."""
    ticket = hall.issue("H")
    hall.call_until("xuming", 12, ticket["number"])
    status, body = hall.window("xuming", 12, "finish")
    assert status == 200, body
    if score is not None:
        status, body = hall.call(
            "POST", "/api/ratings", {"ticket": ticket["id"], "key": ticket["key"], "score": score, **extra}
        )
        assert status == 201, body
        ticket["rating"] = body["rating"]
    return ticket


def labels_in_words(p: Any) -> list[str]:
    """The evidence dialog's field names that are not words of the page (a key shown as it came)."""
    names = p.eval_on_selector_all("#evidenceDlg dt, #evidenceDlg th", "els => els.map(e => e.textContent)")
    return [n for n in names if not CJK.search(n)]


def option(p: Any, chart: str) -> dict[str, Any]:
    return dict(p.evaluate(f"() => echarts.getInstanceByDom(document.querySelector('#{chart}')).getOption()"))


def kpi(p: Any, name: str) -> str:
    return text(p, f"#chTotals [data-kpi='{name}'] .k-val")


def test_the_charts_are_drawn_by_the_vendored_echarts_with_the_days_numbers(page: Any, hall: Hall) -> None:
    loaded: list[str] = []
    page.on("request", lambda r: loaded.append(urllib.parse.urlsplit(r.url).path))
    hall.window("xuming", 12, "sign-in")
    serve(hall, 5)
    serve(hall, 3)
    log_in(page, hall.base, "#charts", (1920, 1080))
    page.wait_for_selector("#chartsView", state="visible")
    assert "/static/vendor/echarts/echarts.min.js" in loaded
    assert page.evaluate("() => echarts.version").startswith("6.")

    # one canvas of some size per chart
    sizes = """ids => ids.map(id => { const c = document.querySelector('#' + id + ' canvas');
      return c ? Math.min(c.width, c.height, c.getBoundingClientRect().width, c.getBoundingClientRect().height) : 0; })"""
    wait_until(page, lambda: all(n > 50 for n in page.evaluate(sizes, list(CHARTS))))
    assert page.locator("#chartsView canvas").count() == len(CHARTS)

    # waits by hour: the bars are the API's tickets issued in each hour shown, the lines its waits
    def drawn_matches() -> bool:
        day = get(hall, "/api/stats/hourly")
        drawn = option(page, "chHourly")
        hours = [int(label.rstrip("时")) for label in drawn["xAxis"][0]["data"]]
        want = [day["hours"][h]["issued"] for h in hours]
        waits = [
            None if day["hours"][h]["avg_wait_s"] is None else round(day["hours"][h]["avg_wait_s"] / 60, 1)
            for h in hours
        ]
        return bool(drawn["series"][0]["data"] == want and drawn["series"][1]["data"] == waits
                    and kpi(page, "issued") == str(day["total"]["issued"]) and sum(want) == day["total"]["issued"])  # fmt: skip

    wait_until(page, drawn_matches)
    day = get(hall, "/api/stats/hourly")
    services = option(page, "chServices")
    assert services["xAxis"][0]["data"] == [f"{s['code']} {s['name']}" for s in day["services"]]
    assert services["series"][0]["data"] == [s["issued"] for s in day["services"]]
    assert services["series"][1]["data"] == [s["finished"] for s in day["services"]]

    # satisfaction by window and by staff member: window 12 and 徐明 with their 好评率
    figures = get(hall, "/api/ratings/figures")["figures"]
    line = next(w for w in figures["windows"] if w["window"] == 12)
    good = f"{round(line['good'] / line['rated'] * 100, 1):g}%"
    assert f"12号窗口  {good}" in option(page, "chByWindow")["yAxis"][0]["data"]
    assert any(label.startswith("徐明  ") for label in option(page, "chByStaff")["yAxis"][0]["data"])

    # live: a ticket issued shows in the totals without reloading
    before = int(kpi(page, "issued"))
    hall.issue("G")
    wait_until(page, lambda: kpi(page, "issued") == str(before + 1))

    # English: the charts' words follow
    page.keyboard.press("l")
    wait_until(page, lambda: option(page, "chHourly")["series"][1]["name"] == "Average wait")
    assert text(page, "#pHourly h2") == "By hour: tickets and waits"
    page.keyboard.press("l")

    # another day: a day without tickets says so
    page.fill("#chDay", "2020-01-02")
    page.dispatch_event("#chDay", "change")
    page.wait_for_selector("#chHourlyNote:not([hidden])", timeout=WAIT_MS)
    assert text(page, "#chHourlyNote") == "当日尚无取号" and kpi(page, "issued") == "0"


def test_cards_newest_first_with_their_evidence_and_signals_with_their_sentences(
    page: Any, hall: Hall
) -> None:
    hall.window("xuming", 12, "sign-in")
    hall.window("xuming", 12, "finish")
    reasons = []
    for i in range(3):  # three 指呼 by xuming: three yellow cards, which make a red one
        hall.issue("H")
        second = hall.issue("H")
        reasons.append(f"预约企业专场{i}")
        status, body = hall.window("xuming", 12, "call", {"number": second["number"], "reason": reasons[-1]})
        assert status == 200, body
        hall.window("xuming", 12, "finish")
    for _ in range(6):  # a burst from the kiosk: a 黄牛 signal
        hall.issue("A")
    hall.restart()  # the card evaluator runs at start (and every 30 s after)

    def carded() -> list[dict[str, Any]]:
        return list(get(hall, "/api/cards")["cards"])

    wait_until(page, lambda: any(c["color"] == "red" for c in carded()), 30_000)
    log_in(page, hall.base, "#integrity")
    cards = sorted(carded(), key=lambda c: (c["at"], c["id"]), reverse=True)
    wait_until(page, lambda: page.locator("#cards li[data-card]").count() == len(cards))
    shown = page.eval_on_selector_all(
        "#cards li[data-card]", "lis => lis.map(li => [Number(li.dataset.card), li.dataset.color])"
    )
    assert shown == [[c["id"], c["color"]] for c in cards]
    red = sum(c["color"] == "red" for c in cards)
    assert text(page, "#cardCounts") == f"红牌 {red} · 黄牌 {len(cards) - red}"
    first = page.locator("#cards li[data-card]").first
    assert first.get_attribute("data-color") == "red" and "黄牌累计" in first.inner_text()

    # a 指呼 card's evidence: its sentence, with the reason, and the rule's ticket
    calls = [c for c in cards if c["rule"] == "out_of_order_call" and c["staff"]["username"] == "xuming"]
    card = next(c for c in calls if reasons[-1] in c["evidence"]["sentence"]["zh"])
    page.click(f"#cards li[data-card='{card['id']}'] [data-evidence]")
    page.wait_for_selector("#evidenceDlg[open]")
    shown_text = text(page, "#evidenceDlg")
    assert "黄牌 · 指呼" in shown_text and card["evidence"]["sentence"]["zh"] in shown_text
    assert card["ticket"] in shown_text and "徐明" in shown_text
    assert labels_in_words(page) == []
    page.click("#evidenceClose")
    page.click("#cards li[data-color='red'] [data-evidence]")
    assert "构成红牌的黄牌" in text(page, "#evidenceDlg") and labels_in_words(page) == []
    page.click("#evidenceClose")

    # the signals: the kiosk's burst, with the server's sentence and its rows
    signals = get(hall, "/api/signals")["signals"]
    burst = next(s for s in signals if s["rule"] == "kiosk_burst")
    wait_until(page, lambda: page.locator("#signals li[data-kind]").count() == len(signals))
    assert burst["why"]["zh"] in text(page, "#signals")
    page.click(f"#signals li[data-signal='{signals.index(burst)}'] [data-rows]")
    page.wait_for_selector("#evidenceDlg[open]")
    assert page.locator("#evidenceDlg table.ev-rows tbody tr").count() == len(burst["rows"])
    assert labels_in_words(page) == []
    page.click("#evidenceClose")

    # live: a 差评 opens a case, which joins the cases to do
    bad = serve(hall, 1, reasons=["办事拖拉"])
    case_id = bad["rating"]["case"]["id"]
    page.wait_for_selector(f"#openCases li[data-case='{case_id}']", timeout=WAIT_MS)
    page.click(f"#openCases li[data-case='{case_id}']")
    page.wait_for_selector("#casesView", state="visible")
    assert page.url.endswith(f"#cases/{case_id}")


VERIFIED = re.compile(r"共 (\d+) 条 · 最新序号 (\d+) · 链头哈希 ([0-9a-f]{16})…")


def test_verify_says_intact_then_names_the_entry_a_superuser_changed(
    page: Any, hall: Hall, pg_url: str
) -> None:
    hall.issue("A")
    hall.issue("A")
    wait_until(
        page, lambda: (lambda v: v["pending"] == 0 and v["entries"] >= 2)(get(hall, "/api/audit/verify"))
    )
    log_in(page, hall.base, "#integrity")
    assert page.get_attribute("#verifyResult", "data-state") == "idle"
    page.click("#verifyBtn")
    page.wait_for_selector("#verifyResult[data-state='ok']", timeout=WAIT_MS)
    found = VERIFIED.search(text(page, "#verifyResult"))
    assert found, text(page, "#verifyResult")
    entries, seq, head = int(found[1]), int(found[2]), found[3]
    assert entries == seq >= 2 and "记录完整" in text(page, "#verifyResult")
    chained = sql(pg_url, f"SELECT hash FROM action_log_chain WHERE seq = {seq}")
    assert chained[0]["hash"][:16] == head

    # a superuser, triggers off, changes the second entry
    target = sql(pg_url, "SELECT l.id, l.actor_name FROM action_log l"
                         " JOIN action_log_chain c ON c.entry_id = l.id WHERE c.seq = 2")[0]  # fmt: skip
    off, update = (
        "SET session_replication_role = replica",
        "UPDATE action_log SET actor_name = {} WHERE id = {}",
    )
    sql(pg_url, off, update.format("'某人'", target["id"]) + " RETURNING id")
    try:
        page.click("#verifyBtn")
        page.wait_for_selector("#verifyResult[data-state='bad']", timeout=WAIT_MS)
        assert page.get_attribute("#verifyResult", "data-bad-seq") == "2"
        head_line = page.locator("#verifyResult .v-head")
        assert head_line.inner_text() == "✗ 第 2 条记录被改动"
        assert head_line.evaluate("e => getComputedStyle(e).color") == "rgb(176, 0, 32)"  # red
        assert "此前 1 条完好" in text(page, "#verifyResult")
        page.keyboard.press("l")
        assert head_line.inner_text() == "✗ Entry 2: changed"
        page.keyboard.press("l")
    finally:  # put it back: the chain is whole again for the tests after this one
        original = "'" + str(target["actor_name"]).replace("'", "''") + "'"
        sql(pg_url, off, update.format(original, target["id"]) + " RETURNING id")
    page.click("#verifyBtn")
    page.wait_for_selector("#verifyResult[data-state='ok']", timeout=WAIT_MS)


def test_the_report_buttons_save_the_days_and_the_months_files(page: Any, hall: Hall) -> None:
    serve(hall, 4)
    log_in(page, hall.base, "#integrity")
    day = get(hall, "/api/stats/hourly")["day"]
    assert text(page, "#reportDay") == f"日报 {day}" and text(page, "#reportMonth") == f"月报 {day[:7]}"
    for report, period in (("daily", day), ("monthly", day[:7])):
        with page.expect_download(timeout=WAIT_MS) as xlsx:
            page.click(f"#pReports [data-report='{report}'][data-format='xlsx']")
        name = xlsx.value.suggested_filename
        assert name.endswith(f"-{period}.xlsx") and ("日报" if report == "daily" else "月报") in name, name
        with zipfile.ZipFile(xlsx.value.path()) as book:  # a real workbook: a zip with its sheets
            assert any(n.startswith("xl/worksheets/") for n in book.namelist())
        with page.expect_download(timeout=WAIT_MS) as sheet:
            page.click(f"#pReports [data-report='{report}'][data-format='csv']")
        assert sheet.value.suggested_filename.endswith(f"-{period}.csv")
        rows = list(csv.reader(io.StringIO(sheet.value.path().read_text(encoding="utf-8-sig"))))
        assert len(rows) > 2 and len(rows[0]) > 2, rows[:3]
    wait_until(page, lambda: "已下载" in text(page, "#reportMsg"))


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_the_views_fill_the_screen_without_scrolling_in_both_languages(
    page: Any, hall: Hall, size: tuple[int, int]
) -> None:
    log_in(page, hall.base, "#charts", size)
    for lang in ("zh", "en"):
        for view in ("charts", "integrity"):
            page.goto(f"{hall.base}/supervisor?lang={lang}#{view}")
            page.wait_for_selector(f"#{view}View", state="visible", timeout=WAIT_MS)
            fits = page.evaluate(
                """() => document.documentElement.scrollHeight <= innerHeight + 1
                     && document.documentElement.scrollWidth <= innerWidth + 1
                     && [...document.querySelectorAll('#viewNav a, #logoutBtn, #live')].every(e => e.getBoundingClientRect().right <= innerWidth + 1)"""
            )
            assert fits, (lang, view, size)
