"""Assembly: `create_app(settings)` builds the aiohttp application.

Start-up (in cleanup_ctx, undone in reverse on the way out): the embedded
PostgreSQL when no DATABASE_URL is given, the pool, schema.sql and migrations,
the hall file, the installation secret.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse
from clearhall.server.api import audit as audit_log  # noqa: F401  (adds its endpoints to REGISTRY)
from clearhall.server.api import handlers as api  # noqa: F401
from clearhall.server.api import notices, openapi, pages, ratings  # noqa: F401
from clearhall.server.api import printers as api_printing  # noqa: F401
from clearhall.server.api.errors import error_middleware
from clearhall.server.api.routes import REGISTRY
from clearhall.server.domain.hall import load_hall, only_hall_code
from clearhall.server.housekeeping import housekeeping
from clearhall.server.keys import DB, DB_URL, HALL, SECRET, SETTINGS
from clearhall.server.live.hub import close_sockets, hub_context, websocket
from clearhall.server.printing import jobs as printing
from clearhall.server.settings import Settings
from clearhall.server.store import db, hallfile
from clearhall.server.store.embedded_pg import EmbeddedPostgres

log = logging.getLogger("clearhall")


class AccessLogger(AbstractAccessLogger):
    """Method, path and status only: query strings can carry a ticket's key."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %d %.1fms",
            request.remote, request.method, request.path, response.status, time * 1000,
        )  # fmt: skip


class StartupError(RuntimeError):
    """A start-up problem to tell the person starting the server, without a trace."""


def hall_conf(settings: Settings) -> hallfile.HallConf | None:
    if settings.config is not None:
        return hallfile.load(settings.config)
    if settings.demo:
        return hallfile.load(hallfile.DEMO)
    return None


async def database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    conf = hall_conf(settings)  # a bad hall file stops us before the database starts
    embedded = None
    url = settings.database_url
    if url is None:
        embedded = EmbeddedPostgres(settings.data_dir)
        url = await asyncio.to_thread(embedded.start)
        log.info("embedded PostgreSQL in %s", embedded.pgdata)
    try:
        pool = await db.create_pool(url, settings.pool_size)
        try:
            async with pool.acquire() as conn:
                await db.apply_schema(conn)
                app[SECRET] = await db.installation_secret(conn)
                if conf is not None:
                    await hallfile.apply(conn, conf)
                    code: str | None = conf.code
                else:
                    code = settings.hall or await only_hall_code(conn)
                hall = await load_hall(conn, code) if code else None
            if hall is None:
                raise StartupError(
                    "no hall to serve in this database: start with --config HALL.toml or --demo"
                    " (or --hall CODE when it holds several)"
                )
            app[HALL] = hall
            app[DB] = pool
            app[DB_URL] = url
            yield
        finally:
            await pool.close()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


async def get_root(request: web.Request) -> web.Response:
    raise web.HTTPFound("/display")


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=settings.max_body)
    app[SETTINGS] = settings
    app.cleanup_ctx.append(database)
    app.cleanup_ctx.append(hub_context)
    app.cleanup_ctx.append(housekeeping)
    app.cleanup_ctx.append(printing.print_worker)
    app.on_shutdown.append(close_sockets)
    app.on_shutdown.append(printing.close_agents)
    REGISTRY.install(app)
    app.router.add_get("/api/openapi.json", openapi.handler(REGISTRY))
    app.router.add_get("/", get_root)
    app.router.add_get("/ws", websocket)
    pages.install(app)
    return app


def data_dir_note(path: Path) -> str:
    return f"data directory: {path} (embedded PostgreSQL in {path / 'pg'})"
