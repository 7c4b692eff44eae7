"""The SDT driver: the reader interface of the 公安部 specification, which most ID card
reader vendors ship as a C library (libsdtapi.so, sdtapi.dll), loaded with ctypes.

    int SDT_OpenPort(int port);                                    0x90: opened
    int SDT_ClosePort(int port);
    int SDT_StartFindIDCard(int port, unsigned char *info, int ifOpen);   0x9F: a card (0x80: none)
    int SDT_SelectIDCard(int port, unsigned char *info, int ifOpen);      0x90: selected (0x81: lost)
    int SDT_ReadBaseMsg(int port, unsigned char *text, unsigned int *textLen,
                        unsigned char *photo, unsigned int *photoLen, int ifOpen);   0x90: read

Ports: 1001–1016 are USB readers, 1–16 serial ones (COM1–COM16). The port is
opened once and kept (ifOpen = 0: "already opened by SDT_OpenPort"). On Windows
the DLL's functions are __stdcall (WinDLL); elsewhere cdecl (CDLL).

The base message is 256 bytes of UCS-2 little-endian, fixed fields padded with
spaces: name 30, sex 2, nation 4, date of birth 16, address 70, ID number 36,
issuing authority 30, valid from 16, valid to 16, reserved 36. Only the name and
the number are decoded; the buffers (the rest of the card and its photo) are
zeroed after each read, so nothing else of the card stays in memory.

A read that fails once a card was found (it moved) counts as no card: the next
poll tries again. A message that is not a card's (short, not UCS-2) is an
`UnreadableCard`; a library that cannot be loaded or a port that will not open
is a `ReaderError`, with what to check.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Final

from clearhall.kiosk.bridge.readers import Card, ReaderError, UnreadableCard

OK: Final = 0x90
CARD_FOUND: Final = 0x9F
USB_PORT: Final = 1001
DEFAULT_LIBRARY: Final = "sdtapi.dll" if sys.platform == "win32" else "libsdtapi.so"

BASE_MESSAGE_LEN: Final = 256
NAME: Final = slice(0, 30)
ID_NUMBER: Final = slice(122, 158)  # after name 30, sex 2, nation 4, birth 16, address 70
TEXT_BUFFER: Final = 512  # room to spare: a library writing past 256 bytes must not corrupt memory
PHOTO_BUFFER: Final = 4096  # the photo (1024 bytes of WLT) is read because the call insists; never kept
INFO_BUFFER: Final = 64

_bytes = ctypes.POINTER(ctypes.c_ubyte)
SIGNATURES: Final = {
    "SDT_OpenPort": [ctypes.c_int],
    "SDT_ClosePort": [ctypes.c_int],
    "SDT_StartFindIDCard": [ctypes.c_int, _bytes, ctypes.c_int],
    "SDT_SelectIDCard": [ctypes.c_int, _bytes, ctypes.c_int],
    "SDT_ReadBaseMsg": [ctypes.c_int, _bytes, ctypes.POINTER(ctypes.c_uint), _bytes,
                        ctypes.POINTER(ctypes.c_uint), ctypes.c_int],
}  # fmt: skip


class SdtReader:
    name = "sdt"

    def __init__(self, library: str = DEFAULT_LIBRARY, port: int = USB_PORT) -> None:
        self.library = library
        self.port = port
        self._lib: ctypes.CDLL | None = None

    def open(self) -> None:
        lib = load(self.library)
        code = lib.SDT_OpenPort(self.port)
        if code != OK:
            raise ReaderError(
                f"SDT_OpenPort({self.port}) answered {code:#04x}, not {OK:#04x}: is the reader plugged in, "
                f"and is {self.port} its port (1001–1016 USB, 1–16 serial)?"
            )
        self._lib = lib

    def read(self) -> Card | None:
        lib = self._lib
        if lib is None:
            raise ReaderError("the reader is not open")
        info = (ctypes.c_ubyte * INFO_BUFFER)()
        if lib.SDT_StartFindIDCard(self.port, info, 0) != CARD_FOUND:
            return None
        if lib.SDT_SelectIDCard(self.port, info, 0) != OK:
            return None
        text = (ctypes.c_ubyte * TEXT_BUFFER)()
        photo = (ctypes.c_ubyte * PHOTO_BUFFER)()
        text_len, photo_len = ctypes.c_uint(0), ctypes.c_uint(0)
        try:
            code = lib.SDT_ReadBaseMsg(
                self.port, text, ctypes.byref(text_len), photo, ctypes.byref(photo_len), 0
            )
            if code != OK:
                return None
            return decode_base_message(memoryview(text)[: min(text_len.value, TEXT_BUFFER)])
        finally:
            ctypes.memset(text, 0, TEXT_BUFFER)
            ctypes.memset(photo, 0, PHOTO_BUFFER)

    def close(self) -> None:
        lib, self._lib = self._lib, None
        if lib is not None:
            lib.SDT_ClosePort(self.port)


def load(library: str) -> ctypes.CDLL:
    """The vendor's library with its functions declared, or a ReaderError saying why not."""
    try:
        if sys.platform == "win32":
            lib: ctypes.CDLL = ctypes.WinDLL(library)
        else:
            lib = ctypes.CDLL(library)
    except OSError as exc:
        raise ReaderError(f"cannot load the SDT library {library}: {exc}") from None
    for function, arguments in SIGNATURES.items():
        try:
            declared = getattr(lib, function)
        except AttributeError:
            raise ReaderError(f"{library} has no {function}: is it the vendor's SDT library?") from None
        declared.argtypes = arguments
        declared.restype = ctypes.c_int
    return lib


def decode_base_message(message: bytes | memoryview) -> Card:
    """The name and the ID number of a card's base message; the rest is not even copied."""
    if len(message) < BASE_MESSAGE_LEN:
        raise UnreadableCard(f"the card's base message is {len(message)} bytes, not {BASE_MESSAGE_LEN}")
    return Card(name=field(message, NAME), id_number=field(message, ID_NUMBER))


def field(message: bytes | memoryview, where: slice) -> str:
    try:
        text = bytes(message[where]).decode("utf-16-le")
    except UnicodeDecodeError:
        raise UnreadableCard("the card's base message is not UCS-2 text") from None
    return text.strip(" \x00")
