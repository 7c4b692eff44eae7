"""The kiosk (/kiosk) in a real headless Chromium, touched as a citizen touches it:
the demo hall open at any hour, issuing a ticket with its QR code and print status,
a lost answer (no answer, or a 502 from nginx) retried with the same
Idempotency-Key, the ID-number keypad, the 30-second return, the language.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from clearhall.server.store import hallfile
from tests.helpers import valid_id
from tests.pages.helpers import DEMO, KIOSK, WAIT_MS, Hall, _ids, demo_hall_file, text


def test_the_demo_hall_is_open_all_day_and_says_so(page: Any, hall: Hall) -> None:
    """Issue 9, item 6: a newcomer anywhere, at any hour, sees the kiosk work."""
    demo = hallfile.load(DEMO)
    assert (demo.opens_at, demo.closes_at) == ("00:00", "23:59")
    assert "全天开放" in demo.name
    assert 'opens_at = "00:00"' in demo_hall_file()  # this server runs the demo's own hours
    page.set_viewport_size({"width": 1080, "height": 1920})
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.wait_for_selector("#scrServices", state="visible", timeout=WAIT_MS)
    assert page.is_hidden("#scrClosed")
    page.wait_for_function("name => document.querySelector('#hallName').textContent === name", arg=demo.name)
    # the whole name is shown, not cut off, even on a portrait kiosk
    assert page.evaluate(
        "() => { const e = document.querySelector('#hallName'); return e.scrollWidth <= e.clientWidth; }"
    )
    page.click("[data-service='A']")
    page.click("[data-category='normal']")
    page.wait_for_selector("#scrTicket", state="visible", timeout=WAIT_MS)


def test_kiosk_issues_a_ticket_with_its_qr_and_print_status(page: Any, hall: Hall) -> None:
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.click("[data-service='A']")
    assert "绿色通道" in text(page, "#scrCategory")
    assert "老年人" in text(page, "#greenCats")
    page.click("[data-category='normal']")
    page.wait_for_selector("#scrTicket", state="visible")
    number = text(page, "#tNumber")
    assert re.fullmatch(r"A\d{3}", number)
    assert re.search(r"\d", text(page, "#tAhead"))
    url = page.get_attribute("#tQr", "data-url")
    assert url and re.search(r"/t/[^/?]+\?key=", url)
    assert page.locator("#tQr svg").count() == 1
    status = page.get_attribute("#printBox", "data-status")
    assert status in {"queued", "printed", "failed", "none"}
    assert text(page, "#printText").strip()
    # the phone URL of the QR really shows this ticket
    path = url.split("://", 1)[1].split("/", 1)[1]
    code, body = hall.call("GET", "/api/" + path.replace("t/", "tickets/", 1))
    assert code == 200 and body["ticket"]["number"] == number


@pytest.mark.parametrize("lost", ["connection reset", "502 from nginx"])
def test_a_kiosk_whose_answer_is_lost_gets_the_same_ticket_not_two(page: Any, hall: Hall, lost: str) -> None:
    before = hall.call("GET", "/api/queue")[1]
    waiting_before = next(s["waiting"] for s in before["services"] if s["code"] == "A")
    sent: list[str] = []

    def lose_the_first_answer(route: Any) -> None:
        sent.append(route.request.headers.get("idempotency-key", ""))
        if len(sent) == 1:
            route.fetch()  # the server issues the ticket ...
            if lost == "connection reset":  # ... and the kiosk never hears back
                route.abort("connectionreset")
            else:  # ... or hears nginx's word for a process that died with the request
                route.fulfill(status=502, content_type="text/html", body="<h1>502 Bad Gateway</h1>")
        else:
            route.continue_()

    page.route("**/api/tickets", lose_the_first_answer)
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.click("[data-service='A']")
    page.click("[data-category='normal']")
    page.wait_for_selector("#scrTicket", state="visible", timeout=WAIT_MS)
    assert len(sent) == 2 and sent[0] and sent[0] == sent[1]  # retried with the same key
    after = hall.call("GET", "/api/queue")[1]
    assert next(s["waiting"] for s in after["services"] if s["code"] == "A") == waiting_before + 1


def test_kiosk_checks_the_id_number_as_it_is_typed(page: Any, hall: Hall) -> None:
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.click("[data-service='B']")
    page.click("[data-category='elderly']")
    page.wait_for_selector("#scrRealName", state="visible")
    good = valid_id(900 + next(_ids))
    wrong_last = "0" if good[-1] != "0" else "1"
    for ch in good[:17]:
        page.click(f"[data-key='{ch}']")
    assert "17/18" in text(page, "#feedback")
    assert page.is_disabled("#confirmBtn")
    page.click(f"[data-key='{wrong_last}']")
    assert "校验码不符" in text(page, "#feedback")
    assert page.is_disabled("#confirmBtn")
    page.click("[data-key='back']")
    page.click(f"[data-key='{good[-1]}']")
    assert "校验通过" in text(page, "#feedback")
    page.click("#confirmBtn")
    page.wait_for_selector("#scrTicket", state="visible")
    assert re.fullmatch(r"B\d{3}", text(page, "#tNumber"))


def test_kiosk_goes_back_to_the_start_after_30_seconds(page: Any, hall: Hall) -> None:
    page.clock.install()
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.click("[data-service='C']")
    page.wait_for_selector("#scrCategory", state="visible")
    page.clock.fast_forward(25_000)
    assert page.is_visible("#scrCategory")
    page.clock.fast_forward(6_000)
    page.wait_for_selector("#scrServices", state="visible")


def test_kiosk_switches_to_english(page: Any, hall: Hall) -> None:
    page.goto(f"{hall.base}/kiosk?lang=en#device={KIOSK}")
    page.wait_for_selector("#scrServices", state="visible")
    assert "Choose a service" in text(page, "#scrServices")
    page.click("#langBtn")
    assert "请选择办理的业务" in text(page, "#scrServices")
