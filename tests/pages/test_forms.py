"""Page forms against the API (issue 9, item 3): a form that sends a field the API
refuses is a form that fails at the counter. Each form here is filled in full,
as a person would, and what it sent must be what the server kept.
"""

from __future__ import annotations

from typing import Any

from tests.pages.helpers import PASSWORDS, WAIT_MS, Hall, text


def at_console(page: Any, hall: Hall, user: str, window: int, waiting: int) -> None:
    """Logged in at the console and working `window`, its waiting list shown."""
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(hall.base + "/console")
    page.fill("#username", user)
    page.fill("#password", PASSWORDS[user])
    page.click("#loginBtn")
    # signed in already (by an earlier test, or over the API): the console goes straight to the window
    page.wait_for_selector("#workView:not([hidden]), #windowView:not([hidden])")
    if page.is_visible("#windowView"):
        page.click(f"[data-window='{window}']")
    page.wait_for_selector("#workView", state="visible")
    page.wait_for_function(
        "n => document.querySelectorAll('#waiting li[data-number]').length >= n", arg=waiting, timeout=WAIT_MS
    )


def test_the_consoles_transfer_with_a_note_is_accepted_and_logged(page: Any, hall: Hall) -> None:
    hall.window("zhangmin", 3, "sign-in")  # B is served now, so the form asks nothing more
    ticket = hall.issue("A")
    at_console(page, hall, "lina", 1, waiting=1)
    page.keyboard.press("n")
    page.wait_for_function("() => /^A\\d{3}$/.test(document.querySelector('#curNumber').textContent)")
    called = text(page, "#curNumber")
    page.keyboard.press("t")
    assert page.is_visible("#dlg")
    page.select_option("#fService", "B")
    page.fill("#fReason", "应办不动产登记，转至 B 业务")
    page.click("#dlgOk")
    page.wait_for_selector("#dlg", state="hidden", timeout=WAIT_MS)
    page.wait_for_function("() => document.querySelector('#curNumber').classList.contains('none')")
    status, login = hall.call(
        "POST", "/api/login", {"username": "supervisor", "password": "demo-supervisor-2026"}
    )
    assert status == 200
    status, log = hall.call("GET", "/api/audit-log?action=transfer", token=login["token"])
    assert status == 200
    entry = next(e for e in log["entries"] if e["ticket_number"] == called)
    assert entry["reason"] == "应办不动产登记，转至 B 业务" and entry["details"]["to_service"] == "B"
    assert ticket["number"] == called


def test_the_consoles_out_of_order_call_sends_number_and_reason(page: Any, hall: Hall) -> None:
    hall.issue("B")
    later = hall.issue("B")
    at_console(page, hall, "zhangmin", 3, waiting=2)
    page.keyboard.press("c")
    page.fill("#fNumber", later["number"].lower())  # typed as a person types it
    page.fill("#fReason", "预约办理，按约定时间叫号")
    page.click("#dlgOk")
    page.wait_for_function("n => document.querySelector('#curNumber').textContent === n", arg=later["number"])
    status, login = hall.call(
        "POST", "/api/login", {"username": "supervisor", "password": "demo-supervisor-2026"}
    )
    status, log = hall.call("GET", "/api/audit-log?action=call", token=login["token"])
    assert status == 200
    entry = next(e for e in log["entries"] if e["ticket_number"] == later["number"])
    assert entry["reason"] == "预约办理，按约定时间叫号" and entry["rule_ticket_number"] != later["number"]


def test_a_transfer_into_a_service_nobody_serves_now_asks_first(page: Any, hall: Hall) -> None:
    """Issue 9, item 5: the transfer form marks a service that no open window handles now
    ("当前无窗口办理此业务") and sends it only once the clerk has ticked that the citizen knows."""
    hall.window("lina", 1, "sign-in")  # A is served now; nobody works H (window 12)
    hall.window("zhangmin", 3, "sign-in")
    hall.window("zhangmin", 3, "finish")  # whatever an earlier test left current
    hall.issue("B")
    at_console(page, hall, "zhangmin", 3, waiting=1)
    page.keyboard.press("n")  # (a ticket transferred into B keeps its number: it may be an A…)
    page.wait_for_function("() => /^[A-H]\\d{3}$/.test(document.querySelector('#curNumber').textContent)")
    called = text(page, "#curNumber")
    page.keyboard.press("t")
    page.select_option("#fService", "A")
    assert page.is_hidden("#fUnstaffed")
    assert "当前无窗口办理此业务" not in page.inner_text("#fService option[value='A']")
    assert "当前无窗口办理此业务" in page.inner_text("#fService option[value='H']")
    page.select_option("#fService", "H")
    assert page.is_visible("#fUnstaffed")
    page.fill("#fReason", "应办工程建设审批")
    page.click("#dlgOk")
    assert "请确认" in text(page, "#dlgMsg") and page.is_visible("#dlg")
    page.check("#fUnstaffedOk")
    page.click("#dlgOk")
    page.wait_for_selector("#dlg", state="hidden", timeout=WAIT_MS)
    page.wait_for_function(
        "() => document.querySelector('#actionMsg').textContent.includes('当前无窗口办理此业务')"
    )
    status, login = hall.call(
        "POST", "/api/login", {"username": "supervisor", "password": "demo-supervisor-2026"}
    )
    status, log = hall.call("GET", "/api/audit-log?action=transfer", token=login["token"])
    assert status == 200
    entry = next(e for e in log["entries"] if e["ticket_number"] == called)
    assert entry["details"]["to_service"] == "H" and entry["reason"] == "应办工程建设审批"
