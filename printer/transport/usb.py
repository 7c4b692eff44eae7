"""USB printers, ``usb://VID:PID``, through pyusb (the optional ``usb`` extra) and libusb.

The kernel's usblp driver is detached from the printer while it is used. The
blocking calls run in a thread (`in_thread`) with their own USB timeouts.
"""

# ruff: noqa: ASYNC109

from __future__ import annotations

import contextlib
from types import ModuleType
from typing import Any

from clearhall.printer.status import STATUS_REQUESTS, PrinterState, parse_replies, status_request
from clearhall.printer.transport.address import UsbAddress
from clearhall.printer.transport.errors import PrintError
from clearhall.printer.transport.threads import in_thread


async def send(target: UsbAddress, data: bytes, timeout: float) -> None:
    await in_thread(target, timeout, "sending to", lambda: _send(target, data, timeout))


async def probe(target: UsbAddress, timeout: float) -> PrinterState:
    return await in_thread(target, timeout, "asking", lambda: _probe(target, timeout))


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


def _open(target: UsbAddress) -> tuple[Any, Any, Any]:
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
        raise _error(target, error) from None
    if out_ep is None:
        usb.util.dispose_resources(device)
        raise PrintError(f"USB device {target} has no output endpoint: is it a printer?")
    return device, out_ep, in_ep


def _error(target: UsbAddress, error: Exception) -> PrintError:
    if getattr(error, "errno", None) == 13:
        return PrintError(
            f"no permission to use USB printer {target}: add a udev rule giving the "
            "clearhall user access to it"
        )
    return PrintError(f"USB printer {target} failed: {error}")


def _send(target: UsbAddress, data: bytes, timeout: float) -> None:
    usb = _import_usb()
    device, out_ep, _ = _open(target)
    try:
        out_ep.write(data, timeout=max(1, int(timeout * 1000)))
    except usb.core.USBTimeoutError:
        raise PrintError(f"timed out after {timeout:g} s sending to printer {target}") from None
    except usb.core.USBError as error:
        raise _error(target, error) from None
    finally:
        usb.util.dispose_resources(device)


def _probe(target: UsbAddress, timeout: float) -> PrinterState:
    usb = _import_usb()
    try:
        device, out_ep, in_ep = _open(target)
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
