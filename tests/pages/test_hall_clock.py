"""The hall's clock (issue 9, item 10): the kiosk, the hall screen and the window
screen show the time of the hall (its timezone, Asia/Shanghai in the demo) from
the server's clock, whatever the browser's timezone and however wrong its clock.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.pages.helpers import HALL, KIOSK, WAIT_MS, WINDOW3, Hall, text

HALL_ZONE = ZoneInfo("Asia/Shanghai")  # the demo hall's
BROWSER_ZONE = "America/New_York"  # another day of the week, most of the time
BROWSER_CLOCK_OFF_S = -(5 * 3600 + 17 * 60)  # and a browser clock 5 h 17 min slow


def hall_clock(d: datetime) -> str:
    """What a Chinese screen shows: "2026年11月30日 星期一  07:22"."""
    weekday = "一二三四五六日"[d.weekday()]
    return f"{d.year}年{d.month}月{d.day}日 星期{weekday}  {d:%H:%M}"


def now_in_hall() -> list[datetime]:
    """The hall's time now and a minute on, so a test that crosses a minute still passes."""
    now = datetime.now(HALL_ZONE)
    return [now, now + timedelta(minutes=1)]


def test_services_tell_the_halls_zone_and_the_servers_time(hall: Hall) -> None:
    status, body = hall.call("GET", "/api/services")
    assert status == 200, body
    assert body["hall"]["timezone"] == "Asia/Shanghai"
    now = datetime.fromisoformat(body["hall"]["now"])
    assert now.utcoffset() == timedelta(hours=8)  # ISO 8601 with the hall's offset
    assert abs((now - datetime.now(HALL_ZONE)).total_seconds()) < 5


def test_screens_show_the_halls_time_not_the_browsers(browser: Any, hall: Hall) -> None:
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, timezone_id=BROWSER_ZONE)
    try:
        pages = {name: ctx.new_page() for name in ("hall", "window", "kiosk")}
        errors: list[str] = []
        for p in pages.values():
            p.on("pageerror", lambda e: errors.append(str(e)))
            p.clock.install(time=time.time() + BROWSER_CLOCK_OFF_S)
        pages["hall"].goto(f"{hall.base}/display#device={HALL}")
        pages["window"].goto(f"{hall.base}/display/window/3#device={WINDOW3}")
        pages["kiosk"].goto(f"{hall.base}/kiosk#device={KIOSK}")
        pages["hall"].evaluate("() => { window.clearhallVoice.enabled = false; }")
        # the browser itself believes it is another time, somewhere else
        local = pages["hall"].evaluate("() => new Date().toString()")
        assert "Eastern" in local, local

        for name in ("hall", "window"):
            wanted = [hall_clock(d) for d in now_in_hall()]
            pages[name].wait_for_function(
                "wanted => wanted.includes(document.querySelector('#clock').textContent)",
                arg=wanted, timeout=WAIT_MS,
            )  # fmt: skip
        wanted = [f"{d:%H:%M}" for d in now_in_hall()]
        pages["kiosk"].wait_for_function(
            "wanted => wanted.includes(document.querySelector('#clock').textContent)",
            arg=wanted,
            timeout=WAIT_MS,
        )

        # English shows the same day and time, in English
        pages["hall"].keyboard.press("l")
        shown = text(pages["hall"], "#clock")
        days = [d.strftime("%a") for d in now_in_hall()]
        times = [f"{d:%H:%M}" for d in now_in_hall()]
        assert any(day in shown for day in days) and any(shown.endswith(t) for t in times), shown
        assert not errors, errors
    finally:
        ctx.close()
