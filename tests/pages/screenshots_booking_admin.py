"""The screenshots of issue 12 on the hall's side: the hall screen's 延时服务 band,
the console's 延时服务 dialog, and the supervisor's 便民服务 view (今日预约,
延时服务, 帮代办人员), each at 1920×1080 and 1366×768 (and the view in English).
Called from `screenshots.shoot` with its `page(name, w, h, url, before, ...)`:

    shoot_booking_admin(page, api, tokens, STAFF, KIOSK)

(`from tests.pages.screenshots_booking_admin import shoot as shoot_booking_admin`).
It acts through the public API: books a few of today's slots of B, D and E and
checks the first ones in at the kiosk, cancels one, registers a proxy, and
opens 延时服务 for B and D. On its own, against a running demo:

    python -m tests.pages.screenshots_booking_admin --base http://127.0.0.1:8096
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
SIZES = [(1920, 1080), (1366, 768)]


def until_in(api: Any, minutes: int) -> str:
    """The hall's time `minutes` from now as an ISO instant, on a quarter hour (a round time to show)."""
    now = datetime.fromisoformat(api.call("GET", "/api/services")["hall"]["now"])
    at = now + timedelta(minutes=minutes)
    return (
        at - timedelta(minutes=at.minute % 15, seconds=at.second, microseconds=at.microsecond)
    ).isoformat()


def prepare(api: Any, tokens: dict[str, str], kiosk: str) -> None:
    """Today's bookings (two checked in, one cancelled), a registered proxy, 延时服务 for B and D."""
    first = random.randrange(2_000_000, 3_000_000)  # a fresh person each run: one booking a day each
    made = 0
    for service, count in (("B", 4), ("D", 3), ("E", 2)):
        slots = api.call("GET", f"/api/appointments/slots?service={service}").get("slots") or []
        for n, slot in enumerate(slots[:count]):
            made += 1
            body = {"service": service, "slot": slot["start"], "id_number": valid_id(first + made),
                    "phone": f"1381234{made:04d}"}  # fmt: skip
            booked = api.call("POST", "/api/appointments", body).get("appointment")
            if not booked:
                continue
            if n == 0:  # the first slot of each service is about to start: its citizen is here
                api.call("POST", "/api/tickets", {"appointment": booked["code"]}, kiosk)
            elif n == count - 1 and service == "B":  # plans changed
                api.call("DELETE", f"/api/appointments/{booked['id']}?code={booked['code']}")
    sup = tokens.get("supervisor") or api.login("supervisor", "demo-supervisor-2026")
    api.call("POST", "/api/proxies", {"name": "李芳", "id_number": valid_id(first), "note": "汨罗市企业服务中心"},
             sup)  # fmt: skip
    for s in api.call("GET", "/api/extended-hours")["extended"]:
        api.call("DELETE", f"/api/extended-hours/{s['id']}", None, sup)
    api.call("POST", "/api/extended-hours", {"services": ["B", "D"], "until": until_in(api, 150)}, sup)
    # and one for B alone, opened at window 3 (the console lists both; the hall screen shows B once)
    api.call(
        "POST", "/api/extended-hours", {"services": ["B"], "until": until_in(api, 90)}, tokens["zhangmin"]
    )


def shoot(
    page: Page, api: Any, tokens: dict[str, str], staff: dict[str, tuple[str, int]], kiosk: str
) -> None:
    prepare(api, tokens, kiosk)

    for w, h in SIZES:
        page(f"hall-extended-{w}x{h}", w, h, "/display#device=demo-hall-screen-token", wait_ms=2500)

    password, win = staff["zhangmin"]

    def console_hours(p: Any) -> None:
        p.fill("#username", "zhangmin")
        p.fill("#password", password)
        p.click("#loginBtn")
        p.wait_for_timeout(800)
        if p.is_visible(f"[data-window='{win}']"):  # not when already signed in there
            p.click(f"[data-window='{win}']")
        p.wait_for_selector("#hoursChip:not([hidden])")
        p.keyboard.press("h")
        p.wait_for_selector("#hoursList li[data-session]")
        p.wait_for_timeout(300)

    for w, h in SIZES:
        page(f"console-extended-{w}x{h}", w, h, "/console", console_hours)

    def booking_view(p: Any) -> None:
        p.fill("#username", "supervisor")
        p.fill("#password", "demo-supervisor-2026")
        p.click("#loginBtn")
        p.wait_for_selector("#bkServices .bk-svc")
        p.wait_for_selector("#exList li[data-session]")
        p.wait_for_selector("#pxList li[data-proxy]")
        p.wait_for_timeout(800)

    for w, h in SIZES:
        page(f"supervisor-booking-{w}x{h}", w, h, "/supervisor#booking", booking_view)
    page("supervisor-booking-en-1366x768", 1366, 768, "/supervisor?lang=en#booking", booking_view)


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
    api.call("POST", f"/api/windows/{STAFF['zhangmin'][1]}/sign-in", {}, tokens["zhangmin"])
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def page(name: str, w: int, h: int, url: str, before: Any = None, wait_ms: int = 900) -> None:
            ctx = browser.new_context(viewport={"width": w, "height": h}, device_scale_factor=1)
            p = ctx.new_page()
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
