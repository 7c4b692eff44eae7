"""差评整改 cases over HTTP (CONTRACT §10).

Supervisors list and read cases and add their steps; the citizen rates the
handling once with the key of the case's ticket (or of the complaint, when it
named no ticket): the key in the body is the credential, so the endpoint
itself is open, as a complaint's is. Rules are in `domain/follow_up_steps.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from clearhall.server.api.query import query_int
from clearhall.server.api.routes import BODY, WHO, Access, Endpoint, ok, path_number
from clearhall.server.api.shapes import follow_up_json
from clearhall.server.api.validate import Body, Field
from clearhall.server.domain import errors, follow_up_steps, follow_up_views, follow_ups, messages
from clearhall.server.domain.errors import invalid
from clearhall.server.keys import DB, HALL

CASE_PATH = r"/api/follow-ups/{id:\d+}"
MOST_ID = 2**62


@dataclass(frozen=True)
class BoolField(Field):
    """true or false (the body schema's own kinds are strings, numbers, lists and objects)."""

    def check(self, value: Any) -> Any:
        if not isinstance(value, bool):
            raise invalid(messages.NOT_BOOLEAN(field=self.name), self.name)
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "boolean", "description": self.description}


STEP = Body(
    (
        Field("kind", str, required=True, choices=follow_up_steps.STEP_KINDS),
        Field("text", str, max_length=1000, description="what was said or done; needed for all but close"),
        BoolField("upheld", bool, description="appeal_decision only: true takes the rating out of figures"),
    )
)
SATISFACTION = Body(
    (
        Field("key", str, required=True, max_length=64, description="the ticket's key (or the complaint's)"),
        Field("result", str, required=True, choices=follow_up_steps.RESULTS),
    )
)


def case_id(request: web.Request) -> int:
    number = path_number(request, "id", MOST_ID)
    if number is None:
        raise errors.not_found(messages.NO_FOLLOW_UP)
    return number


def query_choice(request: web.Request, name: str, choices: tuple[str, ...]) -> str | None:
    value = request.query.get(name) or None
    if value is not None and value not in choices:
        raise errors.invalid(messages.QUERY_NOT_A_CHOICE(name=name, choices=", ".join(choices)), name)
    return value


async def list_cases(request: web.Request) -> web.Response:
    hall = request.app[HALL]
    state = query_choice(request, "state", follow_ups.STATES)
    kind = query_choice(request, "kind", follow_ups.KINDS)
    limit = query_int(request, "limit", 1, 500) or 100
    async with request.app[DB].acquire() as conn:
        found = await follow_up_views.cases(conn, hall.id, state, kind, limit)
    return ok({"follow_ups": [follow_up_json(c, hall) for c in found]})


async def read_case(request: web.Request, number: int | None = None) -> web.Response:
    hall = request.app[HALL]
    async with request.app[DB].acquire() as conn:
        found = await follow_up_views.case(conn, hall.id, number or case_id(request))
    if found is None:
        raise errors.not_found(messages.NO_FOLLOW_UP)
    return ok({"follow_up": follow_up_json(found, hall)})


async def get_case(request: web.Request) -> web.Response:
    return await read_case(request)


async def add_step(request: web.Request) -> web.Response:
    data, number = request[BODY], case_id(request)
    await follow_up_steps.add_step(
        request.app[DB], request.app[HALL], request[WHO], number, data["kind"], data.get("text"),
        data.get("upheld"),
    )  # fmt: skip
    reply = await read_case(request, number)
    reply.set_status(201)
    return reply


async def rate_handling(request: web.Request) -> web.Response:
    data, number = request[BODY], case_id(request)
    await follow_up_steps.rate_handling(
        request.app[DB], request.app[HALL], number, data["key"], data["result"]
    )
    return ok({"satisfaction": {"follow_up": number, "result": data["result"]}}, 201)


ROUTES = (
    Endpoint(
        "GET", "/api/follow-ups", list_cases,
        "差评整改 cases, the most urgent first: ?state=open|overdue|closed ?kind=rating|complaint ?limit=",
        Access.SUPERVISOR, tag="follow-ups", query=("state", "kind", "limit"),
    ),
    Endpoint(
        "GET", CASE_PATH, get_case, "One case, with its rating or complaint, steps and the ticket's history",
        Access.SUPERVISOR, tag="follow-ups",
    ),
    Endpoint(
        "POST", CASE_PATH + "/steps", add_step,
        "A step of a case: callback, fix, explain, close (after a callback and a fix or explain), appeal,"
        " appeal_decision (by another supervisor, with upheld); answers the case",
        Access.SUPERVISOR, body=STEP, status=201, tag="follow-ups",
    ),
    Endpoint(
        "POST", CASE_PATH + "/satisfaction", rate_handling,
        "The citizen rates the handling once, with the ticket's key (or the complaint's own key) in the body",
        Access.PUBLIC, body=SATISFACTION, status=201, tag="follow-ups",
    ),
)  # fmt: skip
