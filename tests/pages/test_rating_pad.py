"""The rating pad at window 3 (issue 10, item 1): who serves there while idle, a
good rating in one touch with nothing else sent, the four indicators only when
touched first, a 差评 that asks why and reaches the supervisors' cases, large
targets and readable colours, and a voice prompt only with a voice installed on
the pad.

Window 3 (zhangmin, service B, a party member) and its pad are this module's.
"""

from __future__ import annotations

from typing import Any

from tests.pages.helpers import RATE3, WAIT_MS, Hall, text, wait_until
from tests.pages.measure import SIZES, unreadable

MIN_TARGET_PX = 64

# A speechSynthesis that records what it is asked to say, with one voice: installed
# on the pad (localService) or a network one.
VOICE = """local => {
  window.__spoken = [];
  const voice = { localService: local, lang: 'zh-CN', name: 'test voice' };
  const synth = { getVoices: () => [voice], speak: u => window.__spoken.push(u.text), cancel: () => {} };
  Object.defineProperty(window, 'speechSynthesis', { value: synth, configurable: true });
  window.SpeechSynthesisUtterance = function (t) { this.text = t; };
}"""


def open_pad(page: Any, hall: Hall, local_voice: bool | None = None) -> list[dict[str, Any]]:
    """The pad at window 3, with zhangmin signed in there; the rating bodies it posts."""
    hall.window("zhangmin", 3, "sign-in")
    hall.window("zhangmin", 3, "finish")
    if local_voice is not None:
        page.add_init_script(f"({VOICE})({'true' if local_voice else 'false'})")
    posted: list[dict[str, Any]] = []

    def seen(request: Any) -> None:
        if request.method == "POST" and request.url.endswith("/api/ratings"):
            posted.append(request.post_data_json)

    page.on("request", seen)
    page.goto(f"{hall.base}/rate/3#device={RATE3}")
    page.wait_for_selector("#idle", state="visible")
    return posted


def finish_one(hall: Hall, page: Any) -> dict[str, Any]:
    """A B ticket served and finished at window 3: the pad asks for its rating."""
    mine = hall.issue("B")
    hall.call_until("zhangmin", 3, mine["number"])
    hall.window("zhangmin", 3, "start")
    hall.window("zhangmin", 3, "finish")
    page.wait_for_selector("#ask", state="visible", timeout=WAIT_MS)
    assert mine["number"] in text(page, "#askTicket")
    return mine


def too_small(page: Any, selector: str) -> list[tuple[str, float, float]]:
    sizes = page.evaluate(SIZES, selector)
    assert sizes, f"nothing to measure in {selector}"
    return [(label, w, h) for label, w, h in sizes if w < MIN_TARGET_PX or h < MIN_TARGET_PX]


def test_idle_pad_shows_who_serves_and_a_good_rating_is_one_touch(page: Any, hall: Hall) -> None:
    posted = open_pad(page, hall, local_voice=True)
    page.wait_for_function(
        "() => document.querySelector('#staffName').textContent === '张敏'", timeout=WAIT_MS
    )
    assert page.is_visible("#badge") and "党员示范岗" in text(page, "#badge")

    mine = finish_one(hall, page)
    assert "请对本次服务进行评价" in page.evaluate("() => window.__spoken")
    assert too_small(page, ".face, .dim-btn") == []
    assert unreadable(page, ".face, .dim-btn") == []

    page.click(".face[data-score='4']")  # the one touch
    page.wait_for_selector("#thanks", state="visible")
    assert "感谢您的评价" in text(page, "#thanks")
    assert posted == [{"ticket": mine["id"], "score": 4}]  # no dimensions made up from the score

    sup = hall.login("supervisor")
    code, body = hall.call("POST", "/api/ratings", {"ticket": mine["id"], "key": mine["key"], "score": 1})
    assert code == 409, body  # rated once, at the pad
    _, cases = hall.call("GET", "/api/follow-ups", None, sup)
    assert all(c["rating"] is None or c["rating"]["ticket"] != mine["number"] for c in cases["follow_ups"])

    # Signed out, the pad says nobody serves here.
    hall.window("zhangmin", 3, "sign-out")
    page.wait_for_selector("#idle", state="visible", timeout=WAIT_MS)
    page.wait_for_function(
        "() => document.querySelector('#staffName').textContent.includes('暂无')", timeout=WAIT_MS
    )
    assert page.is_hidden("#badge")


def test_a_bad_rating_asks_why_and_becomes_a_case(page: Any, hall: Hall) -> None:
    posted = open_pad(page, hall)
    mine = finish_one(hall, page)
    page.click(".dim[data-dim='attitude'] .dim-btn[data-score='2']")  # an optional indicator, first
    assert page.get_attribute(".dim[data-dim='attitude'] .dim-btn[data-score='2']", "aria-pressed") == "true"
    assert unreadable(page, ".dim-btn[aria-pressed='true']") == []

    page.click(".face[data-score='2']")
    page.wait_for_selector("#reasons", state="visible")
    assert "不满意" in text(page, "#whyTitle")
    assert posted == []  # nothing sent before the reasons
    page.click("#whySend")
    assert "至少点选一项原因" in text(page, "#whyMsg") and posted == []

    page.click(".reason[data-reason='态度冷漠']")
    page.click(".reason[data-reason='多次跑动']")
    assert too_small(page, ".reason, #whyBack, #whySend, #comment, #contact") == []
    assert unreadable(page, ".reason, #whyBack, #whySend") == []
    page.fill("#contact", "138 1234 5678")
    page.click("#whySend")
    page.wait_for_selector("#thanks", state="visible")
    assert "感谢您的反馈" in text(page, "#thanks") and "回访" in text(page, "#thanksSub")
    assert posted == [{"ticket": mine["id"], "score": 2, "reasons": ["态度冷漠", "多次跑动"],
                       "contact": "13812345678", "dimensions": {"attitude": 2}}]  # fmt: skip

    code, cases = hall.call("GET", "/api/follow-ups?state=open", None, hall.login("supervisor"))
    assert code == 200, cases
    case = next(c for c in cases["follow_ups"] if c["rating"] and c["rating"]["ticket"] == mine["number"])
    assert case["kind"] == "rating" and case["window"] == 3
    assert case["rating"]["reasons"] == ["态度冷漠", "多次跑动"] and case["rating"]["channel"] == "pad"
    assert case["contact"] == "13812345678"
    due = case["due_at"][5:10].lstrip("0").replace("-0", "-").split("-")  # "12-07" → ["12", "7"]
    assert f"{due[0]}月{due[1]}日" in text(page, "#thanksSub")


def test_back_from_the_reasons_and_a_good_level_instead(page: Any, hall: Hall) -> None:
    """A citizen who touched 非常不满意 by mistake goes back and touches 满意: one rating, no reasons."""
    posted = open_pad(page, hall)
    mine = finish_one(hall, page)
    page.click(".face[data-score='1']")
    page.wait_for_selector("#reasons", state="visible")
    page.click("#whyBack")
    page.wait_for_selector("#ask", state="visible")
    page.click(".face[data-score='5']")
    page.wait_for_selector("#thanks", state="visible")
    assert posted == [{"ticket": mine["id"], "score": 5}]


def test_a_phone_rating_closes_the_reasons_screen_too(page: Any, hall: Hall) -> None:
    open_pad(page, hall)
    mine = finish_one(hall, page)
    page.click(".face[data-score='2']")
    page.wait_for_selector("#reasons", state="visible")
    code, body = hall.call("POST", "/api/ratings", {"ticket": mine["id"], "key": mine["key"], "score": 5})
    assert code == 201, body
    page.wait_for_selector("#thanks", state="visible", timeout=WAIT_MS)
    assert "已评价" in text(page, "#thanks")


def test_no_voice_on_the_pad_means_quiet_and_the_button_turns_it_off(page: Any, hall: Hall) -> None:
    open_pad(page, hall, local_voice=False)  # a network voice only: never used
    finish_one(hall, page)
    page.click(".face[data-score='1']")
    page.wait_for_selector("#reasons", state="visible")
    assert page.evaluate("() => window.__spoken") == []
    page.click("#whyBack")
    page.click(".face[data-score='3']")
    page.wait_for_selector("#thanks", state="visible")
    assert page.evaluate("() => window.__spoken") == []

    # With a voice installed, the header's button silences it, and the pad remembers.
    page.add_init_script(f"({VOICE})(true)")
    page.reload()
    page.wait_for_selector("#idle", state="visible")
    assert text(page, "#voiceBtn") == "语音提示：开"
    page.click("#voiceBtn")
    assert text(page, "#voiceBtn") == "语音提示：关"
    page.reload()
    page.wait_for_selector("#idle", state="visible")
    assert page.get_attribute("#voiceBtn", "aria-pressed") == "false"
    finish_one(hall, page)
    wait_until(page, lambda: page.is_visible(".face"))
    assert page.evaluate("() => window.__spoken") == []
    page.click("#langBtn")
    assert "Please rate this service" in text(page, "#ask") and "Speed" in text(page, "#dims")
