"""The ESC/POS decoder on hand-written bytes, including the malformed kind."""

from __future__ import annotations

import pytest

from clearhall.printer.decode import (
    Command,
    Cut,
    DecodeError,
    Feed,
    LineFeed,
    QrCode,
    Raster,
    Style,
    Text,
    Unknown,
    decode,
    lines,
)


def test_text_styles_and_alignment() -> None:
    data = b"\x1b@\x1ba\x01\x1d!\x33\x1bE\x01A1\n\x1d!\x00\x1bE\x00\x1d\x42\x01x\n"
    ops = decode(data, strict=True)
    assert ops[0] == Command("init")
    big = Style(width=4, height=4, bold=True, align="center")
    assert ops[1] == Text("A1", big)
    assert ops[2] == LineFeed(big)
    assert ops[3] == Text("x", Style(align="center", invert=True))


def test_chinese_only_after_fs_ampersand() -> None:
    word = "政务".encode("gb18030")
    assert lines(decode(b"\x1c&" + word + b"\n")) == ["政务"]
    assert lines(decode(word + b"\n")) != ["政务"]  # code page 437 without FS &
    assert lines(decode(b"\x1c&\x1c." + word + b"\n")) != ["政务"]


def test_gb18030_four_byte_characters() -> None:
    rare = "𠮷".encode("gb18030")
    assert len(rare) == 4
    assert lines(decode(b"\x1c&" + rare + b"\n", encoding="gb18030")) == ["𠮷"]


def test_qr_code_commands() -> None:
    payload = b"https://example.cn/t/1?k=x"
    store_len = len(payload) + 3
    data = (
        b"\x1d(k\x04\x001A2\x00"
        + b"\x1d(k\x03\x001C\x07"
        + b"\x1d(k\x03\x001E1"
        + b"\x1d(k"
        + bytes((store_len, 0))
        + b"1P0"
        + payload
        + b"\x1d(k\x03\x001Q0"
    )
    assert decode(data, strict=True) == [QrCode(payload.decode(), 7, "M", 2, "left")]


def test_raster_image_bits() -> None:
    # 16 x 2 dots: first row all black, second row only the leftmost dot.
    data = b"\x1dv0\x00\x02\x00\x02\x00" + b"\xff\xff\x80\x00"
    (raster,) = decode(data, strict=True)
    assert isinstance(raster, Raster)
    assert (raster.width, raster.height) == (16, 2)
    image = raster.image()
    assert image.getpixel((0, 0)) == 0 and image.getpixel((15, 0)) == 0
    assert image.getpixel((0, 1)) == 0 and image.getpixel((1, 1)) == 255


def test_feeds_cuts_and_status_requests() -> None:
    data = b"\x1bd\x06\x1bJ\x10\x1dV\x00\x1dV\x42\x00\x1dV\x01\x10\x04\x02"
    assert decode(data, strict=True) == [
        Feed(lines=6),
        Feed(dots=16),
        Cut(partial=False),
        Cut(partial=True, feed_dots=0),
        Cut(partial=True),
        Command("status_request", b"\x02"),
    ]


def test_unknown_commands_strict_and_lenient() -> None:
    data = b"a\x1b\x7f\x01b\n"
    with pytest.raises(DecodeError, match="offset 1"):
        decode(data, strict=True)
    ops = decode(data)
    assert Unknown(1, b"\x1b\x7f") in ops
    assert Unknown(3, b"\x01") in ops
    assert lines(ops) == ["ab"]


@pytest.mark.parametrize(
    "truncated",
    [b"\x1d!", b"\x1dv0\x00\x02\x00\x02\x00\xff", b"\x1d(k\x06\x001P0ab", b"\x1bd"],
)
def test_truncated_commands_are_errors(truncated: bytes) -> None:
    with pytest.raises(DecodeError, match="ends inside"):
        decode(truncated)
