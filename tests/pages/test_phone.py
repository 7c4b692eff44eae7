"""The phone page (/t/<id>?key=…) at a phone's size follows its ticket from
waiting to called to the rating. Window 5 (chenjing, service C) is this module's.
"""

from __future__ import annotations

from typing import Any

from tests.pages.helpers import WAIT_MS, Hall, socket_messages, text, wait_until


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
    page.click("#rateMore summary")  # the optional details first, then the level sends it all
    page.click(".scores[data-dim='efficiency'] [data-score='4']")
    page.fill("#comment", "办事很快")
    page.click(".scores[data-dim='score'] [data-score='5']")
    page.wait_for_selector(".thanks", state="visible")
    code, _ = hall.call("POST", "/api/ratings", {"ticket": mine["id"], "key": mine["key"], "score": 5})
    assert code == 409


# -- 叫号提醒 (issue 9, item 13) and 一次性告知 (item 12) on the phone -----------------

# Counts what the page asks of the audio and the vibration motor.
SPY = """
window.__alerts = { resumed: 0, tones: 0, vibrations: [] };
(function () {
  var AC = window.AudioContext;
  var resume = AC.prototype.resume, osc = AC.prototype.createOscillator;
  AC.prototype.resume = function () { window.__alerts.resumed++; return resume.apply(this, arguments); };
  AC.prototype.createOscillator = function () { window.__alerts.tones++; return osc.apply(this, arguments); };
  navigator.vibrate = function (p) { window.__alerts.vibrations.push(p); return true; };
})();
"""


def spied(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("() => window.__alerts"))


def open_phone(page: Any, hall: Hall, ticket: dict[str, Any]) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.add_init_script(SPY)
    path = ticket["url"].split("://", 1)[1].split("/", 1)[1]
    page.goto(f"{hall.base}/{path}")
    page.wait_for_selector("#main", state="visible")


def line_up(hall: Hall, before: int, **extra: str) -> dict[str, Any]:
    """Window 5 open and idle; `before` tickets of C, then the test's own."""
    hall.window("chenjing", 5, "sign-in")
    hall.window("chenjing", 5, "finish")
    for _ in range(before):
        hall.issue("C")
    return hall.issue("C", **extra)


def call_next(hall: Hall) -> None:
    hall.window("chenjing", 5, "finish")
    code, body = hall.window("chenjing", 5, "call-next")
    assert code == 200 and body["ticket"], body


def test_one_tap_turns_on_alerts_that_ring_when_near_and_when_called(page: Any, hall: Hall) -> None:
    assert hall.call("GET", "/api/policy")[1]["policy"]["alert_ahead"] == 3
    mine = line_up(hall, 5, phone="13812340005")
    open_phone(page, hall, mine)
    assert page.is_visible("#alertOn") and text(page, "#alertOn") == "开启叫号提醒"
    assert page.is_hidden("#nearBox")
    assert spied(page) == {"resumed": 0, "tones": 0, "vibrations": []}  # nothing before the tap

    page.click("#alertOn")
    page.wait_for_selector("#alertState", state="visible")
    assert "叫号提醒已开启" in text(page, "#alertState") and "3" in text(page, "#alertDetail")
    tapped = spied(page)
    assert tapped["resumed"] >= 1 and tapped["tones"] >= 1 and tapped["vibrations"]

    for _ in range(mine["ahead"] - 3):  # calls bring it within 3 of the front
        call_next(hall)
    page.wait_for_selector("#nearBox", state="visible", timeout=WAIT_MS)
    assert "快到您了" in text(page, "#nearBox") and "前面还有 3 人" in text(page, "#nearBox")
    wait_until(page, lambda: [250, 120, 250] in spied(page)["vibrations"])
    near = spied(page)
    assert near["tones"] > tapped["tones"]

    call_next(hall)  # two ahead: warned already, it does not ring again
    page.wait_for_function(
        "() => document.querySelector('#nearText').textContent.includes('2')", timeout=WAIT_MS
    )
    assert spied(page)["tones"] == near["tones"]

    hall.call_until("chenjing", 5, mine["number"])
    page.wait_for_selector("#called", state="visible", timeout=WAIT_MS)
    assert "请到 5 号窗口办理" in text(page, "#calledGo")
    wait_until(page, lambda: [500, 200, 500, 200, 900] in spied(page)["vibrations"])
    called = spied(page)
    assert called["tones"] >= near["tones"] + 6  # three chimes of two tones
    page.click("#calledOk")

    hall.window("chenjing", 5, "recall")  # a recall rings again, and shows the notice again
    page.wait_for_selector("#called", state="visible", timeout=WAIT_MS)
    wait_until(page, lambda: spied(page)["tones"] >= called["tones"] + 6)


def test_the_place_moves_without_the_page_reading_its_ticket_again(page: Any, hall: Hall) -> None:
    """Issue 13: the socket brings the ticket's own place (ticket.place), never the hall's
    other calls or queue; a place of the same status is drawn without a request."""
    mine = line_up(hall, 3)
    reads: list[str] = []
    page.on("request", lambda r: reads.append(r.url) if "/api/tickets/" in r.url else None)
    sockets = socket_messages(page)
    open_phone(page, hall, mine)
    assert text(page, "#ahead") == "3 人"
    wait_until(page, lambda: any(m.get("event") == "ticket.place" for s in sockets for m in s))
    before = len(reads)
    for left in (2, 1):
        call_next(hall)
        page.wait_for_function(
            f"() => document.querySelector('#ahead').textContent === '{left} 人'", timeout=WAIT_MS
        )
    assert len(reads) == before
    heard = {m.get("event") or m["type"] for s in sockets for m in s}
    assert heard == {"snapshot", "ticket.place"}, heard
    hall.call_until("chenjing", 5, mine["number"])  # the next test's line starts empty


def test_without_the_tap_the_banner_shows_and_nothing_rings(page: Any, hall: Hall) -> None:
    mine = line_up(hall, 4)
    open_phone(page, hall, mine)
    call_next(hall)
    page.wait_for_selector("#nearBox", state="visible", timeout=WAIT_MS)
    assert page.is_visible("#alertOn")
    page.click("#langBtn")
    assert "Almost your turn" in text(page, "#nearBox") and text(page, "#alertOn") == "Turn on call alerts"
    assert spied(page)["tones"] == 0


def test_the_choice_is_kept_for_the_ticket_and_a_tap_brings_the_sound_back(page: Any, hall: Hall) -> None:
    mine = line_up(hall, 6)
    open_phone(page, hall, mine)
    page.click("#alertOn")
    page.wait_for_selector("#alertState", state="visible")
    page.reload()
    page.wait_for_selector("#main", state="visible")
    page.wait_for_selector("#alertResume", state="visible")  # opted in, but a new page is silent
    assert page.is_hidden("#alertOn")
    page.click("#alertResume")
    page.wait_for_selector("#alertState", state="visible")
    assert spied(page)["resumed"] >= 1
    page.click("#alertOff")
    page.wait_for_selector("#alertOn", state="visible")


def test_the_documents_to_bring_and_the_place_show_under_the_number(page: Any, hall: Hall) -> None:
    mine = line_up(hall, 0)
    open_phone(page, hall, mine)
    page.wait_for_selector("#guide", state="visible")
    assert "办理地点：一楼C区 5、6号窗口" in text(page, "#guideWhere")
    assert "请备齐以下材料" in text(page, "#guide")
    assert page.eval_on_selector_all("#guideList li", "els => els.map(e => e.textContent)") == [
        "身份证原件",
        "社会保障卡",
    ]
    page.click("#langBtn")
    assert "Please bring these documents" in text(page, "#guide")


def test_a_service_with_nothing_to_bring_shows_no_list(page: Any, hall: Hall) -> None:
    def bare(route: Any) -> None:
        answer = route.fetch()
        body = answer.json()
        body["ticket"]["materials"], body["ticket"]["where"] = [], None
        route.fulfill(response=answer, json=body)

    page.route("**/api/tickets/*", bare)
    mine = line_up(hall, 0)
    open_phone(page, hall, mine)
    page.wait_for_timeout(500)  # the ticket has been drawn (#main is visible): nothing more comes
    assert page.is_hidden("#guide")
