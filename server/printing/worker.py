"""The printing runtime of one server process: `Printing`, under the app key `PRINTING`.

Owns what moves a job once it is committed:

- `print_now`: right after a ticket's transaction commits, the request tries
  its job for at most `issue_budget_s`; whatever happens, the ticket is already
  issued, and the kiosk hears printed, queued or failed.
- The worker task polls due jobs of direct printers (retries, and jobs whose
  sender's lease ran out), gives up old ones and wipes old job bytes.
- The state poller probes each direct printer (short timeouts); the state is
  stored, and `printer.changed` published when it changed.
- `finish` stores every attempt's result, the server's own and an agent's, and
  answers the request waiting on it.

Every job is printed with `printer.transport.print_job`, the one delivery path
the print agent uses too. Within one process a printer is used by one job at a
time (a lock per printer): most printers take one connection at a time on port
9100. `agent://` printers are driven by their connected agent (`agents`).

Rules: no printer problem ever raises out of here into a ticket request; the
key is never logged (job bytes and URLs are not put in messages).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import Awaitable, Callable

import asyncpg

from clearhall.printer.status import PrinterState
from clearhall.printer.transport import NOT_PRINTABLE, PrinterNotReady, PrintError, print_job, probe
from clearhall.server.domain.hall import Hall
from clearhall.server.printing import print_jobs, printers
from clearhall.server.printing.agents import Agents
from clearhall.server.printing.conf import PrintConf
from clearhall.server.printing.labels import explain
from clearhall.server.printing.print_jobs import Outcome, Pending
from clearhall.server.printing.printers import STATES, Printer
from clearhall.server.store.db import Connection

log = logging.getLogger(__name__)

CLAIM_BATCH = 20  # due jobs the worker claims per round


class Printing:
    """Per process: printer locks, connected agents, the worker and the state poller."""

    def __init__(self, pool: asyncpg.Pool, hall: Hall, conf: PrintConf) -> None:
        self.pool, self.hall, self.conf = pool, hall, conf
        # Who holds a claim: this process (leases outlive a crash of it).
        self.claimer = f"server:{os.getpid()}:{secrets.token_hex(4)}"
        self.locks: dict[int, asyncio.Lock] = {}
        self.agents = Agents(pool, hall, conf, self.finish)
        self.waiters: dict[int, asyncio.Future[Outcome]] = {}
        self.wake = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def lock(self, printer_id: int) -> asyncio.Lock:
        return self.locks.setdefault(printer_id, asyncio.Lock())

    def start(self) -> None:
        self.tasks = [
            asyncio.create_task(self._forever(self.work_once, lambda: self.conf.poll_s), name="print-worker"),
            asyncio.create_task(
                self._forever(self.poll_states, lambda: self.conf.state_poll_s), name="printer-poller"
            ),
        ]

    async def close_agents(self) -> None:
        await self.agents.close()

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.close_agents()

    async def _forever(self, step: Callable[[], Awaitable[None]], every: Callable[[], float]) -> None:
        while True:
            try:
                await step()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("printing: %s (will try again)", exc)
            except Exception:
                log.exception("printing: unexpected error (will try again)")
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), every())

    # -- issuing and reprinting

    async def print_now(self, pending: Pending) -> Outcome:
        """Try a just-committed job within the issue budget; never raises, never waits longer."""
        if pending.job_id is None:
            return Outcome("failed", explain(pending.error or "cannot render the ticket"))
        if pending.held:  # a 补打 behind the ticket's job being sent: the worker's, if at all
            async with self.pool.acquire() as conn:
                return await self._waiting(conn, pending.printer)
        try:
            async with asyncio.timeout(self.conf.issue_budget_s + 0.2):
                if pending.printer.via_agent:
                    return await self._through_agent(pending.printer, pending.job_id)
                return await self._direct(pending.printer, pending.job_id, pending.data, at_issue=True)
        except TimeoutError:
            return Outcome("queued")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("printing job %s: %s", pending.job_id, exc)
            return Outcome("queued")

    async def _through_agent(self, printer: Printer, job_id: int) -> Outcome:
        if not self.agents.connected(printer.id):
            # Connected to another server process, or not at all: its state says which.
            async with self.pool.acquire() as conn:
                state = await printers.state_of(conn, printer.id)
            if state == PrinterState.OFFLINE:
                return Outcome("failed", explain("the print agent is not connected"))
            return Outcome("queued")
        waiter: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.waiters[job_id] = waiter
        self.agents.wake(printer.id)
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), self.conf.issue_budget_s)
        except TimeoutError:
            return Outcome("queued")
        finally:
            self.waiters.pop(job_id, None)

    async def _direct(self, printer: Printer, job_id: int, data: bytes, *, at_issue: bool) -> Outcome:
        conf = self.conf
        step = conf.issue_step_s if at_issue else conf.worker_step_s
        lock = self.lock(printer.id)
        try:
            # At issue time a busy printer (a retry printing) is not waited for long.
            await asyncio.wait_for(lock.acquire(), conf.issue_budget_s - 2 * step if at_issue else None)
        except TimeoutError:
            # Never tried: back in the queue for the worker. The kiosk hears
            # "failed" when the printer is known not to print now, else "queued".
            async with self.pool.acquire() as conn:
                if not await print_jobs.unclaim(conn, job_id):
                    log.info("print job %s cancelled untried: a newer job of its ticket waits", job_id)
                self.wake.set()
                return await self._waiting(conn, printer)
        try:
            state: str
            try:
                state = (await print_job(printer.address, data, timeout=step)).value
                error = None
            except PrinterNotReady as exc:
                state, error = exc.state.value, str(exc)
            except PrintError as exc:
                state, error = PrinterState.OFFLINE.value, str(exc)
        finally:
            lock.release()
        return await self.finish(printer, job_id, printed=error is None, error=error, state=state)

    async def _waiting(self, conn: Connection, printer: Printer) -> Outcome:
        """What the kiosk hears of a job left waiting: failed when the printer is known not to print now."""
        known = await printers.state_of(conn, printer.id)
        if known is not None and known in {s.value for s in NOT_PRINTABLE}:
            return Outcome("failed", explain(f"printer {printer.name} is {known.replace('_', ' ')}"))
        return Outcome("queued")

    async def finish(
        self, printer: Printer, job_id: int, *, printed: bool, error: str | None, state: str | None
    ) -> Outcome:
        """Store an attempt's result and the printer's state it revealed."""
        async with self.pool.acquire() as conn:
            done = await print_jobs.finish_attempt(conn, self.conf, job_id, printed=printed, error=error)
            if state is not None and state in STATES:
                await printers.set_state(conn, self.hall, printer.id, state, error)
        if done is None:
            outcome = Outcome("failed", explain("cancelled")) if not printed else Outcome("printed")
        elif printed:
            outcome = Outcome("printed")
            if done.cancelled:
                log.info("print job %s (%s) printed; cancelled the ticket's waiting jobs %s",
                         job_id, done.job.ticket_number, list(done.cancelled))  # fmt: skip
        else:
            job = done.job
            outcome = Outcome("failed", explain(error or "unknown error"))
            if job.status == "cancelled":
                log.info("print job %s (%s) failed; cancelled, as a newer job of the ticket waits",
                         job.id, job.ticket_number)  # fmt: skip
                self.wake.set()  # the newer one is due now
                self.agents.wake(printer.id)
            elif job.next_attempt_at is not None:
                log.info("print job %s (%s) failed, retrying: %s", job.id, job.ticket_number, error)
            else:
                log.warning("print job %s (%s) given up: %s", job.id, job.ticket_number, error)
        waiter = self.waiters.get(job_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(outcome)
        return outcome

    # -- the worker and the state poller

    async def work_once(self) -> None:
        conf = self.conf
        async with self.pool.acquire() as conn:
            await print_jobs.give_up_old(conn, self.hall.id, conf.max_age_s, "too old to print")
            await print_jobs.wipe_old_data(conn, self.hall.id, conf.keep_data_s)
            claimed = await print_jobs.claim_direct(
                conn, self.hall.id, self.claimer, conf.lease_s, CLAIM_BATCH
            )
            by_printer: dict[int, list[tuple[int, bytes]]] = {}
            for job, data in claimed:
                by_printer.setdefault(job.printer_id, []).append((job.id, data))
            found = {pid: await printers.printer_by_id(conn, pid) for pid in by_printer}
        await asyncio.gather(*(self._run_jobs(found[pid], jobs) for pid, jobs in by_printer.items()))

    async def _run_jobs(self, printer: Printer, jobs: list[tuple[int, bytes]]) -> None:
        for job_id, data in jobs:
            await self._direct(printer, job_id, data, at_issue=False)

    async def poll_states(self) -> None:
        async with self.pool.acquire() as conn:
            direct = await printers.direct_printers(conn, self.hall.id)
        await asyncio.gather(*(self._poll(p) for p in direct))

    async def _poll(self, printer: Printer) -> None:
        # Not under the printer's lock: a ticket must never wait for a probe.
        # A printer that takes one connection at a time holds the job's
        # connection for the few milliseconds a probe takes.
        if self.lock(printer.id).locked():
            return  # printing now: its result will tell
        error: str | None
        try:
            state = await probe(printer.address, timeout=self.conf.probe_timeout_s)
        except PrintError as exc:
            state, error = PrinterState.OFFLINE, str(exc)
        else:
            error = None
            if state is PrinterState.OFFLINE:
                error = f"no answer from printer {printer.address}"
            elif state is not PrinterState.READY and state is not PrinterState.UNKNOWN:
                error = f"printer {printer.address} reports {state.value.replace('_', ' ')}"
        async with self.pool.acquire() as conn:
            await printers.set_state(conn, self.hall, printer.id, state.value, error)
