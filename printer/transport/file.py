"""Printers as files, ``file:///path``: a device node such as /dev/usb/lp0, or a spool file.

Jobs are appended. A file cannot say how the printer is, so `probe` says
``ready`` when the path can be written and ``offline`` otherwise.
"""

# ruff: noqa: ASYNC109

from __future__ import annotations

import os

from clearhall.printer.status import PrinterState
from clearhall.printer.transport.address import FileAddress
from clearhall.printer.transport.errors import PrintError
from clearhall.printer.transport.threads import in_thread


async def send(target: FileAddress, data: bytes, timeout: float) -> None:
    await in_thread(target, timeout, "writing to", lambda: _write(target, data))


async def probe(target: FileAddress, timeout: float) -> PrinterState:
    return PrinterState.READY if _writable(target.path) else PrinterState.OFFLINE


def _write(target: FileAddress, data: bytes) -> None:
    try:
        with open(target.path, "ab") as device:
            device.write(data)
            device.flush()
    except OSError as error:
        raise PrintError(f"cannot write to printer {target}: {error.strerror or error}") from None


def _writable(path: str) -> bool:
    if os.path.exists(path):
        return os.access(path, os.W_OK)
    return os.access(os.path.dirname(path) or "/", os.W_OK)
