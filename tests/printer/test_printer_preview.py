"""Previews: the decoded job drawn where a printer would put its dots."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from clearhall.printer import draw
from clearhall.printer.draw import FontMissingError, find_cjk_font, qr_modules
from clearhall.printer.preview import DESK, DESK_MARGIN, INK, PAPER, TOP_MARGIN, preview_image, preview_png
from clearhall.printer.render import PAPERS, render
from clearhall.printer.samples import sample_ticket, write_examples

SIDE = {"80mm": 32, "58mm": 40}  # unprintable margins drawn around the dots


def origin(paper: str) -> tuple[int, int]:
    """Where dot (0, 0) of the first piece of paper lands in the preview."""
    return DESK_MARGIN + SIDE[paper], DESK_MARGIN + TOP_MARGIN


@pytest.mark.parametrize("paper", sorted(PAPERS))
@pytest.mark.parametrize("mode", ["text", "raster"])
def test_preview_is_a_receipt_shaped_png(paper: str, mode: str) -> None:
    png = preview_png(render(sample_ticket(), paper=paper, mode=mode), paper)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as image:
        image.load()
    assert image.width == PAPERS[paper].dots + 2 * SIDE[paper] + 2 * DESK_MARGIN
    assert image.height > 1.5 * image.width
    assert image.getpixel((5, 5)) == DESK
    assert image.getpixel((DESK_MARGIN + 5, DESK_MARGIN + 5)) == PAPER


def test_raster_dots_land_where_the_printer_puts_them() -> None:
    # A 16 x 2 image: top row black, second row only its leftmost dot; centred.
    data = b"\x1ba\x01\x1dv0\x00\x02\x00\x02\x00\xff\xff\x80\x00"
    image = preview_image(data, "58mm")
    left, top = origin("58mm")
    x0 = left + (PAPERS["58mm"].dots - 16) // 2
    assert image.getpixel((x0, top)) == INK
    assert image.getpixel((x0 + 15, top)) == INK
    assert image.getpixel((x0 + 16, top)) == PAPER
    assert image.getpixel((x0, top + 1)) == INK
    assert image.getpixel((x0 + 1, top + 1)) == PAPER


def test_qr_is_redrawn_from_its_payload() -> None:
    url = "https://hall.example.gov.cn/t/1?k=abc"
    image = preview_image(_qr_job(url, module=4), "80mm")
    modules = qr_modules(url)
    side = len(modules) * 4 + 2 * 8
    left, top = origin("80mm")
    x0 = left + (PAPERS["80mm"].dots - side) // 2 + 8
    y0 = top + 8
    for row, cells in enumerate(modules):
        for col, dark in enumerate(cells):
            pixel = image.getpixel((x0 + col * 4 + 2, y0 + row * 4 + 2))
            assert pixel == (INK if dark else PAPER), (row, col)


def _qr_job(url: str, module: int) -> bytes:
    payload = url.encode()
    size = len(payload) + 3
    return (
        b"\x1ba\x01"
        + b"\x1d(k\x03\x001C"
        + bytes((module,))
        + b"\x1d(k"
        + bytes((size % 256, size // 256))
        + b"1P0"
        + payload
        + b"\x1d(k\x03\x001Q0"
    )


def test_each_cut_tears_off_a_piece_of_paper() -> None:
    job = render(sample_ticket(), paper="58mm")
    one = preview_image(job, "58mm")
    two = preview_image(job + job, "58mm")
    assert two.height > 1.9 * one.height
    # Between the pieces there is a row of bare desk across the paper's width.
    middle = range(one.height - DESK_MARGIN, one.height + DESK_MARGIN)
    assert any(all(two.getpixel((x, y)) == DESK for x in range(0, two.width, 7)) for y in middle)


def test_missing_font_names_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(draw.FONT_ENV, raising=False)
    monkeypatch.setattr(draw, "FONT_DIRS", (str(tmp_path),))
    find_cjk_font.cache_clear()
    try:
        with pytest.raises(FontMissingError, match="fonts-noto-cjk"):
            find_cjk_font()
    finally:
        monkeypatch.undo()
        find_cjk_font.cache_clear()


def test_font_override_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(draw.FONT_ENV, str(tmp_path / "missing.ttc"))
    find_cjk_font.cache_clear()
    try:
        with pytest.raises(FontMissingError, match="not a font file"):
            find_cjk_font()
    finally:
        monkeypatch.undo()
        find_cjk_font.cache_clear()


def test_examples_are_written(tmp_path: Path) -> None:
    paths = write_examples(tmp_path)
    assert {p.name for p in paths} >= {"receipt-80mm.png", "receipt-58mm.png"}
    for path in paths:
        with Image.open(path) as image:
            assert image.height > 800
