"""Getting bytes to a printer, and asking it how it is: one interface, four transports.

Owns the interface every caller uses, the server's print worker and the print
agent alike: `parse_address`, `send`, `probe` and `print_job` (probe, refuse a
printer that cannot print, send, confirmed where the printer can confirm).
Each kind of address has its module, each with the same `send` and `probe`:

    address.py   parse_address and the Address dataclasses
    tcp.py       tcp://HOST:PORT, the raw port 9100 (asyncio streams)
    file.py      file:///path, a device node such as /dev/usb/lp0, or a spool file
    usb.py       usb://VID:PID (pyusb, optional)
    serial.py    serial:///dev/ttyUSB0 (pyserial, optional)

``agent://`` printers are reached through the print agent, not from here.

Rules: every operation is bounded by the caller's `timeout` in seconds, so a
silent printer never blocks a kiosk; blocking I/O (files, USB, serial) runs in a
thread with its own device timeouts. Failures are `PrintError` with a message a
hall's IT person can act on. `probe` never raises for an unreachable printer: it
is ``offline``. It raises only when the address cannot be used at all.
"""

# `timeout` stays a number, not an asyncio.timeout() around the call: threaded
# USB, serial and file I/O need it as their own device timeout.
# ruff: noqa: ASYNC109

from __future__ import annotations

from typing import Final

from clearhall.printer.status import PrinterState
from clearhall.printer.transport import file, serial, tcp, usb
from clearhall.printer.transport.address import (
    DEFAULT_BAUDRATE,
    DEFAULT_TCP_PORT,
    Address,
    AgentAddress,
    FileAddress,
    SerialAddress,
    TcpAddress,
    UsbAddress,
    parse_address,
)
from clearhall.printer.transport.errors import AddressError, PrintError

__all__ = [
    "DEFAULT_BAUDRATE",
    "DEFAULT_TCP_PORT",
    "NOT_PRINTABLE",
    "Address",
    "AddressError",
    "AgentAddress",
    "FileAddress",
    "PrintError",
    "PrinterNotReady",
    "SerialAddress",
    "TcpAddress",
    "UsbAddress",
    "parse_address",
    "print_job",
    "probe",
    "send",
]

# States in which a job would not come out of the printer now.
NOT_PRINTABLE: Final = frozenset({PrinterState.OFFLINE, PrinterState.PAPER_OUT, PrinterState.COVER_OPEN})
_AGENT_ONLY: Final = "agent:// printers are reached through the print agent, not directly"


class PrinterNotReady(PrintError):
    """The printer answered, but in a state where it cannot print."""

    def __init__(self, address: Address, state: PrinterState) -> None:
        super().__init__(f"printer {address} is {state.value.replace('_', ' ')}")
        self.state = state


def _address(address: str | Address) -> Address:
    return parse_address(address) if isinstance(address, str) else address


async def send(address: str | Address, data: bytes, *, timeout: float) -> None:
    """Deliver `data` to the printer within `timeout` seconds, or raise PrintError.

    Delivered means the printer (or the device node) took every byte; it says
    nothing about paper, so use `probe` or `print_job` to know that.
    """
    target = _address(address)
    if isinstance(target, TcpAddress):
        await tcp.send(target, data, timeout)
    elif isinstance(target, FileAddress):
        await file.send(target, data, timeout)
    elif isinstance(target, UsbAddress):
        await usb.send(target, data, timeout)
    elif isinstance(target, SerialAddress):
        await serial.send(target, data, timeout)
    else:
        raise PrintError(_AGENT_ONLY)


async def probe(address: str | Address, *, timeout: float) -> PrinterState:
    """Ask the printer for its state (DLE EOT 1, 2, 4) within `timeout` seconds.

    No answer is ``offline``; replies that are not status bytes are ``unknown``.
    A file address is ``ready`` when it can be written, else ``offline``.
    """
    target = _address(address)
    if isinstance(target, TcpAddress):
        return await tcp.probe(target, timeout)
    if isinstance(target, FileAddress):
        return await file.probe(target, timeout)
    if isinstance(target, UsbAddress):
        return await usb.probe(target, timeout)
    if isinstance(target, SerialAddress):
        return await serial.probe(target, timeout)
    raise PrintError(_AGENT_ONLY)


async def print_job(address: str | Address, data: bytes, *, timeout: float) -> PrinterState:
    """Print one job: probe, then send if the printer can print; the state it reported.

    The one delivery path: the server's print worker and the print agent both
    print with this. Raises PrinterNotReady (with `.state`) instead of sending
    into a printer that is offline, out of paper or open; ``unknown`` printers
    are sent to anyway, since many cheap printers do not answer status requests
    correctly. To a network printer that answered the probe, the job goes with a
    status request after it on the same connection (`tcp.send_confirmed`): the
    answer proves the printer took every byte, so a printer that reset halfway
    through a big job is a PrintError, not a printed ticket. `timeout` bounds
    each of the two steps.
    """
    target = _address(address)
    state = await probe(target, timeout=timeout)
    if state in NOT_PRINTABLE:
        raise PrinterNotReady(target, state)
    if isinstance(target, TcpAddress) and state is not PrinterState.UNKNOWN:
        await tcp.send_confirmed(target, data, timeout)
    else:
        await send(target, data, timeout=timeout)
    return state
