"""The route table: every endpoint declared once, with who may call it and its body.

The router, the access check and the OpenAPI document are all built from this
table, so declared and enforced cannot drift apart: `guard` judges the
credential the endpoint declares, then validates the body, and only then runs
the handler, which finds the caller in `request[WHO]` and the body in
`request[BODY]`. Each HTTP module lists its own endpoints (`ROUTES`); the app
installs them explicitly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from aiohttp import web

from clearhall.server.api.validate import Body, load_json, read_body, read_raw
from clearhall.server.domain import auth, errors, messages
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.window import may_work_at, window_staff
from clearhall.server.keys import DB, HALL, SETTINGS, TOKENS
from clearhall.server.printing.printers import Printer, agent_printer
from clearhall.server.store.credentials import bearer
from clearhall.server.store.kinds import ActorKind, DeviceKind

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Access(StrEnum):
    """Who may call an endpoint."""

    PUBLIC = "public"
    OPTIONAL = "optional"  # no credential needed; a device or staff token, when sent, must be valid
    STAFF = "staff"  # any staff log-in
    SUPERVISOR = "supervisor"
    WINDOW = "window"  # staff signed in at the window {n}, or a supervisor
    SIGN_IN = "sign_in"  # staff the hall file lets work at the window {n}, or a supervisor
    ISSUER = "issuer"  # a kiosk device or staff
    KIOSK = "kiosk"  # a kiosk device only
    TICKET = "ticket"  # the citizen's key in ?key=, or staff
    RATER = "rater"  # the ticket's key in the body, or the window's rating pad
    PRINTER_AGENT = "printer_agent"  # a printer device, or a kiosk, with an agent:// printer


ACCESS_TEXT: Final = {
    Access.PUBLIC: "No credential needed.",
    Access.OPTIONAL: "No credential needed; a device or staff token may be sent (a kiosk's is then counted as"
    " that kiosk, not as its address), and a wrong one is refused (401).",
    Access.STAFF: "A staff log-in token.",
    Access.SUPERVISOR: "A supervisor's or admin's log-in token.",
    Access.WINDOW: "A staff token of the person signed in at this window, or a supervisor's.",
    Access.SIGN_IN: "A staff token of someone the hall file lets work at this window, or a supervisor's.",
    Access.ISSUER: "A kiosk device token, or a staff token.",
    Access.KIOSK: "A kiosk device token.",
    Access.TICKET: "The citizen's ticket key in ?key=, or a staff token.",
    Access.RATER: "The ticket's key in the body (the citizen), or the window's rating pad token.",
    Access.PRINTER_AGENT: "A printer device token (device named like the printer), or the kiosk's own token;"
    " the printer must be an agent:// one.",
}

WHO: Final = web.RequestKey("who", Principal)  # set unless the caller needs (or sent) no credential
AGENT_PRINTER: Final = web.RequestKey("agent_printer", Printer)  # PRINTER_AGENT: the printer it drives
BODY: Final = web.RequestKey("body", dict)  # the validated body, when the endpoint has one


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    access: Access
    body: Body | None = None
    status: int = 200
    tag: str = "hall"
    query: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    throttled: bool = False  # may answer 429 rate_limited with Retry-After


def ok(data: dict[str, Any], status: int = 200) -> web.Response:
    """A successful answer: JSON, 200 unless said otherwise."""
    return web.json_response(data, status=status)


async def authenticate(request: web.Request) -> Principal:
    """The request's principal, or 401."""
    token = bearer(request)
    if token is None:
        raise errors.unauthorized()
    return await auth.authenticate(request.app[DB], request.app[HALL].id, token, request.app.get(TOKENS))


def ascii_number(text: str, most: int) -> int | None:
    """`text` as a whole number up to `most`, or None. Only ASCII digits count: `str.isdigit`
    also passes "²" (which int() refuses) and int() reads Arabic-Indic digits; and a
    5,000-digit number is more than Python converts."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(most)) or int(text) > most:
        return None
    return int(text)


def path_number(request: web.Request, name: str, most: int) -> int | None:
    """A {name:\\d+} path parameter as a number, or None when it is not one or over `most`."""
    return ascii_number(request.match_info[name], most)


def window_number(request: web.Request) -> int:
    number = path_number(request, "n", 999_999)
    if number is None:
        raise errors.not_found(messages.NO_WINDOW(number=request.match_info["n"][:12]))
    return number


async def judge(request: web.Request, access: Access) -> Principal | None:
    """The caller, if the endpoint's access lets them in; else 401 or 403."""
    if access is Access.PUBLIC or (access is Access.OPTIONAL and bearer(request) is None):
        return None
    if access is Access.TICKET and "key" in request.query:
        return None  # the citizen: the handler checks the key against the ticket
    if access is Access.RATER and bearer(request) is None:
        return None  # the citizen: the key in the body is checked against the ticket
    p = await authenticate(request)
    if access is Access.OPTIONAL:
        return p  # any valid token: the handler may tell a kiosk from a person
    if access is Access.ISSUER and p.kind == ActorKind.DEVICE:
        auth.require_device(p, DeviceKind.KIOSK)
    elif access is Access.KIOSK:
        if p.kind != ActorKind.DEVICE or p.device_kind != DeviceKind.KIOSK:
            raise errors.forbidden(messages.KIOSK_ONLY)
    elif access is Access.RATER:
        if p.kind != ActorKind.DEVICE or p.device_kind != DeviceKind.RATING:
            raise errors.forbidden(messages.STAFF_CANNOT_RATE)
    elif access is Access.PRINTER_AGENT:
        auth.require_device(p, DeviceKind.PRINTER, DeviceKind.KIOSK)
        request[AGENT_PRINTER] = await judge_agent(request, p)
    elif access is Access.SUPERVISOR:
        auth.require_staff(p, *auth.SUPERVISORS)
    elif access in (Access.WINDOW, Access.SIGN_IN):
        if p.kind != ActorKind.STAFF:
            raise errors.forbidden(messages.STAFF_ACT_ON_WINDOWS)
        if not p.is_supervisor:
            await judge_window(request, p, window_number(request), access)
    elif access in (Access.STAFF, Access.TICKET, Access.ISSUER):
        auth.require_staff(p)
    return p


async def judge_window(request: web.Request, p: Principal, number: int, access: Access) -> None:
    """Staff signed in at window `number` (WINDOW) or listed for it in the hall file
    (SIGN_IN); 404 when there is no such window, else 403. The use case checks again
    under the window's lock: this is the early answer, before the body is read."""
    if access is Access.WINDOW and p.window == number:
        return  # the session lookup said so: no query on the calls' hot path
    hall_id = request.app[HALL].id
    async with request.app[DB].acquire() as conn:
        staffed_by = await window_staff(conn, hall_id, number)
        if staffed_by is None:
            raise errors.not_found(messages.NO_WINDOW(number=number))
        if access is Access.WINDOW and staffed_by == p.id:
            return  # signed in a moment ago (a remembered principal does not know it yet)
        if access is Access.SIGN_IN and await may_work_at(conn, hall_id, p.id, number):
            return
    text = messages.NOT_SIGNED_IN_HERE if access is Access.WINDOW else messages.MAY_NOT_SIGN_IN_HERE
    raise errors.forbidden(text(number=number))


async def judge_agent(request: web.Request, p: Principal) -> Printer:
    """The agent:// printer this printer device (named like it) or kiosk (its own) drives; else 403."""
    async with request.app[DB].acquire() as conn:
        found = await agent_printer(conn, request.app[HALL].id, p)
    if found is None:
        raise errors.forbidden(messages.NO_AGENT_PRINTER)
    return found


def guard(endpoint: Endpoint) -> Handler:
    """The endpoint's handler behind its declared access and body."""

    async def handle(request: web.Request) -> web.StreamResponse:
        who = await judge(request, endpoint.access)
        if who is not None:
            request[WHO] = who
        if endpoint.access is Access.RATER and who is None:
            # The citizen's credential is the key inside the body.
            raw = load_json(await read_raw(request, request.app[SETTINGS].idle_timeout_s))
            if isinstance(raw, dict) and "key" not in raw:
                raise errors.unauthorized(messages.NEED_TICKET_KEY)
            request[BODY] = endpoint.body.parse(raw) if endpoint.body else {}
        elif endpoint.body is not None:
            request[BODY] = await read_body(request, endpoint.body, request.app[SETTINGS].idle_timeout_s)
        return await endpoint.handler(request)

    return handle


class Registry:
    """The one table of the API."""

    def __init__(self, *groups: Iterable[Endpoint]) -> None:
        self.endpoints = [e for group in groups for e in group]

    def install(self, app: web.Application) -> None:
        for e in self.endpoints:
            app.router.add_route(e.method, e.path, guard(e))
