"""One slip per ticket: the rule that keeps a ticket's print jobs from printing it twice.

A ticket may have several jobs (its first, retried after a paper-out, and
补打). What comes out of the printer is at most one slip for each time it was
asked for:

- A ticket's jobs are sent one at a time, the oldest waiting first
  (`ONE_AT_A_TIME`, part of every claim): a job waits while another of its
  ticket is being sent, or an older one is still waiting.
- The attempt that prints cancels the ticket's other waiting jobs in the
  statement that records it (print_jobs.FINISH_ATTEMPT).
- A 补打 replaces the ticket's waiting jobs: they are cancelled in the
  transaction that queues it (`replace_waiting`). A job already being sent
  cannot be called back: the 补打 waits behind it and is cancelled if it
  prints; if it fails, it is cancelled instead and the 补打 prints
  (`NEWER_WAITING`).
- A job being sent is never cancelled, so no sender ever sends a cancelled job.

Whoever changes which of a ticket's jobs may print (a 补打, an attempt's
result) first locks the ticket's first job, the ticket's stand-in: they take
turns, and each one's next statement sees what the other did. Claims skip
locked rows and never wait for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from clearhall.server.store.db import Connection

# A job still waiting to print: queued, or failed with a retry to come.
WAITING = "({j}.status = 'queued' OR ({j}.status = 'failed' AND {j}.next_attempt_at IS NOT NULL))"

# -- one job of a ticket at a time, the oldest first (for a claim of `pj`): a
# -- waiting job is held while another of its ticket is being sent or an older
# -- one waits; a job whose sender vanished goes unless an older one is out too
ONE_AT_A_TIME = f"""
NOT EXISTS (
    SELECT 1 FROM print_jobs o
    WHERE o.ticket_id = pj.ticket_id AND o.id <> pj.id
      AND ((o.status = 'sent' AND (pj.status <> 'sent' OR o.id < pj.id))
           OR (pj.status <> 'sent' AND o.id < pj.id AND {WAITING.format(j="o")}))
)"""

# A newer job of the ticket of job `{j}` waits: a 补打 asked for while it was out.
NEWER_WAITING = f"""EXISTS (
    SELECT 1 FROM print_jobs o
    WHERE o.ticket_id = {{j}}.ticket_id AND o.id > {{j}}.id AND {WAITING.format(j="o")}
)"""

# -- the ticket's first job stands for the ticket (FOR UPDATE waits for whoever holds it)
LOCK_TICKET = "SELECT id FROM print_jobs WHERE ticket_id = $1 ORDER BY id LIMIT 1 FOR UPDATE"

LOCK_TICKET_OF_JOB = """
SELECT f.id FROM print_jobs f
WHERE f.ticket_id = (SELECT ticket_id FROM print_jobs WHERE id = $1)
ORDER BY f.id LIMIT 1 FOR UPDATE
"""

# -- a 补打 replaces the ticket's jobs still waiting
CANCEL_WAITING_OF_TICKET = f"""
UPDATE print_jobs j SET status = 'cancelled', next_attempt_at = NULL
WHERE j.ticket_id = $1 AND {WAITING.format(j="j")}
RETURNING j.id
"""

SENDING_OF_TICKET = "SELECT id FROM print_jobs WHERE ticket_id = $1 AND status = 'sent' ORDER BY id LIMIT 1"


@dataclass(frozen=True)
class Replaced:
    """What a new 补打 found: the ticket's waiting jobs it cancelled, the job being sent now."""

    cancelled: tuple[int, ...]
    sending: int | None


async def lock_ticket(conn: Connection, ticket_id: str) -> None:
    """In the caller's transaction: wait for the ticket's turn, and hold it until commit."""
    await conn.fetchval(LOCK_TICKET, ticket_id)


async def lock_ticket_of_job(conn: Connection, job_id: int) -> None:
    await conn.fetchval(LOCK_TICKET_OF_JOB, job_id)


async def replace_waiting(conn: Connection, ticket_id: str) -> Replaced:
    """After `lock_ticket`, before queueing a 补打: cancel the ticket's waiting jobs.

    The job being sent, if any, is named: the 补打 is queued behind it.
    """
    cancelled = tuple(r["id"] for r in await conn.fetch(CANCEL_WAITING_OF_TICKET, ticket_id))
    sending: int | None = await conn.fetchval(SENDING_OF_TICKET, ticket_id)
    return Replaced(cancelled, sending)
