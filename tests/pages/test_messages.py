"""Issue 9, item 7: every page speaks one language at a time. Each string table
has both languages and keeps Chinese out of English; a refusal from the server
reaches the person in the page's language only (the page sends Accept-Language,
or words the error code from its own table).
"""

from __future__ import annotations

import re
from typing import Any

from tests.pages.helpers import KIOSK, WAIT_MS, Hall, text

CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")
LATIN_WORDS = re.compile(r"[A-Za-z]{3,}(?: [A-Za-z]{2,}){2,}")  # "is paper out", "this ID already"
BILINGUAL_BY_DESIGN = {"lang_switch"}  # the button that names the other language


def test_every_string_table_has_both_languages_and_never_mixes_them(page: Any, hall: Hall) -> None:
    pages = [
        "/kiosk",
        "/console",
        "/supervisor",
        "/supervisor/wall",
        "/display",
        "/display/window/3",
        "/rate/3",
        "/t/x?key=y",
    ]
    seen = 0
    for path in pages:
        page.goto(hall.base + path)
        tables = page.evaluate("() => window.CLEARHALL_STRINGS")
        for table, entries in tables.items():
            for key, entry in entries.items():
                where = f"{path} {table}.{key}"
                assert set(entry) == {"zh", "en"}, where
                if key in BILINGUAL_BY_DESIGN:
                    continue
                assert not CJK.search(entry["en"]), where
                assert not LATIN_WORDS.search(entry["zh"]), where
                seen += 1
    assert seen > 300


def refusal(page: Any, base: str, user: str, lang: str) -> str:
    page.goto(f"{base}/console?lang={lang}")
    page.fill("#username", user)
    page.fill("#password", "not-the-password")
    page.click("#loginBtn")
    page.wait_for_function(
        "() => document.querySelector('#loginMsg').textContent.length > 0", timeout=WAIT_MS
    )
    return text(page, "#loginMsg")


def test_a_server_refusal_is_shown_in_the_pages_language_only(page: Any, hall: Hall) -> None:
    zh = refusal(page, hall.base, "liuyang", "zh")
    assert CJK.search(zh) and not LATIN_WORDS.search(zh), zh
    en = refusal(page, hall.base, "liuyang", "en")
    assert not CJK.search(en) and re.search(r"[A-Za-z]{4,}", en), en


def test_the_kiosk_words_a_printing_fault_from_its_own_table(page: Any, hall: Hall) -> None:
    """The server says `"print": {"status": "failed", "error": "paper_out"}`; the kiosk
    says 打印机缺纸 in Chinese or "out of paper" in English, never the printer's address."""
    failed = {"status": "failed", "error": "paper_out"}

    def paper_out(route: Any) -> None:
        answer = route.fetch()
        body = answer.json()
        body["ticket"]["print"] = failed
        route.fulfill(response=answer, json=body)

    page.route("**/api/tickets", paper_out)
    for lang, words in (("zh", "打印机缺纸"), ("en", "out of paper")):
        page.goto(f"{hall.base}/kiosk?lang={lang}#device={KIOSK}")
        page.click("[data-service='A']")
        page.click("[data-category='normal']")
        page.wait_for_selector("#scrTicket", state="visible", timeout=WAIT_MS)
        shown = text(page, "#printText")
        assert words in shown and "tcp://" not in shown, shown
        assert bool(CJK.search(shown)) == (lang == "zh"), shown
