"""What the kiosk tells before the number is taken (issue 9, items 5 and 12), in a real
headless Chromium: 一次性告知 — the documents to bring and where the service is
handled, on the category screen and the ticket — and a service no open window
serves now: said on its tile, refused or warned as /api/policy says.

Nobody is signed in at this module's hall but lina at window 1 (service A), from
the second test on.
"""

from __future__ import annotations

from typing import Any

from tests.pages.helpers import KIOSK, WAIT_MS, Hall, text

MATERIALS = ["营业执照申请书（可现场填写）", "法定代表人身份证原件"]
WHERE = "一楼A区 1、2、10号窗口"


def with_materials(route: Any) -> None:
    """/api/services as the hall file gives it: A with its documents and place, C with none."""
    answer = route.fetch()
    body = answer.json()
    for s in body["services"]:
        if s["code"] == "A":
            s.update(materials=MATERIALS, where=WHERE)
        elif s["code"] == "C":
            s.update(materials=[], where=None)
    route.fulfill(response=answer, json=body)


def test_the_documents_to_bring_are_told_before_and_after_the_number(page: Any, hall: Hall) -> None:
    page.route("**/api/services", with_materials)
    page.set_viewport_size({"width": 1080, "height": 1920})
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.click("[data-service='C']")
    page.wait_for_selector("#scrCategory", state="visible")
    assert page.is_hidden("#catGuide")  # none given: nothing extra
    page.click("#scrCategory [data-go='services']")
    page.click("[data-service='A']")
    page.wait_for_selector("#catGuide", state="visible")
    told = text(page, "#catGuide")
    assert "一次性告知" in told and all(m in told for m in MATERIALS) and WHERE in told
    # large enough to read standing at the kiosk
    size = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('#catGuide li')).fontSize)"
    )
    assert size >= 32, size
    page.click("[data-category='normal']")
    page.wait_for_selector("#scrTicket", state="visible", timeout=WAIT_MS)
    on_ticket = text(page, "#tGuide")
    assert all(m in on_ticket for m in MATERIALS) and WHERE in on_ticket


def test_a_service_nobody_serves_is_said_on_its_tile_and_warned_before_the_number(
    page: Any, hall: Hall
) -> None:
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.wait_for_selector("[data-service='H']", timeout=WAIT_MS)
    assert page.get_attribute("[data-service='H']", "data-served") == "no"
    assert "当前无窗口办理此业务" in text(page, "[data-service='H']")
    # somebody signs in for A: its tile follows live, without a reload
    status, body = hall.window("lina", 1, "sign-in")
    assert status == 200, body
    page.wait_for_selector("[data-service='A'][data-served='yes']", timeout=WAIT_MS)
    assert "当前无窗口办理此业务" not in text(page, "[data-service='A']")
    # with "warn" (the demo's) H can be taken, after the citizen is told
    page.click("[data-service='H']")
    page.wait_for_selector("#catUnstaffed", state="visible")
    assert "当前无窗口办理此业务" in text(page, "#catUnstaffed")
    page.click("[data-category='normal']")
    page.wait_for_selector("#scrTicket", state="visible", timeout=WAIT_MS)
    assert page.is_visible("#tUnstaffed")


def test_with_refuse_a_service_nobody_serves_cannot_be_taken(page: Any, hall: Hall) -> None:
    def refusing(route: Any) -> None:
        answer = route.fetch()
        body = answer.json()
        body["policy"]["unstaffed_services"] = "refuse"
        route.fulfill(response=answer, json=body)

    page.route("**/api/policy", refusing)
    hall.window("lina", 1, "sign-in")
    page.goto(f"{hall.base}/kiosk#device={KIOSK}")
    page.wait_for_selector("[data-service='H'][disabled]", timeout=WAIT_MS)
    assert "当前无窗口办理此业务" in text(page, "[data-service='H']")
    assert page.is_enabled("[data-service='A']")
