"""The `print_jobs` rows (CONTRACT §8): the queue of ESC/POS jobs, one function per query.

A job is queued → sent → printed, or failed with `next_attempt_at` set for a
retry with exponential backoff (NULL: given up after `max_attempts` or
`max_age_s`), or cancelled. Claims are one UPDATE over a
`FOR UPDATE SKIP LOCKED` subquery, so two server processes never send one job
twice; a claim carries a lease, and a job whose sender vanished is due again
when the lease runs out. A job's bytes and the phone URL it keeps for 补打 hold
the ticket's key: they are never returned by a listing, never logged, and
wiped after `keep_data_s`.

A ticket's jobs print one slip between them: the rule, and the fragments
of it in the claims and the finish below, are in `one_slip`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from clearhall.server.domain import tickets
from clearhall.server.printing import one_slip
from clearhall.server.printing.conf import PrintConf
from clearhall.server.printing.one_slip import NEWER_WAITING, ONE_AT_A_TIME, WAITING
from clearhall.server.printing.printers import Printer
from clearhall.server.store.db import Connection, literal, on_commit


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
    """What the kiosk is told: `"print": {"status", "error"}`; `error` is a code
    (labels.PRINT_FAULTS), which the kiosk words in its own language."""

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
    # Queued behind the ticket's job being sent (a 补打 asked for meanwhile):
    # not this request's to send; the worker sends it if that one fails.
    held: bool = False


@dataclass(frozen=True)
class Finished:
    """An attempt's result as stored, and the ticket's waiting jobs its print cancelled."""

    job: Job
    cancelled: tuple[int, ...]


JOB_COLUMNS = """
    j.id, j.printer_id, j.ticket_id, t.number AS ticket_number, j.reprint, j.status, j.attempts,
    j.last_error, j.next_attempt_at, j.created_at, j.printed_at
"""

# -- $10: its id, when taken beforehand (issuing reads it with the ticket)
INSERT_JOB = """
INSERT INTO print_jobs (id, hall_id, printer_id, ticket_id, reprint, data, url, status, attempts,
                        claimed_by, lease_until, sent_at, next_attempt_at)
VALUES (coalesce($10::bigint, nextval(pg_get_serial_sequence('print_jobs', 'id'))),
        $1, $2, $3, $4, $5, $6, $7,
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
      AND {ONE_AT_A_TIME}
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
    SELECT pj.id FROM print_jobs pj
    WHERE pj.printer_id = $1 AND pj.data IS NOT NULL
      AND ((pj.status IN ('queued', 'failed') AND pj.next_attempt_at <= now())
           OR (pj.status = 'sent' AND pj.lease_until < now()))
      AND {ONE_AT_A_TIME}
    ORDER BY pj.next_attempt_at, pj.id
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

ATTEMPTS = "SELECT attempts FROM print_jobs WHERE id = $1"

# -- an attempt ended: printed, or failed and due again after its backoff,
# -- unless it has had its attempts, is too old to be worth printing, or a
# -- newer job of the ticket waits to take over (then it is cancelled)
FINISH_ATTEMPT = f"""
WITH newer AS (
    SELECT {NEWER_WAITING.format(j="x")} AS waits FROM print_jobs x WHERE x.id = $1
), j AS (
    UPDATE print_jobs SET
        status = CASE WHEN $2 THEN 'printed' WHEN newer.waits THEN 'cancelled' ELSE 'failed' END,
        last_error = CASE WHEN $2 THEN last_error ELSE $3 END,
        printed_at = CASE WHEN $2 THEN now() END,
        next_attempt_at = CASE
            WHEN $2 OR newer.waits OR attempts >= $4 OR created_at < now() - make_interval(secs => $5)
            THEN NULL
            ELSE now() + make_interval(secs => $6) END,
        claimed_by = NULL, lease_until = NULL
    FROM newer
    WHERE id = $1 AND status = 'sent'
    RETURNING print_jobs.*
), dropped AS (
    -- the ticket is on paper: its other jobs still waiting never print
    UPDATE print_jobs o SET status = 'cancelled', next_attempt_at = NULL
    FROM j
    WHERE $2 AND o.ticket_id = j.ticket_id AND o.id <> j.id AND {WAITING.format(j="o")}
    RETURNING o.id
)
SELECT {JOB_COLUMNS}, ARRAY(SELECT id FROM dropped ORDER BY id) AS cancelled
FROM j JOIN tickets t ON t.id = j.ticket_id
"""

# -- the sender never tried (the printer was busy): back in the queue, untouched,
# -- or cancelled when a newer job of the ticket waits to take over
UNCLAIM = f"""
UPDATE print_jobs j SET
    status = CASE WHEN {NEWER_WAITING.format(j="j")} THEN 'cancelled' ELSE 'queued' END,
    attempts = greatest(attempts - 1, 0), claimed_by = NULL, lease_until = NULL,
    next_attempt_at = CASE WHEN {NEWER_WAITING.format(j="j")} THEN NULL ELSE now() END
WHERE j.id = $1 AND j.status = 'sent'
RETURNING j.status
"""

# -- an agent went away: the jobs it held go back to the queue (or make way
# -- for a newer job of their ticket)
RELEASE_CLAIMS = f"""
UPDATE print_jobs j SET
    status = CASE WHEN {NEWER_WAITING.format(j="j")} THEN 'cancelled' ELSE 'queued' END,
    claimed_by = NULL, lease_until = NULL,
    next_attempt_at = CASE WHEN {NEWER_WAITING.format(j="j")} THEN NULL ELSE now() END
WHERE j.claimed_by = $1 AND j.status = 'sent'
RETURNING j.id, j.status
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

# -- cancel a waiting or failed job, saying what it was
CANCEL = f"""
WITH old AS (
    SELECT id, status FROM print_jobs
    WHERE id = $1 AND hall_id = $2 AND status IN ('queued', 'failed')
    FOR UPDATE
), j AS (
    UPDATE print_jobs pj SET status = 'cancelled', next_attempt_at = NULL, claimed_by = NULL,
        lease_until = NULL
    FROM old WHERE pj.id = old.id
    RETURNING pj.*
)
SELECT {JOB_COLUMNS}, old.status AS was FROM j JOIN tickets t ON t.id = j.ticket_id JOIN old ON old.id = j.id
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

# -- the ticket's latest job that was not cancelled (a cancelled 补打 does not
# -- hide the slip that printed), else its latest
LATEST_JOB_OF_TICKET = f"""
SELECT {JOB_COLUMNS} FROM print_jobs j JOIN tickets t ON t.id = j.ticket_id
WHERE j.ticket_id = $1 ORDER BY j.status = 'cancelled', j.id DESC LIMIT 1
"""


async def insert_job(
    conn: Connection,
    hall_id: int,
    printer_id: int,
    ticket_id: str,
    *,
    reprint: bool,
    data: bytes,
    url: str | None,
    status: str,
    claimer: str,
    lease_s: float,
    job_id: int | None = None,
) -> int:
    """A new job, `queued`, or `sent`: claimed by `claimer` for `lease_s` to be tried at once.
    With its `job_id` taken beforehand, it goes with the COMMIT when the transaction lets it wait."""
    values = (hall_id, printer_id, ticket_id, reprint, data, url, status, claimer, lease_s, job_id)
    if job_id is not None:
        written = [_sql_value(v) for v in values]
        if on_commit(conn, re.sub(r"\$(\d+)", lambda m: written[int(m[1]) - 1], INSERT_JOB)):  # in one pass
            return job_id
    new_id: int = await conn.fetchval(INSERT_JOB, *values)
    return new_id


def _sql_value(value: object) -> str:
    """A value written into a statement that waits for the COMMIT (`db.on_commit`)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, bytes):
        return f"decode('{value.hex()}', 'hex')"
    return literal(str(value))


async def original_url(conn: Connection, hall_id: int, ticket_id: str) -> str | None:
    url: str | None = await conn.fetchval(ORIGINAL_URL, ticket_id, hall_id)
    return url


async def claim_direct(
    conn: Connection, hall_id: int, claimer: str, lease_s: float, limit: int
) -> list[tuple[Job, bytes]]:
    """Due jobs of printers the server reaches itself, with their bytes, now `claimer`'s."""
    rows = await conn.fetch(CLAIM_DIRECT, hall_id, claimer, lease_s, limit)
    return [(Job.from_row(row), row["data"]) for row in rows]


async def claim_for_agent(
    conn: Connection, printer_id: int, claimer: str, lease_s: float
) -> tuple[Job, bytes] | None:
    row = await conn.fetchrow(CLAIM_FOR_AGENT, printer_id, claimer, lease_s)
    return (Job.from_row(row), row["data"]) if row else None


async def finish_attempt(
    conn: Connection, conf: PrintConf, job_id: int, *, printed: bool, error: str | None
) -> Finished | None:
    """Store an attempt's result; None when the job was no longer being sent (cancelled).

    A print cancels the ticket's other waiting jobs in the same statement; a
    failure with a newer job of the ticket waiting cancels this one instead.
    """
    async with conn.transaction():
        await one_slip.lock_ticket_of_job(conn, job_id)
        attempts = await conn.fetchval(ATTEMPTS, job_id) or 1
        backoff = min(conf.retry_max_s, conf.retry_base_s * 2 ** (attempts - 1))
        row = await conn.fetchrow(
            FINISH_ATTEMPT, job_id, printed, error, conf.max_attempts, conf.max_age_s, backoff
        )
    return Finished(Job.from_row(row), tuple(row["cancelled"])) if row else None


async def unclaim(conn: Connection, job_id: int) -> bool:
    """Back in the queue, untried; False when a newer job of its ticket took over (cancelled)."""
    async with conn.transaction():
        await one_slip.lock_ticket_of_job(conn, job_id)
        status = await conn.fetchval(UNCLAIM, job_id)
    return status != "cancelled"


async def release_claims(conn: Connection, claimer: str) -> list[int]:
    """Jobs `claimer` held back in the queue; the ids of those cancelled for a newer job instead.

    Without the tickets' locks: a newer job it does not see yet waits behind the
    released one (`ONE_AT_A_TIME`), and is cancelled when that one prints.
    """
    rows = await conn.fetch(RELEASE_CLAIMS, claimer)
    return [r["id"] for r in rows if r["status"] == "cancelled"]


async def give_up_old(conn: Connection, hall_id: int, max_age_s: float, reason: str) -> None:
    await conn.execute(GIVE_UP_OLD, hall_id, max_age_s, reason)


async def wipe_old_data(conn: Connection, hall_id: int, keep_s: float) -> None:
    await conn.execute(WIPE_OLD_DATA, hall_id, keep_s)


async def cancel_job(conn: Connection, hall_id: int, job_id: int) -> tuple[Job, str] | None:
    """Cancel a job that is queued or failed: (the job, its status before); None when none waits."""
    row = await conn.fetchrow(CANCEL, job_id, hall_id)
    return (Job.from_row(row), row["was"]) if row else None


async def fetch_job(conn: Connection, hall_id: int, job_id: int) -> Job | None:
    row = await conn.fetchrow(SELECT_JOB, job_id, hall_id)
    return Job.from_row(row) if row else None


async def recent_jobs(
    conn: Connection, hall_id: int, status: str | None, limit: int = 100
) -> list[asyncpg.Record]:
    """The latest jobs with their printer's name (`printer`), never their bytes."""
    return list(await conn.fetch(RECENT_JOBS, hall_id, status, limit))


async def latest_job_of_ticket(conn: Connection, ticket_id: str) -> Job | None:
    row = await conn.fetchrow(LATEST_JOB_OF_TICKET, ticket_id)
    return Job.from_row(row) if row else None
