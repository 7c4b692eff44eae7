"""预约 on a phone (issue 12) in headless Chromium, on the demo hall, at 390 × 844
with touch: a citizen books by tapping, sees the code and its QR (which loads:
the SVG answers 200 image/svg+xml), opens the booking again from its address,
and cancels it; a full slot cannot be chosen, a mistyped ID number is caught
before anything is sent, and nothing of the person is kept in the browser's
storage. The booking screens are also shot (screenshots_booking.py)."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import valid_id
from tests.pages.helpers import Hall
from tests.pages.screenshots_booking import (
    PHONE,
    SERVICE,
    confirm,
    fill_in,
    shoot,
    slot_at,
    to_slots,
    tomorrow,
)

_people = iter(range(3_100_000, 3_200_000))


class Calls:
    """The demo hall as `screenshots_booking` speaks to it: JSON bodies."""

    def __init__(self, hall: Hall) -> None:
        self.hall = hall

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        return self.hall.call(method, path, body, token)[1]


@pytest.fixture
def phone(browser: Any, hall: Hall) -> Iterator[Any]:
    """A phone-sized page with touch, failing the test on a JavaScript error, a blocked
    resource or a request outside the hall (as the `page` fixture does)."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    outside: list[str] = []
    ctx.on("request", lambda r: None if r.url.startswith((hall.base, "data:")) else outside.append(r.url))
    p = ctx.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    yield p
    ctx.close()
    assert not outside and not errors, (outside, errors)


def booking_via_api(hall: Hall, day: str, hhmm: str) -> dict[str, Any]:
    body = {
        "service": SERVICE,
        "slot": slot_at(day, hhmm),
        "id_number": valid_id(next(_people)),
        "phone": PHONE,
    }
    status, answer = hall.call("POST", "/api/appointments", body)
    assert status == 201, answer
    return dict(answer["appointment"])


def large_enough(p: Any) -> None:
    """Body text at least 20 px; every visible button or link at least 48 px high."""
    assert p.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20
    small = p.evaluate("""() => [...document.querySelectorAll('button, a, input')]
        .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 48)
        .map(e => e.id || e.textContent)""")
    assert small == [], small


def test_a_citizen_books_by_tapping_and_cancels(phone: Any, hall: Hall) -> None:
    day, person = tomorrow(Calls(hall)), valid_id(next(_people))
    phone.goto(hall.base + "/book")
    phone.wait_for_selector(f"[data-service='{SERVICE}']")
    assert phone.inner_text("h1:visible") == "请选择要办理的业务"
    large_enough(phone)
    to_slots(phone, day)
    large_enough(phone)
    assert phone.inner_text("#slotChosen").startswith("户籍证件 · 明天")
    fill_in(phone, day, "14:00", person)
    large_enough(phone)
    assert "14:00–14:20" in phone.inner_text("#confirmFacts")
    assert phone.inner_text("#confirmCheckin") == "请于 13:30–14:15 到大厅自助机签到"
    confirm(phone)
    large_enough(phone)

    code = phone.inner_text("#code")
    match = re.fullmatch(
        r"/b/([\w-]+)\?code=([A-Z0-9]{8})", phone.evaluate("location.pathname + location.search")
    )
    assert match and match.group(2) == code.replace("-", "")
    assert phone.inner_text("#doneStatus") == "预约成功"
    assert "请于 13:30–14:15 到大厅自助机签到" in phone.inner_text("#doneCheckin")
    facts = phone.inner_text("#doneFacts")
    assert "户籍证件" in facts and "14:00–14:20" in facts and person[:4] + "**********" + person[-4:] in facts
    assert "户口簿" in phone.inner_text("#materialList")
    qr = phone.get_attribute("#qr", "src")
    with urllib.request.urlopen(hall.base + qr) as answer:
        assert answer.status == 200 and answer.headers["Content-Type"].startswith("image/svg+xml")
    kept = phone.evaluate("JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert person not in kept and PHONE not in kept and code.replace("-", "") not in kept
    assert phone.input_value("#idNumber") == "" and phone.input_value("#phone") == ""

    status, body = hall.call("GET", f"/api/appointments/{match.group(1)}?code={match.group(2)}")
    assert status == 200 and body["appointment"]["status"] == "booked"
    assert body["appointment"]["slot"] == slot_at(day, "14:00")

    phone.tap("#cancelBtn")
    phone.wait_for_selector("#cancelAsk", state="visible")
    assert "确定取消这次预约吗" in phone.inner_text("#cancelAsk")
    phone.tap("#cancelYes")
    phone.wait_for_selector("#doneStatus.cancelled")
    assert phone.inner_text("#doneStatus") == "预约已取消" and phone.is_hidden("#codeBox")
    status, body = hall.call("GET", f"/api/appointments/{match.group(1)}?code={match.group(2)}")
    assert body["appointment"]["status"] == "cancelled"
    phone.reload()
    phone.wait_for_selector("#doneStatus.cancelled")
    assert phone.inner_text("#doneStatus") == "已取消" and "名额已释放" in phone.inner_text("#doneNote")


def test_the_bookings_address_opens_on_the_booking(phone: Any, hall: Hall) -> None:
    a = booking_via_api(hall, tomorrow(Calls(hall)), "15:00")
    phone.goto(hall.base + "/" + a["url"].split("/", 3)[3])
    phone.wait_for_selector("#stepDone", state="visible")
    assert phone.inner_text("#doneStatus") == "已预约"
    assert phone.inner_text("#code") == a["code"][:4] + "-" + a["code"][4:]
    phone.wait_for_function("() => document.getElementById('qr').naturalWidth > 0")
    assert phone.is_hidden("#progress")
    phone.tap("#langBtn")
    assert phone.inner_text("#doneStatus") == "Booked"
    assert "Check in at a hall kiosk between 14:30 and 15:15" in phone.inner_text("#doneCheckin")
    phone.goto(hall.base + f"/b/{a['id']}")
    assert "This booking link is incomplete" in phone.inner_text("#blocker")
    phone.goto(hall.base + f"/b/{a['id']}?code=ZZZZZZZZ&lang=zh")
    phone.wait_for_selector("#blocker")
    assert "没有找到这个预约" in phone.inner_text("#blocker")


def test_a_full_slot_cannot_be_chosen_and_a_wrong_id_is_caught_here(phone: Any, hall: Hall) -> None:
    day = tomorrow(Calls(hall))
    booking_via_api(hall, day, "16:00")  # E holds one person a slot: 16:00 is full now
    sent: list[str] = []
    phone.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    phone.goto(hall.base + "/book")
    to_slots(phone, day)
    full = phone.locator(f"[data-slot='{slot_at(day, '16:00')}']")
    assert full.is_disabled() and "已约满" in full.inner_text()
    assert phone.locator(f"[data-slot='{slot_at(day, '16:20')}']").inner_text().endswith("余 1 个")
    phone.tap(f"[data-slot='{slot_at(day, '16:20')}']")
    good = valid_id(next(_people))
    phone.fill("#idNumber", good[:-1] + ("0" if good[-1] != "0" else "1"))  # a wrong check character
    phone.fill("#phone", PHONE)
    phone.tap("#personNext")
    assert phone.inner_text("#personMsg") == "身份证号校验位不正确，请核对"
    phone.fill("#idNumber", good[:10])
    phone.tap("#personNext")
    assert phone.inner_text("#personMsg") == "身份证号应为 18 位，请补全"
    wide = "".join(chr(ord(c) + 0xFEE0) for c in good)  # a phone's full-width keyboard: the same number
    phone.fill("#idNumber", wide)
    phone.fill("#phone", "1381234")
    phone.tap("#personNext")
    assert phone.inner_text("#personMsg") == "手机号应为 11 位数字"
    assert sent == []
    phone.fill("#phone", PHONE)
    phone.tap("#personNext")
    assert good[:4] + "**********" + good[-4:] in phone.inner_text("#confirmFacts")


def test_the_booking_screens_are_shot(browser: Any, hall: Hall, tmp_path: Path) -> None:
    saved: list[Path] = []

    def page(name: str, w: int, h: int, url: str, before: Any = None, mobile: bool = False) -> None:
        ctx = browser.new_context(viewport={"width": w, "height": h}, is_mobile=mobile, has_touch=mobile)
        p = ctx.new_page()
        p.goto(hall.base + url)
        if before:
            before(p)
        p.wait_for_timeout(300)
        saved.append(tmp_path / f"{name}.png")
        p.screenshot(path=str(saved[-1]))
        ctx.close()

    shoot(page, Calls(hall))
    assert [p.name for p in saved] == [
        f"book-{n}-390x844.png" for n in ("services", "slots", "confirm", "done", "cancelled")
    ]
    assert all(p.stat().st_size > 10_000 for p in saved)
