"""差评整改 on the supervisor dashboard (issue 10, item 4), in a real headless
Chromium: a bad rating becomes a case on the page as it is given, the supervisor
calls back, fixes and closes it there; an appeal is not the appellant's to
decide, and another supervisor (the demo's admin) decides it; a case whose
deadline passes turns overdue on the open page; the filters.

Bad ratings are given through the API: a ticket of service H issued at the kiosk,
called and finished by xuming at window 12, rated 1 with a reason by its key.
This module runs a server of its own, so that the overdue test may move a
deadline in its database.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.pages.helpers import (
    WAIT_MS,
    Hall,
    add_step,
    choose,
    demo_hall_file,
    log_in,
    serving,
    socket_messages,
    text,
    wait_until,
)

DATABASE = f"clearhall_pages_cases_{os.getpid()}"
OVERDUE_MS = 75_000  # the server looks for passed deadlines every 30 s; the page re-reads every 30 s


@pytest.fixture(scope="module")
def hall(pg_url: str) -> Iterator[Hall]:
    with serving(pg_url, DATABASE, demo_hall_file()) as running:
        yield running


def run_sql(pg_url: str, query: str, *args: Any) -> None:
    """One statement on this module's database, on a thread of its own (Playwright's loop holds this one)."""
    import asyncpg

    from tests.conftest import with_database

    async def work() -> None:
        conn = await asyncpg.connect(with_database(pg_url, DATABASE))
        try:
            await conn.execute(query, *args)
        finally:
            await conn.close()

    failed: list[BaseException] = []
    t = threading.Thread(target=lambda: failed.extend(_run(work)))
    t.start()
    t.join()
    if failed:
        raise failed[0]


def _run(work: Any) -> list[BaseException]:
    try:
        asyncio.run(work())
    except BaseException as e:
        return [e]
    return []


def bad_rating(hall: Hall, reason: str = "态度冷漠", **extra: Any) -> dict[str, Any]:
    """A 差评 of a ticket xuming served at window 12: the rating, with its `case`."""
    ticket = hall.issue("H")
    hall.window("xuming", 12, "sign-in")
    hall.call_until("xuming", 12, ticket["number"])
    status, body = hall.window("xuming", 12, "finish")
    assert status == 200, body
    rating = {"ticket": ticket["id"], "key": ticket["key"], "score": 1, "reasons": [reason], **extra}
    status, body = hall.call("POST", "/api/ratings", rating)
    assert status == 201, body
    assert body["rating"]["case"], body
    return dict(body["rating"])


def badge(p: Any) -> tuple[int, int]:
    b = p.locator("#casesBadge")
    return int(b.get_attribute("data-todo") or 0), int(b.get_attribute("data-overdue") or 0)


def test_a_bad_rating_becomes_a_case_called_back_fixed_and_closed_on_the_page(page: Any, hall: Hall) -> None:
    log_in(page, hall.base)
    todo, _ = badge(page)
    rating = bad_rating(hall, comment="窗口人员一直在看手机", contact="13912345678")
    case = rating["case"]["id"]

    # the case shows as it is opened (follow_up.opened), and the badge counts it
    row = page.locator(f"#caseRows tr[data-case='{case}']")
    row.wait_for(timeout=WAIT_MS)
    wait_until(page, lambda: badge(page)[0] == todo + 1)
    line = row.inner_text()
    assert "徐明" in line and "12" in line and "非常不满意" in line and "态度冷漠" in line, line
    assert "办理中" in line and rating["case"]["due_at"][5:10] in line, line
    assert "13912345678" not in line, "the call-back number is shown in the case only"

    row.click()
    page.wait_for_selector(f"#caseDetail[data-case='{case}']", timeout=WAIT_MS)
    detail = text(page, "#caseDetail")
    for shown in ("13912345678", "窗口人员一直在看手机", "态度冷漠", rating["ticket"], "徐明"):
        assert shown in detail, (shown, detail)
    assert "尚无处理步骤" in detail
    assert page.url.endswith(f"#cases/{case}")

    # 办结 waits for a call-back and a fix or an explanation, and says so
    assert page.is_disabled("#stepKinds input[value='close']")
    assert "需先回访，并整改或说明" in text(page, "#stepNeed")

    # a refusal from the server is shown in its words: the call-back sent without its text
    page.route(
        "**/api/follow-ups/*/steps",
        lambda route: route.continue_(post_data='{"kind": "callback", "text": ""}'),
    )
    choose(page, "callback", "已电话回访")
    page.click("#stepSave")
    page.locator("#stepMsg", has_text="请填写此步骤的内容").wait_for(timeout=WAIT_MS)
    assert "invalid" in (page.get_attribute("#stepText", "class") or "")
    page.unroute("**/api/follow-ups/*/steps")

    add_step(page, "callback", "已电话回访，群众反映窗口人员办理时看手机，已致歉。")
    assert page.is_disabled("#stepKinds input[value='close']")
    assert "回访 ✓，整改或说明 ✗" in text(page, "#stepNeed")
    add_step(page, "fix", "对该工作人员进行提醒谈话，窗口实行手机集中存放。")
    assert page.is_enabled("#stepKinds input[value='close']")
    assert "可以办结" in text(page, "#stepNeed")

    choose(page, "close")
    assert text(page, "#stepSave") == "办结案件"
    page.click("#stepSave")
    page.wait_for_selector("#caseDetail[data-state='closed']", timeout=WAIT_MS)
    assert "案件已办结" in text(page, "#caseDetail") and page.is_hidden("#stepForm")
    kinds = page.eval_on_selector_all("#caseDetail ol.steps li", "lis => lis.map(li => li.dataset.kind)")
    assert kinds == ["callback", "fix", "close"]

    # off the list of cases not closed, off the badge; closed for the server too
    row.wait_for(state="detached", timeout=WAIT_MS)
    wait_until(page, lambda: badge(page)[0] == todo)
    status, body = hall.call("GET", f"/api/follow-ups/{case}", token=hall.login("supervisor"))
    assert status == 200 and body["follow_up"]["state"] == "closed", body
    page.click("#caseStates [data-state='closed']")
    page.locator(f"#caseRows tr[data-case='{case}'][data-state='closed']").wait_for(timeout=WAIT_MS)


def test_an_appeal_is_not_decided_by_the_one_who_recorded_it(page: Any, browser: Any, hall: Hall) -> None:
    case = bad_rating(hall, reason="其他")["case"]["id"]
    log_in(page, hall.base, where=f"#cases/{case}")
    page.wait_for_selector(f"#caseDetail[data-case='{case}']", timeout=WAIT_MS)
    add_step(page, "appeal", "监控显示办理过程正常，该评价疑为误点。")

    # the supervisor who recorded it is not offered the decision, and is told why
    assert page.locator("#stepKinds input[value='appeal_decision']").count() == 0
    assert page.locator("#stepKinds input[value='appeal']").count() == 0, "one appeal per case"
    assert "须由另一位主管复核" in text(page, "#appealOwn")
    assert page.is_disabled("#stepKinds input[value='close']")
    assert "申诉尚未复核" in text(page, "#stepNeed")
    page.locator(f"#caseRows tr[data-case='{case}']", has_text="申诉待复核").wait_for(timeout=WAIT_MS)
    # the server holds to the same rule
    decision = {"kind": "appeal_decision", "text": "自己复核", "upheld": True}
    status, body = hall.call("POST", f"/api/follow-ups/{case}/steps", decision, hall.login("supervisor"))
    assert status == 403, body

    # another supervisor (the demo hall's admin) decides it
    ctx = browser.new_context()
    try:
        other = ctx.new_page()
        log_in(other, hall.base, user="admin", where=f"#cases/{case}")
        other.wait_for_selector(f"#caseDetail[data-case='{case}']", timeout=WAIT_MS)
        assert other.locator("#appealOwn").count() == 0
        assert "申诉由 郭主任 登记" in text(other, "#caseDetail")
        choose(other, "appeal_decision", "调阅监控，办理过程规范，申诉成立。")
        assert other.is_visible("#stepUpheld")
        other.click("#stepSave")
        other.locator("#stepMsg", has_text="请选择复核结论").wait_for(timeout=WAIT_MS)
        other.check("#stepUpheld input[value='true']")
        other.click("#stepSave")
        other.wait_for_selector("#caseDetail li[data-kind='appeal_decision']", timeout=WAIT_MS)
        assert "申诉成立" in text(other, "#caseDetail li[data-kind='appeal_decision']")
        assert "不计入考核" in text(other, "#caseDetail .c-excluded")
    finally:
        ctx.close()

    # the first supervisor's page follows (follow_up.changed): the appeal decided, closing possible after the steps
    page.wait_for_selector("#caseDetail li[data-kind='appeal_decision']", timeout=WAIT_MS)
    assert page.locator("#appealOwn").count() == 0
    page.locator(f"#caseRows tr[data-case='{case}']", has_text="申诉成立").wait_for(timeout=WAIT_MS)
    status, body = hall.call("GET", f"/api/follow-ups/{case}", token=hall.login("supervisor"))
    assert body["follow_up"]["appeal"] == "upheld" and body["follow_up"]["rating"]["excluded"], body


def test_a_case_past_its_deadline_turns_overdue_on_the_open_page(page: Any, hall: Hall, pg_url: str) -> None:
    case = bad_rating(hall, reason="办事拖拉")["case"]["id"]
    sockets = socket_messages(page)
    log_in(page, hall.base)
    row = page.locator(f"#caseRows tr[data-case='{case}']")
    row.wait_for(timeout=WAIT_MS)
    assert row.get_attribute("data-state") == "open"
    todo, overdue = badge(page)

    # the deadline passes (moved back: five working days are too long to wait)
    run_sql(pg_url, "UPDATE follow_ups SET due_at = now() - interval '1 minute' WHERE id = $1", case)
    page.locator(f"#caseRows tr[data-case='{case}'][data-state='overdue']").wait_for(timeout=OVERDUE_MS)
    wait_until(page, lambda: badge(page) == (todo, overdue + 1), OVERDUE_MS)
    assert page.get_attribute("#casesBadge", "data-state") == "overdue"
    assert "late" in (row.locator("td.due").get_attribute("class") or "")
    assert "已超期" in row.inner_text()
    wait_until(page, lambda: any(m.get("event") == "follow_up.overdue" and m["follow_up"]["id"] == case
                                 for s in sockets for m in s), OVERDUE_MS)  # fmt: skip

    # the badge opens the cases; the back button returns to the dashboard
    page.click("#casesBack")
    page.wait_for_selector("#dashMain", state="visible")
    page.click("#casesBadge")
    page.wait_for_selector("#casesView", state="visible")
    page.click("#caseStates [data-state='overdue']")
    page.locator(f"#caseRows tr[data-case='{case}']").wait_for(timeout=WAIT_MS)
    assert all(s == "overdue" for s in page.eval_on_selector_all(
        "#caseRows tr[data-case]", "rows => rows.map(r => r.dataset.state)"))  # fmt: skip


def test_the_filters_tell_complaints_from_bad_ratings(page: Any, hall: Hall) -> None:
    status, body = hall.call("POST", "/api/complaints", {"text": "12号窗口工作人员态度生硬。", "window": 12})
    assert status == 201, body
    complaint = body["complaint"]["follow_up"]
    rated = bad_rating(hall)["case"]["id"]
    log_in(page, hall.base)
    page.locator(f"#caseRows tr[data-case='{complaint}']").wait_for(timeout=WAIT_MS)
    page.click("#caseKinds [data-kind='complaint']")
    page.wait_for_selector(f"#caseRows tr[data-case='{rated}']", state="detached", timeout=WAIT_MS)
    assert "12号窗口工作人员态度生硬" in text(page, f"#caseRows tr[data-case='{complaint}']")
    page.click("#caseKinds [data-kind='rating']")
    page.wait_for_selector(f"#caseRows tr[data-case='{complaint}']", state="detached", timeout=WAIT_MS)
    page.locator(f"#caseRows tr[data-case='{rated}']").wait_for(timeout=WAIT_MS)

    page.click(f"#caseRows tr[data-case='{rated}']")
    page.wait_for_selector(f"#caseDetail[data-case='{rated}']", timeout=WAIT_MS)
    page.keyboard.press("l")
    assert "Steps taken" in text(page, "#caseDetail") and "Add a step" in text(page, "#stepForm")
    page.keyboard.press("l")
