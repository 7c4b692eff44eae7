"""The supervisor's 便民服务 view (/supervisor#booking, issue 12): the register of
帮代办 proxies (added by clicking, shown masked only, a second registration of
the same number refused in words, removed with two clicks), 延时服务 opened and
ended from the dashboard and followed live, and 今日预约 showing a booking made
over the API and its arrival once the kiosk checks it in. The view fits the
screen at 1366×768 and 1920×1080 in both languages.

This module has its own server; the supervisor acts on the dashboard, zhangmin
(window 3, B) over the API.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.helpers import valid_id
from tests.pages.helpers import KIOSK, WAIT_MS, Hall, first_free_slot, text

HALL_ZONE = ZoneInfo("Asia/Shanghai")  # the demo hall's


def hall_in(minutes: int) -> str:
    """The time on the hall's clock `minutes` from now, as "HH:MM"."""
    return f"{datetime.now(HALL_ZONE) + timedelta(minutes=minutes):%H:%M}"


def open_view(page: Any, hall: Hall, size: tuple[int, int] = (1366, 768), lang: str = "zh") -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(f"{hall.base}/supervisor?lang={lang}#booking")
    page.fill("#username", "supervisor")
    page.fill("#password", "demo-supervisor-2026")
    page.click("#loginBtn")
    page.wait_for_selector("#bookingView", state="visible")
    page.wait_for_selector("#exServices input[data-service='A']", timeout=WAIT_MS)


def proxies(hall: Hall) -> list[dict[str, Any]]:
    status, body = hall.call("GET", "/api/proxies", token=hall.login("supervisor"))
    assert status == 200, body
    return list(body["proxies"])


def sessions(hall: Hall) -> list[dict[str, Any]]:
    status, body = hall.call("GET", "/api/extended-hours")
    assert status == 200, body
    return list(body["extended"])


def test_a_proxy_is_registered_shown_masked_refused_twice_in_words_and_removed(page: Any, hall: Hall) -> None:
    open_view(page, hall)
    page.wait_for_selector("#pxList li[data-proxy]")
    assert page.locator("#pxList [data-remove]").count() == 0  # the hall file's are changed in the file
    assert "配置文件" in text(page, "#pxList")

    number = valid_id(8_000_001)
    page.fill("#pxName", "代办员 李四")
    page.fill("#pxId", number[:6] + " " + number[6:14] + " " + number[14:].lower())  # typed with spaces
    page.fill("#pxNote", "汨罗市企业服务中心")
    page.click("#pxAdd")
    [added] = [p for p in proxies(hall) if p["name"] == "代办员 李四"]
    row = f"#pxList li[data-proxy='{added['id']}']"
    page.wait_for_selector(row, timeout=WAIT_MS)
    shown = text(page, row)
    assert added["source"] == "supervisor" and added["note"] == "汨罗市企业服务中心"
    assert added["id_number"] in shown and number[:4] in shown and number[-4:] in shown
    assert "郭主任" in shown and "汨罗市企业服务中心" in shown
    assert page.input_value("#pxId") == "" and page.input_value("#pxName") == ""
    assert number not in page.content()  # only ever masked
    assert "已登记" in text(page, "#pxMsg")

    page.fill("#pxName", "代办员 李四")
    page.fill("#pxId", number)
    page.click("#pxAdd")
    page.wait_for_function("() => /已登记为帮代办人员/.test(document.querySelector('#pxMsg').textContent)",
                           timeout=WAIT_MS)  # fmt: skip
    assert "invalid" in (page.get_attribute("#pxId", "class") or "")
    assert len([p for p in proxies(hall) if p["name"] == "代办员 李四"]) == 1

    page.fill("#pxId", number[:17] + ("0" if number[17] != "0" else "1"))  # a wrong check character
    page.click("#pxAdd")
    assert "身份证号有误" in text(page, "#pxMsg")

    remove = f"{row} [data-remove]"
    page.click(remove)
    assert text(page, remove) == "确认删除？"
    page.click(remove)
    page.wait_for_selector(row, state="detached", timeout=WAIT_MS)
    assert "已删除" in text(page, "#pxMsg")
    assert all(p["id"] != added["id"] for p in proxies(hall))


def test_extended_hours_opened_and_ended_on_the_dashboard_and_followed_live(page: Any, hall: Hall) -> None:
    for s in sessions(hall):
        hall.call("DELETE", f"/api/extended-hours/{s['id']}", token=hall.login("supervisor"))
    open_view(page, hall)
    page.wait_for_function("() => /当前没有延时服务/.test(document.querySelector('#exList').textContent)")
    offered = page.input_value("#exUntil")
    assert offered[3:] in ("00", "15", "30", "45") or offered == "23:59"

    until = hall_in(120)
    page.check("#exServices input[data-service='A']")
    page.check("#exServices input[data-service='C']")
    page.fill("#exUntil", until)
    page.click("#exOpen")
    page.wait_for_selector("#exList li[data-session]", timeout=WAIT_MS)
    [mine] = sessions(hall)
    assert mine["services"] == ["A", "C"] and mine["opened_by"] == "郭主任"
    item = text(page, f"#exList li[data-session='{mine['id']}']")
    assert "A 企业开办、C 社保医保" in item and f"至 {until}" in item and "郭主任" in item
    assert "已开启延时服务" in text(page, "#exMsg")
    assert not page.is_checked("#exServices input[data-service='A']")  # the form is ready for the next

    # opened at a console meanwhile: shown at once (hours.changed)
    status, body = hall.call("POST", "/api/extended-hours", {"services": ["B"], "until": hall_in(45)},
                             hall.login("zhangmin"))  # fmt: skip
    assert status == 201, body
    theirs = body["session"]["id"]
    page.wait_for_selector(f"#exList li[data-session='{theirs}']", timeout=WAIT_MS)
    assert "张敏" in text(page, f"#exList li[data-session='{theirs}']")

    end = f"#exList li[data-session='{mine['id']}'] [data-end]"
    page.click(end)
    assert text(page, end) == "确认结束？"
    page.click(end)
    page.wait_for_selector(f"#exList li[data-session='{mine['id']}']", state="detached", timeout=WAIT_MS)
    assert [s["id"] for s in sessions(hall)] == [theirs]

    # further ahead than the server allows (12 h): refused, and said in words
    page.check("#exServices input[data-service='D']")
    page.fill("#exUntil", hall_in(13 * 60))  # later than the 12 h the server allows
    page.click("#exOpen")
    page.wait_for_function(
        "() => document.querySelector('#exMsg').classList.contains('error')", timeout=WAIT_MS
    )
    assert text(page, "#exMsg").strip()


def test_the_bookings_panel_shows_a_booking_and_its_arrival(page: Any, hall: Hall) -> None:
    start = first_free_slot(hall, "B")  # today's next, or tomorrow's first in the day's last half hour
    status, booked = hall.call("POST", "/api/appointments",
                               {"service": "B", "slot": start, "id_number": valid_id(8_000_002),
                                "phone": "13812345678"})  # fmt: skip
    assert status == 201, booked

    open_view(page, hall)
    page.fill("#bkDay", start[:10])  # the slot's day (today but in the last half hour of a day)
    page.dispatch_event("#bkDay", "change")
    row = f"#bkServices [data-service='B'] tr[data-slot='{start}']"
    page.wait_for_selector(row, timeout=WAIT_MS)
    assert page.inner_text(f"{row} td.booked b") == "1"
    assert page.inner_text(f"{row} td.arrived") == "0"
    assert page.inner_text("#bkTotals [data-total='booked'] .k-val") == "1"
    assert "不动产登记" in text(page, "#bkServices [data-service='B'] .bk-head")
    # D's slots nobody booked are counted, not listed
    assert "无人预约" in text(page, "#bkServices [data-service='D']")

    # the kiosk checks it in: a ticket is issued, and the panel follows at once
    status, ticket = hall.call("POST", "/api/tickets", {"appointment": booked["appointment"]["code"]}, KIOSK)
    assert status == 201, ticket
    assert ticket["ticket"]["category"] == "appointment"
    page.wait_for_function("sel => document.querySelector(sel).textContent === '1'", arg=f"{row} td.arrived",
                           timeout=WAIT_MS)  # fmt: skip
    assert page.inner_text("#bkTotals [data-total='arrived'] .k-val") == "1"

    page.check("#bkAll")  # every slot, booked or not
    assert page.locator("#bkServices [data-service='D'] tr[data-slot]").count() > 1


def test_a_server_without_the_bookings_summary_says_so(page: Any, hall: Hall) -> None:
    page.route("**/api/appointments/today*", lambda route: route.fulfill(
        status=404, json={"ok": False, "error": {"code": "not_found", "message": "Not Found"}, "status": 404}))  # fmt: skip
    open_view(page, hall)
    page.wait_for_function(
        "() => /尚未提供/.test(document.querySelector('#bkMsg').textContent)", timeout=WAIT_MS
    )


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_the_view_fits_the_screen_in_both_languages(page: Any, hall: Hall, size: tuple[int, int]) -> None:
    open_view(page, hall, size)
    for lang in ("zh", "en"):
        page.goto(f"{hall.base}/supervisor?lang={lang}#booking")
        page.wait_for_selector("#exServices input[data-service='A']", timeout=WAIT_MS)
        page.wait_for_selector("#pxList li[data-proxy]", timeout=WAIT_MS)
        fits = page.evaluate(
            """() => document.documentElement.scrollHeight <= innerHeight + 1
                 && document.documentElement.scrollWidth <= innerWidth + 1
                 && [...document.querySelectorAll('#viewNav a, #logoutBtn, #live, #bookingView h2 > *')]
                      .every(e => e.getBoundingClientRect().right <= innerWidth + 1)
                 && [...document.querySelectorAll('#bookingView .panel')]
                      .every(p => p.getBoundingClientRect().bottom <= innerHeight + 1)"""
        )
        assert fits, (lang, size)
        assert page.get_attribute("#viewNav [data-view='booking']", "aria-current") == "page"
        assert page.get_attribute("#viewNav [data-view='dash']", "aria-current") is None
    page.click("#viewNav [data-view='dash']")
    page.wait_for_selector("#dashMain", state="visible")
    assert page.is_hidden("#bookingView")
