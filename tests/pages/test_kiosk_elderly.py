"""The kiosk made for older citizens (issue 9, item 14), in a real headless Chromium:
the ID card path through CH.kiosk.cardRead (the card reader's bridge comes later) and
its typed stand-in, the green channel suggested at 60 on the hall's date, a real-name
green-channel ticket in at most 8 taps, 长者模式 with larger text and spoken prompts
from a voice on the machine (never a network one) that stays quiet when there is
none, and 呼叫导办 reaching the supervisors."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from clearhall.server.domain.idcard import check_digit
from tests.conftest import SECRETS
from tests.pages.helpers import FAKE_SPEECH, KIOSK, WAIT_MS, Hall, _ids, text, wait_until

NO_SPEECH = "Object.defineProperty(window, 'speechSynthesis', {value: undefined, configurable: true});"


def id_born(born: date) -> str:
    """A valid ID number of someone born on `born` (each one different in a run)."""
    first17 = f"430681{born:%Y%m%d}{next(_ids) % 1000:03d}"
    number = first17 + check_digit(first17)
    SECRETS.add(number)
    return number


def years_ago(years: int, days: int = 0) -> date:
    """The same day `years` back on the hall's calendar (its zone, not this machine's), plus `days`."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    try:
        back = today.replace(year=today.year - years)
    except ValueError:  # 29 February, and no such day then
        back = today.replace(year=today.year - years, day=28)
    return back + timedelta(days=days)


def open_kiosk(page: Any, hall: Hall, lang: str = "zh") -> None:
    page.set_viewport_size({"width": 1080, "height": 1920})
    page.goto(f"{hall.base}/kiosk?lang={lang}#device={KIOSK}")
    page.wait_for_selector("#scrServices", state="visible", timeout=WAIT_MS)


def card(page: Any, name: str, id_number: str) -> bool:
    return bool(page.evaluate("c => CH.kiosk.cardRead(c)", {"name": name, "id_number": id_number}))


def test_a_real_name_green_channel_ticket_with_the_card_takes_at_most_8_taps(page: Any, hall: Hall) -> None:
    senior = id_born(years_ago(72))
    open_kiosk(page, hall)
    taps = 0

    def tap(selector: str) -> None:
        nonlocal taps
        page.click(selector)
        taps += 1

    tap("#cardBtn")
    page.wait_for_selector("#scrCard", state="visible")
    assert "请将身份证放在感应区" in text(page, "#scrCard")
    assert card(page, "李桂兰", senior)  # the card reader's bridge, not a tap
    page.wait_for_selector("#scrServices", state="visible")
    greeting = text(page, "#person")
    assert "李**" in greeting and senior not in greeting and senior[-4:] in greeting
    tap("[data-service='B']")  # a real-name service: no keypad after the card
    page.wait_for_selector("#greenSuggest", state="visible")
    assert "60" in text(page, "#greenSuggest")
    tap("#greenSuggestBtn")
    page.wait_for_selector("#scrTicket", state="visible", timeout=WAIT_MS)
    assert taps <= 8, taps
    ticket = page.evaluate("() => window.clearhallKiosk.state().ticket")
    assert ticket["category"] == "elderly" and re.fullmatch(r"B\d{3}", ticket["number"])
    assert "老年人" in text(page, "#tService")
    # Done: the next citizen finds nothing of this one.
    page.click("#scrTicket [data-go='home']")
    page.wait_for_selector("#scrServices", state="visible")
    assert page.is_hidden("#person")


def test_the_green_channel_is_suggested_from_60_on_the_halls_date_only(page: Any, hall: Hall) -> None:
    open_kiosk(page, hall)
    # 60 tomorrow: not yet
    assert card(page, "王建国", id_born(years_ago(60, days=1)))
    page.click("[data-service='C']")
    page.wait_for_selector("#scrCategory", state="visible")
    assert page.is_hidden("#greenSuggest")
    page.click("#scrCategory [data-go='services']")
    # a bad read is said, and taken for nothing
    assert not card(page, "王建国", "110105194912310021")
    page.wait_for_selector("#scrCard", state="visible")
    assert "未能读取" in text(page, "#cardMsg")
    # without a reader the number is typed instead: 60 today
    page.click("#cardTypeBtn")
    page.wait_for_selector("#scrRealName", state="visible")
    assert page.is_hidden("#rnTabs")
    for ch in id_born(years_ago(60)):
        page.click(f"#keypad [data-key='{ch}']")
    page.click("#confirmBtn")
    page.wait_for_selector("#scrServices", state="visible")
    assert "60" in text(page, "#personNote")
    page.click("[data-service='C']")
    page.wait_for_selector("#greenSuggest", state="visible")
    assert "suggested" in (page.get_attribute("#greenCats [data-category='elderly']", "class") or "")


def test_a_senior_who_types_the_id_for_a_normal_ticket_is_offered_the_green_channel(
    page: Any, hall: Hall
) -> None:
    open_kiosk(page, hall)
    page.click("[data-service='E']")
    page.click("[data-category='normal']")
    for ch in id_born(years_ago(65)):
        page.click(f"#keypad [data-key='{ch}']")
    page.wait_for_selector("#rnSuggest", state="visible")
    page.click("#rnSuggestBtn")
    page.wait_for_selector("#scrTicket", state="visible", timeout=WAIT_MS)
    assert page.evaluate("() => window.clearhallKiosk.state().ticket.category") == "elderly"


def test_elder_mode_is_larger_and_speaks_with_a_voice_of_the_machine(page: Any, hall: Hall) -> None:
    page.add_init_script(FAKE_SPEECH)
    clips: list[str] = []
    page.on("request", lambda r: clips.append(r.url.rsplit("/", 1)[-1]) if "/voice/clips/" in r.url else None)
    open_kiosk(page, hall)
    size = "() => parseFloat(getComputedStyle(document.querySelector('#serviceTiles .tile .name')).fontSize)"
    before = page.evaluate(size)
    assert page.evaluate("() => window.__spoken.length") == 0  # quiet until asked
    page.click("#elderBtn")
    assert page.get_attribute("#elderBtn", "aria-pressed") == "true"
    assert page.evaluate(size) > before * 1.2
    page.wait_for_function("() => window.__spoken.length > 0")
    spoken = page.evaluate("() => window.__spoken")
    assert spoken[-1] == {"text": "请选择办理的业务", "voice": "Local zh"}  # never the network voice
    page.click("#cardBtn")
    page.wait_for_function("() => window.__spoken.some(s => s.text === '请将身份证放在感应区')")
    page.click("#scrCard [data-go='services']")
    page.click("[data-service='A']")
    page.click("[data-category='normal']")
    page.wait_for_selector("#scrTicket", state="visible", timeout=WAIT_MS)
    number = text(page, "#tNumber")
    # the number is read from the hall screen's own clips: ♪ A 0 0 1 号
    want = ["chime.wav", f"letter-{number[0].lower()}.wav", f"digit-{number[1]}.wav", "hao.wav"]
    wait_until(page, lambda: all(c in clips for c in want))


def test_elder_mode_without_any_speech_stays_quiet_and_ends_with_the_visit(page: Any, hall: Hall) -> None:
    page.add_init_script(NO_SPEECH)
    page.clock.install()
    open_kiosk(page, hall)
    page.click("#elderBtn")  # no speechSynthesis at all: no error (the page fixture checks)
    page.click("[data-service='C']")
    page.wait_for_selector("#scrCategory", state="visible")
    page.clock.fast_forward(35_000)  # 长者模式 gives more time than 30 s …
    assert page.is_visible("#scrCategory")
    page.clock.fast_forward(30_000)  # … but the next citizen does not inherit it
    page.wait_for_selector("#scrServices", state="visible")
    assert page.get_attribute("#elderBtn", "aria-pressed") == "false"
    assert "elder" not in (page.get_attribute("body", "class") or "")


def test_the_guide_button_tells_the_supervisors(page: Any, hall: Hall) -> None:
    open_kiosk(page, hall)
    page.click("#rejoinBtn")
    page.click("#guideBtn")
    page.wait_for_selector("#guideMsg", state="visible", timeout=WAIT_MS)
    assert "已通知导办人员" in text(page, "#guideMsg")
    code, body = hall.call("GET", "/api/guide-calls", token=hall.login("supervisor"))
    assert code == 200, body
    assert [(c["kiosk"], c["screen"]) for c in body["calls"]][:1] == [("kiosk-1", "rejoin")]
