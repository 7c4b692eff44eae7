"""Drawing ESC/POS bytes as the receipt a printer would make.

Owns `preview_png`: it decodes a job (`printer.decode`) and lays it out the way
a thermal printer does, at the printer's own resolution (8 dots per mm, one
pixel per dot): 12x24-dot Latin and 24x24-dot Chinese cells scaled by the
``GS !`` multipliers, QR codes redrawn from their decoded payload, raster
images dot for dot, and the paper torn off at each cut. Supervisors see it in
the web pages; it is also how we check a layout without wasting paper.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from PIL import Image, ImageDraw

from clearhall.printer.decode import Cut, Feed, LineFeed, Op, QrCode, Raster, Style, Text, decode
from clearhall.printer.draw import cjk_font, qr_modules
from clearhall.printer.render import DOT_COLUMN, DOT_LINE, paper_for

INK: Final = (28, 28, 32)
PAPER: Final = (252, 251, 246)
DESK: Final = (208, 211, 216)
SHADOW: Final = (178, 181, 188)
LINE_SPACING: Final = 30  # ESC 2 default: 1/6 inch at 180 dpi heads, in dots
DESK_MARGIN: Final = 28
TOP_MARGIN: Final = 24
TEAR: Final = 10  # height of the torn edge's teeth


@dataclass
class _Segment:
    """One piece of paper: what is drawn on it, between two cuts."""

    height: int = TOP_MARGIN
    items: list[tuple[int, int, Image.Image, bool]] = field(default_factory=list)


@dataclass
class _Cell:
    ch: str
    style: Style


def preview_png(data: bytes, paper: str = "80mm", *, encoding: str = "gb18030") -> bytes:
    """A PNG of the receipt `data` prints on `paper` ("80mm" or "58mm")."""
    return _png(preview_image(data, paper, encoding=encoding))


def preview_image(data: bytes, paper: str = "80mm", *, encoding: str = "gb18030") -> Image.Image:
    """The receipt as a Pillow image; `preview_png` encodes it."""
    roll = paper_for(paper)
    segments = _layout(decode(data, encoding=encoding), roll.dots)
    side = 32 if roll.name == "80mm" else 40  # unprintable margin of the roll
    paper_width = roll.dots + 2 * side
    height = sum(s.height + TEAR for s in segments) + DESK_MARGIN * (len(segments) + 1)
    canvas = Image.new("RGB", (paper_width + 2 * DESK_MARGIN, height), DESK)
    draw = ImageDraw.Draw(canvas)
    top = DESK_MARGIN
    for segment in segments:
        left = DESK_MARGIN
        outline = _paper_outline(left, top, paper_width, segment.height)
        draw.polygon([(x + 3, y + 4) for x, y in outline], fill=SHADOW)
        draw.polygon(outline, fill=PAPER)
        for x, y, mask, inverted in segment.items:
            box = (left + side + x, top + y)
            if inverted:
                canvas.paste(INK, (*box, box[0] + mask.width, box[1] + mask.height))
                canvas.paste(PAPER, box, mask)
            else:
                canvas.paste(INK, box, mask)
        top += segment.height + TEAR + DESK_MARGIN
    return canvas


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _paper_outline(left: int, top: int, width: int, height: int) -> list[tuple[int, int]]:
    """The paper with a cutter's zigzag along the bottom edge."""
    points = [(left, top), (left + width, top), (left + width, top + height)]
    step = 2 * TEAR
    for x in range(left + width, left, -step):
        points.append((x - step // 2, top + height + TEAR))
        points.append((max(x - step, left), top + height))
    return points


def _layout(ops: list[Op], dots: int) -> list[_Segment]:
    segments = [_Segment()]
    line: list[_Cell] = []

    def flush(style: Style) -> None:
        segment = segments[-1]
        height = max([DOT_LINE * c.style.height for c in line] or [DOT_LINE * style.height])
        width = sum(_cell_width(c) for c in line)
        align = line[0].style.align if line else style.align
        x = {"left": 0, "center": (dots - width) // 2, "right": dots - width}[align]
        for cell in line:
            cell_width = _cell_width(cell)
            glyph = _glyph(cell.ch, cell_width, DOT_LINE * cell.style.height, cell.style.bold)
            # Characters of one line share a baseline at the bottom of the line.
            y = segment.height + height - glyph.height
            segment.items.append((x, y, glyph, cell.style.invert))
            if cell.style.underline:
                bar = Image.new("L", (cell_width, cell.style.underline), 255)
                segment.items.append((x, segment.height + height, bar, False))
            x += cell_width
        segment.height += max(height + 6, LINE_SPACING)
        line.clear()

    for op in ops:
        if isinstance(op, Text):
            for ch in op.text:
                cell = _Cell(ch, op.style)
                if sum(_cell_width(c) for c in line) + _cell_width(cell) > dots:
                    flush(op.style)  # the printer wraps a line that is too wide
                line.append(cell)
        elif isinstance(op, LineFeed):
            flush(op.style)
        elif isinstance(op, Feed):
            if line:
                flush(line[-1].style)
            segments[-1].height += op.lines * LINE_SPACING + op.dots
        elif isinstance(op, QrCode):
            _place(segments[-1], _qr_mask(op.data, op.module), op.align, dots)
        elif isinstance(op, Raster):
            image = op.image()
            if op.scale_x != 1 or op.scale_y != 1:
                size = (image.width * op.scale_x, image.height * op.scale_y)
                image = image.resize(size, Image.Resampling.NEAREST)
            # "1" images are white where there is no dot; masks want the ink.
            mask = image.convert("L").point(lambda v: 255 - v)
            _place(segments[-1], mask, op.align, dots)
        elif isinstance(op, Cut):
            if line:
                flush(line[-1].style)
            segments[-1].height += op.feed_dots + TOP_MARGIN
            segments.append(_Segment())
    if line:
        flush(line[-1].style)
    if len(segments) > 1 and not segments[-1].items:
        segments.pop()  # nothing printed after the last cut
    return segments


def _place(segment: _Segment, mask: Image.Image, align: str, dots: int) -> None:
    x = {"left": 0, "center": (dots - mask.width) // 2, "right": dots - mask.width}[align]
    segment.items.append((max(x, 0), segment.height, mask, False))
    segment.height += mask.height


def _cell_width(cell: _Cell) -> int:
    return (DOT_COLUMN if ord(cell.ch) < 0x80 else 2 * DOT_COLUMN) * cell.style.width


@lru_cache(maxsize=2048)
def _glyph(ch: str, width: int, height: int, bold: bool) -> Image.Image:
    """An "L" mask of `ch` filling a width x height cell, like a printer's font."""
    natural = DOT_COLUMN if ord(ch) < 0x80 else 2 * DOT_COLUMN
    # Draw at the cell's height, then stretch sideways for unequal multipliers.
    scale = height / DOT_LINE
    base = Image.new("L", (max(1, round(natural * scale)), height), 0)
    font = cjk_font(height, bold=bold, mono=True)
    ImageDraw.Draw(base).text((base.width / 2, height / 2), ch, font=font, fill=255, anchor="mm")
    if base.width != width:
        base = base.resize((width, height), Image.Resampling.LANCZOS)
    return base


def _qr_mask(data: str, module: int) -> Image.Image:
    modules = qr_modules(data)
    quiet = 2 * module
    side = len(modules) * module + 2 * quiet
    mask = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(mask)
    for row, cells in enumerate(modules):
        for col, dark in enumerate(cells):
            if dark:
                x, y = quiet + col * module, quiet + row * module
                draw.rectangle((x, y, x + module - 1, y + module - 1), fill=255)
    return mask
