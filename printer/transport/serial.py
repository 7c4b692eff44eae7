"""Serial printers, ``serial:///dev/ttyUSB0?baudrate=N``, through pyserial (optional).

No flow control. The blocking calls run in a thread (`in_thread`) with the
port's own read and write timeouts.
"""

# ruff: noqa: ASYNC109

from __future__ import annotations

from types import ModuleType

from clearhall.printer.status import STATUS_REQUESTS, PrinterState, parse_replies, status_request
from clearhall.printer.transport.address import SerialAddress
from clearhall.printer.transport.errors import PrintError
from clearhall.printer.transport.threads import in_thread


async def send(target: SerialAddress, data: bytes, timeout: float) -> None:
    await in_thread(target, timeout, "sending to", lambda: _send(target, data, timeout))


async def probe(target: SerialAddress, timeout: float) -> PrinterState:
    return await in_thread(target, timeout, "asking", lambda: _probe(target, timeout))


def _import_serial() -> ModuleType:
    try:
        import serial
    except ImportError:
        raise PrintError("serial:// printers need pyserial: pip install pyserial") from None
    return serial


def _send(target: SerialAddress, data: bytes, timeout: float) -> None:
    serial = _import_serial()
    try:
        with serial.Serial(target.device, target.baudrate, timeout=timeout, write_timeout=timeout) as port:
            port.write(data)
            port.flush()
    except serial.SerialTimeoutException:
        raise PrintError(f"timed out after {timeout:g} s sending to printer {target}") from None
    except (serial.SerialException, OSError) as error:
        raise PrintError(f"cannot use serial printer {target}: {error}") from None


def _probe(target: SerialAddress, timeout: float) -> PrinterState:
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
