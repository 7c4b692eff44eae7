"""Save every page at its target sizes to docs/screenshots/*.png.

    clearhall serve --demo --port 8080 &        # the demo hall
    python -m tests.pages.screenshots --base http://127.0.0.1:8080

It drives the hall only through the public API (CONTRACT.md) with the demo
hall's published log-ins and device tokens: issues tickets, signs staff in,
calls a few, then opens each page in Debian's headless Chromium. Run it on a
fresh demo database; it adds tickets every time. The demo hall is open all day,
so it works at any hour.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path
from typing import Any

from tests.helpers import http_call, valid_id
from tests.pages import screenshots_booking
from tests.pages.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.pages.helpers import REPO
from tests.pages.screenshots_booking_admin import shoot as shoot_booking_admin
from tests.pages.screenshots_counter import shoot_console, shoot_kiosk, shoot_phone
from tests.pages.screenshots_haochaping import shoot_ratings, shoot_supervision
from tests.pages.screenshots_kiosk_checkin import shoot as shoot_kiosk_checkin
from tests.pages.screenshots_supervision import shoot_wall

OUT = REPO / "docs" / "screenshots"

KIOSK = "demo-kiosk-1-token"
HALL = "demo-hall-screen-token"
WINDOW3 = "demo-window-3-screen"
STAFF = {
    "lina": ("demo-lina-2026", 1),
    "zhangmin": ("demo-zhangmin-2026", 3),
    "chenjing": ("demo-chenjing-2026", 5),
    "yangfan": ("demo-yangfan-2026", 6),
    "huangli": ("demo-huangli-2026", 8),
    "zhoujie": ("demo-zhoujie-2026", 9),
    "xuming": ("demo-xuming-2026", 11),
}


class Api:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        return http_call(self.base + path, method, body, token)[1]

    def login(self, username: str, password: str) -> str:
        return str(self.call("POST", "/api/login", {"username": username, "password": password})["token"])

    def issue(self, service: str, category: str = "normal", **extra: str) -> dict[str, Any]:
        body = {"service": service, "category": category, **extra}
        return dict(self.call("POST", "/api/tickets", body, KIOSK)["ticket"])


def populate(api: Api) -> dict[str, Any]:
    """A busy morning: tickets in every service, seven windows staffed, calls made."""
    first = random.randrange(100_000)
    plan = [("A", "normal"), ("A", "elderly"), ("A", "enterprise"), ("B", "normal"),
            ("B", "pregnant"), ("C", "normal"), ("C", "normal"), ("C", "elderly"),
            ("D", "normal"), ("E", "military"), ("F", "normal"), ("G", "normal"),
            ("C", "normal"), ("A", "normal"), ("B", "normal"), ("C", "disabled"),
            ("E", "normal"), ("F", "normal"), ("H", "normal"), ("A", "normal"),
            ("C", "normal"), ("G", "elderly"), ("A", "normal"), ("F", "normal")]  # fmt: skip
    tickets = []
    for i, (svc, cat) in enumerate(plan):
        extra = {"id_number": valid_id(first + i)} if svc in "BDE" else {}
        tickets.append(api.issue(svc, cat, **extra))
    tokens = {}
    for user, (pw, win) in STAFF.items():
        tok = api.login(user, pw)
        tokens[user] = tok
        api.call("POST", f"/api/windows/{win}/sign-in", {}, tok)
    for user in ["lina", "chenjing", "huangli", "zhoujie", "yangfan"]:
        api.call("POST", f"/api/windows/{STAFF[user][1]}/call-next", {}, tokens[user])
    api.call("POST", f"/api/windows/{STAFF['xuming'][1]}/pause", {"reason": "午间轮换"},
             tokens["xuming"])  # fmt: skip
    return {"tickets": tickets, "tokens": tokens}


def shoot(base: str, only: set[str] | None = None) -> list[Path]:
    from playwright.sync_api import sync_playwright

    api = Api(base)
    state = populate(api)
    tokens = state["tokens"]
    OUT.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def page(name: str, w: int, h: int, url: str, before: Any = None, wait_ms: int = 900,
                 mobile: bool = False, setup: Any = None) -> None:  # fmt: skip
            if only and not any(name.startswith(o) for o in only):
                return
            ctx = browser.new_context(viewport={"width": w, "height": h}, is_mobile=mobile,
                                      has_touch=mobile, device_scale_factor=1)  # fmt: skip
            p = ctx.new_page()
            if setup:
                setup(p)
            p.goto(base + url)
            p.wait_for_timeout(wait_ms)
            if before:
                before(p)
            path = OUT / f"{name}.png"
            p.screenshot(path=str(path))
            saved.append(path)
            ctx.close()

        def call_during(win_user: str) -> Any:
            def act(p: Any) -> None:
                win = STAFF[win_user][1]
                api.call("POST", f"/api/windows/{win}/finish", {}, tokens[win_user])
                api.call("POST", f"/api/windows/{win}/call-next", {}, tokens[win_user])
                # the socket shows it at once; without it, the screen's 3 s poll does
                p.wait_for_timeout(3500)

            return act

        for w, h in [(1920, 1080), (1366, 768), (1280, 720)]:
            page(f"hall-{w}x{h}", w, h, f"/display#device={HALL}", call_during("lina"))
        page("hall-en-1920x1080", 1920, 1080, f"/display?lang=en#device={HALL}")
        page("hall-no-token-1280x720", 1280, 720, "/display")

        page("window-3-1280x720", 1280, 720, f"/display/window/3#device={WINDOW3}")

        def zhangmin_call(p: Any) -> None:
            api.call("POST", "/api/windows/3/call-next", {}, tokens["zhangmin"])
            p.wait_for_timeout(4000)

        page("window-3-serving-1920x1080", 1920, 1080, f"/display/window/3#device={WINDOW3}",
             zhangmin_call)  # fmt: skip

        def zhangmin_call_and_finish(p: Any) -> None:
            api.call("POST", "/api/windows/3/call-next", {}, tokens["zhangmin"])
            p.wait_for_timeout(4000)
            api.call("POST", "/api/windows/3/finish", {}, tokens["zhangmin"])
            p.wait_for_timeout(4000)

        page("window-3-rate-1280x720", 1280, 720, f"/display/window/3#device={WINDOW3}",
             zhangmin_call_and_finish)  # fmt: skip

        def console_login(p: Any) -> None:
            p.fill("#username", "zhangmin")
            p.fill("#password", "demo-zhangmin-2026")
            p.click("#loginBtn")
            p.wait_for_timeout(800)
            if p.is_visible("[data-window='3']"):  # not when already signed in there
                p.click("[data-window='3']")
                p.wait_for_timeout(800)
            if p.is_enabled("#btn-call-next"):
                p.click("#btn-call-next")
            p.wait_for_timeout(1000)

        page("console-login-1366x768", 1366, 768, "/console")
        page("console-1366x768", 1366, 768, "/console", console_login)

        def console_suspend(p: Any) -> None:
            console_login(p)
            p.keyboard.press("g")
            p.fill("#fMissing", "营业执照副本\n法定代表人身份证复印件")
            p.wait_for_timeout(400)

        page("console-suspend-1366x768", 1366, 768, "/console", console_suspend)

        for w, h in [(1080, 1920), (1920, 1080)]:
            page(f"kiosk-services-{w}x{h}", w, h, f"/kiosk#device={KIOSK}")

            def to_category(p: Any) -> None:
                p.click("[data-service='C']")
                p.wait_for_timeout(300)

            page(f"kiosk-category-{w}x{h}", w, h, f"/kiosk#device={KIOSK}", to_category)

            def to_id(p: Any) -> None:
                p.click("[data-service='B']")
                p.click("[data-category='elderly']")
                for ch in "11010519491231002X":
                    p.click(f"[data-key='{ch}']")
                p.wait_for_timeout(300)

            page(f"kiosk-id-{w}x{h}", w, h, f"/kiosk#device={KIOSK}", to_id)

            def to_ticket(p: Any) -> None:
                p.click("[data-service='A']")
                p.click("[data-category='normal']")
                p.wait_for_timeout(2500)

            page(f"kiosk-ticket-{w}x{h}", w, h, f"/kiosk#device={KIOSK}", to_ticket)

        page("kiosk-no-token-1080x1920", 1080, 1920, "/kiosk")

        # states the demo hall does not reach on its own, made by rewriting one answer
        def closed_hall(p: Any) -> None:
            def fulfil(route: Any) -> None:
                resp = route.fetch()
                body = resp.json()
                body["hall"].update(open_now=False, hours="08:30–17:30")  # a real hall's, at night
                route.fulfill(response=resp, json=body)

            p.route("**/api/services", fulfil)

        page("kiosk-closed-1080x1920", 1080, 1920, f"/kiosk#device={KIOSK}", setup=closed_hall)

        def failed_print(p: Any) -> None:
            def fulfil(route: Any) -> None:
                resp = route.fetch()
                body = resp.json()
                body["ticket"]["print"] = {"status": "failed", "error": "paper_out"}
                route.fulfill(response=resp, json=body)

            p.route("**/api/tickets", fulfil)

        def to_failed_ticket(p: Any) -> None:
            p.click("[data-service='G']")
            p.click("[data-category='elderly']")
            p.wait_for_timeout(800)

        page("kiosk-print-failed-1080x1920", 1080, 1920, f"/kiosk#device={KIOSK}",
             to_failed_ticket, setup=failed_print)  # fmt: skip

        mine = api.issue("C", "elderly")
        phone_url = mine["url"].split("://", 1)[1].split("/", 1)[1]
        page("phone-waiting-390x844", 390, 844, "/" + phone_url, mobile=True)

        def phone_called(p: Any) -> None:
            # call tickets at window 5 until this one is called
            for _ in range(12):
                got = api.call("POST", "/api/windows/5/finish", {}, tokens["chenjing"])
                got = api.call("POST", "/api/windows/5/call-next", {}, tokens["chenjing"])
                if got and got.get("ticket") and got["ticket"]["number"] == mine["number"]:
                    break
            p.wait_for_timeout(5500)

        page("phone-called-390x844", 390, 844, "/" + phone_url, phone_called, mobile=True)

        page("phone-no-key-390x844", 390, 844, "/t/nothing", mobile=True)
        shoot_phone(page, api, tokens)
        shoot_console(page, api, tokens, STAFF)
        shoot_kiosk(page, api, tokens, STAFF, KIOSK)
        shoot_ratings(page, api, tokens, STAFF, KIOSK)
        shoot_supervision(page, api, tokens, STAFF, KIOSK)
        shoot_wall(page, api, tokens, STAFF, KIOSK)
        screenshots_booking.shoot(page, api)  # 预约 on a phone
        shoot_booking_admin(
            page, api, tokens, STAFF, KIOSK
        )  # 延时服务 and bookings: screen, console, dashboard
        shoot_kiosk_checkin(page, api, tokens, STAFF, KIOSK)  # after it: it ends every 延时服务 session

        # the supervisor dashboard: an out-of-order call and two notices to show
        sup = api.login("supervisor", "demo-supervisor-2026")
        for title, body in [("廉洁办事", "办事不求人，服务不收费。工作人员不得收受礼品礼金，如遇索拿卡要请拨打 12345。"),
                            ("一次性告知", "缺少材料时窗口一次性告知全部所需材料，不让群众多跑腿。")]:  # fmt: skip
            api.call("POST", "/api/notices", {"title": title, "body": body}, sup)
        waiting_f = [t["number"] for t in state["tickets"] if t["service"] == "F"]
        api.call("POST", "/api/windows/9/finish", {}, tokens["zhoujie"])
        api.call("POST", "/api/windows/9/call", {"number": waiting_f[-1], "reason": "预约企业专场，已报主管同意"},
                 tokens["zhoujie"])  # fmt: skip

        def supervisor_login(p: Any) -> None:
            p.fill("#username", "supervisor")
            p.fill("#password", "demo-supervisor-2026")
            p.click("#loginBtn")
            p.wait_for_timeout(1500)

        page("supervisor-login-1366x768", 1366, 768, "/supervisor")
        page("supervisor-1366x768", 1366, 768, "/supervisor", supervisor_login)
        page("supervisor-1920x1080", 1920, 1080, "/supervisor", supervisor_login)
        page("supervisor-en-1366x768", 1366, 768, "/supervisor?lang=en", supervisor_login)

        def supervisor_notice(p: Any) -> None:
            supervisor_login(p)
            p.click("#noticeAdd")
            p.fill("#nTitle", "清廉大厅")
            p.fill("#nBody", "窗口工作人员实行首问责任制，对群众咨询的事项负责到底。")
            p.wait_for_timeout(300)

        page("supervisor-notice-1366x768", 1366, 768, "/supervisor", supervisor_notice)

        def supervisor_preview(p: Any) -> None:
            supervisor_login(p)
            p.click("[data-preview]")
            p.wait_for_timeout(1500)

        page("supervisor-preview-1366x768", 1366, 768, "/supervisor", supervisor_preview)

        # a printer out of paper with a failed job: made by rewriting the two answers
        def paper_out(p: Any) -> None:
            def printers(route: Any) -> None:
                resp = route.fetch()
                body = resp.json()
                for pr in body["printers"]:
                    pr.update(state="paper_out", last_error=f"printer {pr['address']} reports paper out",
                              jobs={"queued": 0, "failed": 1})  # fmt: skip
                route.fulfill(response=resp, json=body)

            def failed(route: Any) -> None:
                resp = route.fetch()
                body = resp.json()
                if not body["jobs"]:
                    t = state["tickets"][-1]
                    body["jobs"] = [{"id": 1, "ticket": {"id": t["id"], "number": t["number"]}, "reprint": False,
                                     "status": "failed", "attempts": 3, "printer": "printer-kiosk-1",
                                     "last_error": "printer reports paper out", "next_attempt_at": None,
                                     "created_at": t["issued_at"], "printed_at": None}]  # fmt: skip
                route.fulfill(response=resp, json=body)

            p.route("**/api/printers", printers)
            p.route("**/api/print-jobs?status=failed", failed)

        page("supervisor-printer-1366x768", 1366, 768, "/supervisor", supervisor_login, setup=paper_out)
        browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8080")
    parser.add_argument("--only", nargs="*", help="name prefixes, e.g. hall kiosk")
    args = parser.parse_args()
    t0 = time.monotonic()
    saved = shoot(args.base, set(args.only) if args.only else None)
    for path in saved:
        print(path.relative_to(REPO))
    print(f"{len(saved)} screenshots in {time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    main()
