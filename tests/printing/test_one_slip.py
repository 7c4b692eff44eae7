"""One slip per ticket (issue 9, item 4): after a paper-out, a 补打 and the
retries of the first job never print a ticket twice. A real server, a real
PostgreSQL, the fake network printer; the slips are counted from the bytes
the printer received, decoded. "Another server process" sending a job is the
test's own connection claiming and finishing it with the server's queries."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from clearhall.printer.decode import decode, lines
from clearhall.printer.status import STATUS_REQUESTS, PrinterState, status_replies
from clearhall.server.api.middleware import AccessLogger
from clearhall.server.app import create_app
from clearhall.server.printing import print_jobs
from clearhall.server.printing.conf import PRINT_CONF
from tests.conftest import KIOSK, Api, settings_for
from tests.helpers import FAST, eventually, issue_timed, printer_conf, printing_server
from tests.printer.fake_printer import FakePrinter, Mode

# Retries far apart: the server's worker leaves a failed job alone meanwhile.
SLOW = replace(FAST, retry_base_s=60.0, retry_max_s=60.0)
OTHER = "server:other-process"


def slips(fake: FakePrinter, number: str) -> list[str]:
    """The text of each ticket slip for `number` the printer received."""
    texts = ["\n".join(lines(decode(job))) for job in fake.jobs if job.startswith(b"\x1b@")]
    return [text for text in texts if number in text]


def load_paper(fake: FakePrinter) -> None:
    fake.mode = Mode.PRINTS
    fake.replies = dict(zip(STATUS_REQUESTS, status_replies(PrinterState.READY), strict=True))


async def statuses(conn: asyncpg.Connection) -> list[str]:
    return [r["status"] for r in await conn.fetch("SELECT status FROM print_jobs ORDER BY id")]


async def has(conn: asyncpg.Connection, status: str) -> bool:
    return status in await statuses(conn)


async def reprint(api: Api, ticket_id: str) -> dict[str, object]:
    r = await api.post(f"/api/tickets/{ticket_id}/reprint", {}, token=KIOSK)
    assert r.status == 201, r.body
    answer: dict[str, object] = r.body["print"]
    return answer


async def kiosk_sees(api: Api, ticket: dict[str, str]) -> object:
    return (await api.get(f"/api/tickets/{ticket['id']}?key={ticket['key']}")).body["ticket"]["print"]


async def test_a_reprint_during_a_paper_out_replaces_the_waiting_job(
    db_url: str, conn: asyncpg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="clearhall.server.printing")
    async with (
        FakePrinter(Mode.PAPER_OUT) as fake,
        printing_server(db_url, printer_conf(fake.address)) as (_, api),
    ):
        ticket, _ = await issue_timed(api)
        assert ticket["print"]["status"] == "failed" and ticket["print"]["error"] == "paper_out"

        async def first_retried() -> bool:
            return bool(await conn.fetchval("SELECT attempts >= 2 FROM print_jobs ORDER BY id LIMIT 1"))

        await eventually(first_retried)  # the first job fails and waits for its next retry
        answer = await reprint(api, ticket["id"])
        assert answer["status"] == "failed" and answer["error"] == "paper_out"  # as before: still no paper

        async def reprint_retried() -> bool:
            return bool(await conn.fetchval("SELECT attempts >= 2 FROM print_jobs ORDER BY id DESC LIMIT 1"))

        await eventually(reprint_retried)
        load_paper(fake)
        await eventually(lambda: has(conn, "printed"))
        await asyncio.sleep(1.0)  # retries come every 0.5 s at most: any other would be on paper now
        [slip] = slips(fake, ticket["number"])
        assert "补打" in slip  # the slip asked for last
        assert await statuses(conn) == ["cancelled", "printed"]
        assert await kiosk_sees(api, ticket) == {"status": "printed", "error": None}
    said = [r.getMessage() for r in caplog.records if r.name.startswith("clearhall.server.printing")]
    cancelled = [m for m in said if "cancel" in m]
    assert any(ticket["number"] in m for m in cancelled)
    assert not [m for m in said if ticket["key"] in m or "https://" in m]


async def test_a_reprint_after_a_print_prints_exactly_one_more(db_url: str, conn: asyncpg.Connection) -> None:
    async with (
        FakePrinter(Mode.PAPER_OUT) as fake,
        printing_server(db_url, printer_conf(fake.address), conf=SLOW) as (_, api),
    ):
        ticket, _ = await issue_timed(api)
        assert ticket["print"]["status"] == "failed"
        assert await statuses(conn) == ["failed"]  # its retry is a minute away
        load_paper(fake)
        # The citizen presses 重新打印: the 补打 prints, the first job never will.
        assert await reprint(api, ticket["id"]) == {"status": "printed", "error": None}
        assert await statuses(conn) == ["cancelled", "printed"]
        # Lost it: one more, marked 补打 too, and nothing else.
        assert await reprint(api, ticket["id"]) == {"status": "printed", "error": None}
        await asyncio.sleep(0.5)
        printed = slips(fake, ticket["number"])
        assert len(printed) == 2 and all("补打" in s and "（补打）" in s for s in printed)
        assert await statuses(conn) == ["cancelled", "printed", "printed"]


@pytest.mark.parametrize("retry_prints", [True, False])
async def test_a_reprint_asked_while_a_retry_is_being_sent_waits_behind_it(
    db_url: str, conn: asyncpg.Connection, retry_prints: bool
) -> None:
    async with (
        FakePrinter(Mode.PAPER_OUT) as fake,
        printing_server(db_url, printer_conf(fake.address), conf=SLOW) as (_, api),
    ):
        ticket, _ = await issue_timed(api)
        load_paper(fake)
        boss = await api.login("boss")

        async def ready() -> bool:
            return (await api.get("/api/printers", token=boss)).body["printers"][0]["state"] == "ready"

        await eventually(ready)
        # Another server process claims the first job's retry and is sending it ...
        async with conn.transaction():
            await conn.execute("UPDATE print_jobs SET next_attempt_at = now()")
            hall_id = await conn.fetchval("SELECT hall_id FROM print_jobs")
            [(first, _data)] = await print_jobs.claim_direct(conn, hall_id, OTHER, 60.0, 5)
        # ... when the citizen presses 重新打印: the 补打 waits behind it.
        assert await reprint(api, ticket["id"]) == {"status": "queued", "error": None}
        await asyncio.sleep(0.5)
        assert slips(fake, ticket["number"]) == []
        assert await statuses(conn) == ["sent", "queued"]
        error = None if retry_prints else f"printer {fake.address} is paper out"
        done = await print_jobs.finish_attempt(conn, SLOW, first.id, printed=retry_prints, error=error)
        assert done is not None
        if retry_prints:  # that slip is the one: the 补打 never prints
            assert await statuses(conn) == ["printed", "cancelled"]
            await asyncio.sleep(0.5)
            assert slips(fake, ticket["number"]) == []
        else:  # it failed: it makes way, and the 补打 prints at once
            assert done.job.status == "cancelled"
            await eventually(lambda: has(conn, "printed"))
            assert await statuses(conn) == ["cancelled", "printed"]
            [slip] = slips(fake, ticket["number"])
            assert "补打" in slip
        assert await kiosk_sees(api, ticket) == {"status": "printed", "error": None}


async def test_a_print_cancels_the_older_waiting_jobs_of_its_ticket(
    db_url: str, conn: asyncpg.Connection
) -> None:
    async with (
        FakePrinter(Mode.PAPER_OUT) as fake,
        printing_server(db_url, printer_conf(fake.address), conf=SLOW) as (_, api),
    ):
        ticket, _ = await issue_timed(api)
        # An older job waits for its retry while a newer one of the ticket is
        # being sent by another process (as after an agent went away).
        newer = await conn.fetchval(
            """INSERT INTO print_jobs (hall_id, printer_id, ticket_id, reprint, data, status, attempts,
                                       claimed_by, lease_until, sent_at)
               SELECT hall_id, printer_id, ticket_id, true, data, 'sent', 1, $1, now() + interval '1 minute', now()
               FROM print_jobs RETURNING id""",
            OTHER,
        )
        older = await conn.fetchval("SELECT min(id) FROM print_jobs")
        hall_id = await conn.fetchval("SELECT hall_id FROM print_jobs LIMIT 1")
        # While the ticket is being printed, its older job is not sent, even when due.
        async with conn.transaction():
            await conn.execute("UPDATE print_jobs SET next_attempt_at = now() WHERE id = $1", older)
            assert await print_jobs.claim_direct(conn, hall_id, OTHER, 60.0, 5) == []
        done = await print_jobs.finish_attempt(conn, SLOW, newer, printed=True, error=None)
        assert done is not None and done.job.status == "printed" and done.cancelled == (older,)
        assert await statuses(conn) == ["cancelled", "printed"]
        load_paper(fake)
        await asyncio.sleep(0.5)
        assert slips(fake, ticket["number"]) == []


async def test_reprints_on_two_processes_while_both_retry_print_one_slip(
    db_url: str, conn: asyncpg.Connection
) -> None:
    async with (
        FakePrinter(Mode.PAPER_OUT) as fake,
        printing_server(db_url, printer_conf(fake.address)) as (_, api),
    ):
        app = create_app(settings_for(db_url))
        app[PRINT_CONF] = FAST
        second = TestServer(app, host="127.0.0.1")
        await second.start_server(access_log_class=AccessLogger)
        try:
            other = Api(str(second.make_url("")).rstrip("/"), api.session)
            ticket, _ = await issue_timed(api)
            # Both workers retry the first job; the citizen and a clerk press 重新打印 at once, twice.
            for _ in range(2):
                await asyncio.gather(reprint(api, ticket["id"]), reprint(other, ticket["id"]))
                await asyncio.sleep(0.3)
            load_paper(fake)
            await eventually(lambda: has(conn, "printed"))
            await asyncio.sleep(1.0)
            [slip] = slips(fake, ticket["number"])
            assert "补打" in slip
            assert sorted(await statuses(conn)) == ["cancelled"] * 4 + ["printed"]
        finally:
            await second.close()
