"""`clearhall serve --workers N`: one hall served by N processes, with a proxy in front.

The parent serves nothing itself. It starts N children, each a whole
`clearhall serve` (its own pool, LISTEN connection and hub) on its own port,
`--port` … `--port`+N-1, and keeps them running; nginx spreads the hall's
clients over them (docs/nginx.md). What they share is in PostgreSQL: every row,
every lock that makes a call exactly-once, and every event, which pg_notify
brings to each child's listener and so to the sockets on all of them.

Rules:
- With the embedded PostgreSQL (no DATABASE_URL) the parent starts it once,
  before the children; they reuse it and never stop it (`Settings.worker`), and
  the parent stops it after the last child has stopped.
- A child is the parent's own command line plus `--port P --as-worker K`. It
  labels its responses (`X-Clearhall-Worker: K`) and its log lines
  (`[worker K]`), and stops by itself when the parent is gone (killed with -9).
- A child that dies is started again: at once if it had run a minute, else
  after 1, 2, 4 … 30 s. Five quick deaths in a row stop the whole server
  (exit 1): a restart will not fix what is wrong (a port in use, the database).
- SIGTERM or SIGINT: every child gets SIGTERM and is waited for (30 s, then
  SIGKILL); the parent then exits 0. Each child has its own process group, so
  a Ctrl-C at the terminal reaches the parent alone, and a child is told to
  stop once. SIGHUP (`clearhall reload`) is passed on to one running child:
  a reload in one process reaches the others through the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

from aiohttp import web
from aiohttp.web_response import StreamResponse

from clearhall.server.app import StartupError
from clearhall.server.settings import Settings
from clearhall.server.store.embedded_pg import EmbeddedPostgres, EmbeddedPostgresError

log = logging.getLogger(__name__)

HEADER: Final = "X-Clearhall-Worker"
LIVED_S: Final = 60.0  # a child that ran this long before dying is restarted at once
QUICK_DEATHS: Final = 5  # in a row: give up
BACKOFF_MAX_S: Final = 30.0
STOP_WAIT_S: Final = 30.0
STEP_S: Final = 0.2


# ------------------------------------------------------------ the parent


@dataclass(eq=False)
class Child:
    number: int
    port: int
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    quick_deaths: int = 0
    due: float = 0.0  # when to start it (again)


class Supervisor:
    def __init__(self, argv: list[str], workers: int, port: int) -> None:
        self.argv = argv
        self.children = [Child(k, port + k - 1) for k in range(1, workers + 1)]
        self.signals: list[int] = []

    def start(self, child: Child) -> None:
        command = [sys.executable, "-m", "clearhall.server", *self.argv]
        command += ["--port", str(child.port), "--as-worker", str(child.number)]  # the last --port wins
        # its own process group: a Ctrl-C at the terminal reaches the parent alone, which
        # then stops each child once
        child.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, process_group=0)
        child.started = time.monotonic()
        log.info("worker %d started on port %d, pid %d", child.number, child.port, child.process.pid)

    def died(self, child: Child, code: int) -> None:
        lived = time.monotonic() - child.started
        child.process = None
        child.quick_deaths = 0 if lived >= LIVED_S else child.quick_deaths + 1
        delay = 0.0 if child.quick_deaths == 0 else min(BACKOFF_MAX_S, 2.0 ** (child.quick_deaths - 1))
        child.due = time.monotonic() + delay
        how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
        log.warning(
            "worker %d (port %d) %s after %.0f s; starting it again in %.0f s",
            child.number, child.port, how, lived, delay,
        )  # fmt: skip

    def run(self) -> int:
        """Keep the children running until a signal says stop; the exit code."""
        for handled in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(handled, lambda signum, _frame: self.signals.append(signum))
        first, last = self.children[0].port, self.children[-1].port
        log.info("%d workers on ports %d to %d", len(self.children), first, last)
        try:
            while True:
                while self.signals:
                    signum = self.signals.pop(0)
                    if signum != signal.SIGHUP:
                        log.info("stopping %d workers", len(self.children))
                        return 0
                    self.reload()
                for child in self.children:
                    if child.process is not None and (code := child.process.poll()) is not None:
                        self.died(child, code)
                    if child.quick_deaths >= QUICK_DEATHS:
                        log.error("worker %d keeps dying: stopping the server", child.number)
                        return 1
                    if child.process is None and time.monotonic() >= child.due:
                        self.start(child)
                time.sleep(STEP_S)
        finally:
            self.stop()

    def reload(self) -> None:
        """SIGHUP: one child reads the hall file again, and its reload reaches the
        others through the database (server/reload.py), so each reloads once."""
        for child in self.children:
            if child.process is not None and child.process.poll() is None:
                child.process.send_signal(signal.SIGHUP)
                log.info("hall file: worker %d reads it again, and tells the others", child.number)
                return
        log.warning("SIGHUP, and no worker is running to read the hall file again")

    def send(self, signum: int) -> None:
        for child in self.children:
            if child.process is not None and child.process.poll() is None:
                child.process.send_signal(signum)

    def stop(self) -> None:
        self.send(signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT_S
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker %d did not stop in %.0f s: killing it", child.number, STOP_WAIT_S)
                child.process.kill()
                child.process.wait()


def supervise(settings: Settings, argv: list[str], workers: int) -> int:
    """`clearhall serve --workers N`: the embedded database (when used), then the children."""
    embedded = None
    if settings.database_url is None:
        embedded = EmbeddedPostgres(settings.data_dir)
        try:
            embedded.start()
        except EmbeddedPostgresError as exc:
            raise StartupError(f"the embedded PostgreSQL did not start: {exc}") from None
    try:
        return Supervisor(argv, workers, settings.port).run()
    finally:
        if embedded is not None:
            embedded.stop()


# ------------------------------------------------------------ a child


def become_worker(app: web.Application, number: int) -> None:
    """In child K: label its responses and log lines, and stop when the parent is gone."""
    label = str(number)

    async def labelled(request: web.Request, response: StreamResponse) -> None:
        response.headers[HEADER] = label

    app.on_response_prepare.append(labelled)
    app.cleanup_ctx.append(exit_with_parent)
    prefix = f"[worker {label}] "

    def labelled_line(record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and not record.msg.startswith(prefix):
            record.msg = prefix + record.msg
        return True

    for handler in logging.getLogger().handlers:  # text or JSON lines alike (logs.configure)
        handler.addFilter(labelled_line)


async def exit_with_parent(app: web.Application) -> AsyncIterator[None]:
    parent = os.getppid()

    async def watch() -> None:
        while True:  # nothing to wait on: the kernel re-parents an orphan silently
            await asyncio.sleep(1.0)
            if os.getppid() != parent:
                break
        log.warning("the parent process (%d) is gone: stopping this worker", parent)
        os.kill(os.getpid(), signal.SIGTERM)  # web.run_app's own clean stop

    task = asyncio.create_task(watch(), name="parent-watch")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
