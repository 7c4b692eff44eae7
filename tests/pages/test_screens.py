"""The hall screen, the window screen and the rating pad in a real headless Chromium.

Window 1 (lina, service A) is the hall screen's, 3 (zhangmin, B) the window
screen's and rating pad's, 8 (huangli, E) the pushed queue's.
"""

from __future__ import annotations

from typing import Any

from tests.pages.helpers import (
    HALL,
    KIOSK,
    RATE3,
    WAIT_MS,
    WINDOW3,
    Hall,
    has_snapshot,
    queue_reads,
    socket_messages,
    text,
    wait_until,
)

# -- hall screen ----------------------------------------------------------------


def test_the_hall_screen_shows_and_announces_a_call(page: Any, hall: Hall) -> None:
    hall.window("lina", 1, "sign-in")
    hall.window("lina", 1, "finish")
    mine = hall.issue("A", "elderly")
    page.set_viewport_size({"width": 1920, "height": 1080})  # every window on one page
    page.goto(f"{hall.base}/display#device={HALL}")
    page.wait_for_function("() => document.querySelectorAll('#services tr').length >= 8")
    page.evaluate("() => { window.clearhallVoice.enabled = false; }")  # no sound card needed
    hall.call_until("lina", 1, mine["number"])
    page.wait_for_function(
        "n => document.querySelector('#nowNumber').textContent === n", arg=mine["number"], timeout=WAIT_MS
    )
    assert "1" in text(page, "#nowTo")
    assert "fresh" in (page.get_attribute("#now", "class") or "")
    page.wait_for_function(
        "n => window.clearhallVoice.played.includes(n + '@1')", arg=mine["number"], timeout=WAIT_MS
    )
    card = text(page, ".win-card[data-window='1']")
    assert "李娜" in card and "党员示范岗" in card
    assert mine["number"] in text(page, "#recent")
    assert text(page, "#policy").strip()
    assert "12345" in text(page, ".hotline")
    # the demo hall says it is open all day (issue 9, item 6), in full
    assert "全天开放" in text(page, "#hallName")
    assert page.evaluate(
        "() => { const e = document.querySelector('#hallName'); return e.scrollWidth <= e.clientWidth; }"
    )


def test_the_hall_screen_reads_the_same_clips_as_python(page: Any, hall: Hall) -> None:
    from clearhall.display.voice import clip_sequence

    page.goto(f"{hall.base}/display#device={HALL}")
    got = page.evaluate("() => ClearhallVoice.clipSequence('A023', 12)")
    assert got == clip_sequence("A023", 12)
    for name in set(got):
        code, _ = hall.call("HEAD", f"/static/display/voice/clips/{name}.wav")
        assert code == 200, name


# -- window screen and rating pad ----------------------------------------------------------


def test_window_screen_and_rating_pad_follow_a_finish(browser: Any, hall: Hall) -> None:
    hall.window("zhangmin", 3, "sign-in")
    hall.window("zhangmin", 3, "finish")
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        screen = ctx.new_page()
        screen.goto(f"{hall.base}/display/window/3#device={WINDOW3}")
        screen.wait_for_function(
            "() => document.querySelector('#staffName').textContent === '张敏'", timeout=WAIT_MS
        )
        assert screen.is_visible("#badge")
        pad = ctx.new_page()
        pad.goto(f"{hall.base}/rate/3#device={RATE3}")
        pad.wait_for_selector("#idle", state="visible")

        mine = hall.issue("B")
        hall.call_until("zhangmin", 3, mine["number"])
        screen.wait_for_function(
            "n => document.querySelector('#number').textContent === n", arg=mine["number"], timeout=WAIT_MS
        )
        hall.window("zhangmin", 3, "start")
        hall.window("zhangmin", 3, "finish")
        screen.wait_for_selector("#ratePrompt", state="visible", timeout=WAIT_MS)
        assert "请对本次服务进行评价" in text(screen, "#ratePrompt")

        pad.wait_for_selector("#ask", state="visible", timeout=WAIT_MS)
        assert mine["number"] in text(pad, "#askTicket")
        pad.click(".face[data-score='5']")
        pad.wait_for_selector("#thanks", state="visible")
        code, body = hall.call("POST", "/api/ratings", {"ticket": mine["id"], "key": mine["key"], "score": 4})
        assert code == 409, body  # rated once, by the pad
    finally:
        ctx.close()


# -- the pushed queue ----------------------------------------------------------------------
# With the socket up, the snapshot and each queue.changed are a screen's state: no page
# reads /api/queue again after an event. Window 8 (huangli, service E) is this section's.

# the number of people waiting for service `code` on the hall screen
HALL_WAITING = """code => { const row = [...document.querySelectorAll('#services tr')]
  .find(tr => tr.querySelector('.code') && tr.querySelector('.code').textContent === code);
  return row ? Number(row.querySelector('.count').textContent) : null; }"""


def test_screens_take_the_pushed_queue_and_never_read_it_again(browser: Any, hall: Hall) -> None:
    hall.window("huangli", 8, "sign-in")
    hall.window("huangli", 8, "finish")
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})  # every window on one page
    reads = queue_reads(ctx)
    try:
        screen, window, kiosk = ctx.new_page(), ctx.new_page(), ctx.new_page()
        live = [socket_messages(p) for p in (screen, window, kiosk)]
        screen.goto(f"{hall.base}/display#device={HALL}")
        window.goto(f"{hall.base}/display/window/8#device={HALL}")
        kiosk.goto(f"{hall.base}/kiosk#device={KIOSK}")
        screen.evaluate("() => { window.clearhallVoice.enabled = false; }")
        wait_until(screen, lambda: all(has_snapshot(s) for s in live))
        window.wait_for_function("() => document.querySelector('#staffName').textContent === '黄丽'")
        waiting = screen.evaluate(HALL_WAITING, "E")
        assert isinstance(waiting, int)

        # a new ticket: the counts come with queue.changed
        mine = hall.issue("E")
        screen.wait_for_function(f"n => ({HALL_WAITING})('E') === n", arg=waiting + 1, timeout=WAIT_MS)
        kiosk.wait_for_function(
            "n => document.querySelector(\"[data-service='E']\").textContent.includes(n)",
            arg=f"等候 {waiting + 1} 人", timeout=WAIT_MS,
        )  # fmt: skip

        # a call: announced and shown from ticket.called
        hall.call_until("huangli", 8, mine["number"])
        screen.wait_for_function(
            "n => document.querySelector('#nowNumber').textContent === n", arg=mine["number"], timeout=WAIT_MS
        )
        screen.wait_for_function("n => window.clearhallVoice.played.includes(n + '@8')", arg=mine["number"])
        window.wait_for_function(
            "n => document.querySelector('#number').textContent === n", arg=mine["number"], timeout=WAIT_MS
        )
        screen.wait_for_function("n => document.querySelector(\".win-card[data-window='8']\").textContent.includes(n)",
                                 arg=mine["number"], timeout=WAIT_MS)  # fmt: skip

        # a finish: the window screen asks for a rating, the hall screen shows the window free
        hall.window("huangli", 8, "finish")
        window.wait_for_selector("#ratePrompt", state="visible", timeout=WAIT_MS)
        screen.wait_for_function("n => !document.querySelector(\".win-card[data-window='8']\").textContent.includes(n)",
                                 arg=mine["number"], timeout=WAIT_MS)  # fmt: skip
        wait_until(screen, lambda: all(any(m.get("event") == "queue.changed" for m in s[-1]) for s in live))
    finally:
        ctx.close()
    assert reads == [], "with the socket up, no page reads /api/queue"
    for sockets in live:
        changes = [m for m in sockets[-1] if m.get("event") == "queue.changed" and "services" in m]
        assert changes and all({"windows", "recent_calls", "notices"} <= m.keys() for m in changes)
