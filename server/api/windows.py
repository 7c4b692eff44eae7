"""Window calls over HTTP (CONTRACT §5): parse, call `window_calls.act`, answer.

Access is declared per call: sign-in needs any staff log-in (the use case
checks the person's windows), every other call the person signed in at that
window or a supervisor. An Idempotency-Key makes a retried call return its
first answer. A transfer into a service that no open window serves now answers
`"unstaffed": true` beside the ticket; 办结并叫号 answers the ticket it called
(or null) and, as `finished`, the one it finished.

The waiting list of a window is what its console works from: the waiting
tickets, today's suspended ones (with what is missing, since when, and where
they were suspended) ready for 回队, and the window's current ticket with the
seconds before it may be marked a no-show.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from clearhall.server.api.routes import BODY, WHO, Access, Endpoint, Handler, ok, window_number
from clearhall.server.api.shapes import ticket_json, waiting_json
from clearhall.server.api.validate import EMPTY, Body, Field
from clearhall.server.domain import idempotency, requeue, views, window_calls
from clearhall.server.domain.tickets import local_iso
from clearhall.server.domain.window import waiting_list
from clearhall.server.domain.window_calls import Call
from clearhall.server.keys import DB, HALL
from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import AT_WINDOW, TicketStatus

WINDOW_PATH = r"/api/windows/{n:\d+}"
NUMBER = r"[A-Z]{1,2}\d{3,6}"
REASON = Field("reason", str, required=True, max_length=200)
CASE_NUMBER = Field(
    "case_number", str, max_length=100, description="办件编号 in the provincial approval system"
)
BODIES = {
    Call.FINISH: Body((CASE_NUMBER,)),
    Call.FINISH_AND_NEXT: Body((CASE_NUMBER,)),
    Call.TRANSFER: Body(
        (
            Field("service", str, required=True, max_length=2, pattern=r"[A-Z]{1,2}"),
            Field("reason", str, max_length=200, description="why; logged"),
        )
    ),
    Call.SUSPEND: Body(
        (REASON, Field("missing", list, max_length=100, description="documents still missing"))
    ),
    Call.CALL: Body((Field("number", str, required=True, max_length=12, pattern=NUMBER), REASON)),
    Call.PAUSE: Body((REASON,)),
    Call.REQUEUE: Body((Field("number", str, required=True, max_length=12, pattern=NUMBER),)),
}

SUMMARIES = {
    Call.SIGN_IN: "签到 Sign in at this window (attendance)",
    Call.SIGN_OUT: "签退 Sign out of this window",
    Call.CALL_NEXT: "叫号 Call the next ticket by the published rule",
    Call.RECALL: "重呼 Announce the current ticket again",
    Call.START: "开始办理 Called → serving",
    Call.FINISH: "办结 Called or serving → done; asks the window's rating pad for a rating",
    Call.NO_SHOW: "过号 Called → no-show",
    Call.TRANSFER: "转移 Back to waiting in another service, keeping its place",
    Call.SUSPEND: "挂起 Suspend to fetch missing documents (一次性告知)",
    Call.CALL: "指呼 Call one waiting ticket out of order; the reason is audited",
    Call.PAUSE: "暂停服务 Stop calling for a while",
    Call.RESUME: "恢复服务 Start calling again",
    Call.REQUEUE: (
        "回队 A suspended ticket's citizen is back: waiting again in its old place; or a missed"
        " ticket's, once, N behind the head of its line where the hall allows it (过号顺延)"
    ),
    Call.UNDO: "撤销 Undo this window's last finish or no-show, within 10 seconds: the ticket is as before",
    Call.FINISH_AND_NEXT: (
        "办结并叫号 Finish the current ticket (its rating pad asks), then call the next by the published"
        " rule, in one transaction; answers the ticket called (or null) and the one finished"
    ),
}


async def window_waiting(request: web.Request) -> web.Response:
    who, hall, number = request[WHO], request.app[HALL], window_number(request)
    async with request.app[DB].acquire() as conn:
        waiting = await waiting_list(conn, hall.id, number, TicketStatus.WAITING)
        suspended = await requeue.suspended_list(conn, hall, number)
        current, no_show_in_s = await window_calls.at_window(conn, hall, number)
    return ok(
        {
            "tickets": [waiting_json(r, hall) for r in waiting],
            "suspended": [
                waiting_json(r, hall) | {
                    "missing": list(r["missing"]), "reason": r["suspend_reason"],
                    "suspended_at": local_iso(r["suspended_at"], hall.timezone),
                    "window": r["suspended_window"],
                }
                for r in suspended
            ],
            # the staff member who called it sees its masks, as in the call's answer
            "current": ticket_json(current, hall, for_caller=current.staff_id == who.id) if current else None,
            "no_show_in_s": no_show_in_s,
        }
    )  # fmt: skip


def window_call(call: Call) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        who, hall, number = request[WHO], request.app[HALL], window_number(request)

        async def run(conn: Connection) -> tuple[int, dict[str, Any]]:
            outcome = await window_calls.act(conn, hall, who, number, call, request[BODY])
            t = outcome.ticket
            shown = ticket_json(t, hall, for_caller=t.status in AT_WINDOW) if t else None
            answer: dict[str, Any] = {"ticket": shown, "window": views.window_view(outcome.window)}
            if outcome.unstaffed:  # transferred into a service no open window serves now
                answer["unstaffed"] = True
            if outcome.finished is not None:  # 办结并叫号: the ticket it finished
                answer["finished"] = ticket_json(outcome.finished, hall)
            return 200, answer

        key = request.headers.get("Idempotency-Key")
        status, answer, _ = await idempotency.once(
            request.app[DB], who.credential, f"{call} {number}", key, run,
            one_statement=window_calls.one_statement(call, request[BODY]),
        )  # fmt: skip
        return ok(answer, status)

    return handle


ROUTES = (
    Endpoint(
        "GET", WINDOW_PATH + "/waiting", window_waiting,
        "The waiting list of a window's services (numbers and categories only), today's suspended"
        " tickets with what is missing, and the window's current ticket", Access.STAFF, tag="windows",
    ),
    *(
        Endpoint(
            "POST", f"{WINDOW_PATH}/{call}", window_call(call), SUMMARIES[call],
            Access.SIGN_IN if call is Call.SIGN_IN else Access.WINDOW,
            body=BODIES.get(call, EMPTY), tag="windows", headers=("Idempotency-Key",),
        )
        for call in Call
    ),
)  # fmt: skip
