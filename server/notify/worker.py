"""The sender of one server process: `Notifying`, under the app key `NOTIFYING`.

It polls the outbox, claims due messages (any number of processes may run
one: a message is claimed by one of them at a time), hands each to the
configured notifier within `send_timeout_s`, and stores the result: sent, or
due again with backoff, or given up after `max_attempts` or `max_age_s`, with
the last error kept on the row and a warning in the log. A ticket's own
messages are sent in order (near before called); different tickets' at once.

Delivery is at least once: a process that dies between a provider's answer
and storing it leaves its claim to run out (`lease_s`), and the message is
sent again by whoever claims it next, unless it has become too old.

Every so often it also forgets the phone numbers of tickets that can no longer
be called, and old rows. The phone number never reaches a log: errors are
scrubbed of it before they are stored or logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

from clearhall.server.domain import messages
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.idcard import normalise_phone
from clearhall.server.keys import DB, HALL
from clearhall.server.notify import notifiers, outbox
from clearhall.server.notify.conf import NOTIFIER, NOTIFIER_NAME, NOTIFY_CONF, NOTIFYING, NotifyConf
from clearhall.server.notify.notifiers import CALLED, Message, Notifier, mask
from clearhall.server.notify.outbox import Claimed
from clearhall.server.store.db import DATABASE_DOWN, Connection

log = logging.getLogger(__name__)

CLAIM_BATCH = 20  # due messages claimed per round


class Notifying:
    """Per process: the notifier and the task that feeds it from the outbox."""

    def __init__(self, pool: asyncpg.Pool, hall: Hall, notifier: Notifier, conf: NotifyConf) -> None:
        self.pool, self.hall, self.notifier, self.conf = pool, hall, notifier, conf
        self.claimer = f"notify:{os.getpid()}:{secrets.token_hex(4)}"
        self.task: asyncio.Task[None] | None = None
        self.swept_at = 0.0

    def start(self) -> None:
        self.task = asyncio.create_task(self._forever(), name="notify-worker")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _forever(self) -> None:
        while True:
            try:
                if time.monotonic() - self.swept_at >= self.conf.sweep_s:
                    await self.sweep()
                await self.work_once()
            except (*DATABASE_DOWN, asyncpg.PostgresError) as exc:
                log.warning("notify: %s (will try again)", exc)
            except Exception:
                log.exception("notify: unexpected error (will try again)")
            await asyncio.sleep(self.conf.poll_s)

    async def sweep(self) -> None:
        async with self.pool.acquire() as conn:
            await outbox.sweep(conn, self.hall.id, self.conf.keep_contact_s, self.conf.keep_rows_days)
        self.swept_at = time.monotonic()

    async def work_once(self) -> int:
        """Send what is due now; returns how many messages were claimed."""
        async with self.pool.acquire() as conn:
            for row in await outbox.give_up_old(conn, self.hall.id, self.conf.max_age_s):
                log.warning("notify message %s (%s %s) given up: too late to send",
                            row["id"], row["kind"], row["ticket_number"])  # fmt: skip
            claimed = await outbox.claim(conn, self.hall.id, self.claimer, self.conf.lease_s, CLAIM_BATCH)
        by_ticket: dict[str, list[Claimed]] = {}
        for item in claimed:
            by_ticket.setdefault(item.ticket_id, []).append(item)
        await asyncio.gather(*(self._send_in_order(items) for items in by_ticket.values()))
        return len(claimed)

    async def _send_in_order(self, items: list[Claimed]) -> None:
        for item in items:
            await self.send(item)

    async def send(self, item: Claimed) -> None:
        if item.address is None or item.channel is None:
            return await self._failed(item, "no contact kept for this ticket", final=True)
        message = self.message(item, item.channel, item.address)
        try:
            async with asyncio.timeout(self.conf.send_timeout_s):
                await self.notifier.send(message)
        except TimeoutError:
            return await self._failed(item, f"no answer within {self.conf.send_timeout_s:g} s")
        except Exception as exc:  # a notifier's failure, whatever it is, is a failed attempt
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return await self._failed(item, scrub(error, item.address))
        async with self.pool.acquire() as conn:
            await outbox.sent(conn, item.id)

    def message(self, item: Claimed, channel: str, address: str) -> Message:
        hall, number = self.hall.name, item.ticket_number
        if item.kind == CALLED:
            text = messages.NOTIFY_CALLED(hall=hall, number=number, window=item.window_number)
        elif item.ahead == 0:
            text = messages.NOTIFY_NEXT(hall=hall, number=number)
        else:
            text = messages.NOTIFY_NEAR(hall=hall, number=number, ahead=item.ahead)
        return Message(
            id=item.id, kind=item.kind, channel=channel, address=address, ticket_number=number,
            hall=hall, text=text, window=item.window_number, ahead=item.ahead,
        )  # fmt: skip

    async def _failed(self, item: Claimed, error: str, *, final: bool = False) -> None:
        conf = self.conf
        backoff = min(conf.retry_max_s, conf.retry_base_s * 2 ** (item.attempts - 1))
        async with self.pool.acquire() as conn:
            result = await outbox.failed(
                conn, item.id, error[:500], backoff_s=backoff, max_attempts=conf.max_attempts, final=final
            )
        if result is None:
            return  # no longer ours: given up meanwhile as too old
        status, attempts = result
        if status == "failed":
            log.warning("notify message %s (%s %s) given up after %d attempt(s): %s",
                        item.id, item.kind, item.ticket_number, attempts, error)  # fmt: skip
        else:
            log.info("notify message %s (%s %s) failed, retrying in %.0f s: %s",
                     item.id, item.kind, item.ticket_number, backoff, error)  # fmt: skip


def scrub(text: str, address: str) -> str:
    """An error as it may be stored and logged: a provider may echo the number it was given."""
    return text.replace(address, mask(address)) if address else text


def keeps_contact(app: web.Application, phone: str | None) -> bool:
    """Whether a new ticket's phone number is kept: only where this process sends notifications."""
    return phone is not None and NOTIFYING in app


async def keep_contact(
    conn: Connection, app: web.Application, hall_id: int, ticket_id: str, phone: str | None
) -> None:
    """Keep a new ticket's phone number for its alerts, in the ticket's own transaction
    (`keeps_contact`)."""
    if phone is not None and keeps_contact(app, phone):
        await outbox.keep_contact(conn, hall_id, ticket_id, "sms", normalise_phone(phone))


async def notify_worker(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: this process's sender, when the hall file names a notifier."""
    conf = app.get(NOTIFY_CONF) or NotifyConf()
    notifier = app.get(NOTIFIER)
    if notifier is None:
        notifier = notifiers.named(app.get(NOTIFIER_NAME, "none"))
    if notifier is None:
        # Nothing to send; phone numbers kept under an earlier configuration still go when due.
        with contextlib.suppress(*DATABASE_DOWN, asyncpg.PostgresError):
            async with app[DB].acquire() as conn:
                await outbox.sweep(conn, app[HALL].id, conf.keep_contact_s, conf.keep_rows_days)
        yield
        return
    notifying = Notifying(app[DB], app[HALL], notifier, conf)
    app[NOTIFYING] = notifying
    notifying.start()
    yield
    await notifying.stop()
