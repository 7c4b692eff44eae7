"""呼叫导办 on the supervisor dashboard (issue 9, item 14), in a real headless Chromium:
a kiosk's call shows at once as a red alert with the kiosk's name, where the citizen
was and the time, and 已处理 takes it off this dashboard and every other one."""

from __future__ import annotations

import re
from typing import Any

from tests.pages.helpers import KIOSK, WAIT_MS, Hall, text

SUPERVISOR = ("supervisor", "demo-supervisor-2026")


def log_in(p: Any, base: str) -> None:
    p.set_viewport_size({"width": 1366, "height": 768})
    p.goto(base + "/supervisor")
    p.fill("#username", SUPERVISOR[0])
    p.fill("#password", SUPERVISOR[1])
    p.click("#loginBtn")
    p.wait_for_selector("#dashView", state="visible", timeout=WAIT_MS)
    p.wait_for_selector("#live[data-state='online']", timeout=WAIT_MS)


def test_a_guide_call_is_an_alert_until_a_supervisor_takes_it(page: Any, browser: Any, hall: Hall) -> None:
    log_in(page, hall.base)
    other_ctx = browser.new_context()
    other = other_ctx.new_page()
    try:
        log_in(other, hall.base)
        assert page.locator("#guideAlert").count() == 0
        status, body = hall.call("POST", "/api/guide-calls", {"screen": "duplicate"}, KIOSK)
        assert status == 201, body
        page.wait_for_selector("#guideAlert", timeout=WAIT_MS)
        alert = text(page, "#guideAlert")
        assert "kiosk-1" in alert and "呼叫导办" in alert and "已取过号" in alert, alert
        assert re.search(rf"{body['call']['at'][11:16]}", alert), alert  # the hall's time of the call
        other.wait_for_selector("#guideAlert", timeout=WAIT_MS)
        page.click("#guideDone")
        page.wait_for_selector("#guideAlert", state="detached", timeout=WAIT_MS)
        other.wait_for_selector("#guideAlert", state="detached", timeout=WAIT_MS)  # guide.answered
        status, calls = hall.call("GET", "/api/guide-calls", token=hall.login("supervisor"))
        assert status == 200 and calls["calls"] == [], calls
        # a dashboard opened later shows the calls still open, and only those
        hall.call("POST", "/api/guide-calls", {}, KIOSK)
        page.reload()
        page.wait_for_selector("#guideAlert", timeout=WAIT_MS)
        assert "首页" in text(page, "#guideAlert")
    finally:
        other_ctx.close()
