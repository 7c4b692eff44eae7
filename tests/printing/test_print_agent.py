"""The print agent end to end: a real `Agent` against the running test server,
printing a kiosk's tickets into a file, and finding its way back after the
server drops the socket."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg

from clearhall.printer import agent as agent_module
from clearhall.printer.agent import Agent, AgentConf
from clearhall.printer.decode import QrCode, decode, lines
from clearhall.printer.render import render
from clearhall.printer.samples import sample_ticket
from clearhall.printer.status import STATUS_PRINTER, status_request
from clearhall.server.keys import PRINTING
from clearhall.server.printing import worker
from tests.conftest import DISPLAY, KIOSK, Api
from tests.helpers import eventually, issue_timed, printer_conf, printing_server
from tests.printer.fake_printer import FakePrinter, Mode


@contextlib.asynccontextmanager
async def running(agent: Agent) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(agent.run())
    try:
        await asyncio.wait_for(agent.connected.wait(), 5)
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def jobs_in(path: Path) -> list[bytes]:
    data = path.read_bytes() if path.exists() else b""
    return [b"\x1b@" + part for part in data.split(b"\x1b@")[1:]]


async def printer_state(api: Api) -> str:
    r = await api.get("/api/printers", token=await api.login("boss"))
    state: str = r.body["printers"][0]["state"]
    return state


async def test_agent_prints_a_kiosk_ticket_and_reconnects(db_url: str, tmp_path: Path) -> None:
    paper = tmp_path / "printer.bin"
    async with printing_server(db_url, printer_conf("agent://")) as (server, api):
        base = str(server.make_url("")).rstrip("/")
        agent = Agent(
            AgentConf(base, KIOSK, f"file://{paper}", status_interval=0.2, backoff_first=0.1, backoff_max=0.3)
        )
        async with running(agent):
            await eventually(lambda: _is(printer_state(api), "ready"))
            ticket, elapsed = await issue_timed(api, category="military")
            assert elapsed < 2.0
            assert ticket["print"] == {"status": "printed", "error": None}
            [job] = jobs_in(paper)
            ops = decode(job)
            text = "\n".join(lines(ops))
            assert ticket["number"] in text and "企业开办" in text and "军人" in text
            assert [op.data for op in ops if isinstance(op, QrCode)] == [ticket["url"]]

            # The server drops the socket (a restart, a network blip): the agent comes back.
            runtime = server.app[PRINTING]
            [link] = runtime.agents.links.values()
            await link.ws.close()
            await eventually(lambda: _true(agent.connections == 2 and len(runtime.agents.links) == 1))
            again, _ = await issue_timed(api)
            assert again["print"]["status"] == "printed"
            assert len(jobs_in(paper)) == 2


async def test_jobs_wait_for_an_agent_that_is_away(
    db_url: str, tmp_path: Path, conn: asyncpg.Connection
) -> None:
    paper = tmp_path / "printer.bin"
    async with printing_server(db_url, printer_conf("agent://")) as (server, api):
        base = str(server.make_url("")).rstrip("/")
        conf = AgentConf(
            base, KIOSK, f"file://{paper}", status_interval=0.2, backoff_first=0.1, backoff_max=0.3
        )
        async with running(Agent(conf)):
            await eventually(lambda: _is(printer_state(api), "ready"))
        await eventually(lambda: _is(printer_state(api), "offline"))
        ticket, elapsed = await issue_timed(api)
        assert elapsed < 2.0
        assert ticket["print"]["status"] == "failed" and ticket["print"]["error"] == "not_connected"
        assert await conn.fetchval("SELECT status FROM print_jobs") == "queued"
        async with running(Agent(conf)):

            async def printed() -> bool:
                return await conn.fetchval("SELECT status FROM print_jobs") == "printed"

            await eventually(printed)
        [job] = jobs_in(paper)
        assert ticket["number"] in "\n".join(lines(decode(job)))


async def test_agent_socket_needs_the_right_device(db_url: str) -> None:
    async with printing_server(db_url, printer_conf("agent://")) as (_, api):
        assert (await api.get("/api/printer-agent")).status == 401
        assert (await api.get("/api/printer-agent", token=DISPLAY)).status == 403
        # The kiosk's token but not a WebSocket: told so, in the error shape.
        plain = await api.get("/api/printer-agent", token=KIOSK)
        assert plain.status == 400 and plain.body["ok"] is False


async def test_the_agent_delivers_as_the_server_does() -> None:
    # One delivery path: the server's worker and the agent print with the same function...
    assert agent_module.print_job is worker.print_job
    # ...so to a network printer the agent's job is confirmed too: the job, then a
    # status request whose answer proves the printer took every byte.
    job = render(sample_ticket(), mode="raster")  # big enough to be cut off halfway
    message = {"type": "job", "id": 7, "ticket": "A023", "data": base64.b64encode(job).decode("ascii")}
    async with FakePrinter(Mode.PRINTS) as fake:
        agent = Agent(AgentConf("http://127.0.0.1:9", "token", fake.address, job_timeout=1.0))
        result = await agent.print_one(message)
        assert result == {"type": "result", "id": 7, "status": "printed", "error": None, "state": "ready"}
        await eventually(lambda: _true(len(fake.jobs) == 2))
        assert fake.jobs[1] == job + status_request(STATUS_PRINTER)
    # A printer that resets in the middle of the job: failed, not counted as printed.
    async with FakePrinter(Mode.DROPS_MID_JOB, drop_after=4096) as fake:
        agent = Agent(AgentConf("http://127.0.0.1:9", "token", fake.address, job_timeout=1.0))
        result = await agent.print_one(message)
        assert result["status"] == "failed" and result["state"] == "offline", result
        assert agent.printed == 0


async def _is(value: asyncio.Future[str] | object, expected: str) -> bool:
    return await value == expected  # type: ignore[misc]


async def _true(value: bool) -> bool:
    return value
