"""投诉 from the phone page and the kiosk (issue 10, item 5): a person touches the
topics, writes or not, leaves a number or not, and the complaint becomes a case
the supervisors see, with its due date told back; a refusal for sending too
many is told in words.

Window 5 (chenjing, service C) is the phone's; the kiosk names window 3.
"""

from __future__ import annotations

from typing import Any

from tests.pages.helpers import KIOSK, WAIT_MS, Hall, text
from tests.pages.measure import SIZES

TOO_MANY = {"ok": False, "status": 429,
            "error": {"code": "rate_limited", "message": "too fast", "retry_after": 90}}  # fmt: skip


def complaint_cases(hall: Hall) -> list[dict[str, Any]]:
    code, body = hall.call("GET", "/api/follow-ups?kind=complaint", None, hall.login("supervisor"))
    assert code == 200, body
    return list(body["follow_ups"])


def open_phone(page: Any, hall: Hall) -> dict[str, Any]:
    hall.window("chenjing", 5, "sign-in")
    mine = hall.issue("C")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{hall.base}/{mine['url'].split('://', 1)[1].split('/', 1)[1]}")
    page.wait_for_selector("#main", state="visible", timeout=WAIT_MS)
    return mine


def open_kiosk(page: Any, hall: Hall) -> None:
    page.set_viewport_size({"width": 1080, "height": 1920})
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.wait_for_selector("#scrServices", state="visible", timeout=WAIT_MS)
    page.click("#complainBtn")
    page.wait_for_selector("#scrComplaint", state="visible")


def test_a_complaint_from_the_phone_becomes_a_case(page: Any, hall: Hall) -> None:
    mine = open_phone(page, hall)  # still waiting: a complaint may come at any time
    assert "等候中" in text(page, "#status")
    page.click("#complainOpen")
    page.wait_for_selector("#complainForm", state="visible")
    page.click("#complainSubmit")
    assert "请点选问题" in text(page, "#complainMsg")

    page.click("#topics [data-topic='topic_wait']")
    for label, width, height in page.evaluate(
        SIZES, "#topics .chip, #complainContact, #complainCancel, #complainSubmit"
    ):
        assert width >= 48 and height >= 48, (label, width, height)
    page.fill("#complainText", "叫号屏坏了，排了一个多小时")
    page.fill("#complainContact", "13912345678")
    page.click("#complainSubmit")
    page.wait_for_selector("#complained", state="visible", timeout=WAIT_MS)
    assert page.is_hidden("#complainForm")

    case = next(c for c in complaint_cases(hall) if c["complaint"]["ticket"] == mine["number"])
    assert case["complaint"]["text"] == "等候时间过长：叫号屏坏了，排了一个多小时"
    assert case["contact"] == "13912345678" and case["state"] == "open"
    told = text(page, "#complained")
    assert f"工单编号 {case['id']}" in told
    month, day = case["due_at"][5:7], case["due_at"][8:10]
    assert f"我们将在{int(month)}月{int(day)}日" in told and "前答复" in told
    assert page.is_visible(f"#handling [data-case='{case['id']}']")  # followed on this page from now on


def test_a_complaint_at_the_kiosk_is_made_of_touches(page: Any, hall: Hall) -> None:
    open_kiosk(page, hall)
    page.click("#cpNext")
    assert "至少点选一个问题" in text(page, "#cpMsg")
    page.click("[data-topic='topic_attitude']")
    page.click("[data-topic='topic_favours']")
    page.wait_for_selector("#cpWindows [data-window='3']", state="visible", timeout=WAIT_MS)
    page.click("#cpWindows [data-window='3']")
    page.click("#cpNext")
    page.wait_for_selector("#scrComplaintContact", state="visible")
    assert text(page, "#cpSend") == "不留电话，直接提交"
    for digit in "139876":
        page.click(f"#cpPad [data-cp='{digit}']")
    assert page.is_disabled("#cpSend") and "至少 7 位" in text(page, "#cpFeedback")
    for digit in "54321":
        page.click(f"#cpPad [data-cp='{digit}']")
    assert text(page, "#cpSend") == "提交投诉"
    page.click("#cpSend")
    page.wait_for_selector("#scrComplained", state="visible", timeout=WAIT_MS)

    case = next(c for c in complaint_cases(hall) if c["contact"] == "13987654321")
    assert case["complaint"]["text"] == "工作人员态度、索要好处" and case["complaint"]["ticket"] is None
    assert case["window"] == 3
    assert f"工单编号：{case['id']}" in text(page, "#cpId")
    month, day = case["due_at"][5:7], case["due_at"][8:10]
    assert f"{int(month)}月{int(day)}日" in text(page, "#cpDue")
    page.click("#scrComplained [data-go='home']")  # the next citizen starts afresh
    page.wait_for_selector("#scrServices", state="visible")
    page.click("#complainBtn")
    assert page.eval_on_selector_all("[aria-pressed='true']", "els => els.length") == 0


def test_too_many_complaints_are_refused_in_words(page: Any, hall: Hall) -> None:
    page.route("**/api/complaints", lambda route: route.fulfill(status=429, json=TOO_MANY))
    open_phone(page, hall)
    page.click("#complainOpen")
    page.fill("#complainText", "窗口工作人员中途离岗")
    page.click("#complainSubmit")
    page.wait_for_function(
        "() => document.querySelector('#complainMsg').textContent.includes('分钟')", timeout=WAIT_MS
    )
    assert "请 2 分钟后再试" in text(page, "#complainMsg") and "12345" in text(page, "#complainMsg")
    assert page.is_visible("#complainForm")  # what was written is still there
    assert page.input_value("#complainText") == "窗口工作人员中途离岗"

    open_kiosk(page, hall)
    page.click("#langBtn")
    page.click("[data-topic='topic_wait']")
    page.click("#cpNext")
    page.click("#cpSend")
    page.wait_for_function(
        "() => document.querySelector('#cpSendMsg').textContent.includes('minutes')", timeout=WAIT_MS
    )
    assert "Please try again in 2 minutes" in text(page, "#cpSendMsg")
    assert page.is_visible("#scrComplaintContact")
