"""Printing tickets (CONTRACT §8): printers, print jobs, the print worker, agents.

Owns the `printers` and `print_jobs` rows and everything that moves a job:

- Issuing at a kiosk with a printer renders the ESC/POS job (with the phone URL
  and its key, which exist only then) and inserts it in the ticket's own
  transaction, so a ticket is never lost to printing and a job never lost to a
  crash. After the commit the request tries to print for at most
  `issue_budget_s`; whatever happens, the ticket is already issued.
- A job is queued → sent → printed, or failed with `next_attempt_at` set for a
  retry with exponential backoff (NULL: given up after `max_attempts` or
  `max_age_s`), or cancelled. Claims are one UPDATE over a
  `FOR UPDATE SKIP LOCKED` subquery, so two server processes never send one job
  twice; a claim carries a lease, and a job whose sender vanished is due again
  when the lease runs out.
- Within one process a printer is used by one job or probe at a time (a lock per
  printer): most printers take one connection at a time on port 9100.
- The worker task polls due jobs; the state poller probes each direct printer
  (short timeouts) and publishes `printer.changed` when its state changes, in the
  transaction that stores the change.
- `agent://` printers are driven by a print agent connected over WebSocket
  (`serve_agent`): it is fed its printer's jobs one at a time, reports each
  result and the printer's state; jobs it held when it went away are queued again.

Rules: no printer problem ever raises out of here into a ticket request; the
key is never logged (job bytes and URLs are not put in messages).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp import WSCloseCode, WSMsgType, web
from clearhall.printer.render import TicketPrint, render
from clearhall.printer.status import STATUS_PRINTER, PrinterState, status_request
from clearhall.printer.transport import (
    NOT_PRINTABLE,
    PrinterNotReady,
    PrintError,
    TcpAddress,
    parse_address,
    probe,
    send,
)
from clearhall.server.api import errors
from clearhall.server.domain import events, tickets
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.keys import DB, HALL

log = logging.getLogger(__name__)

CATEGORY_LABELS: Final = {
    "normal": "普通",
    "elderly": "老年人",
    "disabled": "残疾人",
    "pregnant": "孕妇",
    "military": "军人",
    "enterprise": "企业",
}
STATES: Final = tuple(s.value for s in PrinterState)
AGENT_HEARTBEAT_S: Final = 20.0


@dataclass(frozen=True)
class PrintConf:
    """Time limits of printing; tests shorten them through `PRINT_CONF`."""

    issue_budget_s: float = 1.5  # POST /api/tickets spends at most this on printing
    issue_step_s: float = 0.7  # probe, then send: each bounded by this at issue time
    worker_step_s: float = 10.0  # the same, for background retries (raster jobs are big)
    poll_s: float = 1.0  # how often the worker looks for due jobs
    state_poll_s: float = 15.0  # how often each direct printer is asked its state
    probe_timeout_s: float = 2.0
    retry_base_s: float = 5.0  # first retry after this, doubling each time
    retry_max_s: float = 60.0
    max_attempts: int = 8
    # A ticket not printed after this is given up: the citizen has long left the
    # kiosk with the number on screen, and a late ticket would confuse the next one.
    max_age_s: float = 600.0
    lease_s: float = 30.0  # a sent job whose sender vanished is due again after this
    agent_result_s: float = 30.0  # how long an agent may take to report a job
    keep_data_s: float = 86400.0  # job bytes and phone URLs are wiped after this


PRINT_CONF = web.AppKey("print_conf", PrintConf)


@dataclass(frozen=True)
class Printer:
    id: int
    name: str
    kiosk: str
    kiosk_id: int
    address: str
    paper: str
    encoding: str
    mode: str
    state: str
    state_changed_at: datetime
    last_error: str | None

    @property
    def via_agent(self) -> bool:
        return self.address.startswith("agent:")

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Printer:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})

    def event_json(self, tz: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "kiosk": self.kiosk,
            "state": self.state,
            "changed_at": tickets.local_iso(self.state_changed_at, tz),
            "last_error": self.last_error,
        }


@dataclass(frozen=True)
class Job:
    id: int
    printer_id: int
    ticket_id: str
    ticket_number: str
    reprint: bool
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    printed_at: datetime | None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Job:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})

    def json(self, tz: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "ticket": {"id": self.ticket_id, "number": self.ticket_number},
            "reprint": self.reprint,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "next_attempt_at": tickets.local_iso(self.next_attempt_at, tz),
            "created_at": tickets.local_iso(self.created_at, tz),
            "printed_at": tickets.local_iso(self.printed_at, tz),
        }


@dataclass(frozen=True)
class Outcome:
    """What the kiosk is told: `"print": {"status", "error"}`."""

    status: str  # queued | printed | failed
    error: str | None = None

    def json(self) -> dict[str, Any]:
        return {"status": self.status, "error": self.error}


@dataclass(frozen=True)
class Pending:
    """A job just created in the caller's transaction, to try once it commits."""

    printer: Printer
    job_id: int | None  # None: the job could not even be rendered
    data: bytes
    error: str | None = None


# --------------------------------------------------------------------- queries

PRINTER_COLUMNS = """
    p.id, p.name, d.name AS kiosk, p.kiosk_id, p.address, p.paper, p.encoding, p.mode,
    p.state, p.state_changed_at, p.last_error
"""

PRINTER_OF_KIOSK = f"""
SELECT {PRINTER_COLUMNS} FROM printers p JOIN devices d ON d.id = p.kiosk_id
WHERE p.hall_id = $1 AND p.kiosk_id = $2 AND p.active
ORDER BY p.id LIMIT 1
"""

PRINTER_BY_NAME = f"""
SELECT {PRINTER_COLUMNS} FROM printers p JOIN devices d ON d.id = p.kiosk_id
WHERE p.hall_id = $1 AND p.name = $2 AND p.active
"""

PRINTER_BY_ID = f"""
SELECT {PRINTER_COLUMNS} FROM printers p JOIN devices d ON d.id = p.kiosk_id WHERE p.id = $1
"""

DIRECT_PRINTERS = f"""
SELECT {PRINTER_COLUMNS} FROM printers p JOIN devices d ON d.id = p.kiosk_id
WHERE p.hall_id = $1 AND p.active AND p.address NOT LIKE 'agent:%'
ORDER BY p.name
"""

# -- each printer with how many of its jobs wait and how many failed
PRINTERS_WITH_COUNTS = f"""
SELECT {PRINTER_COLUMNS}, p.checked_at, p.last_error_at,
       (SELECT count(*) FROM print_jobs j
         WHERE j.printer_id = p.id AND j.status IN ('queued', 'sent')) AS queued,
       (SELECT count(*) FROM print_jobs j WHERE j.printer_id = p.id AND j.status = 'failed') AS failed
FROM printers p JOIN devices d ON d.id = p.kiosk_id
WHERE p.hall_id = $1 AND p.active
ORDER BY p.name
"""

JOB_COLUMNS = """
    j.id, j.printer_id, j.ticket_id, t.number AS ticket_number, j.reprint, j.status, j.attempts,
    j.last_error, j.next_attempt_at, j.created_at, j.printed_at
"""

INSERT_JOB = """
INSERT INTO print_jobs (hall_id, printer_id, ticket_id, reprint, data, url, status, attempts,
                        claimed_by, lease_until, sent_at, next_attempt_at)
VALUES ($1, $2, $3, $4, $5, $6, $7,
        CASE WHEN $7 = 'sent' THEN 1 ELSE 0 END,
        $8, CASE WHEN $7 = 'sent' THEN now() + make_interval(secs => $9) END,
        CASE WHEN $7 = 'sent' THEN now() END, now())
RETURNING id
"""

# -- the ticket's first job keeps the phone URL (with its key) for 补打
ORIGINAL_URL = """
SELECT url FROM print_jobs
WHERE ticket_id = $1 AND hall_id = $2 AND NOT reprint AND url IS NOT NULL
ORDER BY id LIMIT 1
"""

# -- claim due jobs of direct printers: failed ones whose retry time has come,
# -- and sent ones whose sender's lease ran out; SKIP LOCKED keeps two
# -- processes from taking the same job
CLAIM_DIRECT = f"""
WITH due AS (
    SELECT pj.id FROM print_jobs pj JOIN printers p ON p.id = pj.printer_id
    WHERE pj.hall_id = $1 AND p.active AND p.address NOT LIKE 'agent:%'
      AND pj.data IS NOT NULL
      AND ((pj.status IN ('queued', 'failed') AND pj.next_attempt_at <= now())
           OR (pj.status = 'sent' AND pj.lease_until < now()))
    ORDER BY pj.next_attempt_at, pj.id
    LIMIT $4
    FOR UPDATE OF pj SKIP LOCKED
), j AS (
    UPDATE print_jobs pj SET status = 'sent', attempts = pj.attempts + 1, claimed_by = $2,
        lease_until = now() + make_interval(secs => $3), sent_at = now()
    FROM due WHERE pj.id = due.id
    RETURNING pj.*
)
SELECT {JOB_COLUMNS}, j.data FROM j JOIN tickets t ON t.id = j.ticket_id ORDER BY j.id
"""

# -- claim the oldest due job of one agent printer
CLAIM_FOR_AGENT = f"""
WITH due AS (
    SELECT id FROM print_jobs
    WHERE printer_id = $1 AND data IS NOT NULL
      AND ((status IN ('queued', 'failed') AND next_attempt_at <= now())
           OR (status = 'sent' AND lease_until < now()))
    ORDER BY next_attempt_at, id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
), j AS (
    UPDATE print_jobs pj SET status = 'sent', attempts = pj.attempts + 1, claimed_by = $2,
        lease_until = now() + make_interval(secs => $3), sent_at = now()
    FROM due WHERE pj.id = due.id
    RETURNING pj.*
)
SELECT {JOB_COLUMNS}, j.data FROM j JOIN tickets t ON t.id = j.ticket_id
"""

# -- an attempt ended: printed, or failed and due again after its backoff,
# -- unless it has had its attempts or is too old to be worth printing
FINISH_ATTEMPT = f"""
WITH j AS (
    UPDATE print_jobs SET
        status = CASE WHEN $2 THEN 'printed' ELSE 'failed' END,
        last_error = CASE WHEN $2 THEN last_error ELSE $3 END,
        printed_at = CASE WHEN $2 THEN now() END,
        next_attempt_at = CASE
            WHEN $2 OR attempts >= $4 OR created_at < now() - make_interval(secs => $5) THEN NULL
            ELSE now() + make_interval(secs => $6) END,
        claimed_by = NULL, lease_until = NULL
    WHERE id = $1 AND status = 'sent'
    RETURNING *
)
SELECT {JOB_COLUMNS} FROM j JOIN tickets t ON t.id = j.ticket_id
"""

# -- the sender never tried (the printer was busy): back in the queue, untouched
UNCLAIM = """
UPDATE print_jobs SET status = 'queued', attempts = greatest(attempts - 1, 0), claimed_by = NULL,
    lease_until = NULL, next_attempt_at = now()
WHERE id = $1 AND status = 'sent'
"""

# -- an agent went away: the jobs it held go back to the queue
RELEASE_CLAIMS = """
UPDATE print_jobs SET status = 'queued', claimed_by = NULL, lease_until = NULL, next_attempt_at = now()
WHERE claimed_by = $1 AND status = 'sent'
"""

# -- jobs nobody will print any more: too old to be of use
GIVE_UP_OLD = """
UPDATE print_jobs SET status = 'failed', next_attempt_at = NULL,
    last_error = coalesce(last_error || '; ', '') || $3
WHERE hall_id = $1 AND status IN ('queued', 'failed') AND next_attempt_at IS NOT NULL
  AND created_at < now() - make_interval(secs => $2)
"""

WIPE_OLD_DATA = """
UPDATE print_jobs SET data = NULL, url = NULL
WHERE hall_id = $1 AND (data IS NOT NULL OR url IS NOT NULL) AND status <> 'sent'
  AND created_at < now() - make_interval(secs => $2)
"""

# -- the printer's state now; changed_at moves only when the state does
SET_STATE = f"""
WITH old AS (SELECT id, state FROM printers WHERE id = $1 FOR UPDATE),
p AS (
    UPDATE printers p SET state = $2,
        state_changed_at = CASE WHEN old.state = $2 THEN p.state_changed_at ELSE now() END,
        last_error = coalesce($3, p.last_error),
        last_error_at = CASE WHEN $3 IS NULL THEN p.last_error_at ELSE now() END,
        checked_at = now()
    FROM old WHERE p.id = old.id
    RETURNING p.*, old.state AS old_state
)
SELECT {PRINTER_COLUMNS}, p.old_state FROM p JOIN devices d ON d.id = p.kiosk_id
"""

CANCEL = f"""
WITH j AS (
    UPDATE print_jobs SET status = 'cancelled', next_attempt_at = NULL, claimed_by = NULL,
        lease_until = NULL
    WHERE id = $1 AND hall_id = $2 AND status IN ('queued', 'failed')
    RETURNING *
)
SELECT {JOB_COLUMNS} FROM j JOIN tickets t ON t.id = j.ticket_id
"""

SELECT_JOB = f"""
SELECT {JOB_COLUMNS} FROM print_jobs j JOIN tickets t ON t.id = j.ticket_id
WHERE j.id = $1 AND j.hall_id = $2
"""

RECENT_JOBS = f"""
SELECT {JOB_COLUMNS}, p.name AS printer FROM print_jobs j
JOIN tickets t ON t.id = j.ticket_id JOIN printers p ON p.id = j.printer_id
WHERE j.hall_id = $1 AND ($2::text IS NULL OR j.status = $2)
ORDER BY j.id DESC LIMIT $3
"""

LATEST_JOB_OF_TICKET = f"""
SELECT {JOB_COLUMNS} FROM print_jobs j JOIN tickets t ON t.id = j.ticket_id
WHERE j.ticket_id = $1 ORDER BY j.id DESC LIMIT 1
"""


async def printer_of_kiosk(conn: asyncpg.Connection, hall_id: int, device_id: int) -> Printer | None:
    row = await conn.fetchrow(PRINTER_OF_KIOSK, hall_id, device_id)
    return Printer.from_row(row) if row else None


async def printer_by_name(conn: asyncpg.Connection, hall_id: int, name: str) -> Printer | None:
    row = await conn.fetchrow(PRINTER_BY_NAME, hall_id, name)
    return Printer.from_row(row) if row else None


async def agent_printer(conn: asyncpg.Connection, hall_id: int, p: Principal) -> Printer | None:
    """The agent:// printer a device may drive: a kiosk's own, or the printer named like the device."""
    if p.device_kind == "kiosk":
        printer = await printer_of_kiosk(conn, hall_id, p.id)
    elif p.device_kind == "printer":
        printer = await printer_by_name(conn, hall_id, p.name)
    else:
        printer = None
    return printer if printer is not None and printer.via_agent else None


async def printers_with_counts(conn: asyncpg.Connection, hall_id: int) -> list[asyncpg.Record]:
    return list(await conn.fetch(PRINTERS_WITH_COUNTS, hall_id))


async def recent_jobs(
    conn: asyncpg.Connection, hall_id: int, status: str | None, limit: int = 100
) -> list[asyncpg.Record]:
    return list(await conn.fetch(RECENT_JOBS, hall_id, status, limit))


async def fetch_job(conn: asyncpg.Connection, hall_id: int, job_id: int) -> Job | None:
    row = await conn.fetchrow(SELECT_JOB, job_id, hall_id)
    return Job.from_row(row) if row else None


async def cancel(conn: asyncpg.Connection, hall_id: int, job_id: int) -> Job:
    """Cancel a job that is waiting or failed; 404 unknown, 409 when it is printing or printed."""
    row = await conn.fetchrow(CANCEL, job_id, hall_id)
    if row is not None:
        return Job.from_row(row)
    job = await fetch_job(conn, hall_id, job_id)
    if job is None:
        raise errors.not_found(f"没有这个打印任务 (no print job {job_id})")
    if job.status == "cancelled":
        return job
    raise errors.conflict(
        f"打印任务已{'在打印' if job.status == 'sent' else '打印完成'}，不能取消 "
        f"(print job {job_id} is {job.status} and can no longer be cancelled)"
    )


async def ticket_print_status(conn: asyncpg.Connection, ticket_id: str) -> Outcome | None:
    """What became of a ticket's latest print job, for the kiosk that waits on it."""
    row = await conn.fetchrow(LATEST_JOB_OF_TICKET, ticket_id)
    if row is None:
        return None
    job = Job.from_row(row)
    if job.status == "printed":
        return Outcome("printed")
    if job.status in ("queued", "sent"):
        return Outcome("queued")
    return Outcome("failed", explain(job.last_error or "cancelled"))


async def set_state(
    conn: asyncpg.Connection, hall: Hall, printer_id: int, state: str, error: str | None = None
) -> Printer | None:
    """Store a printer's state; publishes printer.changed when it changed."""
    async with conn.transaction():
        row = await conn.fetchrow(SET_STATE, printer_id, state, error)
        if row is None:
            return None
        printer = Printer.from_row(row)
        if row["old_state"] != state:
            await events.publish(conn, "printer.changed", hall.id, printer=printer.event_json(hall.timezone))
    return printer


def explain(error: str) -> str:
    """The kiosk's message: what happened in Chinese, what to do, and the detail in English."""
    lowered = error.lower()
    if "paper out" in lowered:
        zh = "打印机缺纸"
    elif "cover open" in lowered:
        zh = "打印机盖未合上"
    elif "agent" in lowered:
        zh = "打印机未连接"
    elif "cancelled" in lowered:
        zh = "打印已取消"
    else:
        zh = "打印机无响应"
    return f"{zh}，请以屏幕上的号码和二维码为准 (printing failed: {error})"


# --------------------------------------------------------------------- delivering


async def deliver(address: str, data: bytes, *, timeout: float) -> PrinterState:  # noqa: ASYNC109
    """`printer.transport.print_job`, made sure for network printers that answer status.

    Probe, refuse a printer that cannot print, send. To a network printer that
    answered the probe, the job goes with a status request after it on the same
    connection: the answer proves the printer took every byte, where a plain
    send cannot tell a printer that reset halfway through a big job from one that
    printed it. `timeout` bounds each step.
    """
    target = parse_address(address)
    state = await probe(target, timeout=timeout)
    if state in NOT_PRINTABLE:
        raise PrinterNotReady(target, state)
    if isinstance(target, TcpAddress) and state is not PrinterState.UNKNOWN:
        await _send_confirmed(target, data, timeout)
    else:
        await send(target, data, timeout=timeout)
    return state


async def _send_confirmed(target: TcpAddress, data: bytes, timeout: float) -> None:  # noqa: ASYNC109
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(target.host, target.port)
            writer.write(data + status_request(STATUS_PRINTER))
            await writer.drain()
            await reader.readexactly(1)
    except TimeoutError:
        raise PrintError(f"timed out after {timeout:g} s sending the job to printer {target}") from None
    except asyncio.IncompleteReadError:
        raise PrintError(f"printer {target} closed the connection in the middle of the job") from None
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise PrintError(f"sending to printer {target} failed: {reason}") from None
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                async with asyncio.timeout(0.2):
                    await writer.wait_closed()


# --------------------------------------------------------------------- rendering


def ticket_print(
    hall: Hall, ticket: tickets.Ticket, *, ahead: int, url: str, reprint: bool = False
) -> TicketPrint:
    return TicketPrint(
        hall_name=hall.name,
        service_name=ticket.service_name,
        number=ticket.number,
        category=CATEGORY_LABELS.get(ticket.category, ticket.category),
        ahead=ahead,
        issued_at=ticket.issued_at.astimezone(ZoneInfo(hall.timezone)),
        url=url,
        reprint=reprint,
    )


def render_for(printer: Printer, ticket: TicketPrint) -> bytes:
    return render(ticket, paper=printer.paper, encoding=printer.encoding, mode=printer.mode)


async def _queue(
    conn: asyncpg.Connection,
    hall: Hall,
    printer: Printer,
    ticket: tickets.Ticket,
    *,
    ahead: int,
    url: str,
    reprint: bool,
    claimer: str,
    conf: PrintConf,
) -> Pending:
    job = ticket_print(hall, ticket, ahead=ahead, url=url, reprint=reprint)
    try:
        # Text mode takes ~0.05 ms; a raster ticket ~20 ms, drawn off the event
        # loop so screens and windows are not held up while it draws.
        data = (
            render_for(printer, job)
            if printer.mode == "text"
            else await asyncio.to_thread(render_for, printer, job)
        )
    except Exception as exc:  # a missing font must not cost the citizen the ticket
        log.error("cannot render ticket %s for printer %s: %s", ticket.number, printer.name, exc)
        return Pending(printer, None, b"", f"cannot render the ticket: {exc}")
    # A direct printer's job is claimed by this request, which tries it right
    # after the commit; an agent's waits for its agent.
    status = "queued" if printer.via_agent else "sent"
    job_id: int = await conn.fetchval(
        INSERT_JOB,
        hall.id, printer.id, ticket.id, reprint, data, None if reprint else url, status,
        claimer, conf.lease_s,
    )  # fmt: skip
    return Pending(printer, job_id, data)


async def queue_ticket(
    conn: asyncpg.Connection,
    hall: Hall,
    issuer: Principal,
    issued: tickets.Issued,
    url: str,
    printing: Printing,
) -> Pending | None:
    """In the ticket's transaction: the print job of a kiosk that has a printer, else None."""
    if issuer.kind != "device" or issuer.device_kind != "kiosk":
        return None
    printer = await printer_of_kiosk(conn, hall.id, issuer.id)
    if printer is None:
        return None
    return await _queue(
        conn, hall, printer, issued.ticket, ahead=issued.ahead, url=url, reprint=False,
        claimer=printing.claimer, conf=printing.conf,
    )  # fmt: skip


async def queue_reprint(
    conn: asyncpg.Connection, hall: Hall, who: Principal, ticket_id: str, printing: Printing
) -> tuple[tickets.Ticket, Pending]:
    """In the caller's transaction: a 补打 job of a ticket, on its kiosk's printer.

    The issuing kiosk or staff only. The QR needs the phone URL with the key,
    which is stored only as a hash on the ticket: it comes from the ticket's
    first print job, which kept it for this (see docs/printer.md).
    """
    found = await tickets.fetch(conn, hall.id, ticket_id)
    if found is None:
        raise errors.not_found("没有这个号 (no such ticket)")
    ticket = found[0]
    issuer = ticket.issued_by_device
    if who.kind == "device" and (who.device_kind != "kiosk" or who.id != issuer):
        raise errors.forbidden(
            "只有取号的自助机或工作人员可以补打 (only the issuing kiosk or staff may reprint)"
        )
    url = await conn.fetchval(ORIGINAL_URL, ticket.id, hall.id)
    printer = await printer_of_kiosk(conn, hall.id, issuer) if issuer is not None else None
    if url is None or printer is None:
        raise errors.conflict(
            "这个号没有可补打的小票：不是在带打印机的自助机上取的，或已超过一天 "
            "(this ticket was not issued at a kiosk with a printer, or is more than a day old)"
        )
    ahead, _ = await tickets.place_in_line(conn, hall.id, ticket)
    pending = await _queue(
        conn, hall, printer, ticket, ahead=ahead, url=url, reprint=True,
        claimer=printing.claimer, conf=printing.conf,
    )  # fmt: skip
    return ticket, pending


# --------------------------------------------------------------------- the runtime


@dataclass(eq=False)
class AgentLink:
    """One connected print agent and the job it has been sent."""

    ws: web.WebSocketResponse
    printer: Printer
    claimer: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    results: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)


class Printing:
    """Per process: printer locks, connected agents, the worker and the state poller."""

    def __init__(self, pool: asyncpg.Pool, hall: Hall, conf: PrintConf) -> None:
        self.pool, self.hall, self.conf = pool, hall, conf
        # Who holds a claim: this process (leases outlive a crash of it).
        self.claimer = f"server:{os.getpid()}:{secrets.token_hex(4)}"
        self.locks: dict[int, asyncio.Lock] = {}
        self.agents: dict[int, AgentLink] = {}
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
        for link in list(self.agents.values()):
            await link.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.close_agents()

    async def _forever(self, step: Any, every: Any) -> None:
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
        link = self.agents.get(printer.id)
        if link is None:
            # Connected to another server process, or not at all: its state says which.
            async with self.pool.acquire() as conn:
                state = await conn.fetchval("SELECT state FROM printers WHERE id = $1", printer.id)
            if state == PrinterState.OFFLINE:
                return Outcome("failed", explain("the print agent is not connected"))
            return Outcome("queued")
        waiter: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.waiters[job_id] = waiter
        link.wake.set()
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
                await conn.execute(UNCLAIM, job_id)
                known = await conn.fetchval("SELECT state FROM printers WHERE id = $1", printer.id)
            self.wake.set()
            if known in {s.value for s in NOT_PRINTABLE}:
                return Outcome("failed", explain(f"printer {printer.name} is {known.replace('_', ' ')}"))
            return Outcome("queued")
        try:
            state: str
            try:
                state = (await deliver(printer.address, data, timeout=step)).value
                error = None
            except PrinterNotReady as exc:
                state, error = exc.state.value, str(exc)
            except PrintError as exc:
                state, error = PrinterState.OFFLINE.value, str(exc)
        finally:
            lock.release()
        return await self.finish(printer, job_id, printed=error is None, error=error, state=state)

    async def finish(
        self, printer: Printer, job_id: int, *, printed: bool, error: str | None, state: str | None
    ) -> Outcome:
        """Store an attempt's result and the printer's state it revealed."""
        async with self.pool.acquire() as conn:
            row = await self._finish_row(conn, job_id, printed, error)
            if state in STATES:
                await set_state(conn, self.hall, printer.id, state, error)
        if row is None:
            outcome = Outcome("failed", explain("cancelled")) if not printed else Outcome("printed")
        elif printed:
            outcome = Outcome("printed")
        else:
            outcome = Outcome("failed", explain(error or "unknown error"))
            job = Job.from_row(row)
            if job.next_attempt_at is not None:
                log.info("print job %s (%s) failed, retrying: %s", job.id, job.ticket_number, error)
            else:
                log.warning("print job %s (%s) given up: %s", job.id, job.ticket_number, error)
        waiter = self.waiters.get(job_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(outcome)
        return outcome

    async def _finish_row(
        self, conn: asyncpg.Connection, job_id: int, printed: bool, error: str | None
    ) -> asyncpg.Record | None:
        attempts = await conn.fetchval("SELECT attempts FROM print_jobs WHERE id = $1", job_id) or 1
        backoff = min(self.conf.retry_max_s, self.conf.retry_base_s * 2 ** (attempts - 1))
        return await conn.fetchrow(
            FINISH_ATTEMPT, job_id, printed, error, self.conf.max_attempts, self.conf.max_age_s, backoff
        )

    # -- the worker

    async def work_once(self) -> None:
        conf = self.conf
        async with self.pool.acquire() as conn:
            await conn.execute(GIVE_UP_OLD, self.hall.id, conf.max_age_s, "too old to print")
            await conn.execute(WIPE_OLD_DATA, self.hall.id, conf.keep_data_s)
            rows = await conn.fetch(CLAIM_DIRECT, self.hall.id, self.claimer, conf.lease_s, 20)
            by_printer: dict[int, list[asyncpg.Record]] = {}
            for row in rows:
                by_printer.setdefault(row["printer_id"], []).append(row)
            printers = {pid: Printer.from_row(await conn.fetchrow(PRINTER_BY_ID, pid)) for pid in by_printer}
        await asyncio.gather(*(self._run_jobs(printers[pid], jobs) for pid, jobs in by_printer.items()))

    async def _run_jobs(self, printer: Printer, jobs: list[asyncpg.Record]) -> None:
        for row in jobs:
            await self._direct(printer, row["id"], row["data"], at_issue=False)

    async def poll_states(self) -> None:
        async with self.pool.acquire() as conn:
            printers = [Printer.from_row(r) for r in await conn.fetch(DIRECT_PRINTERS, self.hall.id)]
        await asyncio.gather(*(self._poll(p) for p in printers))

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
            await set_state(conn, self.hall, printer.id, state.value, error)

    # -- agents

    async def serve_agent(self, ws: web.WebSocketResponse, printer: Printer) -> None:
        """Drive one connected print agent until its socket closes."""
        link = AgentLink(ws, printer, f"agent:{printer.id}:{secrets.token_hex(6)}")
        old = self.agents.get(printer.id)
        self.agents[printer.id] = link
        if old is not None:  # the agent reconnected before its old socket was noticed dead
            await old.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"replaced by a new connection")
        log.info("print agent connected for printer %s", printer.name)
        await ws.send_json(
            {
                "type": "hello",
                "printer": {
                    "name": printer.name,
                    "paper": printer.paper,
                    "encoding": printer.encoding,
                    "mode": printer.mode,
                },
            }
        )
        feeder = asyncio.create_task(self._feed_agent(link), name=f"agent-feed-{printer.name}")
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._agent_message(link, msg.data)
        finally:
            feeder.cancel()
            for waiting in link.results.values():
                waiting.cancel()
            if self.agents.get(printer.id) is link:
                del self.agents[printer.id]
            # aiohttp cancels the handler of a closed connection: the clean-up
            # runs on, shielded, so the agent's jobs are never left claimed.
            await asyncio.shield(self._agent_gone(link, feeder))

    async def _agent_gone(self, link: AgentLink, feeder: asyncio.Task[None]) -> None:
        await asyncio.gather(feeder, return_exceptions=True)
        printer = link.printer
        async with self.pool.acquire() as conn:
            await conn.execute(RELEASE_CLAIMS, link.claimer)
            if printer.id not in self.agents:
                await set_state(conn, self.hall, printer.id, "offline", "the print agent disconnected")
        log.info("print agent for printer %s disconnected", printer.name)

    async def _agent_message(self, link: AgentLink, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        state = message.get("state")
        if message.get("type") == "status" and state in STATES:
            error = message.get("error") if isinstance(message.get("error"), str) else None
            async with self.pool.acquire() as conn:
                await set_state(conn, self.hall, link.printer.id, state, error)
        elif message.get("type") == "result":
            waiting = link.results.get(message.get("id"))  # type: ignore[arg-type]
            if waiting is not None and not waiting.done():
                waiting.set_result(message)

    async def _feed_agent(self, link: AgentLink) -> None:
        conf = self.conf
        while True:
            async with self.pool.acquire() as conn:
                row = await conn.fetchrow(
                    CLAIM_FOR_AGENT, link.printer.id, link.claimer, conf.agent_result_s * 2
                )
            if row is None:
                link.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(link.wake.wait(), conf.poll_s)
                continue
            job_id: int = row["id"]
            result: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            link.results[job_id] = result
            try:
                await link.ws.send_json(
                    {
                        "type": "job",
                        "id": job_id,
                        "ticket": row["ticket_number"],
                        "data": base64.b64encode(row["data"]).decode("ascii"),
                    }
                )
                report = await asyncio.wait_for(result, conf.agent_result_s)
            except TimeoutError:
                report = {"status": "failed", "error": "the print agent did not report in time"}
            finally:
                link.results.pop(job_id, None)
            printed = report.get("status") == "printed"
            error = None if printed else str(report.get("error") or "the print agent could not print")
            state = report.get("state")
            await self.finish(
                link.printer, job_id, printed=printed, error=error,
                state=state if isinstance(state, str) else None,
            )  # fmt: skip


PRINTING = web.AppKey("printing", Printing)


async def close_agents(app: web.Application) -> None:
    """on_shutdown: agents' sockets close before the server waits for its handlers."""
    if PRINTING in app:
        await app[PRINTING].close_agents()


async def print_worker(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the print worker and printer poller of this process."""
    printing = Printing(app[DB], app[HALL], app.get(PRINT_CONF) or PrintConf())
    app[PRINTING] = printing
    printing.start()
    yield
    await printing.stop()
