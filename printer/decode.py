"""Reading ESC/POS bytes back: the commands clearhall sends, as a list of ops.

Owns a small decoder for the ESC/POS subset ticket printers share: text in the
printer's code page or, after ``FS &``, in GB18030/GBK; text style (``ESC !``,
``GS !``, ``ESC E``, ``ESC -``, ``GS B``, ``ESC a``); feeds; QR codes
(``GS ( k``); raster images (``GS v 0``); cuts (``GS V``); status requests.
Previews draw from it and tests assert on it, so both see what the printer sees.

Rules: decoding never guesses. An unknown command is an `Unknown` op, or a
`DecodeError` with its offset when ``strict=True``; truncated data is always a
`DecodeError`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from PIL import Image

ESC: Final = 0x1B
GS: Final = 0x1D
FS: Final = 0x1C
DLE: Final = 0x10
LF: Final = 0x0A

_ALIGN: Final = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}
_QR_EC: Final = {48: "L", 49: "M", 50: "Q", 51: "H"}

# ESC/GS/FS commands that take a fixed number of argument bytes and change
# nothing the decoder tracks: name and argument count.
_ESC_SIMPLE: Final = {
    ord("2"): ("line_spacing_default", 0),
    ord("3"): ("line_spacing", 1),
    ord("t"): ("codepage", 1),
    ord("R"): ("international_charset", 1),
    ord(" "): ("character_spacing", 1),
    ord("{"): ("upside_down", 1),
    ord("V"): ("rotate", 1),
    ord("p"): ("drawer_pulse", 3),
    ord("="): ("select_peripheral", 1),
    ord("c"): ("panel", 2),
    ord("L"): ("page_mode", 0),
    ord("S"): ("standard_mode", 0),
}
_GS_SIMPLE: Final = {
    ord("b"): ("smoothing", 1),
    ord("L"): ("left_margin", 2),
    ord("W"): ("print_area_width", 2),
    ord("H"): ("hri_position", 1),
    ord("h"): ("barcode_height", 1),
    ord("w"): ("barcode_width", 1),
    ord("f"): ("hri_font", 1),
    ord("a"): ("auto_status_back", 1),
    ord("r"): ("transmit_status", 1),
    ord("I"): ("transmit_printer_id", 1),
}
_FS_SIMPLE: Final = {
    ord("&"): ("chinese_on", 0),
    ord("."): ("chinese_off", 0),
    ord("!"): ("chinese_print_mode", 1),
    ord("-"): ("chinese_underline", 1),
    ord("C"): ("chinese_code_system", 1),
    ord("W"): ("chinese_quadruple", 1),
    ord("S"): ("chinese_spacing", 2),
}


class DecodeError(ValueError):
    """The bytes are not ESC/POS the decoder understands."""


@dataclass(frozen=True)
class Style:
    """Character style in effect; multipliers are 1-8 as set by ``GS !``."""

    width: int = 1
    height: int = 1
    bold: bool = False
    underline: int = 0
    invert: bool = False
    align: str = "left"
    font: int = 0


@dataclass(frozen=True)
class Text:
    text: str
    style: Style


@dataclass(frozen=True)
class LineFeed:
    style: Style


@dataclass(frozen=True)
class Feed:
    lines: int = 0
    dots: int = 0


@dataclass(frozen=True)
class QrCode:
    data: str
    module: int
    error_correction: str
    model: int
    align: str


@dataclass(frozen=True)
class Raster:
    """A ``GS v 0`` image: `bits` rows of `width // 8` bytes, 1 is a black dot."""

    width: int
    height: int
    bits: bytes
    align: str
    scale_x: int = 1
    scale_y: int = 1

    def image(self) -> Image.Image:
        """The image as black on white, mode "1"."""
        return Image.frombytes("1", (self.width, self.height), self.bits, "raw", "1;I")


@dataclass(frozen=True)
class Cut:
    partial: bool
    feed_dots: int = 0


@dataclass(frozen=True)
class Command:
    """A recognised command that the ops above do not model, e.g. ``chinese_on``."""

    name: str
    args: bytes = b""


@dataclass(frozen=True)
class Unknown:
    offset: int
    data: bytes


Op = Text | LineFeed | Feed | QrCode | Raster | Cut | Command | Unknown


def decode(data: bytes, *, encoding: str = "gb18030", strict: bool = False) -> list[Op]:
    """The ops in `data`, in order; text after ``FS &`` is decoded with `encoding`."""
    return _Decoder(data, encoding, strict).run()


def lines(ops: list[Op]) -> list[str]:
    """The printed text, one string per line (empty lines included)."""
    result: list[str] = []
    current = ""
    for op in ops:
        if isinstance(op, Text):
            current += op.text
        elif isinstance(op, LineFeed):
            result.append(current)
            current = ""
    if current:
        result.append(current)
    return result


def raster_image(ops: list[Op]) -> Image.Image | None:
    """All raster images of `ops` stacked top to bottom, as printed; None if none.

    Tall images are sent in bands, so this is how a test sees the whole picture.
    """
    images = [op.image() for op in ops if isinstance(op, Raster)]
    if not images:
        return None
    whole = Image.new("1", (max(i.width for i in images), sum(i.height for i in images)), 1)
    y = 0
    for image in images:
        whole.paste(image, (0, y))
        y += image.height
    return whole


class _Decoder:
    def __init__(self, data: bytes, encoding: str, strict: bool) -> None:
        self.data = data
        self.encoding = encoding
        self.strict = strict
        self.pos = 0
        self.style = Style()
        self.chinese = False
        self.ops: list[Op] = []
        self.qr_data = b""
        self.qr_module = 3
        self.qr_ec = "L"
        self.qr_model = 2

    def take(self, count: int) -> bytes:
        end = self.pos + count
        if end > len(self.data):
            raise DecodeError(f"data ends inside a command at offset {self.pos}")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def run(self) -> list[Op]:
        data = self.data
        while self.pos < len(data):
            start = self.pos
            b = data[start]
            if b >= 0x20:
                self.text()
                continue
            self.pos += 1
            if b == LF:
                self.ops.append(LineFeed(self.style))
            elif b == 0x0D:
                pass  # CR: the printer waits for LF
            elif b == ESC:
                self.esc(start)
            elif b == GS:
                self.gs(start)
            elif b == FS:
                self.fs(start)
            elif b == DLE:
                self.dle(start)
            else:
                self.unknown(start, data[start : start + 1])
        return self.ops

    def text(self) -> None:
        start = self.pos
        while self.pos < len(self.data) and self.data[self.pos] >= 0x20:
            self.pos += 1
        raw = self.data[start : self.pos]
        # GB18030 and GBK never use bytes below 0x20 inside a character, so a
        # run of printable bytes always holds whole characters.
        text = raw.decode(self.encoding if self.chinese else "cp437", errors="replace")
        self.ops.append(Text(text, self.style))

    def unknown(self, start: int, chunk: bytes) -> None:
        if self.strict:
            raise DecodeError(f"unknown command {chunk!r} at offset {start}")
        self.ops.append(Unknown(start, chunk))

    def esc(self, start: int) -> None:
        code = self.byte()
        if code == ord("@"):
            self.style = Style()
            self.chinese = False
            self.ops.append(Command("init"))
        elif code == ord("!"):
            n = self.byte()
            self.style = replace(
                self.style,
                font=n & 1,
                bold=bool(n & 0x08),
                height=2 if n & 0x10 else 1,
                width=2 if n & 0x20 else 1,
                underline=1 if n & 0x80 else 0,
            )
        elif code in (ord("E"), ord("G")):
            self.style = replace(self.style, bold=bool(self.byte() & 1))
        elif code == ord("-"):
            self.style = replace(self.style, underline=self.byte() % 48)
        elif code == ord("a"):
            n = self.byte()
            if n not in _ALIGN:
                raise DecodeError(f"bad alignment {n} at offset {start}")
            self.style = replace(self.style, align=_ALIGN[n])
        elif code == ord("M"):
            self.style = replace(self.style, font=self.byte() % 48)
        elif code == ord("d"):
            self.ops.append(Feed(lines=self.byte()))
        elif code == ord("J"):
            self.ops.append(Feed(dots=self.byte()))
        elif code in _ESC_SIMPLE:
            name, count = _ESC_SIMPLE[code]
            self.ops.append(Command(name, self.take(count)))
        else:
            self.unknown(start, self.data[start : self.pos])

    def gs(self, start: int) -> None:
        code = self.byte()
        if code == ord("!"):
            n = self.byte()
            self.style = replace(self.style, width=(n >> 4 & 7) + 1, height=(n & 7) + 1)
        elif code == ord("B"):
            self.style = replace(self.style, invert=bool(self.byte() & 1))
        elif code == ord("V"):
            m = self.byte()
            if m in (0, 1, 48, 49):
                self.ops.append(Cut(partial=m in (1, 49)))
            elif m in (65, 66, 97, 98, 103, 104):
                self.ops.append(Cut(partial=m in (66, 98, 104), feed_dots=self.byte()))
            else:
                raise DecodeError(f"bad cut mode {m} at offset {start}")
        elif code == ord("v"):
            self.raster(start)
        elif code == ord("("):
            self.gs_paren(start)
        elif code in _GS_SIMPLE:
            name, count = _GS_SIMPLE[code]
            self.ops.append(Command(name, self.take(count)))
        else:
            self.unknown(start, self.data[start : self.pos])

    def raster(self, start: int) -> None:
        if self.byte() != ord("0"):
            self.unknown(start, self.data[start : self.pos])
            return
        m, xl, xh, yl, yh = self.take(5)
        width_bytes, height = xl + xh * 256, yl + yh * 256
        bits = self.take(width_bytes * height)
        self.ops.append(
            Raster(
                width_bytes * 8,
                height,
                bits,
                self.style.align,
                scale_x=2 if m & 1 else 1,
                scale_y=2 if m & 2 else 1,
            )
        )

    def gs_paren(self, start: int) -> None:
        function = self.byte()
        pl, ph = self.take(2)
        body = self.take(pl + ph * 256)
        if function != ord("k") or len(body) < 2 or body[0] != ord("1"):
            # Other GS ( functions and 2D symbologies: known framing, unmodelled.
            self.ops.append(Command(f"gs({chr(function)}", body))
            return
        fn, args = body[1], body[2:]
        if fn == 65 and len(args) >= 1:  # select model
            self.qr_model = args[0] - 48
        elif fn == 67 and len(args) >= 1:  # module size
            self.qr_module = args[0]
        elif fn == 69 and len(args) >= 1:  # error correction
            self.qr_ec = _QR_EC.get(args[0], "?")
        elif fn == 80 and args[:1] == b"0":  # store data
            self.qr_data = args[1:]
        elif fn == 81:  # print stored data
            self.ops.append(
                QrCode(
                    self.qr_data.decode("utf-8", errors="replace"),
                    self.qr_module,
                    self.qr_ec,
                    self.qr_model,
                    self.style.align,
                )
            )
        else:
            self.ops.append(Command("qr_other", body))

    def fs(self, start: int) -> None:
        code = self.byte()
        if code not in _FS_SIMPLE:
            self.unknown(start, self.data[start : self.pos])
            return
        name, count = _FS_SIMPLE[code]
        if code == ord("&"):
            self.chinese = True
        elif code == ord("."):
            self.chinese = False
        self.ops.append(Command(name, self.take(count)))

    def dle(self, start: int) -> None:
        code = self.byte()
        if code == 0x04:
            self.ops.append(Command("status_request", self.take(1)))
        else:
            self.unknown(start, self.data[start : self.pos])
