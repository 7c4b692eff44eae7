"""The print agent: prints a kiosk's tickets on a printer the server cannot reach.

For printers attached to the kiosk PC (USB, serial) or on its own network:

    clearhall printer-agent --server https://hall.example.cn --token TOKEN --printer usb://04b8:0202

It connects to the server's `GET /api/printer-agent` WebSocket with a device
token (the kiosk's own, or a printer device named like the `agent://` printer
in the hall file), receives that printer's jobs as ESC/POS bytes (base64, one
at a time), prints each with `printer.transport.print_job`, the delivery the
server's own print worker uses (probe, refuse a printer that cannot print, send;
on a network printer, confirmed by a status byte), and answers
``{"type": "result", "id", "status": "printed"|"failed", "error", "state"}``.
Every `status_interval` seconds, and at once on connecting, it reports the
printer's state (``{"type": "status", "state", "error"}``).

Rules: it never stops on its own. A lost or refused connection is retried with
exponential backoff (1 s doubling to 30 s, with jitter), reset after each
successful connection; heartbeats on the socket notice a dead server. The token
is never logged.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import random
from dataclasses import dataclass
from typing import Any, Final

import aiohttp

from clearhall.printer.status import PrinterState
from clearhall.printer.transport import Address, PrinterNotReady, PrintError, parse_address, print_job, probe

log = logging.getLogger("clearhall.agent")

PATH: Final = "/api/printer-agent"
HEARTBEAT_S: Final = 20.0


@dataclass(frozen=True)
class AgentConf:
    server: str  # http(s)://host[:port] of the hall server
    token: str
    printer: str  # the local printer's address
    status_interval: float = 10.0
    job_timeout: float = 10.0  # each of probe and send
    backoff_first: float = 1.0
    backoff_max: float = 30.0


def socket_url(server: str) -> str:
    return server.rstrip("/") + PATH


class Agent:
    """``await Agent(conf).run()`` until cancelled; `connections` counts successful connects."""

    def __init__(self, conf: AgentConf) -> None:
        address = parse_address(conf.printer)
        if str(address) == "agent://":
            raise ValueError("--printer must be the printer itself (tcp://, usb://, serial://, file://)")
        self.conf = conf
        self.address: Address = address
        self.connections = 0
        self.printed = 0
        self.connected = asyncio.Event()

    async def run(self) -> None:
        delay = self.conf.backoff_first
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    await self._session(session)
                    delay = self.conf.backoff_first  # it was up: start again gently
                except aiohttp.WSServerHandshakeError as exc:
                    log.warning("server refused the agent (%s %s): check the token", exc.status, exc.message)
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    log.warning("cannot reach %s: %s", socket_url(self.conf.server), type(exc).__name__)
                finally:
                    self.connected.clear()
                wait = delay * random.uniform(0.8, 1.2)
                log.info("reconnecting in %.1f s", wait)
                await asyncio.sleep(wait)
                delay = min(self.conf.backoff_max, delay * 2)

    async def _session(self, session: aiohttp.ClientSession) -> None:
        headers = {"Authorization": f"Bearer {self.conf.token}"}
        async with session.ws_connect(
            socket_url(self.conf.server), headers=headers, heartbeat=HEARTBEAT_S, autoping=True
        ) as ws:
            self.connections += 1
            self.connected.set()
            log.info("connected to %s for printer %s", self.conf.server, self.address)
            jobs: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
            workers = [
                asyncio.create_task(self._print_jobs(ws, jobs)),
                asyncio.create_task(self._report_status(ws)),
            ]
            try:
                async for msg in ws:
                    if msg.type is not aiohttp.WSMsgType.TEXT:
                        continue
                    with contextlib.suppress(ValueError):
                        message = json.loads(msg.data)
                        if isinstance(message, dict) and message.get("type") == "job":
                            jobs.put_nowait(message)
                        elif isinstance(message, dict) and message.get("type") == "hello":
                            log.info("serving printer %s", message.get("printer", {}).get("name"))
            finally:
                for task in workers:
                    task.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
                if not ws.closed:  # stopped: say goodbye, so the server hands the jobs back at once
                    with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                        async with asyncio.timeout(1.0):
                            await ws.close()
            log.warning("the server closed the connection (%s)", ws.close_code)

    async def _print_jobs(
        self, ws: aiohttp.ClientWebSocketResponse, jobs: asyncio.Queue[dict[str, Any]]
    ) -> None:
        while True:
            job = await jobs.get()
            result = await self.print_one(job)
            await ws.send_json(result)

    async def print_one(self, job: dict[str, Any]) -> dict[str, Any]:
        """Print one job message; the result message to send back."""
        job_id = job.get("id")
        failed: dict[str, Any] = {"type": "result", "id": job_id, "status": "failed"}
        try:
            data = base64.b64decode(str(job.get("data", "")), validate=True)
        except (binascii.Error, ValueError):
            return failed | {"error": "the job was not valid base64"}
        try:
            state = await print_job(self.address, data, timeout=self.conf.job_timeout)
        except PrinterNotReady as exc:
            return failed | {"error": str(exc), "state": exc.state.value}
        except PrintError as exc:
            return failed | {"error": str(exc), "state": PrinterState.OFFLINE.value}
        self.printed += 1
        log.info("printed ticket %s", job.get("ticket"))
        return {"type": "result", "id": job_id, "status": "printed", "error": None, "state": state.value}

    async def _report_status(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            try:
                state = await probe(self.address, timeout=min(2.0, self.conf.job_timeout))
                error = None if state is PrinterState.READY else f"printer {self.address} is {state.value}"
            except PrintError as exc:
                state, error = PrinterState.OFFLINE, str(exc)
            await ws.send_json({"type": "status", "state": state.value, "error": error})
            await asyncio.sleep(self.conf.status_interval)


async def run_agent(conf: AgentConf) -> None:
    await Agent(conf).run()
