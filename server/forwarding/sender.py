"""The forwarding runtime of one server process: `Forwarder` claims due outbox
rows, POSTs each to the provincial platform, and marks it sent (2xx) or due
again with backoff (anything else: an error status, a refused connection, a
timeout). Several processes share the work without sending a row twice at the
same time (outbox.claim); a process that dies mid-send leaves its rows to be
claimed again when their lease runs out, so the platform may see one item
twice on the wire, always with the same Idempotency-Key.

The bearer token is sent, never logged; errors are logged by status or
exception type only.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

from clearhall.server.domain.hall import Hall
from clearhall.server.forwarding import outbox
from clearhall.server.forwarding.payload import Target, follow_up_payload, rating_payload

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForwardConf:
    """Time limits of forwarding; tests shorten them through `FORWARD_CONF`."""

    poll_s: float = 2.0  # how often due rows are looked for
    timeout_s: float = 10.0  # one POST, connect to answer
    retry_base_s: float = 5.0  # first retry after this, doubling each time …
    retry_max_s: float = 600.0  # … up to this; never given up
    lease_s: float = 60.0  # a row claimed by a sender that vanished is due again after this
    batch: int = 20


FORWARD_CONF = web.AppKey("forward_conf", ForwardConf)


class Forwarder:
    """Per process: the task that forwards due outbox rows of one hall to one target."""

    def __init__(self, pool: asyncpg.Pool, hall: Hall, target: Target, conf: ForwardConf) -> None:
        self.pool, self.hall, self.target, self.conf = pool, hall, target, conf
        self.task: asyncio.Task[None] | None = None
        self.session: aiohttp.ClientSession | None = None

    def start(self) -> None:
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.conf.timeout_s))
        self.task = asyncio.create_task(self._forever(), name="rating-forwarder")

    async def stop(self) -> None:
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        if self.session:
            await self.session.close()

    async def _forever(self) -> None:
        while True:
            try:
                while await self.send_due():
                    pass  # a full batch: there may be more at once
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("forwarding: %s (will try again)", exc)
            except Exception:
                log.exception("forwarding: unexpected error (will try again)")
            await asyncio.sleep(self.conf.poll_s)

    async def send_due(self) -> bool:
        """Send one batch of due rows; True when the batch was full."""
        async with self.pool.acquire() as conn:
            items = await outbox.claim(conn, self.hall.id, self.conf.batch, self.conf.lease_s)
        for item in items:
            await self.send(item)
        return len(items) == self.conf.batch

    async def send(self, item: outbox.Item) -> None:
        async with self.pool.acquire() as conn:
            body = await self.body(conn, item)
        error = await self.post(item, body) if body is not None else f"no {item.kind} {item.ref_id} to send"
        async with self.pool.acquire() as conn:
            if error is None:
                await outbox.sent(conn, item.id)
            else:
                log.warning("forwarding %s %s: %s (attempt %d)", item.kind, item.ref_id, error, item.attempts)
                await outbox.again(conn, item.id, error, self.conf.retry_base_s, self.conf.retry_max_s)

    async def body(self, conn: Any, item: outbox.Item) -> dict[str, Any] | None:
        if item.kind == "rating":
            return await rating_payload(conn, item.ref_id, self.target, self.hall.timezone)
        return await follow_up_payload(conn, item.ref_id, self.target, self.hall.timezone)

    async def post(self, item: outbox.Item, body: dict[str, Any]) -> str | None:
        """None when the platform took it (2xx), else what went wrong, without secrets."""
        assert self.session is not None
        headers = {"Idempotency-Key": item.idempotency_key}
        if self.target.token:
            headers["Authorization"] = f"Bearer {self.target.token}"
        try:
            async with self.session.post(self.target.url, json=body, headers=headers) as resp:
                if 200 <= resp.status < 300:
                    return None
                return f"HTTP {resp.status}"
        except TimeoutError:
            return f"no answer within {self.conf.timeout_s:g} s"
        except aiohttp.ClientError as exc:
            return type(exc).__name__
