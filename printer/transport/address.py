"""Printer addresses (CONTRACT.md section 8): the text in the hall file, parsed.

Owns `parse_address` and one frozen dataclass per kind of address; `str()` of
each prints it back canonically. A mistyped address is an `AddressError` that
says what is wrong and shows a correct one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs, urlsplit

from clearhall.printer.transport.errors import AddressError

DEFAULT_TCP_PORT: Final = 9100
DEFAULT_BAUDRATE: Final = 9600


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
        if not (value.isascii() and value.isdigit()) or int(value) == 0:
            raise AddressError(f"printer address {address!r} has a bad baudrate {value!r}")
        baudrate = int(value)
    return SerialAddress(device, baudrate)
