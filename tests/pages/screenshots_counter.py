"""The screenshots of a day at the counter (issue 9): the console's suspended
list and undo, the kiosk's materials, 长者模式, 回队 and duplicate screens, the
supervisor's guide-call alert, the phone's alerts and materials. Called from
`screenshots.shoot` with its `page(name, w, h, url, before, ...)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.helpers import valid_id

SENIOR_ID = "11010519491231002X"  # born 1949-12-31: over 60, a demo number
Page = Callable[..., None]


def shoot_console(page: Page, api: Any, tokens: dict[str, str], staff: dict[str, tuple[str, int]]) -> None:
    def console_as(p: Any, user: str) -> None:
        password, win = staff[user]
        p.fill("#username", user)
        p.fill("#password", password)
        p.click("#loginBtn")
        p.wait_for_timeout(800)
        if p.is_visible(f"[data-window='{win}']"):  # not when already signed in there
            p.click(f"[data-window='{win}']")
        p.wait_for_selector("#workView", state="visible")
        p.wait_for_timeout(1200)  # the waiting list, the suspended list, the timer

    def console_suspended(p: Any) -> None:
        """Window 9 (zhoujie, 税务 F): two citizens sent for documents, a third being served."""
        tok = tokens["zhoujie"]
        for _ in range(4):
            api.issue("F")
        for missing in (["营业执照副本", "法定代表人身份证复印件"], ["授权委托书"]):
            api.call("POST", "/api/windows/9/finish", {}, tok)
            api.call("POST", "/api/windows/9/call-next", {}, tok)
            api.call(
                "POST", "/api/windows/9/suspend", {"reason": "、".join(missing), "missing": missing}, tok
            )
        api.call("POST", "/api/windows/9/call-next", {}, tok)
        api.call("POST", "/api/windows/9/start", {}, tok)
        console_as(p, "zhoujie")

    page("console-suspended-list-1366x768", 1366, 768, "/console", console_suspended)

    def console_undo(p: Any) -> None:
        """办结 by F F: the 撤销 bar counts down its 10 seconds."""
        console_as(p, "zhoujie")
        p.keyboard.press("f")
        p.keyboard.press("f")
        p.wait_for_selector("#undoBar", state="visible")
        p.wait_for_timeout(300)

    page("console-undo-1366x768", 1366, 768, "/console", console_undo)


def shoot_kiosk(
    page: Page, api: Any, tokens: dict[str, str], staff: dict[str, tuple[str, int]], kiosk: str
) -> None:
    def to_materials(p: Any) -> None:
        p.click("[data-service='A']")
        p.wait_for_timeout(300)

    page("kiosk-materials-1080x1920", 1080, 1920, f"/kiosk#device={kiosk}", to_materials)

    def elderly(p: Any) -> None:
        p.click("#elderBtn")
        p.evaluate("id => CH.kiosk.cardRead({name: '李桂兰', id_number: id})", SENIOR_ID)
        p.wait_for_timeout(300)

    page("kiosk-elderly-1080x1920", 1080, 1920, f"/kiosk#device={kiosk}", elderly)

    lina, win = tokens["lina"], staff["lina"][1]  # a citizen sent away for a document at window 1
    api.call("POST", f"/api/windows/{win}/finish", {}, lina)
    away = api.call("POST", f"/api/windows/{win}/call-next", {}, lina)["ticket"]
    api.call("POST", f"/api/windows/{win}/suspend", {"reason": "缺少材料", "missing": ["公司章程"]}, lina)

    def rejoin(p: Any) -> None:
        p.click("#rejoinBtn")
        for key in away["number"]:
            p.click(f"#scrRejoin [data-rj='{key}']")
        p.wait_for_timeout(300)

    page("kiosk-rejoin-1080x1920", 1080, 1920, f"/kiosk#device={kiosk}", rejoin)

    held_id = valid_id(424242)
    api.issue("B", "normal", id_number=held_id)

    def duplicate(p: Any) -> None:
        p.click("[data-service='B']")
        p.click("[data-category='normal']")
        for ch in held_id:
            p.click(f"#keypad [data-key='{ch}']")
        p.click("#confirmBtn")
        p.wait_for_selector("#scrDuplicate", state="visible")
        p.wait_for_timeout(300)

    page("kiosk-duplicate-1080x1920", 1080, 1920, f"/kiosk#device={kiosk}", duplicate)

    api.call("POST", "/api/guide-calls", {"screen": "duplicate"}, kiosk)

    def guide_alert(p: Any) -> None:
        p.fill("#username", "supervisor")
        p.fill("#password", "demo-supervisor-2026")
        p.click("#loginBtn")
        p.wait_for_selector("#guideAlert")
        p.wait_for_timeout(1500)

    page("supervisor-guide-call-1366x768", 1366, 768, "/supervisor", guide_alert)


def shoot_phone(page: Page, api: Any, tokens: dict[str, str]) -> None:
    """叫号提醒 and 一次性告知: a ticket behind five others at window 5."""

    def path_of(ticket: dict[str, Any]) -> str:
        return "/" + ticket["url"].split("://", 1)[1].split("/", 1)[1]

    for _ in range(5):
        api.issue("C")
    alerted = api.issue("C", phone="13812345678")
    page("phone-alert-optin-390x844", 390, 844, path_of(alerted), mobile=True)

    def phone_near(p: Any) -> None:
        p.tap("#alertOn")
        mine = f"/api/tickets/{alerted['id']}?key={alerted['key']}"
        while api.call("GET", mine)["ticket"]["ahead"] > 2:
            api.call("POST", "/api/windows/5/finish", {}, tokens["chenjing"])
            api.call("POST", "/api/windows/5/call-next", {}, tokens["chenjing"])
        p.wait_for_selector("#nearBox", state="visible")
        p.wait_for_timeout(3000)  # the banner's pulse has settled

    page("phone-alert-near-390x844", 390, 844, path_of(alerted), phone_near, mobile=True)
    for _ in range(4):
        api.issue("A")
    guided = api.issue("A")
    page("phone-materials-390x844", 390, 844, path_of(guided),
         lambda p: p.wait_for_selector("#guide", state="visible"), mobile=True)  # fmt: skip
