"""Printing tickets end to end: a real server, a real PostgreSQL, the fake network
printer on loopback. What reaches the printer is decoded and read back."""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import replace
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from clearhall.printer.decode import QrCode, decode, lines
from clearhall.printer.status import STATUS_REQUESTS, PrinterState, status_replies
from clearhall.server.api.middleware import AccessLogger
from clearhall.server.app import create_app
from clearhall.server.domain.events import CHANNEL
from clearhall.server.printing.conf import PRINT_CONF
from clearhall.server.printing.labels import PRINT_FAULTS
from tests.conftest import DISPLAY, KIOSK, settings_for
from tests.helpers import FAST, eventually, issue_timed, printer_conf, printing_server
from tests.printer.fake_printer import FakePrinter, Mode

INIT = b"\x1b@"


def tickets_printed(fake: FakePrinter) -> list[bytes]:
    """Whole print jobs the fake received (status probes are connections too)."""
    return [job for job in fake.jobs if job.startswith(INIT)]


def assert_ticket_bytes(job: bytes, ticket: dict[str, Any], *, reprint: bool = False) -> None:
    ops = decode(job, strict=True)
    text = "\n".join(lines(ops))
    assert "测试政务服务中心" in text
    assert "企业开办" in text
    assert ticket["number"] in text
    assert f"前面等候 {ticket['ahead']} 人" in text
    # issued_at is hall-local ISO 8601: "2024-05-06T09:41:07+08:00" → "2024-05-06 09:41"
    assert f"取号时间：{ticket['issued_at'][:10]} {ticket['issued_at'][11:16]}" in text
    assert ("补打" in text) is reprint
    codes = [op for op in ops if isinstance(op, QrCode)]
    assert len(codes) == 1
    assert codes[0].data == ticket["url"]
    assert codes[0].data.startswith("https://hall.example.cn/t/") and ticket["key"] in codes[0].data


async def test_a_kiosk_ticket_prints_in_chinese_with_its_phone_url(db_url: str) -> None:
    async with (
        FakePrinter(Mode.PRINTS) as fake,
        printing_server(db_url, printer_conf(fake.address)) as (_, api),
    ):
        ticket, elapsed = await issue_timed(api, category="elderly")
        assert elapsed < 2.0
        assert ticket["print"] == {"status": "printed", "error": None}
        [job] = tickets_printed(fake)
        assert_ticket_bytes(job, ticket)
        assert "老年人" in "\n".join(lines(decode(job)))
        # Staff issue at a desk: no kiosk printer, no print status.
        staff = await api.post("/api/tickets", {"service": "A"}, token=await api.login("s1"))
        assert staff.status == 201 and "print" not in staff.body["ticket"]
        assert len(tickets_printed(fake)) == 1


async def test_a_58mm_gbk_printer_gets_its_own_layout(db_url: str) -> None:
    conf = printer_conf("", paper="58mm", encoding="gbk")
    async with (
        FakePrinter(Mode.PRINTS) as fake,
        printing_server(db_url, replace(conf, address=fake.address)) as (_, api),
    ):
        ticket, _ = await issue_timed(api)
        assert ticket["print"]["status"] == "printed"
        [job] = tickets_printed(fake)
        assert "测试政务服务中心" in "\n".join(lines(decode(job, encoding="gbk")))


class PortPrinter(FakePrinter):
    """A fake printer on a chosen port: the printer that refused comes back."""

    def __init__(self, mode: Mode, port: int) -> None:
        super().__init__(mode)
        self.wanted = port

    async def __aenter__(self) -> PortPrinter:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.wanted))
        self.port = self.wanted
        self._server = await asyncio.start_server(self._handle, sock=sock)
        return self


def mend(fake: FakePrinter) -> None:
    """Paper loaded, printer rebooted: it prints again."""
    fake.mode = Mode.PRINTS
    fake.replies = dict(zip(STATUS_REQUESTS, status_replies(PrinterState.READY), strict=True))


async def job_rows(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch("SELECT * FROM print_jobs ORDER BY id"))


@pytest.mark.parametrize("mode", [Mode.NEVER_ANSWERS, Mode.REFUSES, Mode.PAPER_OUT, Mode.DROPS_MID_JOB])
async def test_a_printer_fault_never_holds_up_the_ticket_and_the_job_prints_later(
    db_url: str, conn: asyncpg.Connection, mode: Mode
) -> None:
    # A reset mid-job shows on big jobs (a raster ticket is ~60 KB); a small one
    # is in the printer's buffer before it could drop anything.
    mode_conf = {"mode": "raster"} if mode is Mode.DROPS_MID_JOB else {}
    async with FakePrinter(mode, drop_after=4096) as fake:
        printer = printer_conf(fake.address, **mode_conf)
        async with printing_server(db_url, printer) as (_, api):
            ticket, elapsed = await issue_timed(api)
            assert elapsed < 2.0, elapsed
            assert ticket["print"]["status"] == "failed"
            error = ticket["print"]["error"]  # a code the kiosk words itself, in one language
            assert error in PRINT_FAULTS
            if mode is Mode.PAPER_OUT:
                assert error == "paper_out"
            # The ticket itself is issued and in the queue, and says how its print went.
            mine = await api.get(f"/api/tickets/{ticket['id']}?key={ticket['key']}")
            assert mine.status == 200 and mine.body["ticket"]["print"]["status"] in ("failed", "queued")
            [row] = await job_rows(conn)
            assert row["status"] in ("failed", "sent") and row["attempts"] >= 1
            assert ticket["key"] not in (row["last_error"] or "")

            async def failed_and_retrying() -> bool:
                [r] = await job_rows(conn)
                return r["status"] == "failed" and r["attempts"] >= 2 and r["next_attempt_at"] is not None

            await eventually(failed_and_retrying)
            if mode is Mode.REFUSES:
                async with PortPrinter(Mode.PRINTS, fake.port) as back:
                    await wait_printed(conn)
                    jobs = tickets_printed(back)
            else:
                mend(fake)
                await wait_printed(conn)
                jobs = [j for j in tickets_printed(fake) if j.startswith(row["data"])]
            # The job, then the status request that confirms the printer took all of it.
            assert jobs and jobs[-1] == row["data"] + b"\x10\x04\x01"
            if mode_conf:
                assert decode(jobs[-1])  # raster: the same bytes, drawn
            else:
                assert_ticket_bytes(jobs[-1], ticket)
            printers = (await api.get("/api/printers", token=await api.login("boss"))).body["printers"]
            assert printers[0]["jobs"] == {"queued": 0, "failed": 0}
            # The kiosk, following the ticket, now sees it printed.
            mine = await api.get(f"/api/tickets/{ticket['id']}?key={ticket['key']}")
            assert mine.body["ticket"]["print"] == {"status": "printed", "error": None}


async def wait_printed(conn: asyncpg.Connection) -> None:
    async def printed() -> bool:
        rows = await job_rows(conn)
        return all(r["status"] == "printed" for r in rows)

    await eventually(printed)


async def test_reprint_is_marked_and_logged(db_url: str, conn: asyncpg.Connection) -> None:
    async with (
        FakePrinter(Mode.PRINTS) as fake,
        printing_server(db_url, printer_conf(fake.address)) as (_, api),
    ):
        ticket, _ = await issue_timed(api)
        r = await api.post(f"/api/tickets/{ticket['id']}/reprint", {}, token=KIOSK)
        assert r.status == 201, r.body
        assert r.body["print"] == {"status": "printed", "error": None}
        _first, again = tickets_printed(fake)
        assert_ticket_bytes(again, ticket, reprint=True)
        assert "（补打）" in lines(decode(again))
        # Staff may reprint too; other devices may not; unknown tickets are 404.
        boss = await api.login("boss")
        assert (await api.post(f"/api/tickets/{ticket['id']}/reprint", token=boss)).status == 201
        assert (await api.post(f"/api/tickets/{ticket['id']}/reprint", token=DISPLAY)).status == 403
        assert (await api.post("/api/tickets/nope/reprint", token=boss)).status == 404
        logged = await conn.fetch(
            "SELECT actor_kind, actor_name, details FROM action_log WHERE action = 'reprint' AND ticket_id = $1"
            " ORDER BY id",
            ticket["id"],
        )
        assert [(r["actor_kind"], r["actor_name"]) for r in logged] == [
            ("device", "kiosk-1"),
            ("staff", "郭主任"),
        ]
        assert logged[0]["details"]["printer"] == "printer-1"
        # A ticket taken at a desk has no receipt to print again.
        desk = await api.post("/api/tickets", {"service": "A"}, token=boss)
        assert (await api.post(f"/api/tickets/{desk.body['ticket']['id']}/reprint", token=boss)).status == 409


async def test_printer_state_changes_show_and_are_notified(db_url: str, pg_url: str) -> None:
    async with (
        FakePrinter(Mode.PRINTS) as fake,
        printing_server(db_url, printer_conf(fake.address)) as (_, api),
    ):
        listener = await asyncpg.connect(db_url)
        heard: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        def on_notify(_c: Any, _pid: int, _channel: str, payload: Any) -> None:
            heard.put_nowait(json.loads(payload))

        await listener.add_listener(CHANNEL, on_notify)
        try:
            boss = await api.login("boss")

            async def state(expected: str) -> bool:
                r = await api.get("/api/printers", token=boss)
                return r.body["printers"][0]["state"] == expected

            await eventually(lambda: state("ready"))
            fake.replies = dict(zip(STATUS_REQUESTS, status_replies(PrinterState.PAPER_OUT), strict=True))
            await eventually(lambda: state("paper_out"))
            while (event := await asyncio.wait_for(heard.get(), 5))["event"] != "printer.changed" or event[
                "printer"
            ]["state"] != "paper_out":
                pass
            assert event["printer"]["name"] == "printer-1" and event["printer"]["kiosk"] == "kiosk-1"
            listed = (await api.get("/api/printers", token=boss)).body["printers"][0]
            assert listed["name"] == "printer-1" and listed["kiosk"] == "kiosk-1"
            assert listed["address"] == fake.address and listed["paper"] == "80mm"
            assert listed["changed_at"] and "paper out" in listed["last_error"]
        finally:
            await listener.close()


async def test_printers_are_for_supervisors_and_preview_is_a_png(db_url: str) -> None:
    async with (
        FakePrinter(Mode.PRINTS) as fake,
        printing_server(db_url, printer_conf(fake.address)) as (_, api),
    ):
        assert (await api.get("/api/printers")).status == 401
        assert (await api.get("/api/printers", token=KIOSK)).status == 403
        assert (await api.get("/api/printers", token=await api.login("s1"))).status == 403
        boss = await api.login("boss")
        async with api.session.get(
            f"{api.base}/api/printers/printer-1/preview.png", headers={"Authorization": f"Bearer {boss}"}
        ) as r:
            assert r.status == 200 and r.content_type == "image/png"
            assert (await r.read()).startswith(b"\x89PNG")
        assert (await api.get("/api/printers/nope/preview.png", token=boss)).status == 404


async def test_cancel_a_waiting_job(db_url: str, conn: asyncpg.Connection) -> None:
    slow = replace(FAST, retry_base_s=60.0, retry_max_s=60.0)
    async with (
        FakePrinter(Mode.PAPER_OUT) as fake,
        printing_server(db_url, printer_conf(fake.address), conf=slow) as (_, api),
    ):
        ticket, _ = await issue_timed(api)
        assert ticket["print"]["status"] == "failed"
        [row] = await job_rows(conn)
        boss = await api.login("boss")
        assert (await api.post(f"/api/print-jobs/{row['id']}/cancel", token=KIOSK)).status == 403
        r = await api.post(f"/api/print-jobs/{row['id']}/cancel", token=boss)
        assert r.status == 200 and r.body["job"]["status"] == "cancelled"
        assert (await api.post(f"/api/print-jobs/{row['id']}/cancel", token=boss)).status == 200
        assert (await api.post("/api/print-jobs/999999/cancel", token=boss)).status == 404
        listed = (await api.get("/api/print-jobs?status=cancelled", token=boss)).body["jobs"]
        assert [j["id"] for j in listed] == [row["id"]] and "data" not in listed[0]
        mend(fake)
        await asyncio.sleep(0.5)
        assert tickets_printed(fake) == []
        assert await conn.fetchval("SELECT count(*) FROM action_log WHERE action = 'print_cancel'") == 1


async def test_a_ticket_print_never_reaches_a_log(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    async with (
        FakePrinter(Mode.PAPER_OUT) as fake,
        printing_server(db_url, printer_conf(fake.address)) as (_, api),
    ):
        ticket, _ = await issue_timed(api)
        await asyncio.sleep(0.5)  # a few retries
    assert ticket["key"] not in caplog.text


async def test_two_processes_never_send_one_job_twice(db_url: str, conn: asyncpg.Connection) -> None:
    async with FakePrinter(Mode.PAPER_OUT) as fake:
        async with printing_server(db_url, printer_conf(fake.address)) as (_, api):
            for _ in range(5):
                await issue_timed(api)
            app = create_app(settings_for(db_url))
            app[PRINT_CONF] = FAST
            second = TestServer(app, host="127.0.0.1")
            await second.start_server(access_log_class=AccessLogger)
            try:
                mend(fake)
                await wait_printed(conn)
            finally:
                await second.close()
        assert len(tickets_printed(fake)) == 5
