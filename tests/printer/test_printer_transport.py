"""Transports against a fake printer on a real loopback socket, a pty and files.

Every send and probe must finish within its timeout, whatever the printer does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from clearhall.printer.render import render
from clearhall.printer.samples import sample_ticket
from clearhall.printer.status import (
    DLE_EOT,
    STATUS_PRINTER,
    STATUS_REQUESTS,
    PrinterState,
    status_replies,
    status_request,
)
from clearhall.printer.transport import (
    AddressError,
    AgentAddress,
    FileAddress,
    PrinterNotReady,
    PrintError,
    SerialAddress,
    TcpAddress,
    UsbAddress,
    parse_address,
    print_job,
    probe,
    send,
)
from tests.printer.fake_printer import FakePrinter, Mode

TIMEOUT = 0.5
SLACK = 0.3  # scheduling noise on a busy test machine
BIG_JOB = b"\x00" * (8 * 1024 * 1024)  # more than any socket buffer holds


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    start = time.monotonic()
    yield
    elapsed = time.monotonic() - start
    assert elapsed < seconds, f"took {elapsed:.2f} s"


# --- addresses ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("tcp://192.0.2.10:9100", TcpAddress("192.0.2.10", 9100)),
        ("tcp://printer-east.hall.local", TcpAddress("printer-east.hall.local", 9100)),
        ("TCP://[2001:db8::7]:9101", TcpAddress("2001:db8::7", 9101)),
        ("file:///dev/usb/lp0", FileAddress("/dev/usb/lp0")),
        ("usb://04b8:0202", UsbAddress(0x04B8, 0x0202)),
        ("usb://1FC9:2016", UsbAddress(0x1FC9, 0x2016)),
        ("serial:///dev/ttyUSB0", SerialAddress("/dev/ttyUSB0", 9600)),
        ("serial:///dev/ttyS1?baudrate=115200", SerialAddress("/dev/ttyS1", 115200)),
        ("serial://COM3", SerialAddress("COM3", 9600)),
        ("agent://", AgentAddress()),
    ],
)
def test_addresses_parse(text: str, address: object) -> None:
    assert parse_address(text) == address


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("192.0.2.10:9100", "no scheme"),
        ("lpt://1", "unknown scheme"),
        ("tcp://:9100", "no host"),
        ("tcp://printer:99999", "bad port"),
        ("tcp://printer:abc", "bad port"),
        ("tcp://printer:0", "port 0"),
        ("tcp://printer:9100/queue", "only HOST:PORT"),
        ("file://dev/usb/lp0", "absolute path"),
        ("usb://4b8:202", "four hex digits"),
        ("usb://epson", "four hex digits"),
        ("serial://", "needs a device"),
        ("serial:///dev/ttyUSB0?baud=9600", "unknown option"),
        ("serial:///dev/ttyUSB0?baudrate=fast", "bad baudrate"),
        ("agent://somewhere", "nothing after"),
    ],
)
def test_bad_addresses_say_what_is_wrong(text: str, complaint: str) -> None:
    with pytest.raises(AddressError, match=complaint):
        parse_address(text)


def test_address_errors_are_print_errors_and_value_errors() -> None:
    assert issubclass(AddressError, PrintError)
    assert issubclass(AddressError, ValueError)


def test_addresses_print_back_canonically() -> None:
    for text in ["tcp://192.0.2.10:9100", "usb://04b8:0202", "file:///tmp/x", "agent://"]:
        assert str(parse_address(text)) == text
    assert str(parse_address("tcp://[::1]:9100")) == "tcp://[::1]:9100"


# --- tcp ---------------------------------------------------------------------


@pytest.fixture
async def fake(request: pytest.FixtureRequest) -> AsyncIterator[FakePrinter]:
    async with FakePrinter(request.param) as printer:
        yield printer


def with_mode(mode: Mode) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("fake", [mode], indirect=True)


@with_mode(Mode.PRINTS)
async def test_prints_receives_the_whole_job(fake: FakePrinter) -> None:
    job = render(sample_ticket())
    with within(TIMEOUT + SLACK):
        await send(fake.address, job, timeout=TIMEOUT)
    await asyncio.wait_for(fake.job_done.wait(), TIMEOUT)
    assert fake.jobs == [job]


@with_mode(Mode.PRINTS)
async def test_prints_takes_a_big_raster_job(fake: FakePrinter) -> None:
    job = render(sample_ticket(), mode="raster") * 20
    await send(fake.address, job, timeout=2.0)
    await asyncio.wait_for(fake.job_done.wait(), TIMEOUT)
    assert fake.received == job


@with_mode(Mode.PRINTS)
async def test_prints_probe_is_ready(fake: FakePrinter) -> None:
    with within(TIMEOUT + SLACK):
        assert await probe(fake.address, timeout=TIMEOUT) == PrinterState.READY
    await asyncio.wait_for(fake.job_done.wait(), TIMEOUT)
    assert fake.received == b"".join(DLE_EOT + bytes((n,)) for n in STATUS_REQUESTS)


@with_mode(Mode.PRINTS)
async def test_print_job_probes_then_sends_confirmed(fake: FakePrinter) -> None:
    job = render(sample_ticket())
    assert await print_job(fake.address, job, timeout=TIMEOUT) == PrinterState.READY
    for _ in range(20):
        if fake.connections == 2 and len(fake.jobs) == 2:
            break
        await asyncio.sleep(0.02)
    # The job, then the status request whose answer proves the printer took all of it.
    assert fake.jobs[1] == job + status_request(STATUS_PRINTER)


async def test_print_job_to_a_printer_without_status_is_sent_plainly() -> None:
    # A printer that does not answer status requests properly cannot confirm a job.
    async with FakePrinter(Mode.PRINTS, state=PrinterState.UNKNOWN) as fake:
        job = render(sample_ticket())
        assert await print_job(fake.address, job, timeout=TIMEOUT) == PrinterState.UNKNOWN
        for _ in range(20):
            if len(fake.jobs) == 2:
                break
            await asyncio.sleep(0.02)
        assert fake.jobs[1] == job


@with_mode(Mode.DROPS_MID_JOB)
async def test_print_job_to_a_printer_that_resets_mid_job_fails(fake: FakePrinter) -> None:
    # It answers the probe, then resets halfway through a big (raster) job.
    job = render(sample_ticket(), mode="raster")
    with within(TIMEOUT + SLACK), pytest.raises(PrintError, match=r"middle of the job|failed"):
        await print_job(fake.address, job, timeout=TIMEOUT)


@pytest.mark.parametrize(
    "state", [PrinterState.COVER_OPEN, PrinterState.PAPER_NEAR_END, PrinterState.OFFLINE]
)
async def test_probe_reports_what_the_printer_says(state: PrinterState) -> None:
    async with FakePrinter(Mode.PRINTS, state=state) as fake:
        assert await probe(fake.address, timeout=TIMEOUT) == state


async def test_probe_of_garbage_replies_is_unknown() -> None:
    async with FakePrinter(Mode.PRINTS, state=PrinterState.UNKNOWN) as fake:
        assert await probe(fake.address, timeout=TIMEOUT) == PrinterState.UNKNOWN


@with_mode(Mode.NEVER_ANSWERS)
async def test_never_answers_probe_is_offline_on_time(fake: FakePrinter) -> None:
    with within(TIMEOUT + SLACK):
        assert await probe(fake.address, timeout=TIMEOUT) == PrinterState.OFFLINE


@with_mode(Mode.NEVER_ANSWERS)
async def test_never_answers_send_times_out(fake: FakePrinter) -> None:
    with within(TIMEOUT + SLACK), pytest.raises(PrintError, match=r"timed out after 0\.5 s"):
        await send(fake.address, BIG_JOB, timeout=TIMEOUT)


@with_mode(Mode.REFUSES)
async def test_refused_send_says_so_at_once(fake: FakePrinter) -> None:
    with within(SLACK), pytest.raises(PrintError, match="refused the connection"):
        await send(fake.address, b"x", timeout=TIMEOUT)


@with_mode(Mode.REFUSES)
async def test_refused_probe_is_offline(fake: FakePrinter) -> None:
    with within(SLACK):
        assert await probe(fake.address, timeout=TIMEOUT) == PrinterState.OFFLINE


@with_mode(Mode.PAPER_OUT)
async def test_paper_out_probe(fake: FakePrinter) -> None:
    assert await probe(fake.address, timeout=TIMEOUT) == PrinterState.PAPER_OUT


@with_mode(Mode.PAPER_OUT)
async def test_paper_out_print_job_is_not_sent(fake: FakePrinter) -> None:
    with pytest.raises(PrinterNotReady, match="paper out") as raised:
        await print_job(fake.address, render(sample_ticket()), timeout=TIMEOUT)
    assert raised.value.state == PrinterState.PAPER_OUT
    await asyncio.wait_for(fake.job_done.wait(), TIMEOUT)
    assert fake.connections == 1  # the probe's; the job never went


@with_mode(Mode.DROPS_MID_JOB)
async def test_dropped_mid_job_is_an_error(fake: FakePrinter) -> None:
    with within(TIMEOUT + SLACK), pytest.raises(PrintError, match=r"failed|timed out"):
        await send(fake.address, BIG_JOB, timeout=TIMEOUT)
    await asyncio.wait_for(fake.job_done.wait(), TIMEOUT)
    assert 0 < len(fake.received) < len(BIG_JOB)


async def test_unroutable_host_times_out_connecting() -> None:
    # 192.0.2.0/24 is TEST-NET-1: never routed, so the connect just hangs
    # (or fails at once where there is no default route).
    with within(0.2 + SLACK), pytest.raises(PrintError, match=r"connecting|failed|refused"):
        await send("tcp://192.0.2.1:9100", b"x", timeout=0.2)


# --- file --------------------------------------------------------------------


async def test_file_send_appends_jobs(tmp_path: Path) -> None:
    spool = tmp_path / "printer.bin"
    address = f"file://{spool}"
    assert await probe(address, timeout=TIMEOUT) == PrinterState.READY
    await send(address, b"first", timeout=TIMEOUT)
    await send(address, b"second", timeout=TIMEOUT)
    assert spool.read_bytes() == b"firstsecond"


async def test_file_in_a_missing_directory(tmp_path: Path) -> None:
    address = f"file://{tmp_path}/no/such/dir/lp0"
    assert await probe(address, timeout=TIMEOUT) == PrinterState.OFFLINE
    with pytest.raises(PrintError, match=r"cannot write to printer file://.*No such file"):
        await send(address, b"x", timeout=TIMEOUT)


async def test_file_that_blocks_times_out(tmp_path: Path) -> None:
    # A FIFO nobody reads blocks open(), like a wedged device node.
    fifo = tmp_path / "lp0"
    os.mkfifo(fifo)
    try:
        with within(TIMEOUT + SLACK), pytest.raises(PrintError, match="timed out"):
            await send(f"file://{fifo}", b"x", timeout=TIMEOUT)
    finally:
        # Let the stuck thread finish its open() and write.
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        await asyncio.sleep(0.05)
        os.close(fd)


# --- serial, through a pseudo-terminal ----------------------------------------


class PtyPrinter:
    """A serial printer on the master side of a pty; answers DLE EOT if `answers`."""

    def __init__(self, answers: bool) -> None:
        pytest.importorskip("serial")
        self.master, slave = os.openpty()
        self.device = os.ttyname(slave)
        self.slave = slave
        self.answers = answers
        self.received = bytearray()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        import select

        replies = dict(zip(STATUS_REQUESTS, status_replies(PrinterState.READY), strict=True))
        while not self.stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.02)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return
            self.received += chunk
            if self.answers:
                for n, reply in replies.items():
                    if DLE_EOT + bytes((n,)) in chunk:
                        os.write(self.master, bytes((reply,)))

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def pty_printer(request: pytest.FixtureRequest) -> Iterator[PtyPrinter]:
    printer = PtyPrinter(answers=request.param)
    yield printer
    printer.close()


@pytest.mark.parametrize("pty_printer", [True], indirect=True)
async def test_serial_send_and_probe(pty_printer: PtyPrinter) -> None:
    address = f"serial://{pty_printer.device}?baudrate=115200"
    job = render(sample_ticket())
    await send(address, job, timeout=TIMEOUT)
    for _ in range(50):
        if len(pty_printer.received) >= len(job):
            break
        await asyncio.sleep(0.01)
    assert bytes(pty_printer.received) == job
    assert await probe(address, timeout=TIMEOUT) == PrinterState.READY


@pytest.mark.parametrize("pty_printer", [False], indirect=True)
async def test_serial_silent_probe_is_offline_on_time(pty_printer: PtyPrinter) -> None:
    with within(TIMEOUT + SLACK):
        assert await probe(f"serial://{pty_printer.device}", timeout=TIMEOUT) == "offline"


async def test_serial_missing_device(tmp_path: Path) -> None:
    pytest.importorskip("serial")
    address = f"serial://{tmp_path}/ttyUSB9"
    with pytest.raises(PrintError, match="cannot use serial printer"):
        await send(address, b"x", timeout=TIMEOUT)
    assert await probe(address, timeout=TIMEOUT) == PrinterState.OFFLINE


# --- usb and agent -----------------------------------------------------------


async def test_usb_without_the_printer_is_a_clear_error() -> None:
    # Without pyusb: "need pyusb"; without libusb: "need libusb"; without the
    # device: "no USB device". Each names what to fix.
    with pytest.raises(PrintError, match=r"pyusb|libusb|no USB device"):
        await send("usb://ffff:fffe", b"x", timeout=TIMEOUT)


async def test_agent_addresses_are_not_sent_to_directly() -> None:
    with pytest.raises(PrintError, match="print agent"):
        await send("agent://", b"x", timeout=TIMEOUT)
    with pytest.raises(PrintError, match="print agent"):
        await probe("agent://", timeout=TIMEOUT)
