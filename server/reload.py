"""Hall-file changes without a restart: `kill -HUP` (`systemctl reload clearhall`,
`clearhall reload --pid-file …`) makes `clearhall serve` read its `--config` again.

- The file is read and checked first, as `check-config` does; a file that fails
  is logged with the reason and changes nothing: the process goes on serving
  the hall it has. So is a file that names another hall (`code`) or another
  time zone (the day's numbers restart at the zone's midnight: a restart
  decides that, not a signal), or a [[proxies]] ID number that fails its check.
- Then it is applied as at start (`hall_apply.apply`, the [[proxies]]) in one
  transaction, with a NOTIFY on RELOAD_CHANNEL that commits with it; the hall's
  row is read back and swapped in as the app's HALL, which every handler reads
  per request, so the next request sees the new hall and none sees half of it.
- Every process of the hall LISTENs on that channel (a connection of its own;
  LISTEN first, then read the hall again after a lost connection) and reads the
  hall's row again when told: one SIGHUP to any process of the hall reaches all
  of them, on any machine, whatever file each was started with.
- Rows the file applies (services, windows, staff, devices, printers, the rules
  of [ratings], [cards], [signals], [appointments], [retention]) are read from
  the database per request or per round anyway; the hall's row is what needs
  the swap. Read once at start, and so changed by a restart only: `[notify]
  notifier` and where `[ratings.forward]` sends (a warning says so).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import secrets
import signal
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any, Final

import asyncpg
from aiohttp import web

from clearhall.server.domain import proxies
from clearhall.server.domain.hall import Hall, load_hall
from clearhall.server.keys import DB, HALL, HUB, LISTEN_URL, PRINTING, SECRET, SETTINGS, TOKENS
from clearhall.server.live.hub import keep_alive
from clearhall.server.notify.conf import NOTIFIER_NAME, NOTIFYING
from clearhall.server.store import hall_apply, hallfile
from clearhall.server.store.db import DATABASE_DOWN

log = logging.getLogger(__name__)

RELOAD_CHANNEL: Final = "clearhall_reload"
CHECK_S = 30.0  # the listener's connection is tried this often (a dead one is replaced)
RETRY_S = 1.0


def swap_hall(app: web.Application, hall: Hall) -> None:
    """Make `hall` the one this process serves, at once for every request after this.

    aiohttp freezes an application's mapping once it has started and warns on
    assignment (for sub-applications, which copy it at start; clearhall has
    none), so the entry is replaced in the mapping itself: one dict assignment,
    between two requests of the event loop. The workers that hold the hall for
    their lifetime are given it too (the card evaluator asks the app each round)."""
    app._state[HALL] = hall
    if HUB in app:
        app[HUB].hall = hall
    if PRINTING in app:
        app[PRINTING].hall = hall
    if NOTIFYING in app:
        app[NOTIFYING].hall = hall  # the hall's name is in its messages


class Reloader:
    """This process's reloads: of its own file on SIGHUP, of the hall's row when told."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.lock = asyncio.Lock()  # one reload at a time: a second SIGHUP waits its turn
        self.token = secrets.token_hex(8)  # our own NOTIFY, heard on our own LISTEN, is skipped
        self.tasks: set[asyncio.Task[object]] = set()

    def later(self, work: Coroutine[Any, Any, object]) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def file(self) -> Path | None:
        settings = self.app[SETTINGS]
        return settings.config or (hallfile.DEMO if settings.demo else None)

    async def reload_file(self) -> Hall | None:
        """Read the hall file again and apply it; the hall now served, or None when
        nothing changed (the reason is logged)."""
        path = self.file()
        if path is None:
            log.warning(
                "reload: this process was started without --config, so it has no file to read; it"
                " follows the reloads of the processes that have one"
            )
            return None
        async with self.lock:
            current = self.app[HALL]
            try:
                conf = await asyncio.to_thread(hallfile.load, path)
            except hallfile.HallFileError as exc:
                log.error("hall file not reloaded, nothing changed: %s", exc)
                return None
            refused = differs(conf, current)
            if refused:
                log.error("hall file not reloaded, nothing changed: %s: %s", path, refused)
                return None
            try:
                hall = await self.apply(conf, current)
            except ValueError as exc:  # a [[proxies]] ID number that fails its check digit
                reason = str(exc).removeprefix("hall file: ")
                log.error("hall file not reloaded, nothing changed: %s: %s", path, reason)
                return None
            except (*DATABASE_DOWN, asyncpg.PostgresError) as exc:
                log.error("hall file not reloaded, nothing changed: the database: %s", exc)
                return None
            swap_hall(self.app, hall)
        log.info(
            "hall file reloaded: %s: %d services, %d windows, %d staff, %d devices",
            path, len(conf.services), len(conf.windows), len(conf.staff), len(conf.devices),
        )  # fmt: skip
        if conf.notifier != self.app.get(NOTIFIER_NAME, "none"):
            log.warning(
                "[notify] notifier = %r takes effect at the next restart (this process sends with %r)",
                conf.notifier, self.app.get(NOTIFIER_NAME, "none"),
            )  # fmt: skip
        return hall

    async def apply(self, conf: hallfile.HallConf, current: Hall) -> Hall:
        """The file into the database and the news to every process, in one transaction."""
        news = json.dumps({"hall": current.id, "from": self.token})
        async with self.app[DB].acquire() as conn, conn.transaction():
            hall_id = await hall_apply.apply(conn, conf)
            await proxies.apply_file(conn, hall_id, self.app[SECRET], conf.proxies)
            await conn.execute("SELECT pg_notify($1, $2)", RELOAD_CHANNEL, news)
            hall = await load_hall(conn, conf.code)
        assert hall is not None and hall.id == current.id  # the same code: the same row
        if TOKENS in self.app:
            self.app[TOKENS].forget()  # staff and devices as the file now says
        return hall

    async def refresh(self) -> None:
        """Read the hall's row again (another process applied its file)."""
        if TOKENS in self.app:
            self.app[TOKENS].forget()  # its staff and devices may have changed too
        async with self.lock:
            current = self.app[HALL]
            async with self.app[DB].acquire() as conn:
                hall = await load_hall(conn, current.code)
            if hall is None or hall == current:
                return
            if hall.timezone != current.timezone:
                log.warning(
                    "the hall's time zone is now %s (was %s): restart this process to count days in it",
                    hall.timezone, current.timezone,
                )  # fmt: skip
            swap_hall(self.app, hall)
        log.info("hall settings read again: another process reloaded its hall file")

    def on_notify(self, conn: object, pid: int, channel: str, payload: object) -> None:
        try:
            news = json.loads(str(payload))
        except ValueError:
            return
        ours = isinstance(news, dict) and news.get("hall") == self.app[HALL].id
        if ours and news.get("from") != self.token:
            self.later(self.refresh())

    async def listen(self) -> None:
        """Keep a LISTEN connection on RELOAD_CHANNEL; after a loss, LISTEN first, then
        read the hall again (a reload may have come meanwhile)."""
        first = True
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(
                    self.app[LISTEN_URL],  # straight to PostgreSQL: LISTEN does not pass pgbouncer
                    server_settings={
                        "application_name": "clearhall-reload",
                        "tcp_keepalives_idle": "30",
                        "tcp_keepalives_interval": "10",
                        "tcp_keepalives_count": "3",
                    },
                )
                keep_alive(conn)
                await conn.add_listener(RELOAD_CHANNEL, self.on_notify)
                if not first:
                    await self.refresh()
                first = False
                while True:  # a connection that died quietly fails this, and is replaced
                    await asyncio.sleep(CHECK_S)
                    await asyncio.wait_for(conn.execute("SELECT 1"), 5)
            except (*DATABASE_DOWN, asyncpg.PostgresError) as exc:
                log.warning("the reload listener lost its connection (%s); reconnecting", exc)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 2)
            await asyncio.sleep(RETRY_S)


RELOADER = web.AppKey("reloader", Reloader)


async def reloading(app: web.Application, *, signals: bool) -> AsyncIterator[None]:
    """cleanup_ctx: the listener, and with `signals` SIGHUP reloading the file."""
    reloader = Reloader(app)
    app[RELOADER] = reloader
    listener = asyncio.create_task(reloader.listen(), name="reload-listener")
    loop = asyncio.get_running_loop()
    if signals:
        loop.add_signal_handler(signal.SIGHUP, lambda: reloader.later(reloader.reload_file()))
    try:
        yield
    finally:
        if signals:
            loop.remove_signal_handler(signal.SIGHUP)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)  # not the default, which ends the process
        for task in (listener, *reloader.tasks):
            task.cancel()
        for task in (listener, *reloader.tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task


def install(app: web.Application, *, signals: bool = True) -> None:
    """Reloads for this app: `clearhall serve` installs them with SIGHUP; a test may
    install the listener alone (a signal is the process's, not an app's)."""
    app.cleanup_ctx.append(functools.partial(reloading, signals=signals))


def ignore_hangups() -> None:
    """Until the server is ready, a SIGHUP (an early `systemctl reload`) is ignored
    instead of ending the process, which is what it does by default."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def differs(conf: hallfile.HallConf, hall: Hall) -> str | None:
    """Why a file may not be applied to the running `hall` by a reload, if it may not."""
    if conf.code != hall.code:
        return f"the file is hall {conf.code!r}'s and this process serves {hall.code!r}: restart to switch"
    if conf.timezone != hall.timezone:
        return (
            f"[hall] timezone {conf.timezone} is not {hall.timezone}: the day (and its numbers) changes"
            " with the zone, so a time zone is changed by a restart"
        )
    return None


@contextlib.contextmanager
def pid_file(path: Path | None) -> Iterator[None]:
    """`serve --pid-file PATH`: this process's pid there while it runs, for `clearhall reload`
    (with --workers, the parent's: it passes SIGHUP on to one worker, whose reload reaches the rest)."""
    if path is None:
        yield
        return
    path.write_text(f"{os.getpid()}\n", encoding="ascii")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def send_reload(path: Path) -> str:
    """`clearhall reload`: SIGHUP to the server whose pid the file holds; what was done."""
    try:
        pid = int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"cannot read the pid file {path}: {exc}") from None
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        raise RuntimeError(f"no process {pid} (from {path}): is clearhall serve running?") from None
    except PermissionError:
        raise RuntimeError(f"may not signal process {pid}: run this as the user that runs it") from None
    return f"asked process {pid} to read its hall file again (its log says how it went)"
