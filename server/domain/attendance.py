"""Attendance (考勤) and pauses at a window: sign in, sign out, pause, resume.

Each takes the window locked by the caller (`window.lock_window`; sign-in locks
its own, and the window the person leaves), writes the action log, and returns
the window as it is now. A sign-in or sign-out also tells every process to
forget the tokens it remembers (`token_cache`), whose principals say where
their staff member is signed in.
"""

from __future__ import annotations

from clearhall.server.domain import action_log, auth, errors, messages
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.window import Window, authorise, lock_window, require_open
from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import ActorKind


async def sign_in(conn: Connection, hall: Hall, number: int, p: Principal) -> Window:
    """考勤: sign in here; signing in elsewhere first signs the person out there."""
    if p.kind != ActorKind.STAFF:
        raise errors.forbidden(messages.STAFF_ACT_ON_WINDOWS)
    rows = await conn.fetch(
        "SELECT id, number FROM windows WHERE hall_id = $1 AND (number = $2 OR staff_id = $3)"
        " AND active ORDER BY id FOR UPDATE",
        hall.id, number, p.id,
    )  # fmt: skip
    if not any(r["number"] == number for r in rows):
        raise errors.not_found(messages.NO_WINDOW(number=number))
    w = await lock_window(conn, hall.id, number)
    if not p.is_supervisor:
        allowed = await conn.fetchval(
            "SELECT 1 FROM staff_windows WHERE staff_id = $1 AND window_id = $2", p.id, w.id
        )
        if not allowed:
            raise errors.forbidden(messages.MAY_NOT_SIGN_IN_HERE(number=number))
    if w.staff_id == p.id:
        return w
    if w.staff_id is not None:
        raise errors.conflict(messages.WINDOW_STAFFED(number=number, name=w.staff_name))
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
    await action_log.record(conn, hall.id, p.actor, "sign_in", window=number)
    await auth.credentials_changed(conn, hall.id)  # a remembered principal's window
    return await lock_window(conn, hall.id, number)


async def sign_out(conn: Connection, hall: Hall, w: Window, p: Principal) -> Window:
    authorise(p, w)
    if w.staff_id is None:
        return w
    if w.current_ticket_id is not None:
        raise errors.conflict(messages.FINISH_FIRST(number=w.number))
    await conn.execute(
        "UPDATE windows SET staff_id = NULL, paused = false, pause_reason = NULL WHERE id = $1", w.id
    )
    await conn.execute(
        "UPDATE attendance SET signed_out_at = now()"
        " WHERE window_id = $1 AND staff_id = $2 AND signed_out_at IS NULL",
        w.id, w.staff_id,
    )  # fmt: skip
    await action_log.record(conn, hall.id, p.actor, "sign_out", window=w.number)
    await auth.credentials_changed(conn, hall.id)
    return await lock_window(conn, hall.id, w.number)


async def pause(conn: Connection, hall: Hall, w: Window, p: Principal, reason: str) -> Window:
    require_open(w)
    await conn.execute("UPDATE windows SET paused = true, pause_reason = $1 WHERE id = $2", reason, w.id)
    await action_log.record(conn, hall.id, p.actor, "pause", window=w.number, reason=reason)
    return await lock_window(conn, hall.id, w.number)


async def resume(conn: Connection, hall: Hall, w: Window, p: Principal) -> Window:
    if w.staff_id is None:
        raise errors.conflict(messages.WINDOW_CLOSED(number=w.number))
    await conn.execute("UPDATE windows SET paused = false, pause_reason = NULL WHERE id = $1", w.id)
    await action_log.record(conn, hall.id, p.actor, "resume", window=w.number)
    return await lock_window(conn, hall.id, w.number)
