"""Working a 差评整改 case (CONTRACT §10): supervisors' steps, and the citizen's
verdict on the handling.

Steps, each by a supervisor, each in the action log (`follow_up_<kind>`):

- `callback` (回访), `fix` (整改), `explain` (说明): what was done; text required.
- `close`: only after a callback and a fix or an explanation, and not while
  an appeal waits for its decision. A closed case takes no more steps.
- `appeal` (申诉): the rating was mistaken or malicious; a bad rating's case
  only, once per case.
- `appeal_decision` (复核) with `upheld`: by a supervisor other than the one
  who recorded the appeal (403 for that one). Upheld takes the rating out of
  the staff member's figures (`ratings.excluded`); the rating itself stays.

The citizen rates the handling once (`satisfied`, `basically`, `unsatisfied`)
with the key of the case's ticket — or, for a complaint made without a
ticket, the key its 201 gave — once the hall has fixed or explained. A
ticket its own staff member issued at the counter cannot rate the handling
of a case about that staff member by key: the key passed through their hands.
"""

from __future__ import annotations

from typing import Final

import asyncpg

from clearhall.server.domain import action_log, errors, events, messages
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.follow_ups import STATE_SQL
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.ratings import proves
from clearhall.server.domain.tickets import local_iso
from clearhall.server.store.db import Connection

STEP_KINDS: Final = ("callback", "fix", "explain", "close", "appeal", "appeal_decision")
RESULTS: Final = ("satisfied", "basically", "unsatisfied")
CITIZEN: Final = action_log.Actor("citizen", None, "群众")

# -- one case, locked, with what its steps and its citizen need to know
CASE_FOR_UPDATE = f"""
SELECT f.id, f.kind, f.status, f.staff_id, f.rating_id, f.due_at, f.satisfaction, {STATE_SQL} AS state,
       w.number AS window,
       coalesce(rt.id, ct.id) AS ticket_id, coalesce(rt.number, ct.number) AS ticket_number,
       coalesce(rt.key_hash, ct.key_hash, c.key_hash) AS key_hash,
       coalesce(rt.issued_by_staff, ct.issued_by_staff) AS issued_by_staff
FROM follow_ups f
LEFT JOIN windows w ON w.id = f.window_id
LEFT JOIN ratings r ON r.id = f.rating_id
LEFT JOIN tickets rt ON rt.id = r.ticket_id
LEFT JOIN complaints c ON c.id = f.complaint_id
LEFT JOIN tickets ct ON ct.id = c.ticket_id
WHERE f.id = $1 AND f.hall_id = $2
FOR UPDATE OF f
"""

HANDLED = """
SELECT EXISTS (SELECT 1 FROM follow_up_steps WHERE follow_up_id = $1 AND kind IN ('fix', 'explain'))
"""

STEPS_SO_FAR = "SELECT kind, upheld, staff_id FROM follow_up_steps WHERE follow_up_id = $1 ORDER BY id"

INSERT_STEP = """
INSERT INTO follow_up_steps (hall_id, follow_up_id, kind, text, upheld, staff_id)
VALUES ($1, $2, $3, $4, $5, $6)
"""


async def locked_case(conn: Connection, hall_id: int, case_id: int) -> asyncpg.Record:
    case = await conn.fetchrow(CASE_FOR_UPDATE, case_id, hall_id)
    if case is None:
        raise errors.not_found(messages.NO_FOLLOW_UP)
    return case


async def add_step(
    pool: asyncpg.Pool,
    hall: Hall,
    p: Principal,
    case_id: int,
    kind: str,
    text: str | None,
    upheld: bool | None,
) -> None:
    """Record one step of a case by supervisor `p`, by the rules above."""
    if upheld is not None and kind != "appeal_decision":
        raise errors.invalid(messages.UPHELD_ONLY_WITH_DECISION, "upheld")
    async with pool.acquire() as conn, conn.transaction():
        case = await locked_case(conn, hall.id, case_id)
        if case["status"] == "closed":
            raise errors.conflict(messages.FOLLOW_UP_CLOSED)
        if kind != "close" and not text:
            raise errors.invalid(messages.STEP_NEEDS_TEXT(kind=kind), "text")
        steps = await conn.fetch(STEPS_SO_FAR, case_id)
        done = {s["kind"] for s in steps}
        appeal = next((s for s in steps if s["kind"] == "appeal"), None)
        pending = appeal is not None and "appeal_decision" not in done
        if kind == "appeal":
            if case["kind"] != "rating":
                raise errors.conflict(messages.APPEAL_ONLY_RATINGS)
            if appeal is not None:
                raise errors.conflict(messages.APPEALED_ALREADY)
        elif kind == "appeal_decision":
            if not pending:
                raise errors.conflict(messages.NO_APPEAL_PENDING)
            assert appeal is not None
            if appeal["staff_id"] == p.id:
                raise errors.forbidden(messages.DECIDE_OWN_APPEAL)
            if upheld is None:
                raise errors.invalid(messages.DECISION_NEEDS_UPHELD, "upheld")
            if upheld:  # out of the staff member's figures; the rating itself stays
                await conn.execute("UPDATE ratings SET excluded = true WHERE id = $1", case["rating_id"])
        elif kind == "close":
            if pending:
                raise errors.conflict(messages.CLOSE_APPEAL_PENDING)
            if "callback" not in done or not done & {"fix", "explain"}:
                raise errors.conflict(messages.CLOSE_NEEDS_STEPS)
            await conn.execute(
                "UPDATE follow_ups SET status = 'closed', closed_at = now() WHERE id = $1", case_id
            )
        await conn.execute(INSERT_STEP, hall.id, case_id, kind, text or None, upheld, p.id)
        details: dict[str, object] = {"follow_up": case_id}
        if upheld is not None:
            details["upheld"] = upheld
        await action_log.record(
            conn, hall.id, p.actor, f"follow_up_{kind}", window=case["window"], ticket_id=case["ticket_id"],
            ticket_number=case["ticket_number"], reason=text or None, details=details,
        )  # fmt: skip
        state = "closed" if kind == "close" else case["state"]
        await changed(conn, hall, case, state, kind)


async def rate_handling(pool: asyncpg.Pool, hall: Hall, case_id: int, key: str, result: str) -> None:
    """The citizen's one verdict on how the case was handled (整改满意度), proved by the key."""
    async with pool.acquire() as conn, conn.transaction():
        case = await locked_case(conn, hall.id, case_id)
        if not proves(case["key_hash"], key):
            raise errors.unauthorized(messages.WRONG_CASE_KEY)
        if case["issued_by_staff"] is not None and case["issued_by_staff"] == case["staff_id"]:
            raise errors.forbidden(messages.HANDLING_BY_CITIZEN)
        if case["satisfaction"] is not None:
            raise errors.conflict(messages.HANDLING_RATED)
        handled = await conn.fetchval(HANDLED, case_id)
        if not handled:
            raise errors.conflict(messages.HANDLING_NOT_YET)
        await conn.execute(
            "UPDATE follow_ups SET satisfaction = $2, satisfaction_at = now() WHERE id = $1", case_id, result
        )
        await action_log.record(
            conn, hall.id, CITIZEN, "follow_up_satisfaction", window=case["window"],
            ticket_id=case["ticket_id"], ticket_number=case["ticket_number"],
            details={"follow_up": case_id, "result": result},
        )  # fmt: skip
        await changed(conn, hall, case, case["state"], "satisfaction")


async def changed(conn: Connection, hall: Hall, case: asyncpg.Record, state: str, step: str) -> None:
    summary = {
        "id": case["id"], "kind": case["kind"], "state": state, "window": case["window"],
        "due_at": local_iso(case["due_at"], hall.timezone), "step": step,
    }  # fmt: skip
    await events.publish(conn, hall.id, events.FOLLOW_UP_CHANGED, follow_up=summary)
