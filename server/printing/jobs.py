"""Print jobs as the ticket endpoints use them (CONTRACT §8): queue, 补打, cancel, follow.

Owns the use cases that create and end jobs in the caller's transaction:

- `queue_ticket`: issuing at a kiosk with a printer renders the ESC/POS job
  (with the phone URL and its key, which exist only then) and inserts it in the
  ticket's own transaction, so a ticket is never lost to printing and a job
  never lost to a crash. The printer and the job's id are read in the ticket's
  own statement (`PRINTER_WITH_TICKET`) and the INSERT goes with the COMMIT: no
  round trip of its own. The caller then hands the `Pending` job to
  `Printing.print_now`, after the commit.
- `queue_reprint`: 补打 of a ticket on its kiosk's printer, by that kiosk or
  staff, from the phone URL its first job kept. It replaces the ticket's jobs
  still waiting (cancelled in its transaction), or waits behind the one being
  sent: a 补打 never adds a second slip (`one_slip`).
- `cancel` a waiting job; `ticket_print_status`: what the kiosk is told about a
  ticket's latest job (one cancelled in favour of another is passed over).

Where the rest lives: the rows in `printers` and `print_jobs`, what a receipt
and a failure say in `labels`, the per-process runtime (worker, state poller,
`print_now`) in `worker`, connected print agents in `agents`, time limits in
`conf`.

Rules: no printer problem ever raises out of here into a ticket request (a
ticket that cannot even be rendered is issued, its print `failed`); the key is
never logged.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from datetime import datetime

import asyncpg

from clearhall.server.domain import action_log, errors, messages, tickets
from clearhall.server.domain import hall as halls
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.issuing import Issued
from clearhall.server.printing import labels, one_slip, print_jobs
from clearhall.server.printing.print_jobs import Job, Outcome, Pending
from clearhall.server.printing.printers import PRINTER_OF_KIOSK, Printer, printer_of_kiosk
from clearhall.server.printing.worker import Printing
from clearhall.server.store.db import Connection
from clearhall.server.store.kinds import ActorKind, DeviceKind

log = logging.getLogger(__name__)


# -- the issuing kiosk's printer, read in the ticket's own statement (issuing.issue's `read`:
# -- $1 the hall, $2 the device), with the id its job will have: the job's INSERT goes with
# -- the COMMIT, and the request tries the job by its id once committed
PRINTER_WITH_TICKET = f"""
SELECT p.*, nextval(pg_get_serial_sequence('print_jobs', 'id')) AS job_id FROM ({PRINTER_OF_KIOSK}) p
"""

# Kiosks each process's runtime last found without a printer: their tickets without an
# Idempotency-Key may be issued in one statement (issuing.issue's `alone`), which steps
# back to a transaction if a printer has come since. A guess costs a round trip, never a job.
_PRINTERLESS: weakref.WeakKeyDictionary[Printing, set[int]] = weakref.WeakKeyDictionary()


def _kiosk(issuer: Principal) -> bool:
    return issuer.kind == ActorKind.DEVICE and issuer.device_kind == DeviceKind.KIOSK


def ticket_read(issuer: Principal) -> str | None:
    """What a ticket of `issuer` reads in its own statement for its print job."""
    return PRINTER_WITH_TICKET if _kiosk(issuer) else None


def printerless(printing: Printing, issuer: Principal) -> bool:
    """Whether no print job is expected to follow a ticket of `issuer` (staff: never one)."""
    return not _kiosk(issuer) or issuer.id in _PRINTERLESS.get(printing, set())


async def queue_ticket(
    conn: Connection,
    hall: Hall,
    issuer: Principal,
    issued: Issued,
    printing: Printing,
) -> Pending | None:
    """In the ticket's transaction: the print job of a kiosk that has a printer (as
    PRINTER_WITH_TICKET found it, `issued.read`), else None."""
    if not _kiosk(issuer):
        return None
    known = _PRINTERLESS.setdefault(printing, set())
    if issued.read is None:
        known.add(issuer.id)
        return None
    known.discard(issuer.id)
    found = dict(issued.read)
    job_id = found.pop("job_id")
    printer = Printer(**found | {"state_changed_at": datetime.fromisoformat(found["state_changed_at"])})
    return await _queue(
        conn, hall, printer, issued.ticket, ahead=issued.ahead, url=issued.url, reprint=False,
        printing=printing, guide=issued.guide, job_id=job_id,
    )  # fmt: skip


async def reprint(
    pool: asyncpg.Pool, hall: Hall, who: Principal, ticket_id: str, printing: Printing
) -> Pending:
    """补打: a ticket's job again, marked so, on its kiosk's printer; logged. Try it after.

    The issuing kiosk or staff only. The QR needs the phone URL with the key,
    which is stored only as a hash on the ticket: it comes from the ticket's
    first print job, which kept it for this (see docs/printer.md).
    """
    async with pool.acquire() as conn, conn.transaction():
        ticket, pending = await queue_reprint(conn, hall, who, ticket_id, printing)
        await action_log.record(
            conn, hall.id, who.actor, "reprint", ticket_id=ticket.id, ticket_number=ticket.number,
            details={"printer": pending.printer.name, "job": pending.job_id},
        )  # fmt: skip
    return pending


async def queue_reprint(
    conn: Connection, hall: Hall, who: Principal, ticket_id: str, printing: Printing
) -> tuple[tickets.Ticket, Pending]:
    """In the caller's transaction: a 补打 job of a ticket, on its kiosk's printer."""
    found = await tickets.fetch(conn, hall.id, ticket_id)
    if found is None:
        raise errors.not_found(messages.NO_TICKET)
    ticket = found[0]
    issuer = ticket.issued_by_device
    if who.kind == ActorKind.DEVICE and (who.device_kind != DeviceKind.KIOSK or who.id != issuer):
        raise errors.forbidden(messages.REPRINT_NOT_YOURS)
    # Taking the ticket's turn first: a 补打 asked twice at once, or while an
    # attempt's result is being stored, sees what the other did.
    await one_slip.lock_ticket(conn, ticket.id)
    url = await print_jobs.original_url(conn, hall.id, ticket.id)
    printer = await printer_of_kiosk(conn, hall.id, issuer) if issuer is not None else None
    if url is None or printer is None:
        raise errors.conflict(messages.NOTHING_TO_REPRINT)
    ahead, _ = await tickets.place_in_line(conn, hall.id, ticket)
    pending = await _queue(conn, hall, printer, ticket, ahead=ahead, url=url, reprint=True, printing=printing)
    return ticket, pending


async def _queue(
    conn: Connection,
    hall: Hall,
    printer: Printer,
    ticket: tickets.Ticket,
    *,
    ahead: int,
    url: str,
    reprint: bool,
    printing: Printing,
    guide: halls.Guide | None = None,
    job_id: int | None = None,
) -> Pending:
    """A job of `ticket`, rendered and inserted (with `job_id`: with the COMMIT, when it may)."""
    if guide is None:
        guide = await halls.guide(conn, ticket.service_id)
    job = labels.ticket_print(hall, ticket, ahead=ahead, url=url, reprint=reprint, guide=guide)
    try:
        # Text mode takes ~0.05 ms; a raster ticket ~20 ms, drawn off the event
        # loop so screens and windows are not held up while it draws.
        data = (
            labels.render_for(printer, job)
            if printer.mode == "text"
            else await asyncio.to_thread(labels.render_for, printer, job)
        )
    except Exception as exc:  # a missing font must not cost the citizen the ticket
        log.error("cannot render ticket %s for printer %s: %s", ticket.number, printer.name, exc)
        return Pending(printer, None, b"", f"cannot render the ticket: {exc}")
    held = False
    if reprint:
        replaced = await one_slip.replace_waiting(conn, ticket.id)
        held = replaced.sending is not None
        if replaced.cancelled:
            log.info("reprint of ticket %s cancels its waiting print jobs %s", ticket.number,
                     list(replaced.cancelled))  # fmt: skip
        if held:
            log.info("reprint of ticket %s waits behind its print job %s, being sent", ticket.number,
                     replaced.sending)  # fmt: skip
    # A direct printer's job is claimed by this request, which tries it right
    # after the commit; an agent's waits for its agent, a held one for the
    # ticket's job being sent.
    job_id = await print_jobs.insert_job(
        conn, hall.id, printer.id, ticket.id, reprint=reprint, data=data, url=None if reprint else url,
        status="queued" if printer.via_agent or held else "sent", claimer=printing.claimer,
        lease_s=printing.conf.lease_s, job_id=job_id,
    )  # fmt: skip
    return Pending(printer, job_id, data, held=held)


async def cancel(pool: asyncpg.Pool, hall: Hall, who: Principal, job_id: int) -> Job:
    """Cancel a job that is waiting or failed, logged; 404 unknown, 409 when it is printing or printed.

    Cancelling a cancelled job again answers it as it is, and logs nothing.
    """
    async with pool.acquire() as conn, conn.transaction():
        found = await print_jobs.cancel_job(conn, hall.id, job_id)
        if found is None:
            return await _not_cancelled(conn, hall.id, job_id)
        job, was = found
        await action_log.record(
            conn, hall.id, who.actor, "print_cancel", ticket_id=job.ticket_id,
            ticket_number=job.ticket_number, details={"job": job.id, "was": was},
        )  # fmt: skip
    return job


async def _not_cancelled(conn: Connection, hall_id: int, job_id: int) -> Job:
    job = await print_jobs.fetch_job(conn, hall_id, job_id)
    if job is None:
        raise errors.not_found(messages.NO_PRINT_JOB(job_id=job_id))
    if job.status == "cancelled":
        return job
    stage = "在打印" if job.status == "sent" else "打印完成"
    raise errors.conflict(messages.JOB_NOT_CANCELLABLE(stage=stage, job_id=job_id, status=job.status))


async def ticket_print_status(conn: Connection, ticket_id: str) -> Outcome | None:
    """What became of a ticket's latest print job not cancelled, for the kiosk that waits on it."""
    job = await print_jobs.latest_job_of_ticket(conn, ticket_id)
    if job is None:
        return None
    if job.status == "printed":
        return Outcome("printed")
    if job.status in ("queued", "sent"):
        return Outcome("queued")
    return Outcome("failed", labels.explain(job.last_error or "cancelled"))
