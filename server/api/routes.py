"""The route table: every API endpoint is declared once here, with what the
OpenAPI document says about it, so the document and the router cannot differ."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from clearhall.server.api.validate import Body

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Who may call an endpoint, as the OpenAPI document and the 401/403 tests read it.
PUBLIC = "public"
STAFF = "staff"  # any staff log-in
SUPERVISOR = "supervisor"
WINDOW = "window"  # staff signed in at the window, or a supervisor
ISSUER = "issuer"  # a kiosk device or staff
TICKET = "ticket"  # the citizen's key in ?key=, or staff


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    access: str
    body: Body | None
    status: int
    tag: str
    query: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()


class Registry:
    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []

    def add(
        self,
        method: str,
        path: str,
        handler: Handler,
        *,
        summary: str,
        access: str,
        body: Body | None = None,
        status: int = 200,
        tag: str = "hall",
        query: tuple[str, ...] = (),
        headers: tuple[str, ...] = (),
    ) -> None:
        self.endpoints.append(
            Endpoint(method, path, handler, summary, access, body, status, tag, query, headers)
        )

    def install(self, app: web.Application) -> None:
        for e in self.endpoints:
            app.router.add_route(e.method, e.path, e.handler)


# The one table of the API; modules add their endpoints to it at import.
REGISTRY = Registry()
