"""Assembly: `create_app(settings)` builds the aiohttp application.

Start-up (in cleanup_ctx, undone in reverse on the way out): the embedded
PostgreSQL when no DATABASE_URL is given, the pool, schema.sql and migrations,
the hall file, the installation secret, the database role the pool works as;
then the hub, housekeeping, the log's sealer, the card evaluator, the print worker, the notifier
and the forwarder to the provincial 好差评 platform. The HTTP API is installed
from each module's ROUTES.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
from aiohttp import web

from clearhall.server.api import appointments as appointment_endpoints
from clearhall.server.api import audit, guide, hall, notices, openapi, pages, ratings, staff, tickets, windows
from clearhall.server.api import cards as card_endpoints
from clearhall.server.api import cases as case_endpoints
from clearhall.server.api import complaints as complaint_endpoints
from clearhall.server.api import follow_ups as follow_up_endpoints
from clearhall.server.api import forwarding as forward_endpoints
from clearhall.server.api import hourly as hourly_endpoints
from clearhall.server.api import hours as hours_endpoints
from clearhall.server.api import printers as print_endpoints
from clearhall.server.api import reports as report_endpoints
from clearhall.server.api import signals as signal_endpoints
from clearhall.server.api.forwarded import from_trusted_proxies
from clearhall.server.api.middleware import error_middleware, security_headers
from clearhall.server.api.routes import Registry
from clearhall.server.carding import carding
from clearhall.server.domain import proxies
from clearhall.server.domain.hall import load_hall, only_hall_code
from clearhall.server.forwarding.payload import target_of
from clearhall.server.forwarding.sender import FORWARD_CONF, ForwardConf, Forwarder
from clearhall.server.housekeeping import housekeeping
from clearhall.server.keys import DB, DB_URL, HALL, LISTEN_URL, METRICS, PRINTING, READ_DB, SECRET, SETTINGS
from clearhall.server.live.sockets import close_sockets, hub_context, websocket
from clearhall.server.metrics import Metrics, measure, scrape
from clearhall.server.notify.conf import NOTIFIER_NAME
from clearhall.server.notify.worker import notify_worker
from clearhall.server.printing.conf import PRINT_CONF, PrintConf
from clearhall.server.printing.worker import Printing
from clearhall.server.sealing import sealer
from clearhall.server.settings import Settings
from clearhall.server.store import app_role, db, hall_apply, hallfile, read_pool
from clearhall.server.store.embedded_pg import EmbeddedPostgres, EmbeddedPostgresError

__all__ = ["StartupError", "create_app", "routes"]

log = logging.getLogger("clearhall")


def routes() -> Registry:
    """The whole HTTP API, module by module."""
    return Registry(
        hall.ROUTES, staff.ROUTES, tickets.ROUTES, windows.ROUTES, ratings.ROUTES, notices.ROUTES,
        audit.ROUTES, print_endpoints.ROUTES, guide.ROUTES,
        case_endpoints.ROUTES, complaint_endpoints.ROUTES, follow_up_endpoints.ROUTES,  # 好差评
        forward_endpoints.ROUTES,
        signal_endpoints.ROUTES,  # integrity signals
        card_endpoints.ROUTES,  # 红黄牌
        hourly_endpoints.ROUTES,  # the supervisor's charts and wall screen
        report_endpoints.ROUTES,  # daily and monthly reports
        appointment_endpoints.ROUTES, hours_endpoints.ROUTES,  # 预约, 延时服务, 帮代办
    )  # fmt: skip


class StartupError(RuntimeError):
    """A start-up problem to tell the person starting the server, without a trace."""


# How long start-up waits for a database that does not answer, in seconds.
DATABASE_WAIT_ENV = "CLEARHALL_DATABASE_WAIT"
DATABASE_WAIT_S = 30.0


def database_wait() -> float:
    text = os.environ.get(DATABASE_WAIT_ENV, "").strip()
    if not text:
        return DATABASE_WAIT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise StartupError(f"{DATABASE_WAIT_ENV} must be a number of seconds, not {text!r}")
    return seconds


def hall_conf(settings: Settings) -> hallfile.HallConf | None:
    if settings.config is not None:
        return hallfile.load(settings.config)
    if settings.demo:
        return hallfile.load(hallfile.DEMO)
    return None


async def database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    conf = hall_conf(settings)  # a bad hall file stops us before the database starts
    app[NOTIFIER_NAME] = conf.notifier if conf is not None else "none"  # [notify], for notify_worker
    wait_s = database_wait()
    check_urls(settings)
    embedded = None
    url = settings.database_url
    if url is None:
        embedded = EmbeddedPostgres(settings.data_dir)
        try:
            url = await asyncio.to_thread(embedded.start)
        except EmbeddedPostgresError as exc:
            raise StartupError(f"the embedded PostgreSQL did not start: {exc}") from None
        log.info("embedded PostgreSQL in %s", embedded.pgdata)
    try:
        try:
            pool = await db.open_pool(url, settings.pool_size, wait_s, statement_cache=not settings.pgbouncer)
        except db.DatabaseUnavailable as exc:
            raise StartupError(str(exc)) from None
        try:
            async with pool.acquire() as conn:
                owner = await app_role.owns_schema(conn)
                if owner and settings.pgbouncer:
                    raise StartupError(
                        "this database user owns the tables, and would apply the schema through pgbouncer,"
                        " whose transaction pooling breaks the schema's lock: start once directly as the"
                        " owner, then through pgbouncer as clearhall_app (docs/replica.md)"
                    )
                if owner:
                    await apply_schema(conn)
                elif missing := await missing_migrations(conn):
                    raise StartupError(
                        f"the database lacks migrations {missing} of this clearhall, and this database user"
                        " may not apply them: run `clearhall migrate` with the tables' owner's URL first"
                        " (docs/operating.md, 'Upgrades')"
                    )
                app[SECRET] = await db.installation_secret(conn)
                if conf is not None:
                    hall_id = await hall_apply.apply(conn, conf)
                    try:  # [[proxies]]: their ID numbers are checked and hashed with the secret
                        await proxies.apply_file(conn, hall_id, app[SECRET], conf.proxies)
                    except ValueError as exc:
                        raise StartupError(str(exc)) from None
                    code: str | None = conf.code
                else:
                    code = settings.hall or await only_hall_code(conn)
                hall = await load_hall(conn, code) if code else None
                role = await app_role.prepare(conn, login=embedded is not None) if owner else None
            if role is not None:  # from here on, work as the role that may only append to the log
                await pool.close()
                if embedded is not None:
                    pool = await db.create_pool(embedded.url_as(role), settings.pool_size)
                else:
                    pool = await db.create_pool(
                        url, settings.pool_size, role, statement_cache=not settings.pgbouncer
                    )
            async with pool.acquire() as conn:
                await app_role.check(conn)
            if hall is None:
                raise StartupError(
                    "no hall to serve in this database: start with --config HALL.toml or --demo"
                    " (or --hall CODE when it holds several)"
                )
            app[HALL] = hall
            app[DB] = pool
            app[DB_URL] = url
            app[LISTEN_URL] = settings.listen_database_url or url
            reads = await read_pool.open_reads(
                pool, settings.reports_database_url, max_lag_s=settings.reports_max_lag_s, role=role,
                statement_cache=not settings.pgbouncer,
            )  # fmt: skip
            app[READ_DB] = reads
            try:
                yield
            finally:
                await reads.close()
        finally:
            await pool.close()
    finally:
        if embedded is not None and settings.worker is None:  # a worker's is its parent's to stop
            await asyncio.to_thread(embedded.stop)


def check_urls(settings: Settings) -> None:
    """A replica, the listener's own URL and pgbouncer go with an external database; and
    behind pgbouncer the listener needs a direct connection (docs/replica.md)."""
    if settings.database_url is None:
        given = [name for name, value in (
            ("REPORTS_DATABASE_URL", settings.reports_database_url),
            ("LISTEN_DATABASE_URL", settings.listen_database_url),
            ("CLEARHALL_PGBOUNCER", settings.pgbouncer),
        ) if value]  # fmt: skip
        if given:
            raise StartupError(f"{' and '.join(given)} given without a DATABASE_URL (an external PostgreSQL)")
    if settings.pgbouncer and not settings.listen_database_url:
        raise StartupError(
            "behind pgbouncer (CLEARHALL_PGBOUNCER) the event listener needs a connection of its own,"
            " straight to PostgreSQL (LISTEN does not survive transaction pooling): set LISTEN_DATABASE_URL"
        )


async def apply_schema(conn: db.Connection) -> None:
    """db.apply_schema; a user that may not make tables (an empty database, and not its
    owner) is told how it goes (StartupError)."""
    try:
        await db.apply_schema(conn)
    except asyncpg.InsufficientPrivilegeError as exc:
        who = await conn.fetchval("SELECT current_user")
        raise StartupError(
            f"{who} may not make clearhall's tables ({exc}): run `clearhall migrate` with the URL of the"
            " database's owner first (docs/operating.md, 'The database role')"
        ) from None


async def missing_migrations(conn: db.Connection) -> list[int]:
    """db.missing_migrations, for a user that is not the tables' owner: one that may not
    even read them has not been given its privileges yet (StartupError)."""
    try:
        return await db.missing_migrations(conn)
    except asyncpg.InsufficientPrivilegeError:
        who = await conn.fetchval("SELECT current_user")
        raise StartupError(
            f"{who} may not read clearhall's tables yet: run `clearhall migrate` with the tables' owner's"
            " URL, which gives clearhall_app its privileges (docs/operating.md, 'The database role')"
        ) from None


async def forward_worker(app: web.Application) -> AsyncIterator[None]:
    """The sender to the provincial 好差评 platform, when the hall forwards ([ratings.forward] url)."""
    async with app[DB].acquire() as conn:
        target = await target_of(conn, app[HALL].id)
    if target is None:
        yield
        return
    forwarder = Forwarder(app[DB], app[HALL], target, app.get(FORWARD_CONF) or ForwardConf())
    forwarder.start()
    yield
    await forwarder.stop()


async def print_worker(app: web.Application) -> AsyncIterator[None]:
    """The print worker and printer poller of this process."""
    printing = Printing(app[DB], app[HALL], app.get(PRINT_CONF) or PrintConf())
    app[PRINTING] = printing
    printing.start()
    yield
    await printing.stop()


async def close_agents(app: web.Application) -> None:
    """on_shutdown: agents' sockets close before the server waits for its handlers."""
    if PRINTING in app:
        await app[PRINTING].close_agents()


async def get_root(request: web.Request) -> web.Response:
    raise web.HTTPFound("/display")


def create_app(settings: Settings) -> web.Application:
    metrics = Metrics()  # counted outermost, after the error middleware shaped the answer
    # the client's address first (a trusted proxy's word for it), for everything after
    middlewares = [*from_trusted_proxies(settings.trusted_proxies), measure(metrics), error_middleware]
    app = web.Application(middlewares=middlewares, client_max_size=settings.max_body)
    app[METRICS] = metrics
    app[SETTINGS] = settings
    app.cleanup_ctx.append(database)
    app.cleanup_ctx.append(hub_context)
    app.cleanup_ctx.append(housekeeping)
    app.cleanup_ctx.append(sealer)
    app.cleanup_ctx.append(carding)
    app.cleanup_ctx.append(print_worker)
    app.cleanup_ctx.append(notify_worker)
    app.cleanup_ctx.append(forward_worker)
    app.on_response_prepare.append(security_headers)
    app.on_shutdown.append(close_sockets)
    app.on_shutdown.append(close_agents)
    registry = routes()
    registry.install(app)
    app.router.add_get("/api/openapi.json", openapi.handler(registry))
    app.router.add_get("/", get_root)
    app.router.add_get("/ws", websocket)
    app.router.add_get("/metrics", scrape)  # Prometheus; not the JSON API: docs/observability.md
    pages.install(app)
    return app


def data_dir_note(path: Path) -> str:
    return f"data directory: {path} (embedded PostgreSQL in {path / 'pg'})"
