"""好差评 on the phone page (issue 10, item 1): after the service, a good rating is
one touch with nothing else sent; a 差评 asks why and for a call-back number,
opens a case the supervisors see, and the citizen later says how it was
handled; past the days allowed the page says so instead of asking.

Window 5 (chenjing, service C) is this module's.
"""

from __future__ import annotations

from typing import Any

from tests.pages.helpers import WAIT_MS, Hall, text
from tests.pages.measure import SIZES, unreadable

MIN_TARGET_PX = 48


def finished(hall: Hall) -> dict[str, Any]:
    """A C ticket served and finished at window 5."""
    hall.window("chenjing", 5, "sign-in")
    mine = hall.issue("C")
    hall.call_until("chenjing", 5, mine["number"])
    hall.window("chenjing", 5, "finish")
    return mine


def open_phone(page: Any, hall: Hall, ticket: dict[str, Any]) -> list[dict[str, Any]]:
    """The ticket's phone page at a phone's size; the rating bodies it posts."""
    page.set_viewport_size({"width": 390, "height": 844})
    posted: list[dict[str, Any]] = []

    def seen(request: Any) -> None:
        if request.method == "POST" and request.url.endswith("/api/ratings"):
            posted.append(request.post_data_json)

    page.on("request", seen)
    page.goto(f"{hall.base}/{ticket['url'].split('://', 1)[1].split('/', 1)[1]}")
    page.wait_for_selector("#rateForm", state="visible", timeout=WAIT_MS)
    return posted


def case_of(hall: Hall, number: str) -> dict[str, Any]:
    code, body = hall.call("GET", "/api/follow-ups", None, hall.login("supervisor"))
    assert code == 200, body
    return dict(next(c for c in body["follow_ups"] if c["rating"] and c["rating"]["ticket"] == number))


def handled(hall: Hall, case_id: int) -> None:
    """The hall calls the citizen back and puts it right."""
    sup = hall.login("supervisor")
    for kind, words in (("callback", "已电话回访群众"), ("fix", "已约谈窗口人员并整改")):
        code, body = hall.call("POST", f"/api/follow-ups/{case_id}/steps", {"kind": kind, "text": words}, sup)
        assert code == 201, body


def test_a_good_rating_is_one_touch(page: Any, hall: Hall) -> None:
    mine = finished(hall)
    posted = open_phone(page, hall, mine)
    page.click("#langBtn")
    assert "One touch on a level sends your rating" in text(page, "#rateForm")
    page.click("#langBtn")
    page.click(".scores[data-dim='score'] [data-score='4']")
    page.wait_for_selector("#rating .thanks", state="visible")
    assert "感谢您的评价" in text(page, "#rating")
    assert posted == [{"ticket": mine["id"], "key": mine["key"], "score": 4}]
    assert page.is_hidden("#rateForm") and page.is_hidden("#handling")  # a good rating opens no case


def test_a_bad_rating_asks_why_becomes_a_case_and_its_handling_is_rated(page: Any, hall: Hall) -> None:
    mine = finished(hall)
    posted = open_phone(page, hall, mine)
    page.click(".scores[data-dim='score'] [data-score='1']")
    page.wait_for_selector("#badForm", state="visible")
    assert "非常不满意" in text(page, "#whyTitle") and posted == []
    page.click("#badSubmit")
    assert "至少点选一项原因" in text(page, "#badMsg") and posted == []

    page.click("#reasons [data-reason='办事拖拉']")
    page.click("#reasons [data-reason='一次性告知不到位']")
    for label, width, height in page.evaluate(SIZES, "#reasons .chip, #contact, #badBack, #badSubmit"):
        assert width >= MIN_TARGET_PX and height >= MIN_TARGET_PX, (label, width, height)
    assert unreadable(page, "#reasons .chip, #badBack, #badSubmit") == []
    page.fill("#badComment", "材料清单前后说法不一")
    page.fill("#contact", "1381234567")
    page.click("#badSubmit")
    page.wait_for_selector("#rating .thanks", state="visible")
    assert "整改工单" in text(page, "#rating") and "回访" in text(page, "#rating")
    assert posted[0]["reasons"] == ["办事拖拉", "一次性告知不到位"] and posted[0]["score"] == 1

    case = case_of(hall, mine["number"])
    assert case["rating"]["channel"] == "phone" and case["rating"]["comment"] == "材料清单前后说法不一"
    assert case["contact"] == "1381234567" and case["window"] == 5

    # The case is listed under the rating, with its due date; nothing to rate until the hall answers.
    row = f"#handling [data-case='{case['id']}']"
    page.wait_for_selector(row, state="visible")
    page.wait_for_selector(f"{row} .case-heard", state="detached", timeout=WAIT_MS)  # the ticket lists it
    assert "前答复" in text(page, row) and page.is_hidden(f"{row} [data-result]")

    handled(hall, case["id"])
    page.reload()
    page.wait_for_selector(f"{row} [data-result='satisfied']", state="visible", timeout=WAIT_MS)
    for label, width, height in page.evaluate(SIZES, "[data-result]"):
        assert width >= MIN_TARGET_PX and height >= MIN_TARGET_PX, (label, width, height)
    assert unreadable(page, "[data-result]") == []
    page.click(f"{row} [data-result='satisfied']")
    page.wait_for_function(
        "s => document.querySelector(s).textContent.includes('您的评价：满意')", arg=row, timeout=WAIT_MS
    )
    assert case_of(hall, mine["number"])["satisfaction"]["result"] == "satisfied"
    assert page.is_hidden(f"{row} [data-result]")  # once


def test_without_the_servers_list_the_phone_remembers_its_case(page: Any, hall: Hall) -> None:
    """A server whose ticket does not list its cases: the phone keeps the one it opened, and
    the citizen who has heard back rates the handling; too early, the server says so in words."""

    def unlisted(route: Any) -> None:
        answer = route.fetch()
        got = answer.json()
        got["ticket"].pop("follow_ups", None)
        route.fulfill(response=answer, json=got)

    page.route("**/api/tickets/*", unlisted)
    mine = finished(hall)
    open_phone(page, hall, mine)
    page.click(".scores[data-dim='score'] [data-score='2']")
    page.click("#reasons [data-reason='态度冷漠']")
    page.click("#badSubmit")
    page.wait_for_selector("#rating .thanks", state="visible")
    case = case_of(hall, mine["number"])
    row = f"#handling [data-case='{case['id']}']"
    page.click(f"{row} .case-heard")
    page.click(f"{row} [data-result='basically']")
    page.wait_for_function(
        "s => document.querySelector(s + ' .msg').textContent.length > 0", arg=row, timeout=WAIT_MS
    )
    assert "整改或说明之后" in text(page, f"{row} .msg")

    handled(hall, case["id"])
    page.click(f"{row} [data-result='basically']")
    page.wait_for_function(
        "s => document.querySelector(s).textContent.includes('基本满意，谢谢')", arg=row, timeout=WAIT_MS
    )
    assert case_of(hall, mine["number"])["satisfaction"]["result"] == "basically"
    page.reload()  # this phone remembers what it said
    page.wait_for_selector(row, state="visible", timeout=WAIT_MS)
    assert "您的评价：基本满意" in text(page, row)


def test_past_the_days_allowed_the_page_says_so(page: Any, hall: Hall) -> None:
    mine = finished(hall)

    def refused(route: Any) -> None:  # the days ran out between the page's load and the touch
        route.fulfill(status=409, json={"ok": False, "status": 409,
                                        "error": {"code": "conflict", "message": "办结已超过 7 天，评价期已过"}})  # fmt: skip

    page.route("**/api/ratings", refused)
    open_phone(page, hall, mine)
    page.click(".scores[data-dim='score'] [data-score='5']")
    page.wait_for_selector("#rateOver", state="visible", timeout=WAIT_MS)
    assert "评价期已过" in text(page, "#rateOver") and "7 天" in text(page, "#rateOver")
    assert page.is_hidden("#rateForm")

    def no_days(route: Any) -> None:  # opened after the days allowed: no form at all
        answer = route.fetch()
        rules = answer.json()
        rules["rate_within_days"] = 0
        route.fulfill(response=answer, json=rules)

    other = page.context.new_page()
    other.route("**/api/ratings/rules", no_days)
    other.set_viewport_size({"width": 390, "height": 844})
    other.goto(page.url)
    other.wait_for_selector("#rateOver", state="visible", timeout=WAIT_MS)
    assert other.is_hidden("#rateForm") and "投诉 / 监督" in text(other, "#rateOver")
