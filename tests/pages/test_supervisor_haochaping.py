"""The 好差评 panel of the supervisor dashboard (issue 10, items 6 and 7), in a
real headless Chromium: today's and this month's figures match a hand count of
the test's own visits (xuming's line, before and after) and the server's
figures, every rate shown with the counts it is made of; forwarding to the
provincial platform is one line — "未配置转发" for a hall that does not forward,
red with the last error when an item has waited too long.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.pages.helpers import PASSWORDS, WAIT_MS, Hall, demo_hall_file, free_port, serving, text, wait_until

FORWARDING_DB = f"clearhall_pages_forwarding_{os.getpid()}"
FIELDS = ("finished", "rated", "good", "bad", "unrated", "cases")


def pct(part: int, whole: int) -> str:
    """As the page writes a rate: one decimal at most, halves up; "—" with nothing to divide."""
    if not whole:
        return "—"
    return f"{math.floor(part / whole * 1000 + 0.5) / 10:g}%"


def rate_of(part: int, whole: int) -> str:
    """A rate in a table row: "66.7%（2/3）", or "—" alone."""
    return pct(part, whole) + (f"（{part}/{whole}）" if whole else "")


def row_of(line: dict[str, Any]) -> dict[str, str]:
    """The cells of a window's or staff member's row, as they should read, from a line of the figures."""
    return {
        "finished": str(line["finished"]),
        "rated": str(line["rated"]),
        "good": rate_of(line["good"], line["rated"]),
        "bad": str(line["bad"]),
        "unrated": rate_of(line["unrated"], line["finished"]),
        "cases": f"{line['open_cases'] + line['overdue_cases']}/{line['overdue_cases']}",
    }


ZERO = {"finished": 0, "rated": 0, "good": 0, "bad": 0, "unrated": 0, "open_cases": 0, "overdue_cases": 0}


def figures(hall: Hall, query: str = "") -> dict[str, Any]:
    status, body = hall.call("GET", "/api/ratings/figures" + query, token=hall.login("supervisor"))
    assert status == 200, body
    return dict(body["figures"])


def xuming(f: dict[str, Any]) -> dict[str, Any]:
    return next((s for s in f["staff"] if s["staff"]["username"] == "xuming"), ZERO)


def page_row(p: Any, user: str) -> dict[str, str] | None:
    cells = p.eval_on_selector_all(
        f"#hcpRows tr[data-staff='{user}'] td[data-f]", "tds => tds.map(td => [td.dataset.f, td.textContent])"
    )
    return dict(cells) if cells else None


def serve(hall: Hall, score: int | None, **extra: Any) -> dict[str, Any] | None:
    """A ticket of H that xuming calls and finishes at window 12, rated `score` by its key (None: never rated)."""
    ticket = hall.issue("H")
    hall.call_until("xuming", 12, ticket["number"])
    status, body = hall.window("xuming", 12, "finish")
    assert status == 200, body
    if score is None:
        return None
    rating = {"ticket": ticket["id"], "key": ticket["key"], "score": score, **extra}
    status, body = hall.call("POST", "/api/ratings", rating)
    assert status == 201, body
    return dict(body["rating"])


def drain(hall: Hall) -> None:
    """Nobody left waiting for window 12: from now on it serves only this test's tickets."""
    hall.window("xuming", 12, "sign-in")
    for _ in range(200):
        hall.window("xuming", 12, "finish")
        status, body = hall.window("xuming", 12, "call-next")
        assert status == 200, body
        if body["ticket"] is None:
            return
    raise AssertionError("window 12 never ran out of tickets")


def log_in(p: Any, base: str, user: str = "supervisor") -> None:
    p.set_viewport_size({"width": 1366, "height": 768})
    p.goto(base + "/supervisor")
    p.fill("#username", user)
    p.fill("#password", PASSWORDS[user])
    p.click("#loginBtn")
    p.wait_for_selector("#dashView", state="visible", timeout=WAIT_MS)
    p.wait_for_selector("#live[data-state='online']", timeout=WAIT_MS)


def card(p: Any, rate: str) -> str:
    return text(p, f"#hcpRates [data-rate='{rate}']")


def test_the_panel_matches_a_hand_count_of_the_days_visits(page: Any, hall: Hall) -> None:
    drain(hall)
    before = xuming(figures(hall))
    log_in(page, hall.base)
    page.click("#pHaochaping [data-by='staff']")
    if before["finished"]:
        wait_until(page, lambda: page_row(page, "xuming") == row_of(before))

    # the test's own visits: rated 5, 4 and 1 (a 差评, which opens a case), and one never rated
    serve(hall, 5)
    serve(hall, 4)
    bad = serve(hall, 1, reasons=["办事拖拉"])
    serve(hall, None)
    assert bad is not None
    counted = {k: before[k] for k in ZERO} | {
        "finished": before["finished"] + 4, "rated": before["rated"] + 3, "good": before["good"] + 2,
        "bad": before["bad"] + 1, "unrated": before["unrated"] + 1, "open_cases": before["open_cases"] + 1,
    }  # fmt: skip
    want = row_of(counted)
    wait_until(page, lambda: (page_row(page, "xuming") or {}).get("finished") == want["finished"])
    wait_until(page, lambda: page_row(page, "xuming") == want)  # the page's own count is the hand count
    if not before["finished"]:  # on a fresh hall, literally: 2 of 3 rated are good, 1 of 4 visits unrated
        assert want["good"] == "66.7%（2/3）" and want["unrated"] == "25%（1/4）", want

    # the whole hall's line, as the server counts it: levels, and each rate with its counts
    total = figures(hall)["total"]
    for n in range(1, 6):
        assert text(page, f"#hcpLevels [data-level='{n}'] .l-n") == str(total["levels"][str(n)])
    shown = {"good": ("good", "rated"), "bad": ("bad", "rated"), "unrated": ("unrated", "finished"),
             "reply": ("replied", "bad"), "fix": ("fixed", "bad"), "sat": ("satisfied", "satisfaction_answers")}  # fmt: skip
    for rate, (part, whole) in shown.items():
        words, of = card(page, rate), f"（{total[part]}/{total[whole]}）"
        assert pct(total[part], total[whole]) in words and of in words, (rate, words)
    assert "（0/0）" in card(page, "sat") and "—" in card(page, "sat"), "nothing to divide"
    assert "好评率" in card(page, "good") and "主动评价好评率" in card(page, "active")
    assert f"待办 {total['open_cases'] + total['overdue_cases']}" in card(page, "cases")

    # the case is called back, fixed and closed: 差评回复率 and 整改率 follow
    boss = hall.login("supervisor")
    for step in (
        {"kind": "callback", "text": "已回访"},
        {"kind": "fix", "text": "已整改"},
        {"kind": "close"},
    ):
        status, answer = hall.call("POST", f"/api/follow-ups/{bad['case']['id']}/steps", step, boss)
        assert status == 201, answer
    total = figures(hall)["total"]
    wait_until(page, lambda: f"（{total['fixed']}/{total['bad']}）" in card(page, "fix"))
    assert f"（{total['replied']}/{total['bad']}）" in card(page, "reply")
    closed = row_of(counted | {"open_cases": before["open_cases"]})["cases"]  # no longer to do
    wait_until(page, lambda: (page_row(page, "xuming") or {}).get("cases") == closed)

    # this month: from the first of the month to today, the same lines
    today = figures(hall)
    month = figures(hall, f"?from={today['to'][:8]}01&to={today['to']}")
    page.click("#pHaochaping [data-range='month']")
    wait_until(page, lambda: page_row(page, "xuming") == row_of(xuming(month)))
    assert text(page, "#hcpRange") in (today["to"], f"{today['to'][:8]}01 至 {today['to']}")
    page.click("#pHaochaping [data-by='window']")
    line = next(w for w in month["windows"] if w["window"] == 12)
    cells = dict(page.eval_on_selector_all("#hcpRows tr[data-window='12'] td[data-f]",
                                           "tds => tds.map(td => [td.dataset.f, td.textContent])"))  # fmt: skip
    assert cells == row_of(line)


def test_the_forwarding_line_says_a_hall_that_does_not_forward(page: Any, hall: Hall) -> None:
    log_in(page, hall.base)
    page.wait_for_selector("#forwarding[data-state='off']", timeout=WAIT_MS)
    assert "未配置转发" in text(page, "#forwarding")
    page.keyboard.press("l")
    assert "Not forwarding" in text(page, "#forwarding")
    page.keyboard.press("l")


# -- a hall that forwards to a platform that is down ----------------------------------


def forwarding_hall_file(port: int) -> str:
    demo = demo_hall_file()
    off = '# [ratings.forward]\n# url = "https://hcp.example.gov.cn/api/evaluate"'
    assert off in demo
    return demo.replace(off, f'[ratings.forward]\nurl = "http://127.0.0.1:{port}/evaluate"')


@pytest.fixture
def down_hall(pg_url: str) -> Iterator[Hall]:
    """The demo hall forwarding to a port where nobody listens, on a database of its own."""
    with serving(pg_url, FORWARDING_DB, forwarding_hall_file(free_port())) as running:
        yield running


def run_sql(pg_url: str, query: str) -> None:
    import asyncpg

    from tests.conftest import with_database

    async def work() -> None:
        conn = await asyncpg.connect(with_database(pg_url, FORWARDING_DB))
        try:
            await conn.execute(query)
        finally:
            await conn.close()

    t = threading.Thread(target=lambda: asyncio.run(work()))
    t.start()
    t.join()


def test_an_item_waiting_too_long_to_be_forwarded_is_red_with_its_error(
    browser: Any, down_hall: Hall, pg_url: str
) -> None:
    hall = down_hall
    hall.window("xuming", 12, "sign-in")
    rating = serve(hall, 5)
    assert rating is not None

    def oldest() -> dict[str, Any] | None:
        status, body = hall.call("GET", "/api/ratings/forwarding", token=hall.login("supervisor"))
        assert status == 200, body
        return body["oldest_pending"]

    ctx = browser.new_context()
    errors: list[str] = []
    try:
        p = ctx.new_page()
        p.on("pageerror", lambda e: errors.append(str(e)))
        wait_until(p, lambda: bool((oldest() or {}).get("last_error")), 30_000)  # the sender has tried
        log_in(p, hall.base)
        p.wait_for_selector("#forwarding[data-state='pending']", timeout=WAIT_MS)
        line = text(p, "#forwarding")
        assert "待转发 1" in line and f"评价 {rating['id']}" in line and "最近错误" in line, line

        # waiting for more than ten minutes: red, and for how long
        run_sql(pg_url, "UPDATE forward_outbox SET created_at = now() - interval '11 minutes'")
        p.reload()
        p.wait_for_selector("#forwarding[data-state='stuck']", timeout=WAIT_MS)
        stuck = re.search(r"已滞留 (\d+) 分钟", text(p, "#forwarding"))
        assert stuck and int(stuck.group(1)) >= 11, text(p, "#forwarding")
    finally:
        ctx.close()
    assert not errors, f"JavaScript errors: {errors}"


FITS = """() => {
  const vw = innerWidth, vh = innerHeight, root = document.documentElement;
  const inside = sel => [...document.querySelectorAll(sel)].every(e => {
    const r = e.getBoundingClientRect();
    return r.left >= 0 && r.right <= vw + 1 && r.bottom <= vh + 1;
  });
  const unclipped = sel => [...document.querySelectorAll(sel)].every(e => e.scrollWidth <= e.clientWidth + 1);
  return {
    page: root.scrollHeight <= vh + 1 && root.scrollWidth <= vw + 1,
    bar: inside('#casesBadge, #logoutBtn, #live, #summary'),
    cards: unclipped('#hcpRates .rate, #hcpLevels .level'),
  };
}"""


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_the_panel_and_the_cases_fit_the_screen_in_both_languages(
    page: Any, hall: Hall, size: tuple[int, int]
) -> None:
    log_in(page, hall.base)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    for lang in ("zh", "en"):
        page.goto(f"{hall.base}/supervisor?lang={lang}")
        page.wait_for_selector("#hcpRates [data-rate='cases']", timeout=WAIT_MS)
        page.wait_for_selector("#casesBadge:not([hidden])", timeout=WAIT_MS)
        assert page.evaluate(FITS) == {"page": True, "bar": True, "cards": True}, (lang, size)
        page.click("#casesBadge")
        page.wait_for_selector("#casesView", state="visible")
        assert page.evaluate(FITS)["page"], (lang, size)
        page.click("#casesBack")
