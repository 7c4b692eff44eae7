"""延时服务 on the pages (issue 12): a staff member opens extended hours from the
console by clicking, the hall screen shows its band at once (no reload), large
and whole at 1920×1080, 1366×768 and 1280×720, and ending it takes the band away; by the
keyboard (H, Enter) with the console's own "延时服务至 …" chip following the
server; and a hall screen opened while a session is in force shows it from the
start. The console names a checked-in booking 预约 (not 绿色通道) and a ticket
taken by a proxy 帮代办.

This module has its own server; zhangmin works window 3 (B 不动产登记), zhoujie
window 9 (F 税务).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.helpers import valid_id
from tests.pages.helpers import HALL, KIOSK, PASSWORDS, WAIT_MS, Hall, first_free_slot, text, wait_until
from tests.pages.measure import MEASURE, SMALLEST_PX

HALL_ZONE = ZoneInfo("Asia/Shanghai")  # the demo hall's


def hall_in(minutes: int) -> str:
    """The time on the hall's clock `minutes` from now, as "HH:MM"."""
    return f"{datetime.now(HALL_ZONE) + timedelta(minutes=minutes):%H:%M}"


def at_console(page: Any, hall: Hall, user: str, window: int) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(hall.base + "/console")
    page.fill("#username", user)
    page.fill("#password", PASSWORDS[user])
    page.click("#loginBtn")
    page.wait_for_selector("#workView:not([hidden]), #windowView:not([hidden])")
    if page.is_visible("#windowView"):
        page.click(f"[data-window='{window}']")
    page.wait_for_selector("#workView", state="visible")
    page.wait_for_selector("#curNumber:not(:empty)")


def hall_screen(browser: Any, hall: Hall, width: int = 1920, height: int = 1080) -> tuple[Any, Any]:
    ctx = browser.new_context(viewport={"width": width, "height": height})
    screen = ctx.new_page()
    errors: list[str] = []
    screen.on("pageerror", lambda e: errors.append(str(e)))
    screen.goto(f"{hall.base}/display#device={HALL}")
    screen.evaluate("() => { window.clearhallVoice.enabled = false; }")
    screen.wait_for_selector("#services .code")
    return ctx, errors


def in_force(hall: Hall) -> list[dict[str, Any]]:
    status, body = hall.call("GET", "/api/extended-hours")
    assert status == 200, body
    return list(body["extended"])


def end_all(hall: Hall) -> None:
    for s in in_force(hall):
        status, body = hall.call("DELETE", f"/api/extended-hours/{s['id']}", token=hall.login("supervisor"))
        assert status == 200, body


def test_opened_at_the_console_the_hall_screen_shows_it_at_once_and_drops_it_when_ended(
    page: Any, browser: Any, hall: Hall
) -> None:
    end_all(hall)
    ctx, screen_errors = hall_screen(browser, hall)
    screen = ctx.pages[0]
    assert screen.is_hidden("#extended")
    at_console(page, hall, "zhangmin", 3)

    page.click("#hoursBtn")
    page.wait_for_selector("#dlg[open]")
    assert page.is_checked("#fHoursServices input[data-service='B']")  # the window's services, ticked
    offered = page.input_value("#fUntil")
    assert offered[3:] in ("00", "15", "30", "45") or offered == "23:59"  # an hour on, to the quarter
    assert "本窗口业务当前没有延时服务" in text(page, "#hoursList")
    until = hall_in(90)
    page.fill("#fUntil", until)
    page.click("#dlgOk")
    page.wait_for_selector("#dlg", state="hidden", timeout=WAIT_MS)
    assert "已开启延时服务" in text(page, "#actionMsg")
    wait_until(page, lambda: page.is_visible("#hoursChip"))
    assert text(page, "#hoursChip") == f"延时服务至 {until}"

    # the hall screen, open all along, shows it without a reload
    screen.wait_for_selector("#extended:not([hidden])", timeout=WAIT_MS)
    band = text(screen, "#extended")
    assert "延时服务" in band and "不动产登记" in band and f"至 {until}" in band
    size = "() => parseFloat(getComputedStyle(document.querySelector('.extended-item')).fontSize)"
    assert screen.evaluate(size) >= 24
    for width, height in [(1920, 1080), (1366, 768), (1280, 720)]:  # read from 5 m: ≥ 24 px, nothing cut off
        screen.set_viewport_size({"width": width, "height": height})
        screen.wait_for_timeout(600)
        problems = screen.evaluate(MEASURE, SMALLEST_PX)
        assert not problems, f"{width}×{height}: " + "; ".join(problems)
    [session] = in_force(hall)
    assert session["services"] == ["B"] and session["opened_by"] == "张敏"

    page.click("#hoursBtn")
    page.wait_for_selector(f"#hoursList li[data-session='{session['id']}']")
    assert f"至 {until}" in text(page, "#hoursList")
    page.click(f"[data-end='{session['id']}']")
    page.wait_for_selector(
        f"#hoursList li[data-session='{session['id']}']", state="detached", timeout=WAIT_MS
    )
    page.keyboard.press("Escape")
    screen.wait_for_selector("#extended", state="hidden", timeout=WAIT_MS)
    assert page.is_hidden("#hoursChip")
    assert in_force(hall) == []
    ctx.close()
    assert not screen_errors


def test_h_then_enter_opens_it_for_the_windows_services_and_the_console_follows_the_server(
    page: Any, browser: Any, hall: Hall
) -> None:
    end_all(hall)
    at_console(page, hall, "zhoujie", 9)
    page.keyboard.press("h")
    page.wait_for_selector("#dlg[open]")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'fUntil'")
    page.keyboard.press("Enter")  # the time field has the focus: Enter sends the default
    page.wait_for_selector("#dlg", state="hidden", timeout=WAIT_MS)
    [session] = in_force(hall)
    assert session["services"] == ["F"]
    wait_until(page, lambda: page.is_visible("#hoursChip"))

    # a hall screen opened now reads it at its start
    ctx, screen_errors = hall_screen(browser, hall, 1366, 768)
    screen = ctx.pages[0]
    screen.wait_for_selector("#extended:not([hidden])", timeout=WAIT_MS)
    assert "税务" in text(screen, "#extended")

    # ended elsewhere (by a supervisor): the chip and the band go by themselves
    status, body = hall.call("DELETE", f"/api/extended-hours/{session['id']}", token=hall.login("supervisor"))
    assert status == 200, body
    page.wait_for_selector("#hoursChip", state="hidden", timeout=WAIT_MS)
    screen.wait_for_selector("#extended", state="hidden", timeout=WAIT_MS)
    ctx.close()
    assert not screen_errors


def test_the_console_names_a_checked_in_booking_as_such_not_green_channel(page: Any, hall: Hall) -> None:
    """A checked-in booking is called with the green channel, before walk-ins, but is
    named 预约 in the waiting list and on the current ticket."""
    hall.window("zhangmin", 3, "sign-in")
    hall.window("zhangmin", 3, "finish")
    walk_in = hall.issue("B")
    status, booked = hall.call("POST", "/api/appointments",
                               {"service": "B", "slot": first_free_slot(hall, "B"), "id_number": valid_id(7_000_002),
                                "phone": "13812345678"})  # fmt: skip
    assert status == 201, booked
    status, got = hall.call("POST", "/api/tickets", {"appointment": booked["appointment"]["code"]}, KIOSK)
    assert status == 201, got
    number = got["ticket"]["number"]

    at_console(page, hall, "zhangmin", 3)
    page.wait_for_selector(f"#waiting li[data-number='{number}']")
    tag = page.locator(f"#waiting li[data-number='{number}'] .cat")
    assert tag.inner_text() == "预约" and "appt" in (tag.get_attribute("class") or "")
    assert page.inner_text(f"#waiting li[data-number='{walk_in['number']}'] .cat") == "普通"
    page.keyboard.press("n")  # called before the walk-in who came first
    page.wait_for_function("n => document.querySelector('#curNumber').textContent === n", arg=number)
    assert page.locator("#curMeta .tag.appt").inner_text() == "预约"
    assert "绿色通道" not in text(page, "#workView")


def test_the_console_names_a_proxys_ticket_to_its_caller(page: Any, hall: Hall) -> None:
    """A ticket a proxy took says 帮代办, with the proxy's masked ID, to the staff who called it."""
    hall.window("zhoujie", 9, "sign-in")
    hall.window("zhoujie", 9, "finish")
    # 帮办员 周小红 (of the demo hall file) takes a number for an applicant
    taken = hall.issue("F", id_number=valid_id(7_000_001), proxy_id_number="430681197805120038")
    at_console(page, hall, "zhoujie", 9)
    page.keyboard.press("n")
    page.wait_for_function("n => document.querySelector('#curNumber').textContent === n", arg=taken["number"])
    meta = text(page, "#curMeta")
    assert "帮代办" in meta and "代办人证件 4306" in meta and "430681197805120038" not in meta
