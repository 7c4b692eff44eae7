"""The screenshots of 预约 on a phone (issue 12): the booking page's steps — the
services, a day's slots (one of them full), the confirmation — and the booking
itself with its code and QR, then cancelled. Called from `screenshots.shoot`
with its `page(name, w, h, url, before, ..., mobile=True)`:

    screenshots_booking.shoot(page, api)

It books through the public API (`api.call`) and by tapping, on the demo
hall's 户籍证件 (E: 20-minute slots for one person), tomorrow in hall time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from tests.helpers import valid_id

Page = Callable[..., None]
SERVICE = "E"  # 户籍证件: one place a slot, so a booked slot shows as full
PHONE = "13812345678"


def tomorrow(api: Any) -> str:
    """Tomorrow's date in the hall's time (the last of today's slots may be gone already)."""
    now = api.call("GET", "/api/appointments/services")["now"]
    return (date.fromisoformat(now[:10]) + timedelta(days=1)).isoformat()


def slot_at(day: str, hhmm: str) -> str:
    return f"{day}T{hhmm}:00+08:00"


def to_slots(p: Any, day: str) -> None:
    p.wait_for_selector(f"[data-service='{SERVICE}']")
    p.tap(f"[data-service='{SERVICE}']")
    p.tap(f"[data-day='{day}']")
    p.wait_for_selector("#slotList [data-slot]")


def fill_in(p: Any, day: str, hhmm: str, id_number: str) -> None:
    """From the slots: tap one, give the ID number and phone, on to the confirmation."""
    p.tap(f"[data-slot='{slot_at(day, hhmm)}']")
    p.fill("#idNumber", id_number)
    p.fill("#phone", PHONE)
    p.tap("#personNext")
    p.wait_for_selector("#stepConfirm", state="visible")


def confirm(p: Any) -> None:
    """Tap 确认预约 and wait for the booking: its code and its QR."""
    p.tap("#confirmBtn")
    p.wait_for_selector("#code:text-matches('^[A-Z0-9]{4}-[A-Z0-9]{4}$')")
    p.wait_for_function(
        "() => { const q = document.getElementById('qr'); return q.complete && q.naturalWidth > 0; }"
    )


def to_confirm(p: Any, day: str, hhmm: str, id_number: str) -> None:
    to_slots(p, day)
    fill_in(p, day, hhmm, id_number)


def book_by_tapping(p: Any, day: str, hhmm: str, id_number: str) -> None:
    to_confirm(p, day, hhmm, id_number)
    confirm(p)


def shoot(page: Page, api: Any) -> None:
    first = random.randrange(1_000_000, 2_000_000)  # a fresh person each run: one booking a day each
    day = tomorrow(api)
    # someone has already booked 00:20 (the demo hall is open all day): the slot shows as full
    api.call("POST", "/api/appointments", {"service": SERVICE, "slot": slot_at(day, "00:20"),
                                           "id_number": valid_id(first), "phone": PHONE})  # fmt: skip

    def services(p: Any) -> None:
        p.wait_for_selector(f"[data-service='{SERVICE}']")

    page("book-services-390x844", 390, 844, "/book", services, mobile=True)

    page("book-slots-390x844", 390, 844, "/book", lambda p: to_slots(p, day), mobile=True)
    page("book-confirm-390x844", 390, 844, "/book",
         lambda p: to_confirm(p, day, "10:00", valid_id(first + 1)), mobile=True)  # fmt: skip
    page("book-done-390x844", 390, 844, "/book",
         lambda p: book_by_tapping(p, day, "10:40", valid_id(first + 2)), mobile=True)  # fmt: skip

    def cancelled(p: Any) -> None:
        book_by_tapping(p, day, "11:00", valid_id(first + 3))
        p.tap("#cancelBtn")
        p.tap("#cancelYes")
        p.wait_for_selector("#doneStatus.cancelled")

    page("book-cancelled-390x844", 390, 844, "/book", cancelled, mobile=True)
