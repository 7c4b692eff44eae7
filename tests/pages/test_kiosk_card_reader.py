"""The ID card reader at the kiosk (issue 12, item 5), in a real headless Chromium with
a real `clearhall kiosk-bridge` process and its simulated reader: the kiosk finds
the bridge when it starts after the page, a card placed shows its holder (masked)
and takes the kiosk to the services, a real-name ticket is issued with the card's
number, which the server has (the window sees it masked) and the browser keeps
nowhere; only a kiosk whose address says `?bridge` looks for a reader at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clearhall.server.domain.idcard import mask
from tests.helpers import free_port
from tests.pages.helpers import (
    KIOSK,
    WAIT_MS,
    Hall,
    id_of_someone_born_in_1990,
    kiosk_bridge,
    place,
    text,
    wait_until,
)

NAME = "欧阳青禾"


def bridge_frames(page: Any, port: int) -> list[dict[str, Any]]:
    """What the page will receive from the card bridge on `port`, as it comes."""
    frames: list[dict[str, Any]] = []

    def opened(ws: Any) -> None:
        if ws.url == f"ws://127.0.0.1:{port}/":
            ws.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", opened)
    return frames


def stored(page: Any) -> str:
    """Everything the kiosk keeps in localStorage and sessionStorage, as one string."""
    return str(page.evaluate(
        "() => JSON.stringify([localStorage, sessionStorage].map(s => Object.keys(s).map(k => [k, s.getItem(k)])))"
    ))  # fmt: skip


def test_a_card_on_the_reader_takes_a_real_name_ticket(page: Any, hall: Hall, tmp_path: Path) -> None:
    number, port, card_file = id_of_someone_born_in_1990(), free_port(), tmp_path / "card.json"
    hall.window("zhangmin", 3, "sign-in")  # B (real name required) is served now
    sent: list[Any] = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/api/tickets") else None)
    frames = bridge_frames(page, port)
    page.set_viewport_size({"width": 1080, "height": 1920})
    page.goto(f"{hall.base}/kiosk?bridge={port}#device={KIOSK}")
    page.wait_for_selector("#scrServices", state="visible", timeout=WAIT_MS)
    assert page.evaluate("CH.kiosk.bridge.state()") == "connecting"  # no bridge yet: the kiosk waits for one
    page.click("#cardBtn")
    page.wait_for_selector("#scrCard", state="visible")

    with kiosk_bridge(port, card_file, hall.base, tmp_path / "bridge.log"):
        wait_until(page, lambda: page.evaluate("CH.kiosk.bridge.state()") == "open", timeout_ms=20_000)
        wait_until(page, lambda: (page.evaluate("CH.kiosk.bridge.reader()") or {}).get("state") == "ready")
        place(card_file, NAME, number)
        page.wait_for_selector("#scrServices", state="visible", timeout=WAIT_MS)
        person = text(page, "#person")
        assert "欧***" in person and number[:4] in person and number[-4:] in person
        assert number not in person and NAME not in person
        page.click("[data-service='B']")  # real name required: the card is it, no keypad
        page.wait_for_selector("#scrCategory", state="visible")
        page.click("#normalCats [data-category='normal']")
        page.wait_for_selector("#scrTicket", state="visible", timeout=WAIT_MS)
        ticket = page.evaluate("() => window.clearhallKiosk.state().ticket")
        card_file.unlink()  # the citizen takes the card back
        wait_until(page, lambda: {"type": "removed"} in frames)

    assert [m["type"] for m in frames] == ["hello", "reader", "card", "removed"]
    assert [s for s in sent if s and s.get("service") == "B"] == [
        {"service": "B", "category": "normal", "id_number": number}
    ]
    assert page.is_visible("#scrTicket")  # the card taken away changes nothing on the screen
    # The server has the number: the window that calls the ticket sees it, masked.
    for _ in range(50):
        hall.window("zhangmin", 3, "finish")
        status, body = hall.window("zhangmin", 3, "call-next")
        assert status == 200 and body["ticket"], body
        if body["ticket"]["number"] == ticket["number"]:
            break
    assert body["ticket"]["id_masked"] == mask(number)
    # The browser keeps nothing of the card.
    kept = stored(page)
    assert number not in kept and number[-6:] not in kept and NAME not in kept
    page.click("#scrTicket [data-go='home']")
    page.wait_for_selector("#scrServices", state="visible")
    assert page.is_hidden("#person")
    log = (tmp_path / "bridge.log").read_text(encoding="utf-8")
    assert f"card {mask(number)} read: sent to 1 page(s)" in log
    assert number not in log and NAME not in log


@pytest.mark.parametrize(
    ("address", "knocks"), [("", None), ("?bridge=0", None), ("?bridge", "ws://127.0.0.1:47810/")]
)
def test_only_a_kiosk_told_of_its_reader_knocks_on_the_loopback(
    page: Any, hall: Hall, address: str, knocks: str | None
) -> None:
    opened: list[str] = []
    page.on("websocket", lambda ws: opened.append(ws.url))
    page.goto(f"{hall.base}/kiosk{address}#device={KIOSK}")
    page.wait_for_selector("#scrServices", state="visible", timeout=WAIT_MS)
    if knocks is None:
        page.wait_for_timeout(300)
        assert page.evaluate("CH.kiosk.bridge.state()") == "off"
    else:
        wait_until(page, lambda: knocks in opened)
    own = hall.base.replace("http://", "ws://")  # the hall's /ws, on 127.0.0.1 in the tests
    assert [u for u in opened if u.startswith("ws://127.0.0.1") and not u.startswith(own)] == (
        [knocks] if knocks else []
    )
