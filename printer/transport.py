"""Getting bytes to a printer, and asking it how it is.

Owns printer addresses (CONTRACT.md section 8) and the four ways to reach a
printer: ``tcp://HOST:PORT`` (raw port 9100, asyncio streams), ``file:///path``
(a device node such as /dev/usb/lp0, or a spool file), ``usb://VID:PID``
(pyusb, optional) and ``serial:///dev/ttyUSB0`` (pyserial, optional).
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

import asyncio
import contextlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Final, TypeVar
from urllib.parse import parse_qs, urlsplit

from clearhall.printer.status import STATUS_REQUESTS, PrinterState, parse_replies, status_request

DEFAULT_TCP_PORT: Final = 9100
DEFAULT_BAUDRATE: Final = 9600
# States in which a job would not come out of the printer now.
NOT_PRINTABLE: Final = frozenset({PrinterState.OFFLINE, PrinterState.PAPER_OUT, PrinterState.COVER_OPEN})

_T = TypeVar("_T")


class PrintError(Exception):
    """A job could not be delivered, or a printer could not be reached."""


class AddressError(PrintError, ValueError):
    """A printer address that cannot be used; raised when it is parsed."""


class PrinterNotReady(PrintError):
    """The printer answered, but in a state where it cannot print."""

    def __init__(self, address: Address, state: PrinterState) -> None:
        super().__init__(f"printer {address} is {state.value.replace('_', ' ')}")
        self.state = state


@dataclass(frozen=True)
class TcpAddress:
    host: str
    port: int = DEFAULT_TCP_PORT

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"


@dataclass(frozen=True)
class FileAddress:
    path: str

    def __str__(self) -> str:
        return f"file://{self.path}"


@dataclass(frozen=True)
class UsbAddress:
    vendor_id: int
    product_id: int

    def __str__(self) -> str:
        return f"usb://{self.vendor_id:04x}:{self.product_id:04x}"


@dataclass(frozen=True)
class SerialAddress:
    device: str
    baudrate: int = DEFAULT_BAUDRATE

    def __str__(self) -> str:
        return f"serial://{self.device}?baudrate={self.baudrate}"


@dataclass(frozen=True)
class AgentAddress:
    def __str__(self) -> str:
        return "agent://"


Address = TcpAddress | FileAddress | UsbAddress | SerialAddress | AgentAddress

_USB_ID = re.compile(r"([0-9a-fA-F]{4}):([0-9a-fA-F]{4})")
_EXAMPLES = "tcp://192.0.2.10:9100, usb://04b8:0202, serial:///dev/ttyUSB0, file:///dev/usb/lp0 or agent://"


def parse_address(address: str) -> Address:
    """The `Address` written as `address`, or AddressError saying what is wrong."""
    text = address.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        raise AddressError(f"printer address {address!r} has no scheme: use {_EXAMPLES}")
    scheme = scheme.lower()
    if scheme == "tcp":
        return _parse_tcp(address, text)
    if scheme == "file":
        path = rest.split("?", 1)[0]
        if not path.startswith("/"):
            raise AddressError(
                f"printer address {address!r} needs an absolute path after file:// "
                "(three slashes: file:///dev/usb/lp0)"
            )
        return FileAddress(path)
    if scheme == "usb":
        match = _USB_ID.fullmatch(rest.rstrip("/"))
        if match is None:
            raise AddressError(
                f"printer address {address!r} needs a vendor and product id as four hex "
                "digits each: usb://04b8:0202 (see `lsusb`)"
            )
        return UsbAddress(int(match[1], 16), int(match[2], 16))
    if scheme == "serial":
        return _parse_serial(address, rest)
    if scheme == "agent":
        if rest.strip("/"):
            raise AddressError(f"printer address {address!r}: agent:// takes nothing after it")
        return AgentAddress()
    raise AddressError(f"printer address {address!r} has unknown scheme {scheme!r}: use {_EXAMPLES}")


def _parse_tcp(address: str, text: str) -> TcpAddress:
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        raise AddressError(f"printer address {address!r} has a bad port: use a number 1-65535") from None
    if not parts.hostname:
        raise AddressError(f"printer address {address!r} has no host: use tcp://HOST:PORT")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise AddressError(f"printer address {address!r}: tcp:// takes only HOST:PORT")
    if port == 0:
        raise AddressError(f"printer address {address!r} has port 0: use a number 1-65535")
    return TcpAddress(parts.hostname, port or DEFAULT_TCP_PORT)


def _parse_serial(address: str, rest: str) -> SerialAddress:
    device, _, query = rest.partition("?")
    if not device:
        raise AddressError(
            f"printer address {address!r} needs a device: serial:///dev/ttyUSB0 or serial://COM3"
        )
    options = parse_qs(query, keep_blank_values=True)
    unknown = set(options) - {"baudrate"}
    if unknown:
        raise AddressError(
            f"printer address {address!r}: unknown option {sorted(unknown)[0]!r} "
            "(serial addresses take only ?baudrate=N)"
        )
    baudrate = DEFAULT_BAUDRATE
    if "baudrate" in options:
        value = options["baudrate"][-1]
        if not value.isdigit() or int(value) == 0:
            raise AddressError(f"printer address {address!r} has a bad baudrate {value!r}")
        baudrate = int(value)
    return SerialAddress(device, baudrate)


def _address(address: str | Address) -> Address:
    return parse_address(address) if isinstance(address, str) else address


async def send(address: str | Address, data: bytes, *, timeout: float) -> None:
    """Deliver `data` to the printer within `timeout` seconds, or raise PrintError.

    Delivered means the printer (or the device node) took every byte; it says
    nothing about paper, so use `probe` or `print_job` to know that.
    """
    target = _address(address)
    if isinstance(target, TcpAddress):
        await _send_tcp(target, data, timeout)
    elif isinstance(target, FileAddress):
        await _in_thread(target, timeout, "writing to", lambda: _write_file(target, data))
    elif isinstance(target, UsbAddress):
        await _in_thread(target, timeout, "sending to", lambda: _send_usb(target, data, timeout))
    elif isinstance(target, SerialAddress):
        await _in_thread(target, timeout, "sending to", lambda: _send_serial(target, data, timeout))
    else:
        raise PrintError("agent:// printers are reached through the print agent, not directly")


async def probe(address: str | Address, *, timeout: float) -> PrinterState:
    """Ask the printer for its state (DLE EOT 1, 2, 4) within `timeout` seconds.

    No answer is ``offline``; replies that are not status bytes are ``unknown``.
    A file address is ``ready`` when it can be written, else ``offline``.
    """
    target = _address(address)
    if isinstance(target, TcpAddress):
        return await _probe_tcp(target, timeout)
    if isinstance(target, FileAddress):
        return PrinterState.READY if _file_writable(target.path) else PrinterState.OFFLINE
    if isinstance(target, UsbAddress):
        return await _in_thread(target, timeout, "asking", lambda: _probe_usb(target, timeout))
    if isinstance(target, SerialAddress):
        return await _in_thread(target, timeout, "asking", lambda: _probe_serial(target, timeout))
    raise PrintError("agent:// printers are reached through the print agent, not directly")


async def print_job(address: str | Address, data: bytes, *, timeout: float) -> PrinterState:
    """Probe, then send if the printer can print; return the state it reported.

    Raises PrinterNotReady (with `.state`) instead of sending into a printer that
    is offline, out of paper or open; ``unknown`` printers are sent to anyway,
    since many cheap printers do not answer status requests correctly. `timeout`
    bounds each of the two steps.
    """
    target = _address(address)
    state = await probe(target, timeout=timeout)
    if state in NOT_PRINTABLE:
        raise PrinterNotReady(target, state)
    await send(target, data, timeout=timeout)
    return state


# --- tcp ---------------------------------------------------------------------


async def _send_tcp(target: TcpAddress, data: bytes, timeout: float) -> None:
    stage = "connecting to"
    writer: asyncio.StreamWriter | None = None
    delivered = False
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(target.host, target.port)
            stage = "sending to"
            writer.write(data)
            await writer.drain()
            # Closing flushes what asyncio still buffers: the job is only
            # delivered once the printer has taken the last byte.
            stage = "finishing the job on"
            writer.close()
            await writer.wait_closed()
            delivered = True
    except TimeoutError:
        raise PrintError(f"timed out after {timeout:g} s {stage} printer {target}") from None
    except ConnectionRefusedError:
        raise PrintError(
            f"printer {target} refused the connection (is it switched on, is the port right?)"
        ) from None
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise PrintError(f"{stage} printer {target} failed: {reason}") from None
    finally:
        if writer is not None and not delivered:
            writer.transport.abort()


async def _probe_tcp(target: TcpAddress, timeout: float) -> PrinterState:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        async with asyncio.timeout_at(deadline):
            reader, writer = await asyncio.open_connection(target.host, target.port)
    except (OSError, TimeoutError):
        return PrinterState.OFFLINE
    replies = bytearray()
    try:
        for n in STATUS_REQUESTS:
            writer.write(status_request(n))
            async with asyncio.timeout_at(deadline):
                await writer.drain()
                replies += await reader.readexactly(1)
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        # Silence from the start means nobody is printing there; silence after
        # a first answer is a printer we do not understand.
        return PrinterState.UNKNOWN if replies else PrinterState.OFFLINE
    finally:
        writer.transport.abort()
    return parse_replies(bytes(replies))


# --- threads -----------------------------------------------------------------


async def _in_thread(target: Address, timeout: float, stage: str, work: Callable[[], _T]) -> _T:
    # The thread carries its own device timeouts; this bound is for the caller.
    # A thread stuck in the kernel (a wedged device node) cannot be cancelled
    # and finishes on its own, but the caller gets its answer on time.
    try:
        return await asyncio.wait_for(asyncio.to_thread(work), timeout)
    except TimeoutError:
        raise PrintError(f"timed out after {timeout:g} s {stage} printer {target}") from None


# --- file --------------------------------------------------------------------


def _write_file(target: FileAddress, data: bytes) -> None:
    try:
        with open(target.path, "ab") as device:
            device.write(data)
            device.flush()
    except OSError as error:
        raise PrintError(f"cannot write to printer {target}: {error.strerror or error}") from None


def _file_writable(path: str) -> bool:
    if os.path.exists(path):
        return os.access(path, os.W_OK)
    return os.access(os.path.dirname(path) or "/", os.W_OK)


# --- usb ---------------------------------------------------------------------


def _import_usb() -> ModuleType:
    try:
        import usb.core
        import usb.util
    except ImportError:
        raise PrintError(
            "usb:// printers need pyusb: pip install 'clearhall[usb]' (and libusb-1.0)"
        ) from None
    return usb


class _NotConnected(PrintError):
    pass


def _open_usb(target: UsbAddress) -> tuple[Any, Any, Any]:
    """(device, OUT endpoint, IN endpoint or None) of the printer, claimed."""
    usb = _import_usb()
    try:
        device = usb.core.find(idVendor=target.vendor_id, idProduct=target.product_id)
    except usb.core.NoBackendError:
        raise PrintError("usb:// printers need libusb: apt-get install libusb-1.0-0") from None
    if device is None:
        raise _NotConnected(f"no USB device {target} is connected (see `lsusb`)")
    try:
        with contextlib.suppress(NotImplementedError, usb.core.USBError):
            # usblp claims printers; it must let go for us to write directly.
            if device.is_kernel_driver_active(0):
                device.detach_kernel_driver(0)
        with contextlib.suppress(usb.core.USBError):
            device.set_configuration()
        interface = device.get_active_configuration()[(0, 0)]
        out_ep = usb.util.find_descriptor(
            interface,
            custom_match=lambda e: usb.util.endpoint_direction(e.bEndpointAddress) == usb.util.ENDPOINT_OUT,
        )
        in_ep = usb.util.find_descriptor(
            interface,
            custom_match=lambda e: usb.util.endpoint_direction(e.bEndpointAddress) == usb.util.ENDPOINT_IN,
        )
    except usb.core.USBError as error:
        usb.util.dispose_resources(device)
        raise _usb_error(target, error) from None
    if out_ep is None:
        usb.util.dispose_resources(device)
        raise PrintError(f"USB device {target} has no output endpoint: is it a printer?")
    return device, out_ep, in_ep


def _usb_error(target: UsbAddress, error: Exception) -> PrintError:
    if getattr(error, "errno", None) == 13:
        return PrintError(
            f"no permission to use USB printer {target}: add a udev rule giving the "
            "clearhall user access to it"
        )
    return PrintError(f"USB printer {target} failed: {error}")


def _send_usb(target: UsbAddress, data: bytes, timeout: float) -> None:
    usb = _import_usb()
    device, out_ep, _ = _open_usb(target)
    try:
        out_ep.write(data, timeout=max(1, int(timeout * 1000)))
    except usb.core.USBTimeoutError:
        raise PrintError(f"timed out after {timeout:g} s sending to printer {target}") from None
    except usb.core.USBError as error:
        raise _usb_error(target, error) from None
    finally:
        usb.util.dispose_resources(device)


def _probe_usb(target: UsbAddress, timeout: float) -> PrinterState:
    usb = _import_usb()
    try:
        device, out_ep, in_ep = _open_usb(target)
    except _NotConnected:
        return PrinterState.OFFLINE
    if in_ep is None:
        usb.util.dispose_resources(device)
        return PrinterState.UNKNOWN  # a write-only printer cannot tell us
    each = max(1, int(timeout * 1000 / (len(STATUS_REQUESTS) + 1)))
    replies = bytearray()
    try:
        for n in STATUS_REQUESTS:
            out_ep.write(status_request(n), timeout=each)
            reply = bytes(in_ep.read(in_ep.wMaxPacketSize, timeout=each))
            if not reply:
                break
            replies += reply[-1:]
    except usb.core.USBError:
        pass
    finally:
        usb.util.dispose_resources(device)
    if not replies:
        return PrinterState.OFFLINE
    return parse_replies(bytes(replies))


# --- serial ------------------------------------------------------------------


def _import_serial() -> ModuleType:
    try:
        import serial
    except ImportError:
        raise PrintError("serial:// printers need pyserial: pip install pyserial") from None
    return serial


def _send_serial(target: SerialAddress, data: bytes, timeout: float) -> None:
    serial = _import_serial()
    try:
        with serial.Serial(target.device, target.baudrate, timeout=timeout, write_timeout=timeout) as port:
            port.write(data)
            port.flush()
    except serial.SerialTimeoutException:
        raise PrintError(f"timed out after {timeout:g} s sending to printer {target}") from None
    except (serial.SerialException, OSError) as error:
        raise PrintError(f"cannot use serial printer {target}: {error}") from None


def _probe_serial(target: SerialAddress, timeout: float) -> PrinterState:
    serial = _import_serial()
    each = timeout / (len(STATUS_REQUESTS) + 1)
    replies = bytearray()
    try:
        with serial.Serial(target.device, target.baudrate, timeout=each, write_timeout=each) as port:
            port.reset_input_buffer()
            for n in STATUS_REQUESTS:
                port.write(status_request(n))
                reply = port.read(1)
                if not reply:
                    break
                replies += reply
    except (serial.SerialException, OSError):
        return PrinterState.OFFLINE
    if not replies:
        return PrinterState.OFFLINE
    if len(replies) < len(STATUS_REQUESTS):
        return PrinterState.UNKNOWN
    return parse_replies(bytes(replies))
