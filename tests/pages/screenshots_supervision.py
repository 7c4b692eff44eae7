"""The screenshots of 电子监察 (issue 11): the dashboard's charts, the
supervision view with cards, signals and the verified record, and two panels
of the wall screen. Called from `screenshots.shoot` with its `page(...)`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.helpers import valid_id

Page = Callable[..., None]


def shoot_wall(
    page: Page, api: Any, tokens: dict[str, str], staff: dict[str, tuple[str, int]], kiosk: str
) -> None:
    """A morning at windows 1, 5 and 9: visits served and rated (one 差评 called
    back, fixed and closed: a card), an out-of-order call (a card), one ID number
    taking four tickets (a signal); then the charts, 电子监察 and the wall."""
    boss = api.login("supervisor", "demo-supervisor-2026")

    def issue(service: str, **extra: str) -> dict[str, Any]:
        got: Any = None
        for _ in range(30):  # the demo kiosk issues 30 a minute
            got = api.call("POST", "/api/tickets", {"service": service, "category": "normal", **extra}, kiosk)
            if got and "ticket" in got:
                return dict(got["ticket"])
            time.sleep(5)
        raise RuntimeError(f"the kiosk issues no more tickets: {got}")

    def served(user: str, ticket: dict[str, Any]) -> None:
        win, tok = staff[user][1], tokens[user]
        api.call("POST", f"/api/windows/{win}/finish", {}, tok)
        for _ in range(40):
            got = (api.call("POST", f"/api/windows/{win}/call-next", {}, tok) or {}).get("ticket")
            if got is None or got["number"] == ticket["number"]:
                break
            api.call("POST", f"/api/windows/{win}/finish", {}, tok)
        api.call("POST", f"/api/windows/{win}/finish", {}, tok)

    def rate(user: str, service: str, score: int, **extra: Any) -> dict[str, Any]:
        t = issue(service)
        served(user, t)
        body = {"ticket": t["id"], "key": t["key"], "score": score, **extra}
        return dict(api.call("POST", "/api/ratings", body)["rating"])

    for user, service, scores in (("lina", "A", [5, 5, 4, 5, 3, 5]), ("chenjing", "C", [5, 4, 5, 2]),
                                  ("zhoujie", "F", [5, 5, 4, 5])):  # fmt: skip
        for score in scores:
            extra = {"reasons": ["一次性告知不到位"], "comment": "第一次没说要带社保卡"} if score <= 2 else {}
            rated = rate(user, service, score, **extra)
            if score <= 2:  # called back, fixed and closed: the 差评 stands (a card)
                for step in ({"kind": "callback", "text": "已回访致歉"}, {"kind": "fix", "text": "补充一次性告知清单"},
                             {"kind": "close"}):  # fmt: skip
                    api.call("POST", f"/api/follow-ups/{rated['case']['id']}/steps", step, boss)
    served("chenjing", issue("C"))  # finished, never rated
    win9, tok9 = staff["zhoujie"][1], tokens["zhoujie"]
    api.call("POST", f"/api/windows/{win9}/finish", {}, tok9)
    issue("F")
    second = issue("F")
    api.call(
        "POST", f"/api/windows/{win9}/call", {"number": second["number"], "reason": "预约企业专场"}, tok9
    )
    scalper = valid_id(4_242_424)
    for service in ("A", "B", "D", "E"):
        issue(service, id_number=scalper)
    for service in ("A", "C", "F", "C", "A", "G"):
        issue(service)
    for _ in range(45):  # the card evaluator runs every 30 s: wait for the 指呼 card
        if any(c["rule"] == "out_of_order_call" for c in api.call("GET", "/api/cards", None, boss)["cards"]):
            break
        time.sleep(1)

    def log_in(p: Any) -> None:
        p.fill("#username", "supervisor")
        p.fill("#password", "demo-supervisor-2026")
        p.click("#loginBtn")

    def charts(p: Any) -> None:
        log_in(p)
        p.wait_for_selector("#chartsView", state="visible")
        p.wait_for_function("() => document.querySelectorAll('#chartsView canvas').length >= 4")
        p.wait_for_timeout(800)

    page("supervisor-charts-1920x1080", 1920, 1080, "/supervisor#charts", charts)

    def integrity(p: Any) -> None:
        log_in(p)
        p.wait_for_selector("#integrityView", state="visible")
        p.click("#verifyBtn")
        p.wait_for_selector("#verifyResult[data-state='ok']")
        p.wait_for_timeout(800)

    page("supervisor-integrity-1366x768", 1366, 768, "/supervisor#integrity", integrity)

    def wall(p: Any) -> None:
        log_in(p)
        p.wait_for_selector("#wallView", state="visible")
        p.wait_for_selector(".w-live[data-state='online']")
        p.wait_for_timeout(1500)

    page("wall-1920x1080", 1920, 1080, "/supervisor/wall?rotate=0&panel=day", wall)
    page("wall-2-1920x1080", 1920, 1080, "/supervisor/wall?rotate=0&panel=integrity", wall)
