"""Print agents (CONTRACT §8): driving an `agent://` printer through the agent connected for it.

A print agent (printer/agent.py) runs where the printer is and connects over
the WebSocket `GET /api/printer-agent`. This module owns the server's side of
that conversation:

- on connecting, the agent is told its printer (``{"type": "hello",
  "printer": {name, paper, encoding, mode}}``);
- it is fed its printer's jobs one at a time (``{"type": "job", "id",
  "ticket", "data": base64}``), each claimed for it in the database, and
  answers each with ``{"type": "result", "id", "status", "error", "state"}``
  within `agent_result_s`, or the job counts as failed;
- it reports its printer's state (``{"type": "status", "state", "error"}``),
  which is stored as the printer's;
- when it goes away, the jobs it held are queued again and, unless it has
  already reconnected, its printer is ``offline``.

Rules: one agent per printer per process; an agent that connects again
replaces its old socket. A job's result is stored by the runtime's `finish`,
the same as a job the server printed itself. Job bytes are never logged.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import asyncpg
from aiohttp import WSCloseCode, WSMsgType, web

from clearhall.server.domain.hall import Hall
from clearhall.server.printing import print_jobs
from clearhall.server.printing.conf import PrintConf
from clearhall.server.printing.print_jobs import Outcome
from clearhall.server.printing.printers import STATES, Printer, set_state

log = logging.getLogger(__name__)

AGENT_HEARTBEAT_S: Final = 20.0


class Finish(Protocol):
    """Stores an attempt's result (`Printing.finish`)."""

    async def __call__(
        self, printer: Printer, job_id: int, *, printed: bool, error: str | None, state: str | None
    ) -> Outcome: ...


@dataclass(eq=False)
class AgentLink:
    """One connected print agent and the job it has been sent."""

    ws: web.WebSocketResponse
    printer: Printer
    claimer: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    results: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)


class Agents:
    """The print agents connected to this process, by printer id."""

    def __init__(self, pool: asyncpg.Pool, hall: Hall, conf: PrintConf, finish: Finish) -> None:
        self.pool, self.hall, self.conf, self.finish = pool, hall, conf, finish
        self.links: dict[int, AgentLink] = {}

    def connected(self, printer_id: int) -> bool:
        """Whether the printer's agent is connected to this process."""
        return printer_id in self.links

    def wake(self, printer_id: int) -> None:
        """A job of the printer is due: feed it to its agent now, not at the next poll."""
        link = self.links.get(printer_id)
        if link is not None:
            link.wake.set()

    async def close(self) -> None:
        for link in list(self.links.values()):
            await link.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")

    async def serve(self, ws: web.WebSocketResponse, printer: Printer) -> None:
        """Drive one connected print agent until its socket closes."""
        link = AgentLink(ws, printer, f"agent:{printer.id}:{secrets.token_hex(6)}")
        old = self.links.get(printer.id)
        self.links[printer.id] = link
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
        feeder = asyncio.create_task(self._feed(link), name=f"agent-feed-{printer.name}")
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._message(link, msg.data)
        finally:
            feeder.cancel()
            for waiting in link.results.values():
                waiting.cancel()
            if self.links.get(printer.id) is link:
                del self.links[printer.id]
            # aiohttp cancels the handler of a closed connection: the clean-up
            # runs on, shielded, so the agent's jobs are never left claimed.
            await asyncio.shield(self._gone(link, feeder))

    async def _gone(self, link: AgentLink, feeder: asyncio.Task[None]) -> None:
        await asyncio.gather(feeder, return_exceptions=True)
        printer = link.printer
        async with self.pool.acquire() as conn:
            cancelled = await print_jobs.release_claims(conn, link.claimer)
            if printer.id not in self.links:
                await set_state(conn, self.hall, printer.id, "offline", "the print agent disconnected")
        log.info("print agent for printer %s disconnected", printer.name)
        if cancelled:
            log.info("print jobs %s cancelled untried: newer jobs of their tickets wait", cancelled)

    async def _message(self, link: AgentLink, text: str) -> None:
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

    async def _feed(self, link: AgentLink) -> None:
        conf = self.conf
        while True:
            async with self.pool.acquire() as conn:
                claimed = await print_jobs.claim_for_agent(
                    conn, link.printer.id, link.claimer, conf.agent_result_s * 2
                )
            if claimed is None:
                link.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(link.wake.wait(), conf.poll_s)
                continue
            job, data = claimed
            result: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            link.results[job.id] = result
            try:
                await link.ws.send_json(
                    {
                        "type": "job",
                        "id": job.id,
                        "ticket": job.ticket_number,
                        "data": base64.b64encode(data).decode("ascii"),
                    }
                )
                report = await asyncio.wait_for(result, conf.agent_result_s)
            except TimeoutError:
                report = {"status": "failed", "error": "the print agent did not report in time"}
            finally:
                link.results.pop(job.id, None)
            printed = report.get("status") == "printed"
            error = None if printed else str(report.get("error") or "the print agent could not print")
            state = report.get("state")
            await self.finish(
                link.printer, job.id, printed=printed, error=error,
                state=state if isinstance(state, str) else None,
            )  # fmt: skip
