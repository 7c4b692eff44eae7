"""预约签到, 延时服务 and 帮代办 at the kiosk (issue 12), in a real headless Chromium.

A citizen with a booking checks it in at the kiosk — by its code typed on the
check-in keypad, by its QR code at the USB barcode scanner (fast keystrokes and
Enter, on any screen), or by the ID card and the booked service — and gets a
ticket of category 预约; one who comes too early is told when check-in opens
and may take an ordinary number instead. Outside the hall's hours the kiosk
shows the closed screen, and the services a supervisor has extended (延时服务)
appear on it as tiles, live, that can still be taken. A proxy (代办人) takes a
ticket for an applicant with both ID numbers, typed or read from two cards.

Bookings are made over the public API (`POST /api/appointments`, a slot from
`GET /api/appointments/slots`), as a citizen's phone makes them. The closed
hall is a second server of this module: the demo hall, open on working days
only, with today a holiday.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.helpers import valid_id
from tests.pages.helpers import FAKE_SPEECH, KIOSK, WAIT_MS, Hall, _ids, demo_hall_file, serving, text

ZONE = ZoneInfo("Asia/Shanghai")  # the demo hall's
PROMPT = "请将预约二维码对准扫描口，或输入预约码，或将身份证放在感应区"
# The next slot (B and D have one every 30 minutes): its check-in, from 30 minutes before, is open
# already (a slot starting in the next few seconds is left to the clock: it may be gone when booked).
CHECKABLE = {"after": timedelta(seconds=5), "before": timedelta(minutes=30, seconds=5)}


# -- bookings ------------------------------------------------------------------


def book(hall: Hall, service: str, id_number: str, *, after: timedelta, before: timedelta) -> dict[str, Any]:
    """A booking of `service` for `id_number` whose slot starts between now + `after`
    and now + `before` (the first such slot with room, today or tomorrow):
    {"id", "code", "slot", "url"}."""
    now = datetime.now(UTC)
    for day in (now.astimezone(ZONE).date(), now.astimezone(ZONE).date() + timedelta(days=1)):
        status, body = hall.call("GET", f"/api/appointments/slots?service={service}&day={day:%Y-%m-%d}")
        assert status == 200, body
        for slot in body["slots"]:
            start = datetime.fromisoformat(slot["start"])
            if now + after < start <= now + before and slot["left"] > 0:
                order = {
                    "service": service,
                    "slot": slot["start"],
                    "id_number": id_number,
                    "phone": "13800138000",
                }
                status, made = hall.call("POST", "/api/appointments", order)
                assert status == 201, made
                return dict(made["appointment"])
    raise AssertionError(f"no slot of {service} between {now + after} and {now + before}")


def shown_time(moment: datetime) -> str:
    """How the kiosk writes a moment: 10:00 today, 明天 10:00 tomorrow (the hall's calendar)."""
    local, today = moment.astimezone(ZONE), datetime.now(ZONE).date()
    return f"{local:%H:%M}" if local.date() == today else f"明天 {local:%H:%M}"


# -- the kiosk -----------------------------------------------------------------


def open_kiosk(page: Any, hall: Hall) -> None:
    page.set_viewport_size({"width": 1080, "height": 1920})
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.wait_for_selector("#scrServices", state="visible", timeout=WAIT_MS)


def type_code(page: Any, code: str) -> None:
    page.click("#checkinBtn")
    page.wait_for_selector("#scrCheckin", state="visible")
    for ch in code:
        page.click(f"#ciPad [data-ci='{ch}']")


def type_id(page: Any, pad: str, id_number: str) -> None:
    for ch in id_number:
        page.click(f"{pad} [data-{'px' if pad == '#pxPad' else 'key'}='{ch}']")


def shown_ticket(page: Any, hall: Hall) -> dict[str, Any]:
    """The ticket on the kiosk's screen, as its citizen's phone reads it from the server."""
    page.wait_for_selector("#scrTicket", state="visible", timeout=WAIT_MS)
    mine = page.evaluate("() => window.clearhallKiosk.state().ticket")
    status, body = hall.call("GET", f"/api/tickets/{mine['id']}?key={mine['key']}")
    assert status == 200, body
    assert body["ticket"]["number"] == text(page, "#tNumber")
    return dict(body["ticket"])


def card(page: Any, id_number: str, name: str = "王小明") -> bool:
    return bool(page.evaluate("c => CH.kiosk.cardRead(c)", {"name": name, "id_number": id_number}))


# -- 预约签到 ---------------------------------------------------------------------


def test_a_booking_code_typed_on_the_keypad_checks_in(page: Any, hall: Hall) -> None:
    """A citizen whose slot starts within half an hour taps 预约签到, reads the prompt,
    types the 8-character code (shown 4-4) and taps 确认签到: the ticket screen says
    签到成功 and 预约, and the server's ticket is an appointment. The same code a second
    time is refused in the server's words, with 重新输入."""
    booking = book(hall, "B", valid_id(next(_ids)), **CHECKABLE)
    code = booking["code"]
    assert re.fullmatch(r"[23456789A-HJ-NP-Z]{8}", code), code
    open_kiosk(page, hall)
    type_code(page, code[:6])
    assert PROMPT in text(page, "#scrCheckin")
    assert text(page, "#ciEntry").replace("·", "").split() == [code[:4], code[4:6]]
    assert page.is_disabled("#ciConfirm")
    for ch in code[6:]:
        page.click(f"#ciPad [data-ci='{ch}']")
    assert text(page, "#ciEntry").split() == [code[:4], code[4:]]
    page.click("#ciConfirm")
    ticket = shown_ticket(page, hall)
    assert ticket["category"] == "appointment" and ticket["service"] == "B"
    assert "预约" in text(page, "#tService") and "签到成功" in text(page, "#tTitle")
    page.click("#scrTicket [data-go='home']")
    page.wait_for_selector("#scrServices", state="visible")
    type_code(page, code)
    page.click("#ciConfirm")
    page.wait_for_selector("#scrCheckinNo", state="visible", timeout=WAIT_MS)
    assert (
        "已签到" in text(page, "#ciNoText") and page.is_visible("#ciRetype") and page.is_hidden("#ciWalkIn")
    )


def test_the_barcode_scanner_checks_a_booking_in_from_any_screen(page: Any, hall: Hall) -> None:
    """A citizen holds the booking's QR to the scanner while the kiosk shows the ID keypad
    of another service: the scanner types the booking's address and Enter within
    milliseconds, and the kiosk checks the booking in. The same text typed slowly, as a
    person types, is not a scan: nothing happens but the keys."""
    booking = book(hall, "D", valid_id(next(_ids)), **CHECKABLE)
    assert booking["url"].endswith("code=" + booking["code"]), booking["url"]
    open_kiosk(page, hall)
    page.click("[data-service='E']")
    page.click("[data-category='normal']")
    page.wait_for_selector("#scrRealName", state="visible")
    page.keyboard.type(booking["url"], delay=90)  # a person, slowly
    page.keyboard.press("Enter")
    page.wait_for_timeout(500)
    assert page.is_visible("#scrRealName")
    page.click("#keypad [data-key='clear']")
    for ch in "4306":
        page.click(f"#keypad [data-key='{ch}']")
    page.keyboard.type(booking["url"], delay=5)  # the scanner
    page.keyboard.press("Enter")
    ticket = shown_ticket(page, hall)
    assert ticket["category"] == "appointment" and ticket["service"] == "D"
    assert "预约" in text(page, "#tService")


def test_the_id_card_checks_in_the_booked_service(page: Any, hall: Hall) -> None:
    """On the check-in screen a citizen puts the ID card on the reader: the kiosk asks for
    the booked service; tapping it (and 普通) checks the booking in, no code needed."""
    id_number = valid_id(next(_ids))
    book(hall, "B", id_number, **CHECKABLE)
    open_kiosk(page, hall)
    page.click("#checkinBtn")
    assert card(page, id_number)
    page.wait_for_selector("#scrServices", state="visible")
    assert "请选择您预约的业务" in text(page, "#person")
    page.click("[data-service='B']")
    page.click("[data-category='normal']")
    ticket = shown_ticket(page, hall)
    assert ticket["category"] == "appointment"


def test_too_early_says_when_and_offers_an_ordinary_number(page: Any, hall: Hall) -> None:
    """A citizen comes hours before the booked slot and types the code: the kiosk says
    "您预约的是 HH:MM，请于 HH:MM 起签到" and offers 取普通号; that leads to the service
    and an ordinary ticket (the booking stays for its slot)."""
    id_number = valid_id(next(_ids))
    booking = book(hall, "B", id_number, after=timedelta(hours=2), before=timedelta(hours=6))
    slot = datetime.fromisoformat(booking["slot"])
    open_kiosk(page, hall)
    type_code(page, booking["code"])
    page.click("#ciConfirm")
    page.wait_for_selector("#scrCheckinNo", state="visible", timeout=WAIT_MS)
    said = f"您预约的是 {shown_time(slot)}，请于 {shown_time(slot - timedelta(minutes=30))} 起签到"
    assert text(page, "#ciNoText") == said
    assert "还没到签到时间" in text(page, "#ciNoTitle") and page.is_visible("#ciRetype")
    page.click("#ciWalkIn")
    page.wait_for_selector("#scrServices:not([hidden]), #scrCategory:not([hidden])")
    if page.is_visible("#scrServices"):  # the server did not say whose service the booking is
        page.click("[data-service='B']")
    page.click("[data-category='normal']")
    type_id(page, "#keypad", id_number)
    page.click("#confirmBtn")
    ticket = shown_ticket(page, hall)
    assert ticket["category"] == "normal" and ticket["service"] == "B"
    assert "预约" not in text(page, "#tService")


def test_too_early_by_the_id_card_takes_the_ordinary_number_at_once(page: Any, hall: Hall) -> None:
    """The same early citizen with the ID card: the card, the service, 普通 — refused with
    the time — and 取普通号 issues the ordinary number at once."""
    id_number = valid_id(next(_ids))
    booking = book(hall, "D", id_number, after=timedelta(hours=2), before=timedelta(hours=6))
    open_kiosk(page, hall)
    assert card(page, id_number)
    page.click("[data-service='D']")
    page.click("[data-category='normal']")
    page.wait_for_selector("#scrCheckinNo", state="visible", timeout=WAIT_MS)
    assert shown_time(datetime.fromisoformat(booking["slot"])) in text(page, "#ciNoText")
    assert page.is_hidden("#ciRetype")  # nothing was typed
    page.click("#ciWalkIn")
    ticket = shown_ticket(page, hall)
    assert ticket["category"] == "normal" and ticket["service"] == "D"


# -- 帮代办 ------------------------------------------------------------------------


def test_a_proxy_takes_a_ticket_for_an_applicant_on_the_keypad(page: Any, hall: Hall) -> None:
    """At the real-name step a proxy taps 我是代办人（帮他人办理）, types the applicant's ID
    number and then their own, and takes the ticket: it says 代办, the server recorded the
    proxy's number beside the applicant's, and the kiosk keeps neither afterwards."""
    applicant, proxy = valid_id(next(_ids)), valid_id(next(_ids))
    open_kiosk(page, hall)
    page.click("[data-service='E']")
    page.click("[data-category='normal']")
    page.click("#rnProxy")
    page.wait_for_selector("#scrProxy", state="visible")
    type_id(page, "#pxPad", applicant)
    assert page.get_attribute("#pxProxy", "aria-pressed") == "true"  # on to the proxy's own number
    type_id(page, "#pxPad", proxy)
    page.click("#pxConfirm")
    ticket = shown_ticket(page, hall)
    assert ticket["proxy"] is True and ticket["service"] == "E"
    assert "代办" in text(page, "#tService")
    status, log = hall.call(
        "GET", f"/api/audit-log?action=issue&ticket={ticket['number']}", token=hall.login("supervisor")
    )
    assert status == 200, log
    assert log["entries"][0]["details"]["proxy"] == proxy[:4] + "*" * 10 + proxy[-4:]
    assert page.evaluate("() => CH.kiosk.proxy.fields()") == {
        "applicant": "",
        "proxy": "",
        "active": "applicant",
    }
    for ch in (applicant, proxy):
        assert ch not in page.evaluate("() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")


def test_a_proxy_with_two_id_cards(page: Any, hall: Hall) -> None:
    """For a service without a real-name step the proxy taps 我是代办人 on the category
    screen, then a category; the first card read is the applicant's, the second their own."""
    applicant, proxy = valid_id(next(_ids)), valid_id(next(_ids))
    open_kiosk(page, hall)
    page.click("[data-service='C']")
    page.click("#catProxy")
    assert page.get_attribute("#catProxy", "aria-pressed") == "true"
    page.click("[data-category='elderly']")
    page.wait_for_selector("#scrProxy", state="visible")
    assert card(page, applicant, "李桂兰") and card(page, proxy)
    assert page.is_enabled("#pxConfirm")
    page.click("#pxConfirm")
    ticket = shown_ticket(page, hall)
    assert ticket["proxy"] is True and ticket["category"] == "elderly"
    assert page.evaluate("() => window.clearhallKiosk.state().entry.value") == ""


# -- 延时服务 outside the hall's hours ----------------------------------------------


def closed_today() -> str:
    """The demo hall, open on working days only, with today (in the hall) a holiday."""
    today = f"{datetime.now(ZONE):%Y-%m-%d}"
    text_ = demo_hall_file().replace(f'"{today}"', '"2000-01-03"')  # not a 调休 working day either
    assert 'open_days = "all"' in text_ and "holidays = [" in text_
    return text_.replace('open_days = "all"', 'open_days = "workdays"').replace(
        "holidays = [", f'holidays = ["{today}", ', 1
    )


@pytest.fixture(scope="module")
def closed_hall(pg_url: str) -> Iterator[Hall]:
    with serving(pg_url, f"clearhall_pages_closed_{os.getpid()}", closed_today()) as running:
        yield running


@pytest.fixture
def closed_page(browser: Any, closed_hall: Hall) -> Iterator[Any]:
    """A kiosk browser on the closed hall that fails the test on a JavaScript error."""
    ctx = browser.new_context(viewport={"width": 1080, "height": 1920})
    p = ctx.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    ctx.close()
    assert not errors, f"JavaScript errors: {errors}"


def test_extended_hours_show_on_the_closed_kiosk_live(closed_page: Any, closed_hall: Hall) -> None:
    """On a closed day the kiosk shows the hours and the next opening, and the server
    refuses its tickets. A supervisor opens 延时服务 for 不动产登记 (B): without a reload the
    kiosk lists "延时服务：不动产登记 至 HH:MM" with B as a tile, and a citizen takes a B
    ticket there; other services are still refused."""
    page, hall = closed_page, closed_hall
    services = hall.call("GET", "/api/services")[1]["hall"]
    assert services["open_now"] is False and services["opens"], services
    status, body = hall.call("POST", "/api/tickets", {"service": "C"}, KIOSK)
    assert status == 409 and body["error"]["code"] == "closed", body
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.wait_for_selector("#scrClosed", state="visible", timeout=WAIT_MS)
    assert "办公时间：00:00–23:59" in text(page, "#closedHours")
    assert text(page, "#closedOpens").startswith("下次开放：")
    assert page.is_hidden("#extendedBox") and page.is_visible("#closedCheckin")

    until = datetime.now(UTC) + timedelta(hours=2)
    status, body = hall.call(
        "POST",
        "/api/extended-hours",
        {"services": ["B"], "until": until.isoformat()},
        hall.login("supervisor"),
    )
    assert status == 201, body
    page.wait_for_selector("#extendedTiles [data-service='B']", timeout=WAIT_MS)
    assert text(page, "#extendedList") == f"延时服务：不动产登记 至 {shown_time(until)}"
    assert page.locator("#extendedTiles .tile").count() == 1
    page.click("#extendedTiles [data-service='B']")
    page.click("[data-category='normal']")
    type_id(page, "#keypad", valid_id(next(_ids)))
    page.click("#confirmBtn")
    ticket = shown_ticket(page, hall)
    assert ticket["service"] == "B"
    status, body = hall.call("POST", "/api/tickets", {"service": "C"}, KIOSK)
    assert status == 409 and body["error"]["code"] == "closed", body


def test_a_ticket_refused_as_closed_shows_the_closed_screen(closed_page: Any, closed_hall: Hall) -> None:
    """A kiosk that believes the hall open (its hint rewritten here) lets a citizen pick
    社保医保 (C); the server refuses the ticket as closed, and the kiosk shows the closed
    screen with the hours and the next opening the server sent."""
    page, hall = closed_page, closed_hall

    def open_hint(route: Any) -> None:
        resp = route.fetch()
        body = resp.json()
        body["hall"]["open_now"] = True
        route.fulfill(response=resp, json=body)

    page.route("**/api/services", open_hint)
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.wait_for_selector("#scrServices", state="visible", timeout=WAIT_MS)
    page.click("[data-service='C']")
    page.click("[data-category='normal']")
    page.wait_for_selector("#scrClosed", state="visible", timeout=WAIT_MS)
    assert "00:00–23:59" in text(page, "#closedHours") and "下次开放" in text(page, "#closedOpens")


def test_extended_hours_missed_while_the_socket_was_down_show_after_it_reconnects(
    closed_page: Any, closed_hall: Hall
) -> None:
    """A session opened while the kiosk's socket lost its news (hours.changed dropped on the
    way here) shows once the socket is up again: the kiosk reads the sessions afresh."""
    page, hall = closed_page, closed_hall
    sockets: list[Any] = []

    def lossy(ws: Any) -> None:
        server = ws.connect_to_server()
        sockets.append(ws)
        first = len(sockets) == 1  # the first socket loses hours.changed; the next ones do not
        server.on_message(lambda m: None if first and '"hours.changed"' in str(m) else ws.send(m))

    page.route_web_socket(re.compile(r"/ws\?"), lossy)
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.wait_for_selector("#scrClosed", state="visible", timeout=WAIT_MS)
    page.wait_for_function("() => document.querySelector('#offline').hidden")
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    status, body = hall.call(
        "POST", "/api/extended-hours", {"services": ["D"], "until": until}, hall.login("supervisor")
    )
    assert status == 201, body
    page.wait_for_timeout(1000)
    assert page.locator("#extendedTiles [data-service='D']").count() == 0  # the news was lost
    sockets[0].close()
    page.wait_for_selector("#extendedTiles [data-service='D']", timeout=WAIT_MS)
    assert len(sockets) >= 2


# -- words and voice ---------------------------------------------------------------


def test_the_check_in_screen_speaks_english_and_is_said_in_elder_mode(page: Any, hall: Hall) -> None:
    """In English the check-in screen has no Chinese left; in 长者模式 its prompt is spoken."""
    page.add_init_script(FAKE_SPEECH)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{hall.base}/kiosk?lang=en#device={KIOSK}")
    page.wait_for_selector("#scrServices", state="visible", timeout=WAIT_MS)
    page.click("#checkinBtn")
    words = text(page, "#scrCheckin")
    assert "Hold your booking's QR code to the scanner" in words and not re.search(r"[\u4e00-\u9fff]", words)
    page.click("#langBtn")
    page.click("#elderBtn")
    page.wait_for_function("p => window.__spoken.some(s => s.text === p)", arg=PROMPT)
