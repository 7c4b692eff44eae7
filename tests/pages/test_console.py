"""The staff console (/console) worked from the keyboard, as staff work it all day
(issue 9, items 1, 2, 15): the second press for 办结 / 办结并叫号 / 过号, 撤销, the
wait before 过号, the timer since the call, 回队 for suspended tickets, and a
word for every key that cannot act. Window 9 (zhoujie, service F) is this module's.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg
import pytest

from tests.conftest import with_database
from tests.pages.helpers import PASSWORDS, WAIT_MS, Hall, demo_hall_file, queue_reads, serving, text

DATABASE = f"clearhall_console_{os.getpid()}"


@pytest.fixture(scope="module")
def hall(pg_url: str) -> Iterator[Hall]:
    """This module's own server, on a database the tests may reach into (to move a call into the past)."""
    with serving(pg_url, DATABASE, demo_hall_file()) as running:
        yield running


def sql(pg_url: str, statement: str, *args: object) -> None:
    """Run one statement on this module's server database (on a thread: Playwright holds this one's loop)."""

    async def run() -> None:
        conn = await asyncpg.connect(with_database(pg_url, DATABASE))
        try:
            await conn.execute(statement, *args)
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


def fresh_window(hall: Hall) -> None:
    """Window 9 with no current ticket, nobody waiting for F, and signed out (the console signs in)."""
    hall.window("zhoujie", 9, "sign-in")
    hall.window("zhoujie", 9, "resume")
    hall.window("zhoujie", 9, "finish")
    while True:
        status, body = hall.window("zhoujie", 9, "call-next")
        assert status == 200, body
        if body["ticket"] is None:
            break
        hall.window("zhoujie", 9, "finish")
    status, body = hall.window("zhoujie", 9, "sign-out")
    assert status == 200, body


def at_window_9(page: Any, hall: Hall) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(hall.base + "/console")
    page.fill("#username", "zhoujie")
    page.fill("#password", PASSWORDS["zhoujie"])
    page.click("#loginBtn")
    page.click("[data-window='9']")
    page.wait_for_selector("#workView", state="visible")


def wait_for_text(page: Any, selector: str, words: str) -> None:
    page.wait_for_function(
        "([s, w]) => document.querySelector(s).textContent.includes(w)",
        arg=[selector, words],
        timeout=WAIT_MS,
    )


def current_number(page: Any) -> str:
    return (
        ""
        if page.eval_on_selector("#curNumber", "e => e.classList.contains('none')")
        else text(page, "#curNumber")
    )


def wait_current(page: Any, number: str | None) -> None:
    """The window shows `number` (or nothing) and the console has its answer: the socket may
    show a call before its POST's answer is in, and a key pressed meanwhile is refused (busy)."""
    if number is None:
        page.wait_for_function("() => document.querySelector('#curNumber').classList.contains('none')")
    else:
        page.wait_for_function("n => document.querySelector('#curNumber').textContent === n", arg=number)
    page.wait_for_function("() => !CH.console.busy()")


def server_view(hall: Hall) -> dict[str, Any]:
    status, body = hall.call("GET", "/api/windows/9/waiting", token=hall.login("zhoujie"))
    assert status == 200, body
    return dict(body)


def test_console_works_a_window_from_the_keyboard(page: Any, hall: Hall) -> None:
    fresh_window(hall)
    first = hall.issue("F")
    hall.issue("F", "military")
    reads = queue_reads(page.context)
    page.set_viewport_size({"width": 1366, "height": 768})
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
    legend = text(page, "#legend")
    assert all(words in legend for words in ("办结并叫号", "撤销", "F、J、X 需连按两次")), legend

    page.keyboard.press("n")
    page.wait_for_function("() => /^F\\d{3}$/.test(document.querySelector('#curNumber').textContent)")
    assert page.is_disabled("#btn-call-next")
    page.keyboard.press("s")
    page.wait_for_function("() => document.querySelector('#curMeta').textContent.includes('办理中')")
    page.keyboard.press("f")
    page.keyboard.press("f")
    wait_current(page, None)
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
    page.wait_for_function("() => /^F\\d{3}$/.test(document.querySelector('#curNumber').textContent)")
    held = text(page, "#curNumber")
    page.keyboard.press("g")
    page.click("#dlgOk")
    assert "缺少的材料" in text(page, "#dlgMsg") or "材料" in text(page, "#dlgMsg")
    page.fill("#fMissing", "营业执照副本\n授权委托书")
    page.click("#dlgOk")
    wait_current(page, None)
    wait_for_text(page, "#suspended", held)
    assert "营业执照副本、授权委托书" in text(page, "#suspended")
    assert reads == [], "the window's state comes from the socket"


def test_finish_needs_a_second_press_and_is_undone_with_u(page: Any, hall: Hall) -> None:
    """Item 2: F once only asks; F twice finishes; U within 10 s puts the ticket back."""
    fresh_window(hall)
    ticket = hall.issue("F")
    at_window_9(page, hall)
    page.keyboard.press("n")
    wait_current(page, ticket["number"])
    page.keyboard.press("f")
    assert "再按一次 F 办结" in text(page, "#actionMsg")
    assert "armed" in (page.get_attribute("#btn-finish", "class") or "")
    page.keyboard.press("Escape")  # a change of mind
    assert text(page, "#actionMsg") == "" and server_view(hall)["current"]["status"] == "called"
    page.click("#btn-finish")  # a click asks too
    assert "再按一次" in text(page, "#actionMsg") and current_number(page) == ticket["number"]
    page.keyboard.press("f")
    wait_current(page, None)
    page.wait_for_selector("#undoBar", state="visible")
    assert ticket["number"] in text(page, "#undoBar") and "撤销" in text(page, "#undoBtn")
    assert server_view(hall)["current"] is None

    page.keyboard.press("u")
    wait_current(page, ticket["number"])
    wait_for_text(page, "#actionMsg", "已撤销")
    assert "已叫号" in text(page, "#curMeta")  # the state it had before the finish
    page.wait_for_selector("#undoBar", state="hidden")
    restored = server_view(hall)["current"]
    assert restored["number"] == ticket["number"] and restored["status"] == "called"
    page.keyboard.press("u")  # nothing left to undo: it says so
    wait_for_text(page, "#actionMsg", "没有可撤销")


def test_no_show_waits_for_the_policy_and_can_be_undone(page: Any, hall: Hall, pg_url: str) -> None:
    """Item 2: 过号 before policy.no_show_after_s (60 s in the demo) is refused with the seconds
    left and a suggestion to recall, whether the console knew the wait or heard it from the server."""
    fresh_window(hall)
    ticket = hall.issue("F")
    hall.issue("F")

    def without_the_wait(route: Any) -> None:  # as a server that does not say it would answer
        answer = route.fetch()
        body = answer.json()
        body.pop("no_show_in_s", None)
        route.fulfill(response=answer, json=body)

    page.route("**/api/windows/9/waiting", without_the_wait)
    at_window_9(page, hall)
    page.keyboard.press("n")
    wait_current(page, ticket["number"])
    page.wait_for_function("() => /^00:\\d\\d$/.test(document.querySelector('#timerValue').textContent)")
    page.keyboard.press("x")
    assert "再按一次 X 过号" in text(page, "#actionMsg")
    page.keyboard.press("x")  # the server refuses: too soon
    wait_for_text(page, "#actionMsg", "秒才能过号")
    assert "R 重呼" in text(page, "#actionMsg")
    assert re.search(r"还需 \d+ 秒", text(page, "#actionMsg"))
    page.evaluate("() => { document.querySelector('#actionMsg').textContent = ''; }")
    page.keyboard.press("x")  # now the console knows: refused at once, nothing armed
    wait_for_text(page, "#actionMsg", "秒才能过号")
    assert "armed" not in (page.get_attribute("#btn-no-show", "class") or "")
    assert "秒后可过号" in text(page, "#noShowNote")
    assert server_view(hall)["current"]["status"] == "called"
    page.unroute("**/api/windows/9/waiting")

    # 61 s later (moved into the past), as the server's next word says
    sql(
        pg_url,
        "UPDATE tickets SET called_at = now() - interval '61 seconds' WHERE number = $1",
        ticket["number"],
    )
    hall.issue("F")  # any change makes the console read its window again
    page.wait_for_function("() => document.querySelector('#noShowNote').textContent === ''", timeout=WAIT_MS)
    assert re.fullmatch(r"01:\d\d", text(page, "#timerValue")), text(page, "#timerValue")  # since the call
    page.keyboard.press("x")
    page.keyboard.press("x")
    wait_current(page, None)
    page.wait_for_selector("#undoBar", state="visible")
    assert "已过号" in text(page, "#undoBar")
    page.click("#undoBtn")
    wait_current(page, ticket["number"])
    assert server_view(hall)["current"]["status"] == "called"


def test_finish_and_call_next_is_one_key_pressed_twice(page: Any, hall: Hall) -> None:
    """Item 15: J finishes the current ticket and calls the next; undo is offered only
    when nobody was called (docs/api.md); a paused window may finish, not call."""
    fresh_window(hall)
    first, second = hall.issue("F"), hall.issue("F")
    at_window_9(page, hall)
    page.keyboard.press("n")
    wait_current(page, first["number"])
    # the call's own answer (after the socket's) says so: only then is the console idle again
    page.wait_for_function(
        "want => document.querySelector('#actionMsg').textContent.includes(want)",
        arg=first["number"],
        timeout=WAIT_MS,
    )
    page.keyboard.press("j")
    assert "再按一次 J 办结并叫下一位" in text(page, "#actionMsg") and current_number(page) == first["number"]
    page.keyboard.press("j")
    wait_current(page, second["number"])
    # the socket may show the new ticket before the call's own answer sets the message
    page.wait_for_function(
        "want => document.querySelector('#actionMsg').textContent.includes(want)",
        arg=f"{first['number']} 已办结，已叫 {second['number']}",
        timeout=WAIT_MS,
    )
    assert page.is_hidden("#undoBar")  # someone new was called: no undo
    page.wait_for_function("() => /^\\d\\d:\\d\\d$/.test(document.querySelector('#timerValue').textContent)")

    page.click("#btn-finish-and-call-next")
    page.click("#btn-finish-and-call-next")
    wait_current(page, None)
    assert "没有等候的号码" in text(page, "#actionMsg")
    page.wait_for_selector("#undoBar", state="visible")  # nobody called: it was a finish
    page.keyboard.press("u")
    wait_current(page, second["number"])

    page.keyboard.press("p")
    page.fill("#fReason", "最后一位，之后午休")
    page.click("#dlgOk")
    page.wait_for_selector("#pausedBanner", state="visible")
    page.keyboard.press("j")
    assert "只能按 F 办结" in text(page, "#actionMsg")
    page.keyboard.press("f")
    page.keyboard.press("f")
    wait_current(page, None)
    status, log = hall.call("GET", "/api/audit-log?window=9&limit=5", token=hall.login("supervisor"))
    assert status == 200
    assert [e["action"] for e in log["entries"]][:2] == ["finish", "pause"]


def test_a_key_that_cannot_act_says_why(page: Any, hall: Hall) -> None:
    """Item 15: paused, no current ticket, one still current, nobody waiting, a call on its way."""
    fresh_window(hall)
    at_window_9(page, hall)
    page.wait_for_function("() => document.querySelector('#waiting').textContent.includes('暂无等候')")
    page.keyboard.press("f")
    assert "当前没有号码：先按 N 叫号" in text(page, "#actionMsg")
    page.keyboard.press("n")
    wait_for_text(page, "#actionMsg", "没有等候的号码")
    page.keyboard.press("p")
    page.fill("#fReason", "会议")
    page.click("#dlgOk")
    page.wait_for_selector("#pausedBanner", state="visible")
    page.keyboard.press("n")
    assert "已暂停服务" in text(page, "#actionMsg") and "P 恢复" in text(page, "#actionMsg")
    page.keyboard.press("p")
    page.wait_for_selector("#pausedBanner", state="hidden")

    ticket = hall.issue("F")
    wait_for_text(page, "#waiting", ticket["number"])
    # A Chinese input method on: the browser says "Process", the key's place says N.
    page.evaluate(
        "() => document.body.dispatchEvent(new KeyboardEvent('keydown', {key: 'Process', code: 'KeyN', bubbles: true}))"
    )
    wait_current(page, ticket["number"])
    page.keyboard.press("n")
    assert f"请先处理当前号码 {ticket['number']}" in text(page, "#actionMsg")
    page.keyboard.press("s")
    page.wait_for_function("() => document.querySelector('#curMeta').textContent.includes('办理中')")
    page.keyboard.press("x")
    assert "已在办理中，不能过号" in text(page, "#actionMsg")

    held: list[Any] = []
    page.route("**/api/windows/9/finish", lambda route: held.append(route))
    page.keyboard.press("f")
    page.keyboard.press("f")
    while not held:
        page.wait_for_timeout(50)
    page.keyboard.press("f")  # the finish is still on its way
    assert "正在处理上一个操作" in text(page, "#actionMsg")
    held[0].continue_()
    wait_current(page, None)
    page.unroute("**/api/windows/9/finish")
    status, log = hall.call(
        "GET", "/api/audit-log?window=9&action=finish&limit=5", token=hall.login("supervisor")
    )
    assert status == 200, log
    assert [e["ticket_number"] for e in log["entries"]].count(ticket["number"]) == 1


def test_suspended_tickets_come_back_with_one_click(page: Any, hall: Hall) -> None:
    """Item 1: the suspended list follows events, says what is missing and since when, and 回队
    puts the ticket back in its old place."""
    fresh_window(hall)
    first, second = hall.issue("F"), hall.issue("F")
    at_window_9(page, hall)
    wait_for_text(page, "#waiting", second["number"])
    # Done at this window from elsewhere (another tab): the console follows the events.
    hall.window("zhoujie", 9, "call-next")
    wait_current(page, first["number"])
    status, _ = hall.window("zhoujie", 9, "suspend", {"reason": "缺材料", "missing": ["户口簿", "结婚证"]})
    assert status == 200
    wait_for_text(page, "#suspended", first["number"])
    row = text(page, f"#suspended li[data-number='{first['number']}']")
    assert "户口簿、结婚证" in row and re.search(r"\d\d:\d\d 挂起", row), row
    assert first["number"] not in text(page, "#waiting")

    page.click(f"[data-requeue='{first['number']}']")
    wait_for_text(page, "#actionMsg", f"{first['number']} 已回队")
    wait_for_text(page, "#waiting", first["number"])
    page.wait_for_function(
        "n => !document.querySelector('#suspended').textContent.includes(n)",
        arg=first["number"],
        timeout=WAIT_MS,
    )
    page.keyboard.press("n")  # its old place: before the one issued after it
    wait_current(page, first["number"])
