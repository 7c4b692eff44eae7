"""Every window call (CONTRACT §5) but the calling rule itself, which is `calling`.

`act` runs one call inside the caller's transaction: it locks the window,
checks who may act there, does the call, writes the action log and publishes
the call's live events (delivered when the transaction commits), and returns
an `Outcome`: the window and the ticket as they are afterwards. Putting a
ticket back in line is `requeue`; undoing a finish or no-show is `undo`.

办结并叫号 (`finish-and-call-next`) is the finish and the call-next of the
two calls, in that order, in one transaction: the same code, so the rating pad
is asked and "exactly once" holds exactly as for them. A paused window may
finish but not call, so there it is refused before anything moves.

过号 (no-show) is refused until the hall's `no_show_after_s` have passed since
the call, with the seconds left (`error.seconds_left`): a recall may still
bring the citizen. A finish and a no-show write the ticket's state before them
into their log row, which is what `undo` restores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import asyncpg

from clearhall.server.domain import (
    attendance,
    calling,
    case_numbers,
    errors,
    events,
    messages,
    requeue,
    undo,
    views,
)
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import SERVED_NOW, Hall
from clearhall.server.domain.moves import transition
from clearhall.server.domain.tickets import TICKET_COLUMNS, Ticket
from clearhall.server.domain.window import (
    Call,
    Window,
    authorise,
    current,
    lock_window,
    require_open,
)
from clearhall.server.store.db import Connection


@dataclass(frozen=True)
class Outcome:
    """A window call's result: the window and the ticket it acted on, as they are now."""

    window: Window
    ticket: Ticket | None
    unstaffed: bool = False  # a transfer into a service no open window serves now
    finished: Ticket | None = None  # 办结并叫号: the ticket it finished (`ticket` is the one it called)


# -- seconds until a called ticket may be marked a no-show (None: it is not called)
NO_SHOW_WAIT = """
SELECT $2 - extract(epoch FROM now() - called_at)::float8 FROM tickets WHERE id = $1 AND status = 'called'
"""


async def no_show(conn: Connection, hall: Hall, w: Window, p: Principal) -> Ticket:
    """过号, once `no_show_after_s` have passed since the call."""
    if w.current_ticket_id is not None and hall.no_show_after_s > 0:
        left = await conn.fetchval(NO_SHOW_WAIT, w.current_ticket_id, hall.no_show_after_s)
        if left is not None and left > 0:
            seconds = math.ceil(left)
            text = messages.NO_SHOW_TOO_SOON(after=hall.no_show_after_s, seconds=seconds)
            raise errors.DomainError(errors.CONFLICT, text, seconds_left=seconds)
    return (await transition(conn, hall, w.number, p, Call.NO_SHOW))[1]


TRANSFER_TARGET = f"""
SELECT s.id, s.code, {SERVED_NOW} AS served_now FROM services s
WHERE s.hall_id = $1 AND s.code = $2 AND s.active
"""


async def transfer(
    conn: Connection, hall: Hall, w: Window, p: Principal, service: str, reason: str | None
) -> tuple[Ticket, bool]:
    """转移, keeping its place; also whether no open window serves the new service now."""
    target = await conn.fetchrow(TRANSFER_TARGET, hall.id, service)
    if target is None:
        raise errors.invalid(messages.UNKNOWN_SERVICE(service=service), "service")
    try:
        details = {"to_service": target["code"]}
        _, moved = await transition(
            conn, hall, w.number, p, Call.TRANSFER, target["id"], reason=reason, details=details
        )
        return moved, not target["served_now"]
    except asyncpg.UniqueViolationError as exc:
        # One unfinished ticket per ID number and service (CONTRACT §4), held by
        # the unique index: the same person already queues there.
        if exc.constraint_name == ONE_OPEN_PER_ID:
            raise errors.limit_exceeded(messages.OPEN_TICKET_IN_TARGET(service=target["code"])) from None
        raise


async def suspend(
    conn: Connection, hall: Hall, w: Window, p: Principal, reason: str, missing: list[str]
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
    _, moved = await transition(
        conn, hall, w.number, p, Call.SUSPEND, reason, missing, reason=reason, details=details
    )
    return moved


ONE_OPEN_PER_ID = "tickets_one_open_per_id"  # schema.sql


async def finish_and_call_next(
    conn: Connection, hall: Hall, w: Window, p: Principal, case_number: str | None = None
) -> Outcome:
    """办结并叫号: `finish` (with its 办件编号, if given), then `call-next` by the rule, at one
    locked window in one transaction."""
    if w.paused and w.current_ticket_id is not None:
        raise errors.conflict(messages.FINISH_ONLY_WHEN_PAUSED(number=w.number))
    require_open(w)
    _, finished = await transition(
        conn, hall, w.number, p, Call.FINISH, details={"then": Call.CALL_NEXT.value}
    )
    if case_number:
        await case_numbers.attach(conn, hall.id, p.actor, finished.id, case_number)
    w, called = await calling.call_next(conn, hall, p, w.number, tell=False)  # `publish` tells, in order
    return Outcome(w, called, finished=finished)


# -- the window's current ticket, and the seconds before it may be marked a no-show
# -- (0 once it may; NULL unless it is called)
AT_WINDOW_NOW = f"""
SELECT {TICKET_COLUMNS},
       CASE WHEN t.status = 'called'
            THEN greatest(0, ceil($3 - extract(epoch FROM now() - t.called_at)))::int END AS no_show_in_s
FROM windows w JOIN tickets t ON t.id = w.current_ticket_id JOIN services s ON s.id = t.service_id
WHERE w.hall_id = $1 AND w.number = $2 AND w.active
"""


async def at_window(conn: Connection, hall: Hall, number: int) -> tuple[Ticket | None, int | None]:
    """What a console shows of its window beyond the queue: the current ticket, and when 过号 is allowed."""
    row = await conn.fetchrow(AT_WINDOW_NOW, hall.id, number, hall.no_show_after_s)
    return (Ticket.from_row(row), row["no_show_in_s"]) if row else (None, None)


# ---------------------------------------------------------------- one call, start to end


async def act(
    conn: Connection, hall: Hall, p: Principal, number: int, call: Call, data: dict[str, Any]
) -> Outcome:
    """Run one window call inside the caller's transaction, and publish its events."""
    outcome = await _run(conn, hall, p, number, call, data)
    await publish(conn, hall, call, outcome)
    return outcome


async def _run(
    conn: Connection, hall: Hall, p: Principal, number: int, call: Call, data: dict[str, Any]
) -> Outcome:
    if call is Call.SIGN_IN:
        w = await attendance.sign_in(conn, hall, number, p)
        return Outcome(w, await current(conn, w))
    # These lock and check the window themselves, in the same statement as the call.
    if call is Call.CALL_NEXT:
        w, called = await calling.call_next(conn, hall, p, number)
        return Outcome(w, called)
    if call in (Call.RECALL, Call.START, Call.FINISH):
        w, moved = await transition(conn, hall, number, p, call, tell=call is Call.FINISH)
        if call is Call.FINISH and data.get("case_number"):  # 办件编号, carried with its rating
            await case_numbers.attach(conn, hall.id, p.actor, moved.id, data["case_number"])
        return Outcome(w, moved)
    w = await lock_window(conn, hall.id, number)
    authorise(p, w)
    if call is Call.SIGN_OUT:
        return Outcome(await attendance.sign_out(conn, hall, w, p), None)
    if call is Call.PAUSE:
        w = await attendance.pause(conn, hall, w, p, data["reason"])
        return Outcome(w, await current(conn, w))
    if call is Call.RESUME:
        w = await attendance.resume(conn, hall, w, p)
        return Outcome(w, await current(conn, w))
    if call is Call.REQUEUE:
        return Outcome(w, await requeue.requeue(conn, hall, w, p, data["number"]))
    if call is Call.UNDO:
        restored = await undo.undo(conn, hall, w, p)
        return Outcome(w.with_current(restored), restored)
    if call is Call.FINISH_AND_NEXT:
        return await finish_and_call_next(conn, hall, w, p, data.get("case_number"))
    if call is Call.TRANSFER:
        moved, unstaffed = await transfer(conn, hall, w, p, data["service"], data.get("reason"))
        return Outcome(w.with_current(None), moved, unstaffed)
    ticket: Ticket | None
    if call is Call.CALL:
        ticket = await calling.call_number(conn, hall, w, p, data["number"], data["reason"])
    elif call is Call.NO_SHOW:
        ticket = await no_show(conn, hall, w, p)
    elif call is Call.SUSPEND:
        ticket = await suspend(conn, hall, w, p, data["reason"], data.get("missing", []))
    else:
        raise AssertionError(f"not a window call: {call}")
    if ticket is None:
        return Outcome(w, None)
    return Outcome(w.with_current(ticket if call in KEEP_AT_WINDOW else None), ticket)


CALLS_THAT_ANNOUNCE = (Call.CALL_NEXT, Call.CALL, Call.RECALL)
# Calls whose own statement sends their events (`publish` has nothing to send).
TOLD_BY_STATEMENT = (Call.CALL_NEXT, Call.FINISH)


def one_statement(call: Call, data: dict[str, Any]) -> bool:
    """Whether the call's whole work, events included, is one SQL statement: atomic
    without a transaction (a finish with its 办件编号 is two)."""
    return call in TOLD_BY_STATEMENT and not data.get("case_number")


KEEP_AT_WINDOW = (*CALLS_THAT_ANNOUNCE, Call.START)  # the ticket is the window's current one after


async def publish(conn: Connection, hall: Hall, call: Call, outcome: Outcome) -> None:
    """A window call's live events, sent when its transaction commits.

    `queue.changed` is not among them: every process's hub sends it, with the
    whole state, after any burst of events. 办结并叫号 sends what a finish and
    then a call-next send. A call-next's own statement sent its events (or, having
    called nobody, there is nothing to tell).
    """
    if call in TOLD_BY_STATEMENT:
        return
    n = outcome.window.number
    if call is Call.FINISH_AND_NEXT:
        finished = ticket_events(Call.FINISH, outcome.finished, n)
        batch = finished + ticket_events(Call.CALL_NEXT, outcome.ticket, n)
    else:
        batch = ticket_events(call, outcome.ticket, n)
    batch.append((events.WINDOW_CHANGED, {"window": n, "state": views.window_view(outcome.window)}))
    await events.publish_many(conn, hall.id, batch)


def ticket_events(call: Call, t: Ticket | None, n: int) -> list[tuple[events.Event, dict[str, Any]]]:
    """The events of one call about its ticket `t` at window `n`."""
    if t is None:
        return []
    if call in CALLS_THAT_ANNOUNCE:
        called = {"ticket": views.public_ticket(t), "window": n, "recall": call is Call.RECALL}
        return [(events.TICKET_CALLED, called)]
    if call is Call.FINISH:
        # The rating pad asks by itself: staff never choose whether a ticket is rated.
        ticket = {"id": t.id, "number": t.number, "service": t.service}
        return [
            (events.TICKET_FINISHED, {"ticket": views.public_ticket(t), "window": n}),
            (events.RATING_REQUESTED, {"ticket": ticket, "window": n, "staff": {"name": t.staff_name}}),
        ]
    if call is Call.NO_SHOW:
        return [(events.TICKET_NO_SHOW, {"ticket": views.public_ticket(t), "window": n})]
    return []
