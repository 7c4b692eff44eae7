"""Printers as files, ``file:///path``: a device node such as /dev/usb/lp0, or a spool file.

Jobs are appended. A file cannot say how the printer is, so `probe` says
``ready`` when the path can be written and ``offline`` otherwise.

A spool file holds phone URLs with ticket keys, so one this transport creates
is made 0600, and one that someone else put there first (a file in /tmp that
another user owns, or a link to elsewhere) is not written to. An existing
file or device node keeps its mode (the system sets /dev/usb/lp0's).
"""

# ruff: noqa: ASYNC109

from __future__ import annotations

import errno
import os
import stat

from clearhall.printer.status import PrinterState
from clearhall.printer.transport.address import FileAddress
from clearhall.printer.transport.errors import PrintError
from clearhall.printer.transport.threads import in_thread


async def send(target: FileAddress, data: bytes, timeout: float) -> None:
    await in_thread(target, timeout, "writing to", lambda: _write(target, data))


async def probe(target: FileAddress, timeout: float) -> PrinterState:
    return PrinterState.READY if _writable(target.path) else PrinterState.OFFLINE


def _write(target: FileAddress, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOCTTY | os.O_NOFOLLOW
    try:
        # The mode applies only when O_CREAT creates the file (and the umask only narrows it).
        fd = os.open(target.path, flags, 0o600)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise PrintError(
                f"cannot write to printer {target}: it is a link; name the file or device itself"
            ) from None
        raise PrintError(f"cannot write to printer {target}: {error.strerror or error}") from None
    try:
        found = os.fstat(fd)
        if stat.S_ISREG(found.st_mode) and found.st_uid not in (os.geteuid(), 0):
            raise PrintError(f"cannot write to printer {target}: the file belongs to another user")
        with open(fd, "ab", closefd=False) as device:
            device.write(data)
            device.flush()
    except OSError as error:
        raise PrintError(f"cannot write to printer {target}: {error.strerror or error}") from None
    finally:
        os.close(fd)


def _writable(path: str) -> bool:
    if os.path.exists(path):
        return os.access(path, os.W_OK)
    return os.access(os.path.dirname(path) or "/", os.W_OK)
