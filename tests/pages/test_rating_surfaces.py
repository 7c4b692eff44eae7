"""The rating pad and the phone page agree (issue 9, item 17): the first rating
wins on both at once, the phone's targets are big enough for a thumb, and
every rating colour can be read.

Window 3 (zhangmin, service B) and its pad are this module's.
"""

from __future__ import annotations

from typing import Any

from tests.pages.helpers import RATE3, WAIT_MS, Hall, text
from tests.pages.measure import SIZES, unreadable

MIN_TARGET_PX = 48


def finished_at_window_3(hall: Hall, pad: Any, phone: Any) -> dict[str, Any]:
    """A citizen watches their B ticket on the phone; it is served and finished at
    window 3, and both the pad and the phone ask for the rating."""
    hall.window("zhangmin", 3, "sign-in")
    hall.window("zhangmin", 3, "finish")
    pad.goto(f"{hall.base}/rate/3#device={RATE3}")
    pad.wait_for_selector("#idle", state="visible")
    mine = hall.issue("B")
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(f"{hall.base}/{mine['url'].split('://', 1)[1].split('/', 1)[1]}")
    phone.wait_for_selector("#main", state="visible")
    hall.call_until("zhangmin", 3, mine["number"])
    hall.window("zhangmin", 3, "start")
    hall.window("zhangmin", 3, "finish")
    pad.wait_for_selector("#ask", state="visible", timeout=WAIT_MS)
    assert mine["number"] in text(pad, "#askTicket")
    phone.wait_for_selector("#rateForm", state="visible", timeout=WAIT_MS)
    return mine


def second_page(page: Any) -> tuple[Any, list[str]]:
    """Another page beside the fixture's, and the JavaScript errors it raises."""
    other = page.context.new_page()
    errors: list[str] = []
    other.on("pageerror", lambda e: errors.append(str(e)))
    return other, errors


def test_a_phone_rating_drops_the_pads_question(page: Any, hall: Hall) -> None:
    pad, pad_errors = second_page(page)
    mine = finished_at_window_3(hall, pad, page)
    assert unreadable(pad, ".face") == []

    page.click(".scores[data-dim='score'] [data-score='4']")  # one touch sends it
    page.wait_for_selector(".thanks", state="visible")

    pad.wait_for_selector("#ask", state="hidden", timeout=WAIT_MS)
    assert "已评价" in text(pad, "#thanks")
    code, _ = hall.call("POST", "/api/ratings", {"ticket": mine["id"], "score": 1}, RATE3)
    assert code == 409  # and the pad could not have changed it
    pad.wait_for_selector("#idle", state="visible", timeout=WAIT_MS)
    assert pad_errors == []


def test_a_pad_rating_turns_the_phones_form_to_rated(page: Any, hall: Hall) -> None:
    pad, pad_errors = second_page(page)
    mine = finished_at_window_3(hall, pad, page)

    # A thumb's targets: every level, the optional details' opener and, opened, every indicator.
    page.click("#rateMore summary")
    for label, width, height in page.evaluate(SIZES, ".scores button, #rateMore summary"):
        assert width >= MIN_TARGET_PX and height >= MIN_TARGET_PX, (label, width, height)
    assert unreadable(page, ".scores button") == []
    page.click(".scores[data-dim='integrity'] [data-score='3']")  # pressed buttons too
    assert page.get_attribute(".scores[data-dim='integrity'] [data-score='3']", "aria-pressed") == "true"
    assert unreadable(page, ".scores button[aria-pressed='true']") == []

    pad.click(".face[data-score='3']")
    pad.wait_for_selector("#thanks", state="visible")
    page.wait_for_selector("#rateForm", state="hidden", timeout=WAIT_MS)
    assert "已评价，谢谢" in text(page, "#rating")

    # Opened again later, the phone knows at once and offers no form.
    again, again_errors = second_page(page)
    again.set_viewport_size({"width": 390, "height": 844})
    again.goto(page.url)
    again.wait_for_selector("#rating .thanks", state="visible", timeout=WAIT_MS)
    assert "已评价，谢谢" in text(again, "#rating")
    assert not again.is_visible("#rateForm")
    code, _ = hall.call("POST", "/api/ratings", {"ticket": mine["id"], "key": mine["key"], "score": 5})
    assert code == 409
    assert pad_errors == [] and again_errors == []


def test_an_undone_finish_withdraws_the_pads_question(page: Any, hall: Hall) -> None:
    """The clerk pressed 办结 too early and undid it (issue 9, item 2): the ticket is
    being served again, so the pad stops asking for a rating it could not take."""
    pad, pad_errors = second_page(page)
    finished_at_window_3(hall, pad, page)
    code, body = hall.window("zhangmin", 3, "undo")
    assert code == 200, body
    pad.wait_for_selector("#idle", state="visible", timeout=WAIT_MS)
    assert pad_errors == []
