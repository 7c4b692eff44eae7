"""Turn a ticket into the ESC/POS bytes a hall printer prints.

Owns the ticket's layout (what is printed, in which order and size) and the two
ways of printing it:

- ``mode="text"``: the printer's own Chinese font. The printer is switched into
  Chinese mode (``FS &``) and text is encoded here with GB18030 or GBK. Sizes use
  ``GS !``, which enlarges Chinese characters too (``ESC !`` does not on many
  printers). The QR code is the printer's own ``GS ( k`` model 2 command, or with
  ``qr="image"`` a raster image for printers without it.
- ``mode="raster"``: the whole ticket drawn with Noto Sans CJK and sent as
  ``GS v 0`` raster images, for printers without a Chinese font.

Rules: `render` is pure (raster mode only reads the font file) and fast; the
bytes are built with python-escpos' `Dummy` and a real profile of the paper's
width. Text never goes through escpos' ``text()``: its automatic code-page
encoding turns Chinese punctuation such as "，：" into "?".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Final

from escpos.constants import PAPER_FULL_CUT, QR_ECLEVEL_M, QR_MODEL_2
from escpos.printer import Dummy
from PIL import Image, ImageDraw, ImageFont

from clearhall.printer.draw import cjk_font, qr_image

PAPER_NAMES: Final = ("80mm", "58mm")
ENCODINGS: Final = ("gb18030", "gbk")
MODES: Final = ("text", "raster")
QR_KINDS: Final = ("native", "image")

FS_CHINESE_ON: Final = b"\x1c&"
# Font A is 12x24 dots: one column per ASCII character, two per Chinese one.
DOT_COLUMN: Final = 12
DOT_LINE: Final = 24
# Raster images are sent in bands: cheap printers drop oversized GS v 0 blocks.
RASTER_BAND: Final = 256


@dataclass(frozen=True)
class Paper:
    """A roll width: its printable dots and the escpos profile that has them."""

    name: str
    dots: int
    profile: str
    number_scale: int  # largest character multiplier for the ticket number
    qr_module: int  # dots per QR module

    @property
    def columns(self) -> int:
        return self.dots // DOT_COLUMN


PAPERS: Final[dict[str, Paper]] = {
    # Epson TM-T20II: 80 mm roll, 72 mm / 576 dots printable, native QR.
    "80mm": Paper("80mm", 576, "TM-T20II", number_scale=6, qr_module=6),
    # Sunmi V2: 58 mm roll, 48 mm / 384 dots printable, native QR.
    "58mm": Paper("58mm", 384, "Sunmi-V2", number_scale=4, qr_module=5),
}


@dataclass(frozen=True)
class TicketPrint:
    """Everything printed on a ticket; the server fills it from its ticket row.

    `issued_at` must be timezone-aware and is printed in its own zone, so pass it
    already converted to the hall's local time.
    """

    hall_name: str
    service_name: str
    number: str
    category: str  # a Chinese label: "普通", "老年人", ...
    ahead: int
    issued_at: datetime
    url: str  # absolute phone URL, with its key
    reprint: bool = False
    hotline: str = "12345"
    where: str | None = None  # where in the hall it is handled
    materials: tuple[str, ...] = ()  # 一次性告知: the documents to bring


@dataclass(frozen=True)
class _Line:
    text: str
    scale: int = 1
    bold: bool = False
    invert: bool = False


@dataclass(frozen=True)
class _Rule:
    pass


@dataclass(frozen=True)
class _Qr:
    data: str


@dataclass(frozen=True)
class _Feed:
    lines: int


_Block = _Line | _Rule | _Qr | _Feed


def paper_for(name: str) -> Paper:
    """The `Paper` called `name`, or ValueError listing the known ones."""
    try:
        return PAPERS[name]
    except KeyError:
        raise ValueError(f"unknown paper {name!r}: use one of {', '.join(PAPERS)}") from None


def render(
    ticket: TicketPrint,
    *,
    paper: str = "80mm",
    encoding: str = "gb18030",
    mode: str = "text",
    qr: str = "native",
) -> bytes:
    """The complete ESC/POS job for `ticket`: initialise, print, feed and cut."""
    roll = paper_for(paper)
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}: use one of {', '.join(ENCODINGS)}")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    if qr not in QR_KINDS:
        raise ValueError(f"unknown qr {qr!r}: use one of {', '.join(QR_KINDS)}")
    if ticket.issued_at.tzinfo is None:
        raise ValueError("ticket.issued_at must be timezone-aware")
    blocks = _layout(ticket, roll)
    if mode == "raster":
        return _render_raster(blocks, roll)
    return _render_text(blocks, roll, encoding, native_qr=qr == "native")


def _layout(ticket: TicketPrint, roll: Paper) -> list[_Block]:
    columns = roll.columns
    blocks: list[_Block] = []
    if ticket.reprint:
        blocks.append(_Line(" 补打 ", scale=2, bold=True, invert=True))
    blocks += [
        _Line(ticket.hall_name, scale=_fit(ticket.hall_name, 2, columns), bold=True),
        _Rule(),
        _Line(ticket.service_name, scale=_fit(ticket.service_name, 2, columns), bold=True),
        _Feed(1),
        _Line(ticket.number, scale=_fit(ticket.number, roll.number_scale, columns), bold=True),
        _Feed(1),
        _Line(ticket.category, scale=_fit(ticket.category, 2, columns), bold=True),
        _Line(f"前面等候 {ticket.ahead} 人", scale=2),
        _Line(f"取号时间：{ticket.issued_at:%Y-%m-%d %H:%M}"),
        *([_Line(f"办理地点：{ticket.where}", bold=True)] if ticket.where else []),
        _Rule(),
        *_materials(ticket.materials),
        _Qr(ticket.url),
        _Line("手机扫码，查看叫号进度"),
        _Rule(),
        _Line("请对我们的服务进行评价，谢谢！"),
        _Line(f"政务服务便民热线：{ticket.hotline}"),
    ]
    if ticket.reprint:
        blocks.append(_Line("（补打）"))
    return blocks


def _materials(materials: tuple[str, ...]) -> list[_Block]:
    """一次性告知 on the slip: the documents to bring, numbered."""
    if not materials:
        return []
    lines = [_Line(f"{i}. {item}") for i, item in enumerate(materials, 1)]
    return [_Line("请备齐以下材料：", bold=True), *lines, _Rule()]


def _columns(text: str) -> int:
    # In Chinese mode every non-ASCII character prints as a 24-dot-wide glyph.
    return sum(1 if ord(ch) < 0x80 else 2 for ch in text)


def _fit(text: str, largest: int, columns: int) -> int:
    """The largest multiplier up to `largest` that keeps `text` on one line."""
    width = max(_columns(text), 1)
    return max(1, min(largest, columns // width))


def _wrap(text: str, columns: int) -> list[str]:
    lines: list[str] = []
    line, used = "", 0
    for ch in text:
        width = 1 if ord(ch) < 0x80 else 2
        if used + width > columns and line:
            lines.append(line)
            line, used = "", 0
        line += ch
        used += width
    lines.append(line)
    return lines


# --- text mode ---------------------------------------------------------------


def _render_text(blocks: list[_Block], roll: Paper, encoding: str, *, native_qr: bool) -> bytes:
    printer = Dummy(profile=roll.profile)
    printer.hw("INIT")
    printer._raw(FS_CHINESE_ON)
    printer.set(align="center")
    for block in blocks:
        if isinstance(block, _Line):
            printer.set(
                custom_size=True,
                width=block.scale,
                height=block.scale,
                bold=block.bold,
                invert=block.invert,
            )
            for line in _wrap(block.text, roll.columns // block.scale):
                printer._raw(line.encode(encoding, errors="replace") + b"\n")
        elif isinstance(block, _Rule):
            printer.set(custom_size=True, width=1, height=1, bold=False, invert=False)
            printer._raw(b"-" * roll.columns + b"\n")
        elif isinstance(block, _Feed):
            printer.print_and_feed(block.lines)
        elif native_qr:
            printer.qr(block.data, ec=QR_ECLEVEL_M, size=roll.qr_module, model=QR_MODEL_2, native=True)
            printer._raw(b"\n")
        else:
            # Centred here: escpos forgets `center` for an image sent in bands.
            code = qr_image(block.data, roll.qr_module, quiet=2)
            band = Image.new("1", (roll.dots, code.height), 1)
            band.paste(code, ((roll.dots - code.width) // 2, 0))
            printer.image(band, impl="bitImageRaster", fragment_height=RASTER_BAND)
    printer.set(custom_size=True, width=1, height=1, bold=False, invert=False)
    _cut(printer)
    output: bytes = printer.output
    return output


# --- raster mode -------------------------------------------------------------

_INK = 0
_PAPER = 255
_RASTER_PX = 24  # font size in pixels for scale 1: the printer font's 24 dots


def _render_raster(blocks: list[_Block], roll: Paper) -> bytes:
    # Lay out first (positions and heights), then draw on a canvas of the
    # exact height: a long hall name simply makes a longer ticket.
    steps: list[Callable[[Image.Image, ImageDraw.ImageDraw], None]] = []
    y = 8
    for block in blocks:
        if isinstance(block, _Line):
            size = _raster_size(block, roll.dots - 8)
            font = cjk_font(size, bold=block.bold)
            height = round(size * 1.25)
            for line in _wrap_pixels(block.text, font, roll.dots - 8):
                steps.append(partial(_draw_line, line, font, block.invert, y, height, roll.dots))
                y += height
        elif isinstance(block, _Rule):
            steps.append(partial(_draw_rule, y + 12, roll.dots))
            y += 26
        elif isinstance(block, _Feed):
            y += 16 * block.lines
        else:
            code = qr_image(block.data, roll.qr_module)
            y += 4 * roll.qr_module
            steps.append(partial(_paste, code, (roll.dots - code.width) // 2, y))
            y += code.height + 4 * roll.qr_module
    canvas = Image.new("L", (roll.dots, y + 8), _PAPER)
    draw = ImageDraw.Draw(canvas)
    for step in steps:
        step(canvas, draw)
    # Threshold rather than dither: thermal dots are on or off, and dithered
    # anti-aliasing makes small Chinese strokes fuzzy.
    ticket = canvas.point(lambda v: 255 if v >= 128 else 0, "1")
    printer = Dummy(profile=roll.profile)
    printer.hw("INIT")
    printer.image(ticket, impl="bitImageRaster", fragment_height=RASTER_BAND)
    _cut(printer)
    output: bytes = printer.output
    return output


def _draw_line(
    line: str,
    font: ImageFont.FreeTypeFont,
    invert: bool,
    y: int,
    height: int,
    dots: int,
    canvas: Image.Image,
    draw: ImageDraw.ImageDraw,
) -> None:
    if invert:
        width = round(font.getlength(line)) + int(font.size) // 2
        left = (dots - width) // 2
        draw.rectangle((left, y, left + width, y + height), fill=_INK)
    fill = _PAPER if invert else _INK
    draw.text((dots // 2, y + height // 2), line, font=font, fill=fill, anchor="mm")


def _draw_rule(y: int, dots: int, canvas: Image.Image, draw: ImageDraw.ImageDraw) -> None:
    for x in range(0, dots, 12):
        draw.line((x, y, x + 6, y), fill=_INK, width=2)


def _paste(image: Image.Image, x: int, y: int, canvas: Image.Image, draw: ImageDraw.ImageDraw) -> None:
    canvas.paste(image, (x, y))


def _cut(printer: Dummy) -> None:
    if printer.profile.supports("paperFullCut"):
        printer.cut()
    else:
        # The 58 mm profile (Sunmi V2, a handheld) has no cutter, but kiosk
        # printers do; a printer without one ignores GS V.
        printer.print_and_feed(6)
        printer._raw(PAPER_FULL_CUT)


def _raster_size(block: _Line, width: int) -> int:
    """Font pixels for `block`: its scale, shrunk (not below 1x) to fit one line."""
    size = _RASTER_PX * block.scale
    length = cjk_font(size, bold=block.bold).getlength(block.text)
    if length > width:
        size = max(_RASTER_PX, int(size * width / length))
    return size


def _wrap_pixels(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for ch in text:
        if line and font.getlength(line + ch) > width:
            lines.append(line)
            line = ""
        line += ch
    lines.append(line)
    return lines
