"""Wait estimates as citizens see them (issue 9, item 9), in a real headless
Chromium: on the kiosk's ticket, the hall screen and the phone page.

The rule (server/domain/tickets.py, docs/ordering.md): people ahead × one
ticket's handling time ÷ the staffed windows serving the service. The handling
time is the service's typical time from the hall file (`typical_minutes`, else
a third of its time limit) until the service has MIN_HISTORY (5) recent
finishes, then their median, never under a minute. "—" only when no staffed
window serves the service. The pages word it with CH.fmtWait: "约 N 分钟", N the
minutes rounded.

This module runs a hall of its own, the demo's with a typical time for C, so
that nothing another module does moves its figures; each test has its own
services and windows: C at window 5 (chenjing) and H, served by nobody, for the
opening; E at window 8 (huangli) for the phone page; F at window 9 (zhoujie) and
D at window 7 (zhaolei) for quick finishes. Nobody signs in at windows 2, 6, 10,
11 or 12, which share these services.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
import pytest

from clearhall.server.domain.tickets import FLOOR_S, MIN_HISTORY
from tests.conftest import with_database
from tests.pages.helpers import HALL, KIOSK, WAIT_MS, Hall, demo_hall_file, serving, text

DATABASE = f"clearhall_pages_wait_{os.getpid()}"
C_TYPICAL_MIN = 8  # this hall's file says 社保医保 (C) usually takes 8 minutes
F_TYPICAL_S = 25 * 60 / 3  # 税务 (F) has no typical time: a third of its 25-minute limit
E_TYPICAL_S = 15 * 60 / 3  # 户籍证件 (E): a third of 15 minutes

# the estimate cell of service `code`'s row on the hall screen
HALL_WAIT = """code => { const row = [...document.querySelectorAll('#services tr')]
  .find(tr => tr.querySelector('.code') && tr.querySelector('.code').textContent === code);
  return row ? row.lastElementChild.textContent : null; }"""


def minutes(seconds: float) -> str:
    """How the pages word a wait of `seconds` under two hours (CH.fmtWait)."""
    n = round(seconds / 60)
    assert 1 <= n < 120, seconds
    return f"约 {n} 分钟"


def hall_text() -> str:
    demo = demo_hall_file()
    c = 'code = "C"\nname = "社保医保"\ntime_limit_minutes = 20\n'
    assert c in demo
    return demo.replace(c, c + f"typical_minutes = {C_TYPICAL_MIN}\n")


@pytest.fixture(scope="module")
def hall(pg_url: str) -> Iterator[Hall]:
    with serving(pg_url, DATABASE, hall_text()) as running:
        yield running


def took(pg_url: str, ticket_ids: list[str], seconds: int) -> None:
    """Finished tickets `ticket_ids` were called `seconds` before their finish: the
    morning's history, without waiting it out. Straight in the server's database,
    as tests/api/test_wait_estimates.py does; no event tells the pages."""

    async def work() -> None:
        conn = await asyncpg.connect(with_database(pg_url, DATABASE))
        try:
            await conn.execute(
                "UPDATE tickets SET called_at = finished_at - make_interval(secs => $2)"
                " WHERE id = ANY($1) AND status = 'done'",
                ticket_ids,
                seconds,
            )
        finally:
            await conn.close()

    # On a thread of its own: pytest-asyncio may have an event loop on this one.
    failed: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(work())
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failed:
        raise failed[0]


def serve_quickly(hall: Hall, user: str, window: int, count: int) -> list[str]:
    """`count` citizens are called at `window` and finished at once (a question
    answered in seconds); their ticket ids."""
    served = []
    for _ in range(count):
        status, body = hall.window(user, window, "call-next")
        assert status == 200 and body["ticket"] is not None, body
        served.append(body["ticket"]["id"])
        status, body = hall.window(user, window, "finish")
        assert status == 200, body
    return served


def open_phone(page: Any, hall: Hall, ticket: dict[str, Any]) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    path = ticket["url"].split("://", 1)[1].split("/", 1)[1]
    page.goto(f"{hall.base}/{path}")
    page.wait_for_selector("#waitBox", state="visible", timeout=WAIT_MS)


def shows(page: Any, read: Callable[[], object], want: object) -> None:
    """The page comes to show `want` (as `read()` reads it) as the queue moves; if it
    never does, the failure says what it shows instead."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while (got := read()) != want and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert got == want


def phone_shows(page: Any, ahead: int, wait: str) -> None:
    """The phone page shows `ahead` people ahead and the wait `wait`."""
    shows(page, lambda: (text(page, "#ahead"), text(page, "#wait")), (f"{ahead} 人", wait))


def test_at_opening_a_staffed_service_shows_its_typical_time(page: Any, hall: Hall) -> None:
    """The hall has just opened: nobody has been served yet. 陈静 signs in at window 5
    (社保医保, C). At the kiosk, C's tile has no warning and 工程建设审批 (H), which no
    window serves, says 当前无窗口办理此业务. One citizen is already waiting for C; the
    next takes a C ticket at the kiosk and its screen shows 1 ahead and a real wait,
    the hall file's 8 minutes, not "—". The hall screen shows C's whole queue at
    8 minutes a person, and "—" only for H, whose waiting citizen nobody can call.
    """
    assert hall.window("chenjing", 5, "sign-in")[0] == 200
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.wait_for_selector("#scrServices", state="visible", timeout=WAIT_MS)
    assert page.get_attribute("[data-service='C']", "data-served") == "yes"
    assert page.locator("[data-service='C'] .nowin").count() == 0
    assert page.get_attribute("[data-service='H']", "data-served") == "no"
    assert text(page, "[data-service='H'] .nowin") == "当前无窗口办理此业务"

    hall.issue("C")  # the first citizen of the day
    page.click("[data-service='C']")
    page.click("[data-category='normal']")
    page.wait_for_selector("#scrTicket", state="visible", timeout=WAIT_MS)
    assert text(page, "#tAhead") == "前面还有 1 人"
    assert text(page, "#tWait") == "预计等候 " + minutes(1 * C_TYPICAL_MIN * 60)  # 1 ahead, 1 window

    hall.issue("H")
    page.set_viewport_size({"width": 1920, "height": 1080})  # every service's row on one page
    page.goto(f"{hall.base}/display#device={HALL}")
    page.evaluate("() => { window.clearhallVoice && (window.clearhallVoice.enabled = false); }")
    page.wait_for_selector("#services .code", timeout=WAIT_MS)
    shows(page, lambda: page.evaluate(HALL_WAIT, "C"), minutes(2 * C_TYPICAL_MIN * 60))
    assert page.evaluate(HALL_WAIT, "H") == "—"


def test_the_phone_page_shows_its_wait_as_the_line_moves(page: Any, hall: Hall) -> None:
    """黄丽 signs in at window 8 (户籍证件, E). Three citizens wait for E; the fourth
    opens the page of the QR on the receipt: 3 ahead and 3 × 5 minutes (E has no
    typical time in the file: a third of its 15-minute limit). 黄丽 calls the next
    one: the page follows, 2 ahead and 约 10 分钟.
    """
    assert hall.window("huangli", 8, "sign-in")[0] == 200
    for _ in range(3):
        hall.issue("E")
    mine = hall.issue("E")
    open_phone(page, hall, mine)
    phone_shows(page, 3, minutes(3 * E_TYPICAL_S))
    assert hall.window("huangli", 8, "call-next")[0] == 200
    phone_shows(page, 2, minutes(2 * E_TYPICAL_S))


def test_quick_finishes_before_there_is_history_leave_the_typical_time(page: Any, hall: Hall) -> None:
    """周杰 signs in at window 9 (税务, F). Six citizens wait ahead of one who follows
    the line on the phone. The first three only had a question: finished within
    seconds. They are not yet history (fewer than 5), so the page keeps F's typical
    time, 3 × 500 s ≈ 约 25 分钟, where an average of those finishes would say "—".
    Two more quick ones make history, all of it seconds long: the wait never drops
    under a minute a person, and the last one ahead shows 约 1 分钟.
    """
    assert hall.window("zhoujie", 9, "sign-in")[0] == 200
    for _ in range(6):
        hall.issue("F")
    mine = hall.issue("F")
    open_phone(page, hall, mine)
    phone_shows(page, 6, minutes(6 * F_TYPICAL_S))

    serve_quickly(hall, "zhoujie", 9, 3)
    assert 3 < MIN_HISTORY
    phone_shows(page, 3, minutes(3 * F_TYPICAL_S))

    serve_quickly(hall, "zhoujie", 9, 2)
    assert MIN_HISTORY == 5 and FLOOR_S == 60  # history now: its median, seconds, floored to 60 s
    phone_shows(page, 1, minutes(1 * FLOOR_S))


def test_three_quick_finishes_do_not_move_a_median_of_seven_minutes(
    page: Any, hall: Hall, pg_url: str
) -> None:
    """The morning at window 7 (公积金, D): 赵磊 served five citizens, each in seven
    minutes. Four wait ahead of a citizen whose phone says 4 × 7 minutes = 约 28 分钟.
    The three next only had a question, finished within seconds: the page says
    1 ahead, 约 7 分钟 — the median of 5 × 420 s and 3 quick ones is still 420 s
    (the bug was 约 1–2 分钟 after such a burst).
    """
    assert hall.window("zhaolei", 7, "sign-in")[0] == 200
    for _ in range(5):
        hall.issue("D")
    morning = serve_quickly(hall, "zhaolei", 7, 5)
    took(pg_url, morning, 7 * 60)
    for _ in range(4):
        hall.issue("D")
    mine = hall.issue("D")
    open_phone(page, hall, mine)
    phone_shows(page, 4, minutes(4 * 420))

    serve_quickly(hall, "zhaolei", 7, 3)
    phone_shows(page, 1, minutes(1 * 420))  # median(420 × 5, ~0 × 3) = 420
