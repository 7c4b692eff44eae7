"""A stand-in hall server for developing the pages while the real one is being
written: in memory, one process, the demo hall, the page routes and the parts of
CONTRACT.md the pages use. It is NOT the server and proves nothing about it;
the page tests run against the real `clearhall serve` (tests/pages/test_pages.py)
and use this only when asked to (CLEARHALL_PAGES_STUB=1).

    python -m tests.pages.stub_server --port 8099
"""

from __future__ import annotations

import argparse
import json
import secrets
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

REPO = Path(__file__).resolve().parents[2]
TZ = timezone(timedelta(hours=8))
GREEN = {"elderly", "disabled", "pregnant", "military"}


@dataclass
class Ticket:
    id: str
    key: str
    number: str
    service: str
    category: str
    issued_at: datetime
    status: str = "waiting"
    window: int | None = None
    rated: bool = False
    missing: list[str] = field(default_factory=list)

    def public(self, ahead: int, wait: float | None) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "service": self.service,
            "category": self.category,
            "status": self.status,
            "issued_at": self.issued_at.isoformat(),
            "ahead": ahead,
            "estimated_wait_s": wait,
            "window": self.window,
        }


class Hall:
    def __init__(self, hall_file: Path) -> None:
        cfg = tomllib.loads(hall_file.read_text("utf-8"))
        self.cfg = cfg
        self.services = {s["code"]: s for s in cfg["services"]}
        self.windows: dict[int, dict[str, Any]] = {
            w["number"]: {"services": w["services"], "status": "closed", "staff": None,
                          "current": None}
            for w in cfg["windows"]
        }  # fmt: skip
        self.staff = {s["username"]: s for s in cfg["staff"]}
        self.devices = {d["token"]: d for d in cfg["devices"]}
        self.sessions: dict[str, str] = {}
        self.tickets: dict[str, Ticket] = {}
        self.seq: dict[str, int] = {}
        self.recent: list[dict[str, Any]] = []
        self.sockets: set[web.WebSocketResponse] = set()
        self.stats: dict[str, dict[str, int]] = {}
        self.open_now = True
        self.notices = [
            {"id": 1, "title": "廉洁承诺", "body": "窗口工作人员不收礼品礼金、不吃请、不刁难办事群众。"},
            {"id": 2, "title": "一次性告知", "body": "材料不全时，工作人员须一次性告知全部所缺材料。"},
            {"id": 3, "title": "监督渠道", "body": "如遇吃拿卡要、推诿扯皮，请拨打 12345 或扫描窗口评价码。"},
        ]

    def waiting(self, codes: list[str] | None = None) -> list[Ticket]:
        ts = [t for t in self.tickets.values() if t.status == "waiting"]
        if codes is not None:
            ts = [t for t in ts if t.service in codes]
        return sorted(ts, key=lambda t: (t.category not in GREEN, t.issued_at))

    def ahead(self, t: Ticket) -> int:
        if t.status != "waiting":
            return 0
        q = self.waiting([t.service])
        return q.index(t)

    def wait_s(self, t: Ticket) -> float | None:
        return None if t.status != "waiting" else 300.0 * (self.ahead(t) + 1)

    def queue(self) -> dict[str, Any]:
        return {
            "services": [
                {"code": c, "name": s["name"], "waiting": len(self.waiting([c])),
                 "estimated_wait_s": 300.0 * len(self.waiting([c])) or None}
                for c, s in self.services.items()
            ],
            "windows": [
                {"number": n, "status": w["status"],
                 "staff": None if not w["staff"] else {
                     "name": self.staff[w["staff"]]["name"],
                     "party_member": bool(self.staff[w["staff"]].get("party_member"))},
                 "current": None if not w["current"] else {
                     "number": self.tickets[w["current"]].number,
                     "status": self.tickets[w["current"]].status}}
                for n, w in sorted(self.windows.items())
            ],
            "recent_calls": self.recent[:10],
            "notices": self.notices,
        }  # fmt: skip

    async def broadcast(self, event: str, **payload: Any) -> None:
        msg = json.dumps({"type": "event", "event": event, "at": now().isoformat(), **payload})
        for ws in list(self.sockets):
            try:
                await ws.send_str(msg)
            except ConnectionError:
                self.sockets.discard(ws)


def now() -> datetime:
    return datetime.now(TZ)


HALL = web.AppKey("hall", Hall)


def err(status: int, code: str, message: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error": {"code": code, "message": message}, "status": status}, status=status
    )


def bearer(request: web.Request) -> str | None:
    h = request.headers.get("Authorization", "")
    return h[7:] if h.startswith("Bearer ") else None


def who(request: web.Request) -> tuple[str, dict[str, Any]] | None:
    hall = request.app[HALL]
    tok = bearer(request) or request.query.get("token")
    if tok and tok in hall.devices:
        return ("device", hall.devices[tok])
    if tok and tok in hall.sessions:
        return ("staff", hall.staff[hall.sessions[tok]])
    return None


async def page(request: web.Request) -> web.FileResponse:
    name = request.match_info.get("page") or ""
    files = {
        "kiosk": REPO / "kiosk" / "index.html",
        "display": REPO / "display" / "hall.html",
        "window": REPO / "display" / "window.html",
        "rate": REPO / "server" / "pages" / "rate.html",
        "console": REPO / "server" / "pages" / "console.html",
        "supervisor": REPO / "server" / "pages" / "supervisor.html",
        "phone": REPO / "server" / "pages" / "phone.html",
    }
    return web.FileResponse(files[name])


def page_route(name: str) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        request.match_info["page"] = name
        return await page(request)

    return handler


async def services(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    return web.json_response(
        {
            "services": [
                {"code": c, "name": s["name"], "real_name_required": bool(s.get("real_name_required")),
                 "open": True, "waiting": len(hall.waiting([c]))}
                for c, s in hall.services.items()
            ],
            "hall": {"name": hall.cfg["hall"]["name"], "open_now": hall.open_now,
                     "hours": "08:30–17:30"},
        }
    )  # fmt: skip


async def policy(request: web.Request) -> web.Response:
    n = request.app[HALL].cfg["policy"]["max_consecutive_priority"]
    return web.json_response(
        {
            "policy": {
                "max_consecutive_priority": n,
                "text_zh": f"绿色通道（老年人、残疾人、孕妇、军人）优先叫号；同一窗口连续叫 {n} 位绿色通道后，"
                "优先叫一位普通号；其余按取号先后顺序。",
                "text_en": f"Green channel first; after {n} in a row at a window, a waiting standard "
                "ticket is called; otherwise in order of issue.",
            }
        }
    )


async def queue(request: web.Request) -> web.Response:
    return web.json_response(request.app[HALL].queue())


async def issue(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    if who(request) is None:
        return err(401, "unauthorized", "需要设备令牌")
    body = await request.json()
    code = body.get("service")
    if code not in hall.services:
        return err(400, "invalid_input", "未知业务")
    hall.seq[code] = hall.seq.get(code, 0) + 1
    t = Ticket(
        id=secrets.token_urlsafe(12),
        key=secrets.token_urlsafe(12),
        number=f"{code}{hall.seq[code]:03d}",
        service=code,
        category=body.get("category", "normal"),
        issued_at=now(),
    )
    hall.tickets[t.id] = t
    out = t.public(hall.ahead(t), hall.wait_s(t))
    out["key"] = t.key
    out["url"] = f"http://{request.host}/t/{t.id}?key={t.key}"
    out["print"] = {"status": "queued", "error": None}
    await hall.broadcast("ticket.issued", ticket={"number": t.number, "service": code})
    await hall.broadcast("queue.changed")
    return web.json_response({"ticket": out}, status=201)


async def get_ticket(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    t = hall.tickets.get(request.match_info["id"])
    if t is None or request.query.get("key") != t.key:
        return err(404, "not_found", "没有这个号码")
    out = t.public(hall.ahead(t), hall.wait_s(t))
    out["print"] = {"status": "printed", "error": None}
    out["missing"] = t.missing
    out["rated"] = t.rated
    return web.json_response({"ticket": out})


async def login(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    body = await request.json()
    s = hall.staff.get(body.get("username", ""))
    if not s or s["password"] != body.get("password"):
        return err(401, "unauthorized", "用户名或密码错误")
    tok = secrets.token_urlsafe(16)
    hall.sessions[tok] = s["username"]
    staff = {k: s.get(k) for k in ("username", "name", "windows", "party_member")}
    staff["role"] = s.get("role", "staff")
    return web.json_response({"token": tok, "staff": staff})


async def me_stats(request: web.Request) -> web.Response:
    w = who(request)
    if not w or w[0] != "staff":
        return err(401, "unauthorized", "请登录")
    return web.json_response(
        request.app[HALL].stats.get(w[1]["username"], {"called": 0, "finished": 0, "no_show": 0})
    )


async def window_action(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    w = who(request)
    if not w or w[0] != "staff":
        return err(401, "unauthorized", "请登录")
    user = w[1]["username"]
    n = int(request.match_info["n"])
    action = request.match_info["action"]
    win = hall.windows.get(n)
    if win is None:
        return err(404, "not_found", "没有这个窗口")
    body: dict[str, Any] = {}
    if request.can_read_body:
        body = await request.json()
    stats = hall.stats.setdefault(user, {"called": 0, "finished": 0, "no_show": 0})
    if action == "sign-in":
        if win["staff"] not in (None, user):
            return err(409, "conflict", "该窗口已有人签到")
        win.update(staff=user, status="open")
        await hall.broadcast("window.changed", window=n)
        return web.json_response({"window": n})
    if win["staff"] != user:
        return err(403, "forbidden", "您未在该窗口签到")
    cur = hall.tickets.get(win["current"]) if win["current"] else None
    if action in ("call-next", "call"):
        if cur and cur.status in ("called", "serving"):
            return err(409, "conflict", "当前号码尚未办结")
        if action == "call":
            if not body.get("reason"):
                return err(400, "invalid_input", "需要理由")
            cands = [t for t in hall.waiting() if t.number == body.get("number")]
        else:
            cands = hall.waiting(win["services"])
        if not cands:
            if action == "call":
                return err(404, "not_found", "没有等候中的该号码")
            return web.json_response({"ticket": None})
        t = cands[0]
        t.status, t.window = "called", n
        win["current"] = t.id
        stats["called"] += 1
        hall.recent.insert(0, {"number": t.number, "window": n, "at": now().isoformat()})
        await hall.broadcast(
            "ticket.called",
            ticket={"number": t.number, "service": t.service, "category": t.category},
            window=n,
            recall=False,
        )
        await hall.broadcast("queue.changed")
        return web.json_response({"ticket": t.public(0, None)})
    if action == "sign-out":
        win.update(staff=None, status="closed", current=None)
        await hall.broadcast("window.changed", window=n)
        return web.json_response({"window": n})
    if action in ("pause", "resume"):
        win["status"] = "paused" if action == "pause" else "open"
        await hall.broadcast("window.changed", window=n)
        return web.json_response({"window": n})
    if cur is None:
        return err(409, "conflict", "当前没有号码")
    if action == "recall":
        await hall.broadcast(
            "ticket.called",
            ticket={"number": cur.number, "service": cur.service, "category": cur.category},
            window=n,
            recall=True,
        )
    elif action == "start":
        cur.status = "serving"
    elif action == "finish":
        cur.status = "done"
        win["current"] = None
        stats["finished"] += 1
        await hall.broadcast("ticket.finished", ticket={"number": cur.number}, window=n)
        await hall.broadcast(
            "rating.requested",
            ticket={"id": cur.id, "number": cur.number, "service": cur.service},
            window=n,
            staff={"name": hall.staff[user]["name"]},
        )
    elif action == "no-show":
        cur.status = "no_show"
        win["current"] = None
        stats["no_show"] += 1
        await hall.broadcast("ticket.no_show", ticket={"number": cur.number}, window=n)
    elif action == "suspend":
        cur.status = "suspended"
        cur.missing = list(body.get("missing", []))
        win["current"] = None
    elif action == "transfer":
        cur.status, cur.service, cur.window = "waiting", body["service"], None
        win["current"] = None
    await hall.broadcast("queue.changed")
    return web.json_response({"ticket": cur.public(0, None)})


async def window_waiting(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    w = hall.windows[int(request.match_info["n"])]
    return web.json_response(
        {
            "tickets": [
                {"id": t.id, "number": t.number, "service": t.service, "category": t.category,
                 "status": t.status, "issued_at": t.issued_at.isoformat()}
                for t in hall.waiting(w["services"])
            ]
        }
    )  # fmt: skip


async def ratings(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    body = await request.json()
    t = hall.tickets.get(body.get("ticket", ""))
    if t is None:
        return err(404, "not_found", "没有这个号码")
    w = who(request)
    if body.get("key") != t.key and not (w and w[0] == "device" and w[1]["kind"] == "rating"):
        return err(403, "forbidden", "无权评价")
    if t.status != "done":
        return err(409, "conflict", "尚未办结")
    if t.rated:
        return err(409, "conflict", "已评价")
    t.rated = True
    return web.json_response({"rating": {"ticket": t.id, "score": body.get("score")}}, status=201)


async def ws_handler(request: web.Request) -> web.StreamResponse:
    hall = request.app[HALL]
    ok = who(request) is not None
    tid = request.query.get("ticket")
    if tid and tid in hall.tickets and hall.tickets[tid].key == request.query.get("key"):
        ok = True
    if not ok:
        return err(401, "unauthorized", "需要凭证")
    ws = web.WebSocketResponse(heartbeat=20)
    if not ws.can_prepare(request).ok:
        return err(400, "invalid_input", "WebSocket only")
    await ws.prepare(request)
    await ws.send_str(json.dumps({"type": "snapshot", **hall.queue()}))
    hall.sockets.add(ws)
    try:
        async for msg in ws:
            if msg.type == WSMsgType.ERROR:
                break
    finally:
        hall.sockets.discard(ws)
    return ws


async def stub_admin(request: web.Request) -> web.Response:
    """Test hooks of the stub only: open/close the hall."""
    body = await request.json()
    request.app[HALL].open_now = bool(body.get("open_now", True))
    return web.json_response({"ok": True})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def make_app(hall_file: Path | None = None) -> web.Application:
    app = web.Application()
    app[HALL] = Hall(hall_file or REPO / "server" / "demo_hall.toml")
    r = app.router
    for path, name in [("/kiosk", "kiosk"), ("/display", "display"), ("/console", "console"),
                       ("/supervisor", "supervisor"), ("/display/window/{n}", "window"),
                       ("/rate/{n}", "rate"), ("/t/{id}", "phone")]:  # fmt: skip
        r.add_get(path, page_route(name))
    r.add_static("/static/kiosk/", REPO / "kiosk")
    r.add_static("/static/display/", REPO / "display")
    r.add_static("/static/pages/", REPO / "server" / "pages")
    r.add_get("/api/services", services)
    r.add_get("/api/policy", policy)
    r.add_get("/api/queue", queue)
    r.add_post("/api/tickets", issue)
    r.add_get("/api/tickets/{id}", get_ticket)
    r.add_post("/api/login", login)
    r.add_get("/api/me/stats", me_stats)
    r.add_get("/api/windows/{n}/waiting", window_waiting)
    r.add_post("/api/windows/{n}/{action}", window_action)
    r.add_post("/api/ratings", ratings)
    r.add_post("/_stub/hall", stub_admin)
    r.add_get("/ws", ws_handler)
    r.add_get("/healthz", healthz)
    return app


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=8099)
    args = p.parse_args()
    web.run_app(make_app(), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
