"""The wall screen (数据大屏, /supervisor/wall; issue 11, item 5) in a real headless
Chromium at 1920×1080: a supervisor's log-in (the dashboard's, carried over from
its 大屏 link; staff are refused), dark, every word a person reads ≥ 24 px and
nothing cut off on each of its four panels in both languages, turning every 15 s
(Playwright's clock, not a sleep) or held with ?rotate=0, live on the socket.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.pages.helpers import HALL, PASSWORDS, WAIT_MS, Hall, text, wait_until

PANELS = ("day", "satisfaction", "integrity", "queue")

# What a person across the room must read, and whether it all fits: every visible
# element with words of its own at 24 px or more, inside the screen, its words not
# running out of it; the lists and cards that hide their overflow have none to
# hide; the page does not scroll.
LOOK = """() => {
  const vw = innerWidth, vh = innerHeight, out = {small: [], outside: [], clipped: []};
  const name = e => (e.id ? '#' + e.id : e.className || e.tagName) + ' ' + e.textContent.trim().slice(0, 24) +
    ` (${e.scrollWidth}×${e.scrollHeight} in ${e.clientWidth}×${e.clientHeight}, ${getComputedStyle(e).fontSize})`;
  for (const e of document.querySelectorAll('#wallView *')) {
    const r = e.getBoundingClientRect(), st = getComputedStyle(e);
    if (r.width === 0 || r.height === 0 || st.visibility === 'hidden') continue;
    const words = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (words && parseFloat(st.fontSize) < 24) out.small.push(name(e) + ' ' + st.fontSize);
    if (r.left < -1 || r.top < -1 || r.right > vw + 1 || r.bottom > vh + 1) out.outside.push(name(e));
    if (st.display === 'inline') continue;
    const wide = e.scrollWidth > e.clientWidth + 1, tall = e.scrollHeight > e.clientHeight + 1;
    // a box that hides its overflow hides none; words never run out of their box sideways
    if (st.overflow !== 'visible' ? wide || tall : words && wide) out.clipped.push(name(e));
  }
  const root = document.documentElement;
  out.scrolls = root.scrollHeight > vh + 1 || root.scrollWidth > vw + 1;
  out.background = getComputedStyle(document.body).backgroundColor;
  return out;
}"""


LOADED = """panel => {
  const shown = document.querySelector('.w-panel:not([hidden])').textContent;
  if (/正在加载|Loading/.test(shown)) return false;
  if (panel === 'day') return document.querySelector("#dayKpis [data-kpi='issued'] .w-k-val").textContent !== '—';
  if (panel === 'satisfaction') return document.querySelector("#satKpis [data-kpi='rated'] .w-k-val").textContent !== '—';
  if (panel === 'integrity') return document.querySelectorAll('#wallCards li, #wallSignals li').length >= 2;
  return document.querySelectorAll('#wallWindows .w-win').length > 0;
}"""


def wall(p: Any, base: str, query: str = "", user: str = "supervisor") -> None:
    p.set_viewport_size({"width": 1920, "height": 1080})
    p.goto(f"{base}/supervisor/wall{query}")
    p.wait_for_selector("#loginView", state="visible")
    p.fill("#username", user)
    p.fill("#password", PASSWORDS[user])
    p.click("#loginBtn")


def on(p: Any) -> str:
    return str(p.get_attribute("#stage", "data-panel"))


def test_a_supervisors_log_in_staff_are_refused_and_the_dashboards_carries_over(
    page: Any, hall: Hall
) -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{hall.base}/supervisor/wall#device={HALL}")  # a display's token opens nothing here
    page.wait_for_selector("#loginView", state="visible")
    assert page.locator("#wallView").is_hidden()
    wall(page, hall.base, user="xuming")
    page.wait_for_function(
        "() => document.querySelector('#loginMsg').textContent.length > 0", timeout=WAIT_MS
    )
    assert "需要主管权限" in text(page, "#loginMsg") and page.locator("#wallView").is_hidden()

    # the dashboard's 大屏 link: the same log-in, no second one
    page.goto(hall.base + "/supervisor")
    page.fill("#username", "supervisor")
    page.fill("#password", PASSWORDS["supervisor"])
    page.click("#loginBtn")
    page.wait_for_selector("#dashView", state="visible")
    page.click("#viewNav [data-view='wall']")
    page.wait_for_selector("#wallView", state="visible", timeout=WAIT_MS)
    assert page.url.endswith("/supervisor/wall") and page.locator("#loginView").is_hidden()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_panel_is_dark_large_and_whole_at_1920x1080(page: Any, hall: Hall, lang: str) -> None:
    hall.window("xuming", 12, "sign-in")
    hall.issue("H")
    hall.window("xuming", 12, "finish")
    hall.window("xuming", 12, "call-next")
    wall(page, hall.base, f"?rotate=0&lang={lang}")
    page.wait_for_selector(".w-live[data-state='online']", timeout=WAIT_MS)
    for panel in PANELS:
        page.goto(f"{hall.base}/supervisor/wall?rotate=0&lang={lang}&panel={panel}")  # the log-in stays
        page.wait_for_selector(".w-live[data-state='online']", timeout=WAIT_MS)
        assert on(page) == panel
        if panel in ("day", "satisfaction"):
            canvas = "#wallHourly canvas" if panel == "day" else "#wallByWindow canvas"
            page.wait_for_selector(canvas, timeout=WAIT_MS)
            assert page.eval_on_selector(canvas, "c => c.width > 800 && c.height > 300")
        if panel == "queue":
            page.wait_for_selector("#wallWindows .w-win[data-window='12']", timeout=WAIT_MS)
        # the first reads have landed: nothing is loading, today's numbers are in
        page.wait_for_function(LOADED, arg=panel, timeout=WAIT_MS)
        look = page.evaluate(LOOK)
        assert look["small"] == [] and look["outside"] == [] and look["clipped"] == [], (panel, lang, look)
        assert not look["scrolls"], (panel, lang)
        r, g, b = (int(x) for x in look["background"][4:-1].split(",")[:3])
        assert r + g + b < 120, look["background"]  # dark


def test_the_panels_turn_every_15_seconds_and_hold_with_rotate_0(page: Any, hall: Hall) -> None:
    page.clock.install()
    wall(page, hall.base)
    page.wait_for_selector("#wallView", state="visible", timeout=WAIT_MS)
    assert on(page) == "day" and text(page, "#panelTitle") == "今日概况"
    for panel in (*PANELS[1:], PANELS[0]):
        page.clock.run_for(15_000)
        assert on(page) == panel
    assert page.locator("#dots .w-dot.on").count() == 1
    page.keyboard.press("ArrowRight")
    assert on(page) == "satisfaction"
    page.keyboard.press(" ")  # held: the clock runs, the panel stays
    page.clock.run_for(60_000)
    assert on(page) == "satisfaction"

    page.goto(f"{hall.base}/supervisor/wall?rotate=0&panel=queue")
    page.wait_for_selector("#wallView", state="visible", timeout=WAIT_MS)
    page.clock.run_for(120_000)
    assert on(page) == "queue"


def test_the_queue_panel_is_live_on_the_socket(page: Any, hall: Hall) -> None:
    wall(page, hall.base, "?rotate=0&panel=queue")
    page.wait_for_selector(".w-live[data-state='online']", timeout=WAIT_MS)
    row = "#wallServices tr[data-service='H'] td.big"
    page.wait_for_selector(row, timeout=WAIT_MS)
    before = int(text(page, row))
    hall.issue("H")
    wait_until(page, lambda: text(page, row) == str(before + 1))
    page.keyboard.press("l")
    assert text(page, "#panelTitle") == "The queue now" and text(page, "#wallServices th") == "Service"
