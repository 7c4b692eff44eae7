"""The hall screen read from across the hall (issue 9, item 16): on a 1080p TV, on
the 1366×768 and 1280×720 TVs many halls have, and in English, every text a
person must read is at least 24 px, nothing is cut off or pushed out of its box,
and every window and every service is shown (on a 1366×768 screen, over pages
that turn by themselves).

This module has its own server: it staffs all twelve windows of the demo hall.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.pages.helpers import HALL, Hall, wait_until
from tests.pages.measure import MEASURE, SMALLEST_PX

SIZES = [(1920, 1080), (1366, 768), (1280, 720)]
STAFF = {  # window → who signs in there; 4 is left closed, 11 paused
    1: "lina", 2: "wangqiang", 3: "zhangmin", 5: "chenjing", 6: "yangfan", 7: "zhaolei",
    8: "huangli", 9: "zhoujie", 10: "wuhong", 11: "xuming", 12: "sunwei",
}  # fmt: skip

SHOWN = """() => ({
  windows: [...document.querySelectorAll('.win-card[data-window]')].map(e => Number(e.dataset.window)),
  services: [...document.querySelectorAll('#services .code')].map(e => e.textContent),
})"""


@pytest.fixture(scope="module")
def busy(hall: Hall) -> Iterator[Hall]:
    """Eleven windows staffed (one paused), ten calls made, people waiting everywhere."""
    for n, user in STAFF.items():
        status, body = hall.window(user, n, "sign-in")
        assert status == 200, body
    for service in "ABCDEFGHABCDEFGHCCAB":
        hall.issue(service)
    for n in (1, 3, 5, 6, 7, 8, 9, 10, 12, 2):
        status, body = hall.window(STAFF[n], n, "call-next")
        assert status == 200, body
    status, body = hall.window("xuming", 11, "pause", {"reason": "午间轮换"})
    assert status == 200, body
    yield hall


def open_screen(p: Any, hall: Hall, width: int, height: int, lang: str) -> None:
    p.set_viewport_size({"width": width, "height": height})
    p.clock.install()  # the pages turn when the test says so
    p.goto(f"{hall.base}/display?lang={lang}#device={HALL}")
    p.evaluate("() => { window.clearhallVoice.enabled = false; }")
    filled = "() => document.querySelectorAll('.win-card').length > 0 && document.querySelectorAll('#recent .num').length >= 8"
    wait_until(p, lambda: bool(p.evaluate(filled)))  # (the installed clock stops wait_for_function)
    p.clock.run_for(1000)  # the layout settles (fonts, measured pages)


@pytest.mark.parametrize(("width", "height", "lang"), [(w, h, "zh") for w, h in SIZES] + [(1366, 768, "en")])
def test_every_text_is_large_and_whole_and_every_window_shown(
    page: Any, busy: Hall, width: int, height: int, lang: str
) -> None:
    open_screen(page, busy, width, height, lang)
    windows: set[int] = set()
    services: set[str] = set()
    badges = 0
    for _ in range(4):  # the window and service lists turn pages by themselves
        problems = page.evaluate(MEASURE, SMALLEST_PX)
        assert not problems, f"{width}×{height} {lang}: " + "; ".join(problems)
        shown = page.evaluate(SHOWN)
        windows |= set(shown["windows"])
        services |= set(shown["services"])
        badges += page.locator(".badge-party").count()
        if width == 1920:
            break
        page.clock.run_for(10_000)
    assert windows == set(range(1, 13))
    assert services == set("ABCDEFGH")
    assert badges  # the party badge was measured too
    if width == 1920:  # room for everything at once on a 1080p screen
        assert len(shown["windows"]) == 12 and len(shown["services"]) == 8
