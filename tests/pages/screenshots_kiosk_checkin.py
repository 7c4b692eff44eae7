"""The screenshots of issue 12 at the kiosk: 预约签到 (the check-in keypad, a
checked-in ticket, a citizen too early), the closed screen with 延时服务, and
the 帮代办 step. Called from `screenshots.shoot` with its
`page(name, w, h, url, before, ..., setup=...)`:

    shoot_kiosk_checkin(page, api, tokens, STAFF, KIOSK)

(`from tests.pages.screenshots_kiosk_checkin import shoot as shoot_kiosk_checkin`).
It acts through the public API: books two of today's slots of B (one about to
start, one hours away) and opens 延时服务 for B. The demo hall is open all day,
so the closed screen is made by rewriting one answer (`hall.open_now`), as the
closed-hall screenshot of `screenshots.py` is. On its own, against a running demo:

    python -m tests.pages.screenshots_kiosk_checkin --base http://127.0.0.1:8097
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.helpers import valid_id

Page = Callable[..., None]
PORTRAIT, LANDSCAPE = (1080, 1920), (1920, 1080)


def hall_now(api: Any) -> datetime:
    return datetime.fromisoformat(api.call("GET", "/api/services")["hall"]["now"])


def booking(api: Any, service: str, after: timedelta, before: timedelta) -> dict[str, Any] | None:
    """A booking (for a fresh person) of the first slot starting between now + after and now + before."""
    now = hall_now(api)
    for day in (now.date(), now.date() + timedelta(days=1)):
        for slot in (
            api.call("GET", f"/api/appointments/slots?service={service}&day={day}").get("slots") or []
        ):
            start = datetime.fromisoformat(slot["start"])
            if now + after < start <= now + before and slot["left"] > 0:
                body = {"service": service, "slot": slot["start"], "id_number": valid_id(random.randrange(4_000_000, 5_000_000)),
                        "phone": "13812345678"}  # fmt: skip
                made = api.call("POST", "/api/appointments", body).get("appointment")
                if made:
                    return dict(made)
    return None


def shoot(
    page: Page, api: Any, tokens: dict[str, str], staff: dict[str, tuple[str, int]], kiosk: str
) -> None:
    url = f"/kiosk#device={kiosk}"
    soon = booking(api, "B", timedelta(minutes=1), timedelta(minutes=30))
    later = booking(api, "B", timedelta(hours=2), timedelta(hours=8))

    def checkin(p: Any) -> None:
        p.click("#checkinBtn")
        for ch in (soon["code"] if soon else "K7Q2M9XD")[:5]:
            p.click(f"#ciPad [data-ci='{ch}']")
        p.wait_for_timeout(200)

    for w, h in (PORTRAIT, LANDSCAPE):
        page(f"kiosk-checkin-{w}x{h}", w, h, url, checkin)

    def checked_in(p: Any) -> None:
        assert soon
        p.click("#checkinBtn")
        for ch in soon["code"]:
            p.click(f"#ciPad [data-ci='{ch}']")
        p.click("#ciConfirm")
        p.wait_for_selector("#scrTicket", state="visible")
        p.wait_for_timeout(600)

    if soon:
        page(f"kiosk-checkin-ticket-{PORTRAIT[0]}x{PORTRAIT[1]}", *PORTRAIT, url, checked_in)

    def too_early(p: Any) -> None:
        assert later
        p.click("#checkinBtn")
        for ch in later["code"]:
            p.click(f"#ciPad [data-ci='{ch}']")
        p.click("#ciConfirm")
        p.wait_for_selector("#scrCheckinNo", state="visible")
        p.wait_for_timeout(300)

    if later:
        for w, h in (PORTRAIT, LANDSCAPE):
            page(f"kiosk-checkin-early-{w}x{h}", w, h, url, too_early)

    # 延时服务 for B until a round time two hours on; the hall closed (its answer rewritten)
    sup = tokens.get("supervisor") or api.login("supervisor", "demo-supervisor-2026")
    now = hall_now(api)
    until = now + timedelta(minutes=120 - now.minute % 15, seconds=-now.second, microseconds=-now.microsecond)
    api.call("POST", "/api/extended-hours", {"services": ["B"], "until": until.isoformat()}, sup)
    reopens = (now + timedelta(days=1)).replace(hour=8, minute=30, second=0, microsecond=0)

    def closed(p: Any) -> None:
        def fulfil(route: Any) -> None:
            resp = route.fetch()
            body = resp.json()
            body["hall"].update(
                open_now=False, hours="08:30–17:30", opens=reopens.isoformat()
            )  # a real hall's, at night
            route.fulfill(response=resp, json=body)

        p.route("**/api/services", fulfil)

    for w, h in (PORTRAIT, LANDSCAPE):
        page(f"kiosk-closed-extended-{w}x{h}", w, h, url, lambda p: p.wait_for_selector("#extendedTiles .tile"),
             setup=closed)  # fmt: skip

    applicant = valid_id(random.randrange(5_000_000, 6_000_000))
    proxy = valid_id(random.randrange(6_000_000, 7_000_000))

    def proxy_step(p: Any) -> None:
        p.click("[data-service='E']")
        p.click("[data-category='normal']")
        p.click("#rnProxy")
        for ch in applicant:
            p.click(f"#pxPad [data-px='{ch}']")
        for ch in proxy[:9]:
            p.click(f"#pxPad [data-px='{ch}']")
        p.wait_for_timeout(200)

    for w, h in (PORTRAIT, LANDSCAPE):
        page(f"kiosk-proxy-{w}x{h}", w, h, url, proxy_step)


def main() -> None:
    """Only these screenshots, against a running demo (`clearhall serve --demo`)."""
    from playwright.sync_api import sync_playwright

    from tests.pages.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.pages.screenshots import OUT, STAFF, Api

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--base", default="http://127.0.0.1:8080")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    api = Api(args.base)
    tokens = {user: api.login(user, pw) for user, (pw, _) in STAFF.items()}
    for user, (_, window) in STAFF.items():  # windows at work, as in the day's other screenshots
        api.call("POST", f"/api/windows/{window}/sign-in", {}, tokens[user])
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def page(
            name: str, w: int, h: int, url: str, before: Any = None, wait_ms: int = 900, setup: Any = None
        ) -> None:
            ctx = browser.new_context(viewport={"width": w, "height": h}, device_scale_factor=1)
            p = ctx.new_page()
            if setup:
                setup(p)
            p.goto(args.base.rstrip("/") + url)
            p.wait_for_timeout(wait_ms)
            if before:
                before(p)
            p.screenshot(path=str(args.out / f"{name}.png"))
            print(args.out / f"{name}.png")
            ctx.close()

        shoot(page, api, tokens, STAFF, "demo-kiosk-1-token")
        browser.close()


if __name__ == "__main__":
    main()
