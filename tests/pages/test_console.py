"""The staff console (/console) worked from the keyboard, as staff work it.
Window 9 (zhoujie, service F) is this module's.
"""

from __future__ import annotations

from typing import Any

from tests.pages.helpers import PASSWORDS, WAIT_MS, Hall, queue_reads, text


def test_console_works_a_window_from_the_keyboard(page: Any, hall: Hall) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    first = hall.issue("F")
    hall.issue("F", "military")
    reads = queue_reads(page.context)
    page.goto(hall.base + "/console")
    page.fill("#username", "zhoujie")
    page.fill("#password", "wrong")
    page.click("#loginBtn")
    page.wait_for_function("() => document.querySelector('#loginMsg').textContent.length > 0")
    page.fill("#password", PASSWORDS["zhoujie"])
    page.click("#loginBtn")
    page.click("[data-window='9']")
    page.wait_for_selector("#workView", state="visible")
    page.wait_for_function(
        "() => document.querySelectorAll('#waiting li[data-number]').length >= 2", timeout=WAIT_MS
    )
    assert first["number"] in text(page, "#waiting")
    assert "军人" in text(page, "#waiting")  # categories are shown, nothing about the person

    page.keyboard.press("n")
    page.wait_for_function("() => /^F\\d{3}$/.test(document.querySelector('#curNumber').textContent)")
    called = text(page, "#curNumber")
    assert page.is_disabled("#btn-call-next")
    page.keyboard.press("s")
    page.wait_for_function("() => document.querySelector('#curMeta').textContent.includes('办理中')")
    page.keyboard.press("f")
    page.wait_for_function("() => document.querySelector('#curNumber').classList.contains('none')")
    page.wait_for_function(
        "() => Number(document.querySelector('#statFinished').textContent) >= 1", timeout=WAIT_MS
    )

    # calls that need a reason ask for it first
    page.keyboard.press("p")
    assert page.is_visible("#dlg")
    page.click("#dlgOk")
    assert "理由" in text(page, "#dlgMsg")
    page.fill("#fReason", "系统维护")
    page.click("#dlgOk")
    page.wait_for_selector("#pausedBanner", state="visible")
    page.keyboard.press("p")
    page.wait_for_selector("#pausedBanner", state="hidden")

    page.keyboard.press("n")
    page.wait_for_function("n => document.querySelector('#curNumber').textContent !== n && "
                           "!document.querySelector('#curNumber').classList.contains('none')", arg=called)  # fmt: skip
    page.keyboard.press("g")
    page.click("#dlgOk")
    assert "缺少的材料" in text(page, "#dlgMsg") or "材料" in text(page, "#dlgMsg")
    page.fill("#fMissing", "营业执照副本\n授权委托书")
    page.click("#dlgOk")
    page.wait_for_function("() => document.querySelector('#curNumber').classList.contains('none')")
    assert reads == [], "the window's state comes from the socket"
