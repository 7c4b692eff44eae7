"""HTTP handlers: parse, authorise, call the domain, serialise. Nothing else.

Every endpoint is added to REGISTRY with its access rule and body schema; the
router and the OpenAPI document are both built from it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
from aiohttp import web
from clearhall.server.api import errors
from clearhall.server.api.routes import ISSUER, PUBLIC, REGISTRY, STAFF, TICKET, WINDOW
from clearhall.server.api.validate import EMPTY, Body, Field, decode, read_body
from clearhall.server.domain import auth, events, idempotency, tickets
from clearhall.server.domain import windows as queue
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.tickets import CATEGORIES, GREEN_CHANNEL, ticket_json
from clearhall.server.keys import DB, HALL, SECRET, SETTINGS
from clearhall.server.printing import jobs as printing

WINDOW_PATH = r"/api/windows/{n:\d+}"


def ok(data: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def window_number(request: web.Request) -> int:
    number = int(request.match_info["n"])
    if number > 999_999:
        raise errors.not_found(f"没有 {number} 号窗口 (no window {number})")
    return number


async def principal(request: web.Request) -> Principal:
    return await auth.authenticate(request.app[DB], request.app[HALL].id, request)


# ---------------------------------------------------------------- health, policy


async def healthz(request: web.Request) -> web.Response:
    async with request.app[DB].acquire() as conn:
        await conn.fetchval("SELECT 1")
    return ok({"ok": True})


def policy_json(hall: Hall) -> dict[str, Any]:
    n = hall.max_consecutive_priority
    return {
        "max_consecutive_priority": n,
        "daily_tickets_per_id": hall.daily_tickets_per_id,
        "green_channel": list(GREEN_CHANNEL),
        "text_zh": (
            "叫号规则：每个窗口在其办理的业务中，先叫绿色通道（老年人、残疾人、孕妇、军人），"
            f"再按取号先后顺序叫号；同一窗口连续叫 {n} 个绿色通道号后，"
            "若有普通号在等候，下一个先叫普通号。转移业务的号保留原来的排队位置。"
            "工作人员如需不按顺序叫号，必须填写理由，并记录在案备查。"
        ),
        "text_en": (
            "Calling rule: at each window, among the services it handles, the green channel "
            "(elderly, disabled, pregnant, military) is called first, then everyone in the order "
            f"they took their numbers; after {n} green-channel calls in a row at one window, a "
            "waiting normal ticket is called next. A transferred ticket keeps its place in line. "
            "Calling anyone out of order needs a written reason, and is logged for review."
        ),
    }


async def get_policy(request: web.Request) -> web.Response:
    return ok({"policy": policy_json(request.app[HALL])})


# ---------------------------------------------------------------- log-in

LOGIN = Body(
    (
        Field("username", str, required=True, max_length=64),
        Field("password", str, required=True, max_length=256),
    )
)


def staff_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "username": row["username"],
        "name": row["name"],
        "role": row["role"],
        "party_member": row["party_member"],
    }


async def login(request: web.Request) -> web.Response:
    data = await read_body(request, LOGIN)
    settings, hall = request.app[SETTINGS], request.app[HALL]
    token, row = await auth.log_in(
        request.app[DB], hall.id, data["username"], data["password"],
        timedelta(hours=settings.session_hours),
    )  # fmt: skip
    async with request.app[DB].acquire() as conn:
        windows = await conn.fetch(STAFF_WINDOWS, row["id"])
        await conn.execute(
            "INSERT INTO action_log (hall_id, actor_kind, actor_id, actor_name, action)"
            " VALUES ($1, 'staff', $2, $3, 'login')",
            hall.id, row["id"], row["name"],
        )  # fmt: skip
    staff = staff_json(row) | {"windows": [w["number"] for w in windows]}
    return ok({"token": token, "staff": staff})


STAFF_WINDOWS = """
SELECT w.number FROM staff_windows sw JOIN windows w ON w.id = sw.window_id
WHERE sw.staff_id = $1 AND w.active ORDER BY w.number
"""


async def logout(request: web.Request) -> web.Response:
    p = await principal(request)
    auth.require_staff(p)
    await auth.log_out(request.app[DB], p)
    return ok({"ok": True})


ME = """
SELECT st.id, st.username, st.name, st.role, st.party_member,
       (SELECT w.number FROM windows w WHERE w.staff_id = st.id) AS window
FROM staff st WHERE st.id = $1
"""

# -- today's own counts, from the action log
MY_COUNTS = """
SELECT count(*) FILTER (WHERE action IN ('call_next', 'call')) AS called,
       count(*) FILTER (WHERE action = 'finish') AS finished,
       count(*) FILTER (WHERE action = 'no_show') AS no_show,
       count(*) FILTER (WHERE action = 'transfer') AS transferred,
       count(*) FILTER (WHERE action = 'suspend') AS suspended
FROM action_log
WHERE hall_id = $1 AND actor_kind = 'staff' AND actor_id = $2
  AND at >= (date_trunc('day', now() AT TIME ZONE $3) AT TIME ZONE $3)
"""


async def me(request: web.Request) -> web.Response:
    p = await principal(request)
    auth.require_staff(p)
    async with request.app[DB].acquire() as conn:
        row = await conn.fetchrow(ME, p.id)
        windows = await conn.fetch(STAFF_WINDOWS, p.id)
    staff = staff_json(row) | {"windows": [w["number"] for w in windows]}
    return ok({"staff": staff, "window": row["window"]})


async def my_stats(request: web.Request) -> web.Response:
    p = await principal(request)
    auth.require_staff(p)
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn:
        row = await conn.fetchrow(MY_COUNTS, hall.id, p.id, hall.timezone)
    return ok({"stats": dict(row)})


# ---------------------------------------------------------------- services, queue

SERVICES = """
SELECT code, name, real_name_required, time_limit_minutes FROM services
WHERE hall_id = $1 AND active ORDER BY position, code
"""

# -- open from the first minute of opens_at through the last minute of closes_at
OPEN_NOW = """
SELECT to_char(now() AT TIME ZONE $1, 'HH24:MI')
       BETWEEN to_char($2::time, 'HH24:MI') AND to_char($3::time, 'HH24:MI')
"""


async def get_services(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn:
        rows = await conn.fetch(SERVICES, hall.id)
        open_now = await conn.fetchval(OPEN_NOW, hall.timezone, hall.opens_at, hall.closes_at)
    return ok(
        {
            "services": [dict(r) for r in rows],
            "categories": list(CATEGORIES),
            "hall": {
                "name": hall.name,
                "open_now": open_now,
                "hours": f"{hall.opens_at:%H:%M}–{hall.closes_at:%H:%M}",
            },
        }
    )


WINDOWS_STATE = """
SELECT w.number, w.paused, w.pause_reason, st.name AS staff_name, st.party_member,
       t.number AS current_number,
       ARRAY(SELECT s.code FROM window_services ws JOIN services s ON s.id = ws.service_id
             WHERE ws.window_id = w.id ORDER BY s.position) AS services
FROM windows w
LEFT JOIN staff st ON st.id = w.staff_id
LEFT JOIN tickets t ON t.id = w.current_ticket_id
WHERE w.hall_id = $1 AND w.active
ORDER BY w.number
"""

RECENT_CALLS = """
SELECT ticket_number AS number, window_number AS window, at FROM action_log
WHERE hall_id = $1 AND action IN ('call_next', 'call', 'recall')
  AND at >= (date_trunc('day', now() AT TIME ZONE $2) AT TIME ZONE $2)
ORDER BY at DESC LIMIT 10
"""

NOTICES = """
SELECT id, title, body FROM notices
WHERE hall_id = $1
  AND (starts_on IS NULL OR starts_on <= (now() AT TIME ZONE $2)::date)
  AND (ends_on IS NULL OR ends_on >= (now() AT TIME ZONE $2)::date)
ORDER BY position, id
"""


def window_json(r: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    status = "closed" if r["staff_name"] is None else "paused" if r["paused"] else "open"
    return {
        "number": r["number"],
        "status": status,
        "staff": {"name": r["staff_name"], "party_member": r["party_member"]}
        if r["staff_name"] is not None
        else None,
        "current": {"number": r["current_number"]} if r["current_number"] else None,
        "services": list(r["services"]),
        "pause_reason": r["pause_reason"],
    }


def window_state(w: queue.Window) -> dict[str, Any]:
    """A locked window as /api/queue shows it."""
    return window_json(
        {
            "number": w.number, "paused": w.paused, "pause_reason": w.pause_reason,
            "staff_name": w.staff_name, "party_member": w.party_member,
            "current_number": w.current_number, "services": w.service_codes,
        }
    )  # fmt: skip


async def queue_state(conn: asyncpg.Connection, hall: Hall) -> dict[str, Any]:
    """What the hall screen shows: GET /api/queue and the socket's snapshot."""
    load = await tickets.service_load(conn, hall.id)
    windows = await conn.fetch(WINDOWS_STATE, hall.id)
    calls = await conn.fetch(RECENT_CALLS, hall.id, hall.timezone)
    notices = await conn.fetch(NOTICES, hall.id, hall.timezone)
    return {
        "services": [
            {
                "code": s["code"],
                "name": s["name"],
                "waiting": s["waiting"],
                "estimated_wait_s": tickets.estimate(s["waiting"], s["mean_handling_s"], s["open_windows"]),
            }
            for s in load
        ],
        "windows": [window_json(w) for w in windows],
        "recent_calls": [
            {"number": c["number"], "window": c["window"], "at": tickets.local_iso(c["at"], hall.timezone)}
            for c in calls
        ],
        "notices": [dict(n) for n in notices],
    }


async def get_queue(request: web.Request) -> web.Response:
    async with request.app[DB].acquire() as conn:
        return ok(await queue_state(conn, request.app[HALL]))


# ---------------------------------------------------------------- tickets

ISSUE = Body(
    (
        Field("service", str, required=True, max_length=2, pattern=r"[A-Z]{1,2}"),
        Field("category", str, choices=CATEGORIES),
        Field("id_number", str, max_length=18, description="18-character resident ID (GB 11643)"),
        Field("phone", str, max_length=11, description="11-digit mobile number"),
    )
)


def phone_url(request: web.Request, hall: Hall, ticket_id: str, key: str) -> str:
    base = hall.public_url or f"{request.scheme}://{request.host}"
    return f"{base}/t/{ticket_id}?key={key}"


async def issue_ticket(request: web.Request) -> web.Response:
    p = await principal(request)
    if p.kind == "device":
        auth.require_device(p, "kiosk")
    data = await read_body(request, ISSUE)
    hall = request.app[HALL]
    # A kiosk that lost the answer retries with the same Idempotency-Key and gets
    # the same ticket back, never a second one.
    retry_key = request.headers.get("Idempotency-Key")
    # The print job commits with the ticket; printing itself waits for the commit.
    async with request.app[DB].acquire() as conn, conn.transaction():
        if retry_key is not None:
            stored = await idempotency.claim(conn, p.credential, "issue", idempotency.check_key(retry_key))
            if stored is not None:
                replay = stored[1]
                printed = await printing.ticket_print_status(conn, replay["ticket"]["id"])
                if printed is not None:
                    replay["ticket"]["print"] = printed.json()
                return ok(replay, stored[0])
        issued = await tickets.issue(
            conn, hall, request.app[SECRET], p.actor,
            service=data["service"], category=data.get("category", "normal"),
            id_number=data.get("id_number"), phone=data.get("phone"),
        )  # fmt: skip
        url = phone_url(request, hall, issued.ticket.id, issued.key)
        job = await printing.queue_ticket(conn, hall, p, issued, url, request.app[printing.PRINTING])
        body = ticket_json(issued.ticket, hall, ahead=issued.ahead, wait=issued.estimated_wait_s)
        body["key"] = issued.key
        body["url"] = url
        if retry_key is not None:
            await idempotency.store(conn, p.credential, "issue", retry_key, 201, {"ticket": body})
    if job is not None:
        body["print"] = (await request.app[printing.PRINTING].print_now(job)).json()
    return ok({"ticket": body}, 201)


async def get_ticket(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    ticket_id = request.match_info["id"]
    key = request.query.get("key")
    viewer = None if key is not None else await principal(request)
    if viewer is not None:
        auth.require_staff(viewer)
    async with request.app[DB].acquire() as conn:
        found = await tickets.fetch(conn, hall.id, ticket_id)
        if found is None:
            raise errors.not_found("没有这个号 (no such ticket)")
        ticket, key_hash = found
        if key is not None and not tickets.key_matches(key_hash, key):
            raise errors.unauthorized("凭证不正确 (the ticket key is wrong)")
        ahead, wait = await tickets.place_in_line(conn, hall.id, ticket)
        printed = await printing.ticket_print_status(conn, ticket.id)
    caller = viewer is not None and viewer.id == ticket.staff_id
    body = ticket_json(ticket, hall, ahead=ahead, wait=wait, for_caller=caller)
    if printed is not None:
        body["print"] = printed.json()  # the kiosk follows a queued print to its end
    return ok({"ticket": body})


WAITING_AT_WINDOW = """
SELECT t.number, s.code AS service, t.category, t.priority, t.status, t.issued_at
FROM tickets t JOIN services s ON s.id = t.service_id
WHERE t.hall_id = $1 AND t.status = ANY($3::text[])
  AND t.service_id IN (SELECT ws.service_id FROM window_services ws
                       JOIN windows w ON w.id = ws.window_id
                       WHERE w.hall_id = $1 AND w.number = $2)
ORDER BY t.priority DESC, t.order_at, t.id
LIMIT 200
"""


async def window_waiting(request: web.Request) -> web.Response:
    p = await principal(request)
    auth.require_staff(p)
    hall = request.app[HALL]
    number = window_number(request)
    async with request.app[DB].acquire() as conn:
        waiting = await conn.fetch(WAITING_AT_WINDOW, hall.id, number, ["waiting"])
        suspended = await conn.fetch(WAITING_AT_WINDOW, hall.id, number, ["suspended"])

    def short(r: asyncpg.Record) -> dict[str, Any]:
        return {
            "number": r["number"],
            "service": r["service"],
            "category": r["category"],
            "green_channel": r["priority"],
            "issued_at": tickets.local_iso(r["issued_at"], hall.timezone),
        }

    return ok({"tickets": [short(r) for r in waiting], "suspended": [short(r) for r in suspended]})


# ---------------------------------------------------------------- window calls

REASON = Field("reason", str, required=True, max_length=200)
WINDOW_BODIES = {
    "transfer": Body((Field("service", str, required=True, max_length=2, pattern=r"[A-Z]{1,2}"),)),
    "suspend": Body((REASON, Field("missing", list, max_length=100, description="documents still missing"))),
    "call": Body((Field("number", str, required=True, max_length=12, pattern=r"[A-Z]{1,2}\d{3,6}"), REASON)),
    "pause": Body((REASON,)),
    "requeue": Body((Field("number", str, required=True, max_length=12, pattern=r"[A-Z]{1,2}\d{3,6}"),)),
}

WINDOW_SUMMARIES = {
    "sign-in": "签到 Sign in at this window (attendance)",
    "sign-out": "签退 Sign out of this window",
    "call-next": "叫号 Call the next ticket by the published rule",
    "recall": "重呼 Announce the current ticket again",
    "start": "开始办理 Called → serving",
    "finish": "办结 Called or serving → done; asks the window's rating pad for a rating",
    "no-show": "过号 Called → no-show",
    "transfer": "转移 Back to waiting in another service, keeping its place",
    "suspend": "挂起 Suspend to fetch missing documents (一次性告知)",
    "call": "指呼 Call one waiting ticket out of order; the reason is audited",
    "pause": "暂停服务 Stop calling for a while",
    "resume": "恢复服务 Start calling again",
    "requeue": "挂起回队 A suspended ticket's citizen is back: waiting again in its old place",
}


async def act(
    conn: asyncpg.Connection, hall: Hall, p: Principal, number: int, action: str, raw: bytes
) -> tuple[queue.Window, tickets.Ticket | None]:
    """Run one window call inside the caller's transaction.

    The body is validated only after the credential is judged (CONTRACT §3).
    """
    if action == "sign-in":
        decode(EMPTY, raw)
        w = await queue.sign_in(conn, hall, number, p)
        return w, await queue.current(conn, w)
    w = await queue.lock_window(conn, hall.id, number)
    queue.authorise(p, w)
    data = decode(WINDOW_BODIES.get(action, EMPTY), raw)
    ticket: tickets.Ticket | None
    if action == "sign-out":
        return await queue.sign_out(conn, hall, w, p), None
    if action == "pause":
        w = await queue.pause(conn, hall, w, p, data["reason"])
        return w, await queue.current(conn, w)
    if action == "resume":
        w = await queue.resume(conn, hall, w, p)
        return w, await queue.current(conn, w)
    if action == "call-next":
        ticket = await queue.call_next(conn, hall, w, p)
    elif action == "call":
        ticket = await queue.call_number(conn, hall, w, p, data["number"], data["reason"])
    elif action == "transfer":
        ticket = await queue.transfer(conn, hall, w, p, data["service"])
    elif action == "suspend":
        ticket = await queue.suspend(conn, hall, w, p, data["reason"], data.get("missing", []))
    elif action == "requeue":
        ticket = await queue.requeue(conn, hall, w, p, data["number"])
    else:
        ticket = await queue.transition(conn, hall, w, p, action.replace("-", "_"))
    if action in ("call-next", "call", "recall", "start"):
        return w.with_current(ticket) if ticket else w, ticket
    if action in ("finish", "no-show", "transfer", "suspend"):
        return w.with_current(None), ticket
    return await queue.lock_window(conn, hall.id, number), ticket


def public_ticket(t: tickets.Ticket) -> dict[str, Any]:
    """What screens may know of a ticket: no id, no key, no person."""
    return {"number": t.number, "service": t.service, "category": t.category}


async def publish(
    conn: asyncpg.Connection, hall: Hall, action: str, state: dict[str, Any], t: tickets.Ticket | None
) -> None:
    """The live events of one window call, sent when its transaction commits."""
    n = state["number"]
    batch: list[tuple[str, dict[str, Any]]] = []
    if action in ("call-next", "call", "recall") and t is not None:
        batch.append(
            ("ticket.called", {"ticket": public_ticket(t), "window": n, "recall": action == "recall"})
        )
    elif action == "finish" and t is not None:
        batch.append(("ticket.finished", {"ticket": public_ticket(t), "window": n}))
        # The rating pad asks by itself: staff never choose whether a ticket is rated.
        ticket = {"id": t.id, "number": t.number, "service": t.service}
        batch.append(("rating.requested", {"ticket": ticket, "window": n, "staff": {"name": t.staff_name}}))
    elif action == "no-show" and t is not None:
        batch.append(("ticket.no_show", {"ticket": public_ticket(t), "window": n}))
    elif t is not None:  # start, transfer, suspend, requeue
        batch.append(("queue.changed", {"window": n}))
    batch.append(("window.changed", {"window": n, "state": state}))
    await events.publish_many(conn, hall.id, batch)


def window_handler(action: str) -> Any:
    async def handle(request: web.Request) -> web.Response:
        p = await principal(request)
        if p.kind != "staff":
            raise errors.forbidden("只有工作人员可以操作窗口 (only staff act on windows)")
        raw = await request.read()
        number = window_number(request)
        key = request.headers.get("Idempotency-Key")
        hall = request.app[HALL]
        endpoint = f"{action} {number}"
        async with request.app[DB].acquire() as conn, conn.transaction():
            if key is not None:
                stored = await idempotency.claim(conn, p.credential, endpoint, idempotency.check_key(key))
                if stored is not None:
                    return ok(stored[1], stored[0])
            w, ticket = await act(conn, hall, p, number, action, raw)
            state = window_state(w)
            await publish(conn, hall, action, state, ticket)
            caller = ticket is not None and ticket.status in ("called", "serving")
            result = {
                "ticket": ticket_json(ticket, hall, for_caller=caller) if ticket else None,
                "window": state,
            }
            if key is not None:
                await idempotency.store(conn, p.credential, endpoint, key, 200, result)
        return ok(result)

    return handle


# ---------------------------------------------------------------- the table

REGISTRY.add("GET", "/healthz", healthz, summary="200 once the database answers", access=PUBLIC, tag="ops")
REGISTRY.add("GET", "/api/policy", get_policy, summary="The calling rule in force, in words", access=PUBLIC)
REGISTRY.add(
    "POST", "/api/login", login, summary="Staff log-in → bearer token", access=PUBLIC, body=LOGIN, tag="auth"
)
REGISTRY.add("POST", "/api/logout", logout, summary="End this log-in", access=STAFF, tag="auth")
REGISTRY.add(
    "GET", "/api/me", me, summary="The logged-in staff member and their window", access=STAFF, tag="auth"
)
REGISTRY.add("GET", "/api/me/stats", my_stats, summary="Today's own counts", access=STAFF, tag="auth")
REGISTRY.add(
    "GET", "/api/services", get_services, summary="Services, categories and opening hours", access=PUBLIC
)
REGISTRY.add(
    "GET", "/api/queue", get_queue, summary="Waiting lines, windows, recent calls, notices", access=PUBLIC
)
REGISTRY.add(
    "POST",
    "/api/tickets",
    issue_ticket,
    summary="Take a number (取号); retry with the same Idempotency-Key to get the same ticket",
    access=ISSUER,
    body=ISSUE,
    status=201,
    tag="tickets",
    headers=("Idempotency-Key",),
)
REGISTRY.add(
    "GET",
    "/api/tickets/{id}",
    get_ticket,
    summary="A ticket, for its citizen (?key=) or staff",
    access=TICKET,
    tag="tickets",
    query=("key",),
)
REGISTRY.add(
    "GET",
    WINDOW_PATH + "/waiting",
    window_waiting,
    summary="The waiting list of a window's services (numbers and categories only)",
    access=STAFF,
    tag="windows",
)
for _action, _summary in WINDOW_SUMMARIES.items():
    REGISTRY.add(
        "POST", f"{WINDOW_PATH}/{_action}", window_handler(_action), summary=_summary,
        access=WINDOW, body=WINDOW_BODIES.get(_action, EMPTY), tag="windows",
        headers=("Idempotency-Key",),
    )  # fmt: skip
