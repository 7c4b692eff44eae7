"""Issue 12's whole loop in one browser test: a citizen books 不动产登记 on the phone
page, comes to the hall, puts the ID card on the kiosk's reader (a real
`clearhall kiosk-bridge` with its simulated reader), taps the booked service and
gets a 预约 ticket; the window's next call is that ticket, ahead of the walk-ins
who were waiting before the citizen even booked."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.helpers import free_port
from tests.pages.helpers import (
    KIOSK,
    WAIT_MS,
    Hall,
    id_of_someone_born_in_1990,
    kiosk_bridge,
    place,
    text,
    wait_until,
)

ZONE = ZoneInfo("Asia/Shanghai")  # the demo hall's
NAME = "林晓雯"


def book_on_the_phone(phone: Any, hall: Hall, id_number: str) -> dict[str, str]:
    """Book B's first free slot by tapping (its check-in window is open: B's slots are 30
    minutes apart and check-in opens 30 minutes before); the code and slot shown."""
    today = datetime.now(ZONE).date()
    status, offered = hall.call("GET", f"/api/appointments/slots?service=B&day={today}")
    assert status == 200, offered
    day = today if any(s["left"] for s in offered["slots"]) else today + timedelta(days=1)  # after 23:30
    phone.goto(f"{hall.base}/book")
    phone.tap("[data-service='B']")
    phone.tap(f"[data-day='{day}']")
    phone.wait_for_selector("#slotList [data-slot]")
    slot = phone.get_attribute("#slotList [data-slot]:not([disabled])", "data-slot")
    assert slot is not None
    phone.tap(f"[data-slot='{slot}']")
    phone.fill("#idNumber", id_number)
    phone.fill("#phone", "13912345678")
    phone.tap("#personNext")
    phone.wait_for_selector("#stepConfirm", state="visible")
    phone.tap("#confirmBtn")
    phone.wait_for_selector("#code:text-matches('^[A-Z0-9]{4}-[A-Z0-9]{4}$')", timeout=WAIT_MS)
    return {"code": text(phone, "#code"), "slot": slot}


def test_booked_on_the_phone_checked_in_by_card_called_before_walk_ins(
    browser: Any, page: Any, hall: Hall, tmp_path: Path
) -> None:
    hall.window("zhangmin", 3, "sign-in")  # window 3 serves B (不动产登记) alone
    hall.window("zhangmin", 3, "finish")
    walk_ins = [hall.issue("B")["number"] for _ in range(2)]  # waiting before the booking

    phone_ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        number = id_of_someone_born_in_1990()
        booking = book_on_the_phone(phone_ctx.new_page(), hall, number)
    finally:
        phone_ctx.close()
    slot = datetime.fromisoformat(booking["slot"])
    assert (slot - datetime.now(ZONE)).total_seconds() <= 30 * 60  # its check-in is open now

    port, card_file = free_port(), tmp_path / "card.json"
    page.set_viewport_size({"width": 1080, "height": 1920})
    page.goto(f"{hall.base}/kiosk?bridge={port}#device={KIOSK}")
    page.wait_for_selector("#scrServices", state="visible", timeout=WAIT_MS)
    with kiosk_bridge(port, card_file, hall.base, tmp_path / "bridge.log"):
        wait_until(page, lambda: page.evaluate("CH.kiosk.bridge.state()") == "open", timeout_ms=20_000)
        page.click("#checkinBtn")  # 预约签到
        page.wait_for_selector("#scrCheckin", state="visible")
        place(card_file, NAME, number)  # the card on the reader
        page.wait_for_selector("#scrServices", state="visible", timeout=WAIT_MS)
        assert "请选择您预约的业务" in text(page, "#person")
        page.click("[data-service='B']")
        page.click("[data-category='normal']")
        page.wait_for_selector("#scrTicket", state="visible", timeout=WAIT_MS)
        mine = page.evaluate("() => window.clearhallKiosk.state().ticket")
        card_file.unlink()
    assert mine["category"] == "appointment" and "预约" in text(page, "#scrTicket")
    day = slot.astimezone(ZONE).date().isoformat()
    status, today = hall.call("GET", f"/api/appointments/today?day={day}", token=hall.login("supervisor"))
    [b] = [s for s in today["services"] if s["code"] == "B"]
    assert (b["totals"]["booked"], b["totals"]["arrived"]) == (1, 1), b["totals"]

    status, called = hall.window("zhangmin", 3, "call-next")
    assert status == 200 and called["ticket"]["number"] == mine["number"], (called, walk_ins)
    assert called["ticket"]["category"] == "appointment"
    hall.window("zhangmin", 3, "finish")
    status, after = hall.window("zhangmin", 3, "call-next")
    assert after["ticket"]["number"] == walk_ins[0]  # then the walk-ins, in their order
