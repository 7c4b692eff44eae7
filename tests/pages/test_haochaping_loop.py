"""Issue 10, "Done when", in one run of real pages: a 差评 given at the window's
pad becomes a case due on the right working day of the hall's calendar; a
supervisor calls back, fixes and closes it on the cases page; the citizen says
on their phone how it was handled. Window 3 (zhangmin, service B) and its pad."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from clearhall.server.domain.workdays import Calendar, add_working_days
from clearhall.server.store import hallfile
from tests.pages.helpers import DEMO, RATE3, WAIT_MS, Hall, add_step, log_in, text


def the_case(hall: Hall, number: str) -> dict[str, Any]:
    code, body = hall.call("GET", "/api/follow-ups", None, hall.login("supervisor"))
    assert code == 200, body
    return dict(next(c for c in body["follow_ups"] if c["rating"] and c["rating"]["ticket"] == number))


def test_a_bad_rating_at_the_pad_is_followed_up_to_the_citizens_verdict(
    page: Any, browser: Any, hall: Hall
) -> None:
    # At the counter: zhangmin serves a B ticket; the pad asks; the citizen answers 不满意, why.
    hall.window("zhangmin", 3, "sign-in")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{hall.base}/rate/3#device={RATE3}")
    page.wait_for_selector("#idle", state="visible", timeout=WAIT_MS)
    mine = hall.issue("B")
    hall.call_until("zhangmin", 3, mine["number"])
    hall.window("zhangmin", 3, "finish")
    page.wait_for_selector("#ask", state="visible", timeout=WAIT_MS)
    page.click(".face[data-score='2']")
    page.click(".reason[data-reason='一次性告知不到位']")
    page.click("#whySend")
    page.wait_for_selector("#thanks", state="visible", timeout=WAIT_MS)

    # The case, due at the end of the 5th working day after today on the demo hall's calendar.
    case = the_case(hall, mine["number"])
    demo = hallfile.load(DEMO)
    calendar = Calendar.of(demo.calendar.holidays, demo.calendar.workdays)
    opened = datetime.fromisoformat(case["opened_at"])
    due = add_working_days(opened, demo.ratings.follow_up_days, calendar, demo.timezone)
    assert datetime.fromisoformat(case["due_at"]) == due and case["state"] == "open"
    assert case["rating"]["channel"] == "pad" and case["rating"]["reasons"] == ["一次性告知不到位"]

    # The supervisor works it on the cases page.
    desk = browser.new_context(viewport={"width": 1366, "height": 768})
    sup = desk.new_page()
    try:
        log_in(sup, hall.base, where=f"#cases/{case['id']}")
        sup.wait_for_selector("#caseDetail", state="visible", timeout=WAIT_MS)
        add_step(sup, "callback", "已电话回访，群众说第一次没被告知要带婚姻证明。")
        add_step(sup, "fix", "窗口补贴一次性告知清单，当天为群众办结。")
        add_step(sup, "close")
    finally:
        desk.close()
    assert the_case(hall, mine["number"])["state"] == "closed"

    # The citizen, on the phone page of the ticket, says how it was handled.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{hall.base}/{mine['url'].split('://', 1)[1].split('/', 1)[1]}")
    row = f"#handling [data-case='{case['id']}']"
    page.wait_for_selector(f"{row} [data-result='satisfied']", state="visible", timeout=WAIT_MS)
    page.click(f"{row} [data-result='satisfied']")
    page.wait_for_function(
        "s => document.querySelector(s).textContent.includes('您的评价：满意')", arg=row, timeout=WAIT_MS
    )
    assert the_case(hall, mine["number"])["satisfaction"]["result"] == "satisfied"
    assert "满意" in text(page, row)
