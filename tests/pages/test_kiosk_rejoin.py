"""The kiosk for a citizen who comes back (issue 9, items 1 and 8), in a real headless
Chromium: 回队 by the receipt's QR typed by a USB barcode scanner on any screen, by
the number and ID number on the keypads; a refused duplicate ID that shows the held
ticket with a 补打 that prints, and 回队 for a held ticket that is suspended.

Each test suspends its tickets at its own windows: 1 (lina, A), 3 (zhangmin, B).
"""

from __future__ import annotations

import re
from typing import Any

from tests.helpers import valid_id
from tests.pages.helpers import KIOSK, PASSWORDS, WAIT_MS, Hall, _ids, text


def suspended(hall: Hall, user: str, window: int, ticket: dict[str, Any]) -> None:
    """Call `ticket` at `window` and suspend it for a missing document."""
    status, body = hall.window(user, window, "sign-in")
    assert status == 200, body
    hall.call_until(user, window, ticket["number"])
    status, body = hall.window(user, window, "suspend", {"reason": "缺少材料", "missing": ["完税证明"]})
    assert status == 200 and body["ticket"]["status"] == "suspended", body


def status_of(hall: Hall, ticket: dict[str, Any]) -> str:
    code, body = hall.call("GET", f"/api/tickets/{ticket['id']}?key={ticket['key']}")
    assert code == 200, body
    return str(body["ticket"]["status"])


def open_kiosk(page: Any, hall: Hall) -> None:
    page.set_viewport_size({"width": 1080, "height": 1920})
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.wait_for_selector("#scrServices", state="visible", timeout=WAIT_MS)


def test_scanning_the_receipt_anywhere_puts_a_suspended_ticket_back(page: Any, hall: Hall) -> None:
    ticket = hall.issue("A")
    suspended(hall, "lina", 1, ticket)
    open_kiosk(page, hall)
    page.click("[data-service='C']")  # the citizen is somewhere else on the kiosk
    page.wait_for_selector("#scrCategory", state="visible")
    # the scanner types the phone URL of the receipt's QR code, then Enter
    page.keyboard.type(ticket["url"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#scrRejoined", state="visible", timeout=WAIT_MS)
    assert text(page, "#rdNumber") == ticket["number"]
    assert "回队成功" in text(page, "#rdTitle") and "原来的排队位置" in text(page, "#rdNote")
    assert re.search(r"前面还有\s*\d+\s*人", text(page, "#rdAhead"))
    assert status_of(hall, ticket) == "waiting"


def test_scanning_while_typing_an_id_number_leaves_the_field_as_it_was(page: Any, hall: Hall) -> None:
    ticket = hall.issue("A")
    suspended(hall, "lina", 1, ticket)
    open_kiosk(page, hall)
    page.click("[data-service='B']")
    page.click("[data-category='normal']")
    for ch in "4306":
        page.click(f"[data-key='{ch}']")
    page.keyboard.type(ticket["url"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#scrRejoined", state="visible", timeout=WAIT_MS)
    assert page.evaluate("() => window.clearhallKiosk.state().entry.value") == "4306"
    assert status_of(hall, ticket) == "waiting"


def test_rejoin_by_number_and_id_number_on_the_keypads(page: Any, hall: Hall) -> None:
    id_number = valid_id(7000 + next(_ids))
    ticket = hall.issue("B", id_number=id_number)
    suspended(hall, "zhangmin", 3, ticket)
    open_kiosk(page, hall)
    page.click("#rejoinBtn")
    page.wait_for_selector("#scrRejoin", state="visible")
    assert page.is_disabled("#rjNext")
    for key in ticket["number"]:
        page.click(f"#scrRejoin [data-rj='{key}']")
    assert text(page, "#rjEntry") == ticket["number"]
    page.click("#rjNext")
    page.wait_for_selector("#scrRealName", state="visible")
    assert "身份证号或手机号" in text(page, "#rnSub") and ticket["number"] in text(page, "#rnService")
    # a wrong ID number is told, and nothing changes
    other = valid_id(7000 + next(_ids))
    for ch in other:
        page.click(f"#keypad [data-key='{ch}']")
    page.click("#confirmBtn")
    page.wait_for_function("() => document.querySelector('#rnMsg').textContent.includes('未能回队')")
    assert status_of(hall, ticket) == "suspended"
    page.click("#keypad [data-key='clear']")
    for ch in id_number:
        page.click(f"#keypad [data-key='{ch}']")
    page.click("#confirmBtn")
    page.wait_for_selector("#scrRejoined", state="visible", timeout=WAIT_MS)
    assert text(page, "#rdNumber") == ticket["number"]
    assert status_of(hall, ticket) == "waiting"


def test_a_refused_duplicate_shows_the_held_ticket_and_reprints_it(page: Any, hall: Hall) -> None:
    id_number = valid_id(7000 + next(_ids))
    held = hall.issue("B", id_number=id_number)
    open_kiosk(page, hall)
    page.click("[data-service='B']")
    page.click("[data-category='normal']")
    for ch in id_number:
        page.click(f"#keypad [data-key='{ch}']")
    page.click("#confirmBtn")
    page.wait_for_selector("#scrDuplicate", state="visible", timeout=WAIT_MS)
    shown = text(page, "#dupText")
    assert re.fullmatch(rf"您已取过号：{held['number']}，前面还有 \d+ 人", shown), shown
    assert page.is_visible("#dupReprint") and page.is_hidden("#dupRejoin")
    page.click("#dupReprint")
    page.wait_for_function(
        "() => document.querySelector('#dupPrint').textContent.includes('已补打')", timeout=WAIT_MS
    )
    supervisor = hall.login("supervisor")
    code, log = hall.call("GET", f"/api/audit-log?action=reprint&ticket={held['number']}", token=supervisor)
    assert code == 200 and [e["actor_name"] for e in log["entries"]] == ["kiosk-1"], log
    # the ID number is held for this screen only
    page.click("#scrDuplicate [data-go='home']")
    page.wait_for_selector("#scrServices", state="visible")
    assert page.evaluate("() => window.clearhallKiosk.state().entry.value") == ""
    assert id_number not in page.evaluate("() => document.body.textContent.replace(/[\\s·]/g, '')")


def test_a_held_ticket_that_is_suspended_rejoins_from_the_duplicate_screen(page: Any, hall: Hall) -> None:
    id_number = valid_id(7000 + next(_ids))
    held = hall.issue("B", id_number=id_number)
    suspended(hall, "zhangmin", 3, held)
    open_kiosk(page, hall)
    page.click("[data-service='B']")
    page.click("[data-category='normal']")
    for ch in id_number:
        page.click(f"#keypad [data-key='{ch}']")
    page.click("#confirmBtn")
    page.wait_for_selector("#scrDuplicate", state="visible", timeout=WAIT_MS)
    assert "已挂起" in text(page, "#dupText") and "完税证明" in text(page, "#dupMissing")
    page.click("#dupRejoin")
    page.wait_for_selector("#scrRejoined", state="visible", timeout=WAIT_MS)
    assert text(page, "#rdNumber") == held["number"]
    assert status_of(hall, held) == "waiting"


def test_the_rejoin_screen_speaks_english_too(page: Any, hall: Hall) -> None:
    assert PASSWORDS  # the demo's log-ins are loaded
    page.goto(f"{hall.base}/kiosk?lang=en#device={KIOSK}")
    page.click("#rejoinBtn")
    page.wait_for_selector("#scrRejoin", state="visible")
    words = text(page, "#scrRejoin")
    assert "Scan the QR code" in words and not re.search(r"[\u4e00-\u9fff]", words)
