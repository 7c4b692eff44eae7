"""The phone page (/t/<id>?key=…) at a phone's size follows its ticket from
waiting to called to the rating. Window 5 (chenjing, service C) is this module's.
"""

from __future__ import annotations

from typing import Any

from tests.pages.helpers import WAIT_MS, Hall, text


def test_phone_page_follows_its_ticket_to_the_rating(page: Any, hall: Hall) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    hall.window("chenjing", 5, "sign-in")
    hall.window("chenjing", 5, "finish")
    mine = hall.issue("C", "pregnant")
    path = mine["url"].split("://", 1)[1].split("/", 1)[1]
    page.add_init_script("navigator.vibrate = (p) => { window.__vibrated = p; return true; };")
    page.goto(f"{hall.base}/{path}")
    page.wait_for_selector("#main", state="visible")
    assert text(page, "#number") == mine["number"]
    assert "等候中" in text(page, "#status")

    hall.call_until("chenjing", 5, mine["number"])
    page.wait_for_selector("#called", state="visible", timeout=WAIT_MS)
    assert "5" in text(page, "#calledGo")
    assert page.evaluate("() => window.__vibrated") is not None
    page.click("#calledOk")

    hall.window("chenjing", 5, "finish")
    page.wait_for_selector("#rating", state="visible", timeout=WAIT_MS)
    page.click("#rateSubmit")
    assert "请为每一项" in text(page, "#rateMsg")
    page.click(".scores[data-dim='score'] [data-score='5']")
    page.click(".scores[data-dim='efficiency'] [data-score='4']")
    page.fill("#comment", "办事很快")
    page.click("#rateSubmit")
    page.wait_for_selector(".thanks", state="visible")
    code, _ = hall.call("POST", "/api/ratings", {"ticket": mine["id"], "key": mine["key"], "score": 5})
    assert code == 409
