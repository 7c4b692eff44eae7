"""Who is called next, and every other window call (CONTRACT §5).

The rule (published at GET /api/policy): among the waiting tickets of the
window's services, green channel before normal, then the earliest place in
line; but after `max_consecutive_priority` green-channel tickets in a row called
by call-next at one window, a waiting normal ticket goes first there. The run
ends when call-next calls a normal ticket; out-of-order calls don't count.

Exactly once: call-next claims its ticket in one UPDATE whose candidates are
read with FOR UPDATE SKIP LOCKED, so two windows, on any number of server
processes, never claim the same ticket. The window row is locked first, so one
window never holds two current tickets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import asyncpg
from clearhall.server.api import errors
from clearhall.server.domain import action_log as audit
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.tickets import TICKET_COLUMNS, Ticket


@dataclass(frozen=True)
class Window:
    id: int
    number: int
    staff_id: int | None
    staff_name: str | None
    party_member: bool | None
    paused: bool
    pause_reason: str | None
    current_ticket_id: str | None
    current_number: str | None
    priority_run: int
    service_ids: list[int]
    service_codes: list[str]

    def with_current(self, t: Ticket | None) -> Window:
        """This window after a call that left `t` (or nothing) at it."""
        return replace(self, current_ticket_id=t.id if t else None, current_number=t.number if t else None)


# -- the window, locked for this call, with what its screens show
LOCK_WINDOW = """
SELECT w.id, w.number, w.staff_id, st.name AS staff_name, st.party_member, w.paused,
       w.pause_reason, w.current_ticket_id,
       (SELECT t.number FROM tickets t WHERE t.id = w.current_ticket_id) AS current_number,
       w.priority_run,
       ARRAY(SELECT ws.service_id FROM window_services ws JOIN services s ON s.id = ws.service_id
             WHERE ws.window_id = w.id ORDER BY s.position, s.code) AS service_ids,
       ARRAY(SELECT s.code FROM window_services ws JOIN services s ON s.id = ws.service_id
             WHERE ws.window_id = w.id ORDER BY s.position, s.code) AS service_codes
FROM windows w LEFT JOIN staff st ON st.id = w.staff_id
WHERE w.hall_id = $1 AND w.number = $2 AND w.active
FOR UPDATE OF w
"""


async def lock_window(conn: asyncpg.Connection, hall_id: int, number: int) -> Window:
    row = await conn.fetchrow(LOCK_WINDOW, hall_id, number)
    if row is None:
        raise errors.not_found(f"没有 {number} 号窗口 (no window {number})")
    return Window(**dict(row))


def authorise(p: Principal, w: Window) -> None:
    """Staff signed in at this window, or a supervisor."""
    if p.kind != "staff":
        raise errors.forbidden("只有工作人员可以操作窗口 (only staff act on windows)")
    if p.is_supervisor or w.staff_id == p.id:
        return
    raise errors.forbidden(f"你没有在 {w.number} 号窗口签到 (you are not signed in at window {w.number})")


def require_open(w: Window) -> None:
    if w.staff_id is None:
        raise errors.conflict(f"{w.number} 号窗口无人签到 (window {w.number} is closed)")
    if w.paused:
        raise errors.conflict(f"{w.number} 号窗口已暂停服务 (window {w.number} is paused)")


# -- the first waiting ticket of the window's services in the rule's order,
# -- skipping rows another window is claiming this instant; each direction
# -- has its own index whose order is exactly this ORDER BY
_PICK = """
    SELECT id FROM tickets
    WHERE hall_id = $1 AND status = 'waiting' AND service_id = ANY($2::int[])
    ORDER BY priority {direction}, order_at, id
    LIMIT 1
"""


def _call_next(direction: str) -> str:
    return f"""
WITH pick AS (
    {_PICK.format(direction=direction)} FOR UPDATE SKIP LOCKED
), called AS (
    -- claim it for this window
    UPDATE tickets t SET status = 'called', window_id = $3, staff_id = $4, called_at = now()
    FROM pick WHERE t.id = pick.id
    RETURNING t.*
), win AS (
    -- the window's current ticket, and its run of green-channel calls
    UPDATE windows w SET current_ticket_id = called.id,
           priority_run = CASE WHEN called.priority THEN w.priority_run + 1 ELSE 0 END
    FROM called WHERE w.id = $3
    RETURNING w.priority_run
), logged AS (
    INSERT INTO action_log (hall_id, actor_kind, actor_id, actor_name, window_number, ticket_id,
                            ticket_number, action, rule_ticket_id, rule_ticket_number, details)
    SELECT $1, $5, $6, $7, $8, called.id, called.number, 'call_next', called.id, called.number,
           jsonb_build_object('priority_run', (SELECT priority_run FROM win))
    FROM called
)
SELECT {TICKET_COLUMNS} FROM called t JOIN services s ON s.id = t.service_id
"""


# Keyed by "green channel first?"
CALL_NEXT = {True: _call_next("DESC"), False: _call_next("ASC")}
# The same choice, read without claiming: what the rule would call now.
RULE_CHOICE = {
    green_first: f"SELECT id, number FROM tickets WHERE id = ({_PICK.format(direction=d)})"
    for green_first, d in ((True, "DESC"), (False, "ASC"))
}


def prefers_green(hall: Hall, w: Window) -> bool:
    return w.priority_run < hall.max_consecutive_priority


async def call_next(conn: asyncpg.Connection, hall: Hall, w: Window, p: Principal) -> Ticket | None:
    require_open(w)
    if w.current_ticket_id is not None:
        raise errors.conflict(
            f"{w.number} 号窗口还有未办结的号 (window {w.number} still has a current ticket)"
        )
    row = await conn.fetchrow(
        CALL_NEXT[prefers_green(hall, w)],
        hall.id, w.service_ids, w.id, w.staff_id, p.kind, p.id, p.name, w.number,
    )  # fmt: skip
    return Ticket.from_row(row) if row else None


async def rule_choice(conn: asyncpg.Connection, hall: Hall, w: Window) -> tuple[str, str] | None:
    row = await conn.fetchrow(RULE_CHOICE[prefers_green(hall, w)], hall.id, w.service_ids)
    return (row["id"], row["number"]) if row else None


FIND_WAITING_BY_NUMBER = """
SELECT t.id, t.service_id, t.status FROM tickets t
WHERE t.hall_id = $1 AND t.number = $2 AND t.day = (now() AT TIME ZONE $3)::date
FOR UPDATE
"""

CALL_CHOSEN = f"""
WITH called AS (
    UPDATE tickets t SET status = 'called', window_id = $2, staff_id = $3, called_at = now()
    WHERE t.id = $1 AND t.status = 'waiting'
    RETURNING t.*
)
SELECT {TICKET_COLUMNS} FROM called t JOIN services s ON s.id = t.service_id
"""


async def call_number(
    conn: asyncpg.Connection, hall: Hall, w: Window, p: Principal, number: str, reason: str
) -> Ticket:
    """指呼: call one waiting ticket out of order, with a reason, logged beside the rule's choice."""
    require_open(w)
    if w.current_ticket_id is not None:
        raise errors.conflict(
            f"{w.number} 号窗口还有未办结的号 (window {w.number} still has a current ticket)"
        )
    choice = await rule_choice(conn, hall, w)
    found = await conn.fetchrow(FIND_WAITING_BY_NUMBER, hall.id, number, hall.timezone)
    if found is None:
        raise errors.not_found(f"今天没有 {number} 号 (no ticket {number} today)")
    if found["service_id"] not in w.service_ids:
        raise errors.invalid(f"{number} 不属于本窗口的业务 (not a service of this window)", "number")
    if found["status"] != "waiting":
        raise errors.conflict(f"{number} 不在等候中 (ticket {number} is not waiting)")
    row = await conn.fetchrow(CALL_CHOSEN, found["id"], w.id, w.staff_id)
    ticket = Ticket.from_row(row)
    await conn.execute("UPDATE windows SET current_ticket_id = $1 WHERE id = $2", ticket.id, w.id)
    await audit.record(
        conn, hall.id, p.actor, "call", window=w.number, ticket_id=ticket.id,
        ticket_number=ticket.number, reason=reason,
        rule_ticket_id=choice[0] if choice else None,
        rule_ticket_number=choice[1] if choice else None,
    )  # fmt: skip
    return ticket


@dataclass(frozen=True)
class Transition:
    """A window call that moves the window's current ticket from one status to another."""

    action: str
    sets: str  # SQL SET list; $2.. are the call's own values
    allowed: tuple[str, ...]
    keeps_current: bool  # the ticket stays at the window afterwards


TRANSITIONS = {
    "recall": Transition("recall", "called_at = called_at", ("called",), True),
    "start": Transition("start", "status = 'serving', started_at = now()", ("called",), True),
    "finish": Transition("finish", "status = 'done', finished_at = now()", ("called", "serving"), False),
    "no_show": Transition("no_show", "status = 'no_show', finished_at = now()", ("called",), False),
    "transfer": Transition(
        "transfer",
        "status = 'waiting', service_id = $2, window_id = NULL, staff_id = NULL,"
        " called_at = NULL, started_at = NULL",
        ("called", "serving"),
        False,
    ),
    "suspend": Transition(
        "suspend",
        "status = 'suspended', suspend_reason = $2, missing = $3",
        ("called", "serving"),
        False,
    ),
}


async def transition(
    conn: asyncpg.Connection,
    hall: Hall,
    w: Window,
    p: Principal,
    action: str,
    *values: object,
    reason: str | None = None,
    details: dict[str, object] | None = None,
) -> Ticket:
    move = TRANSITIONS[action]
    if w.current_ticket_id is None:
        raise errors.conflict(f"{w.number} 号窗口当前没有号 (window {w.number} has no current ticket)")
    row = await conn.fetchrow(
        f"""
        WITH moved AS (
            UPDATE tickets t SET {move.sets}
            WHERE t.id = $1 AND t.status = ANY(${len(values) + 2}::text[])
            RETURNING t.*
        )
        SELECT {TICKET_COLUMNS} FROM moved t JOIN services s ON s.id = t.service_id
        """,
        w.current_ticket_id, *values, list(move.allowed),
    )  # fmt: skip
    if row is None:
        raise errors.conflict(
            f"当前的号不能执行此操作 (the current ticket cannot be {action.replace('_', '-')}ed now)"
        )
    ticket = Ticket.from_row(row)
    if not move.keeps_current:
        await conn.execute("UPDATE windows SET current_ticket_id = NULL WHERE id = $1", w.id)
    await audit.record(
        conn, hall.id, p.actor, action, window=w.number, ticket_id=ticket.id,
        ticket_number=ticket.number, reason=reason, details=details,
    )  # fmt: skip
    return ticket


async def transfer(conn: asyncpg.Connection, hall: Hall, w: Window, p: Principal, service: str) -> Ticket:
    target = await conn.fetchrow(
        "SELECT id, code FROM services WHERE hall_id = $1 AND code = $2 AND active", hall.id, service
    )
    if target is None:
        raise errors.invalid(f"未知业务 {service} (unknown service '{service}')", "service")
    return await transition(
        conn, hall, w, p, "transfer", target["id"], details={"to_service": target["code"]}
    )


async def suspend(
    conn: asyncpg.Connection, hall: Hall, w: Window, p: Principal, reason: str, missing: list[str]
) -> Ticket:
    # 一次性告知: a second suspension naming new missing items breaks "tell once".
    before = await conn.fetchval(
        "SELECT missing FROM tickets WHERE id = $1 AND suspend_reason IS NOT NULL",
        w.current_ticket_id,
    )
    new_items = sorted(set(missing) - set(before or []))
    details: dict[str, object] = {"missing": missing}
    if before is not None and new_items:
        details["tell_once_broken"] = new_items
    return await transition(conn, hall, w, p, "suspend", reason, missing, reason=reason, details=details)


REQUEUE = f"""
WITH back AS (
    UPDATE tickets t SET status = 'waiting', window_id = NULL, staff_id = NULL,
           called_at = NULL, started_at = NULL
    WHERE t.hall_id = $1 AND t.number = $2 AND t.day = (now() AT TIME ZONE $3)::date
      AND t.status = 'suspended'
    RETURNING t.*
)
SELECT {TICKET_COLUMNS} FROM back t JOIN services s ON s.id = t.service_id
"""


async def requeue(conn: asyncpg.Connection, hall: Hall, w: Window, p: Principal, number: str) -> Ticket:
    """A suspended ticket's citizen is back: waiting again, in its old place."""
    row = await conn.fetchrow(REQUEUE, hall.id, number, hall.timezone)
    if row is None:
        raise errors.conflict(f"{number} 不是今天挂起的号 (no suspended ticket {number} today)")
    ticket = Ticket.from_row(row)
    await audit.record(
        conn, hall.id, p.actor, "requeue", window=w.number, ticket_id=ticket.id,
        ticket_number=ticket.number,
    )  # fmt: skip
    return ticket


async def current(conn: asyncpg.Connection, w: Window) -> Ticket | None:
    if w.current_ticket_id is None:
        return None
    row = await conn.fetchrow(
        f"SELECT {TICKET_COLUMNS} FROM tickets t JOIN services s ON s.id = t.service_id WHERE t.id = $1",
        w.current_ticket_id,
    )
    return Ticket.from_row(row) if row else None


async def sign_in(conn: asyncpg.Connection, hall: Hall, number: int, p: Principal) -> Window:
    """考勤: sign in here; signing in elsewhere first signs the person out there."""
    if p.kind != "staff":
        raise errors.forbidden("只有工作人员可以签到 (only staff sign in)")
    rows = await conn.fetch(
        "SELECT id, number FROM windows WHERE hall_id = $1 AND (number = $2 OR staff_id = $3)"
        " AND active ORDER BY id FOR UPDATE",
        hall.id, number, p.id,
    )  # fmt: skip
    if not any(r["number"] == number for r in rows):
        raise errors.not_found(f"没有 {number} 号窗口 (no window {number})")
    w = await lock_window(conn, hall.id, number)
    if not p.is_supervisor:
        allowed = await conn.fetchval(
            "SELECT 1 FROM staff_windows WHERE staff_id = $1 AND window_id = $2", p.id, w.id
        )
        if not allowed:
            raise errors.forbidden(f"你不能在 {number} 号窗口签到 (you may not sign in at window {number})")
    if w.staff_id == p.id:
        return w
    if w.staff_id is not None:
        raise errors.conflict(
            f"{number} 号窗口已有 {w.staff_name} 签到 (window {number} is staffed by someone else)"
        )
    for other in rows:
        if other["number"] != number:
            await sign_out(conn, hall, await lock_window(conn, hall.id, other["number"]), p)
    await conn.execute(
        "UPDATE windows SET staff_id = $1, paused = false, pause_reason = NULL WHERE id = $2",
        p.id, w.id,
    )  # fmt: skip
    await conn.execute(
        "INSERT INTO attendance (hall_id, window_id, staff_id) VALUES ($1, $2, $3)", hall.id, w.id, p.id
    )
    await audit.record(conn, hall.id, p.actor, "sign_in", window=number)
    return await lock_window(conn, hall.id, number)


async def sign_out(conn: asyncpg.Connection, hall: Hall, w: Window, p: Principal) -> Window:
    authorise(p, w)
    if w.staff_id is None:
        return w
    if w.current_ticket_id is not None:
        raise errors.conflict(
            f"请先办结或转移 {w.number} 号窗口的当前号 (finish or transfer the current ticket first)"
        )
    await conn.execute(
        "UPDATE windows SET staff_id = NULL, paused = false, pause_reason = NULL WHERE id = $1", w.id
    )
    await conn.execute(
        "UPDATE attendance SET signed_out_at = now()"
        " WHERE window_id = $1 AND staff_id = $2 AND signed_out_at IS NULL",
        w.id, w.staff_id,
    )  # fmt: skip
    await audit.record(conn, hall.id, p.actor, "sign_out", window=w.number)
    return await lock_window(conn, hall.id, w.number)


async def pause(conn: asyncpg.Connection, hall: Hall, w: Window, p: Principal, reason: str) -> Window:
    require_open(w)
    await conn.execute("UPDATE windows SET paused = true, pause_reason = $1 WHERE id = $2", reason, w.id)
    await audit.record(conn, hall.id, p.actor, "pause", window=w.number, reason=reason)
    return await lock_window(conn, hall.id, w.number)


async def resume(conn: asyncpg.Connection, hall: Hall, w: Window, p: Principal) -> Window:
    if w.staff_id is None:
        raise errors.conflict(f"{w.number} 号窗口无人签到 (window {w.number} is closed)")
    await conn.execute("UPDATE windows SET paused = false, pause_reason = NULL WHERE id = $1", w.id)
    await audit.record(conn, hall.id, p.actor, "resume", window=w.number)
    return await lock_window(conn, hall.id, w.number)
