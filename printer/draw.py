"""Drawing helpers shared by raster tickets and receipt previews.

Owns two things: finding the Noto Sans CJK font on this machine (Debian's
fonts-noto-cjk, or the same files elsewhere) and drawing QR codes as images.
Fonts are looked up once and cached; a missing font is a clear `FontMissingError`
naming the package to install, never a silent fallback to a font without Chinese.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import qrcode
import qrcode.constants
from PIL import Image, ImageFont

# Directories where distributions put the Noto CJK collections.
FONT_DIRS = (
    "/usr/share/fonts/opentype/noto",  # Debian, Ubuntu: fonts-noto-cjk
    "/usr/share/fonts/noto-cjk",  # Arch
    "/usr/share/fonts/google-noto-cjk",  # Fedora
    "/usr/share/fonts/opentype/noto-cjk",
    "/usr/local/share/fonts",
)
# Overrides the search: a .ttc/.otf/.ttf with Simplified Chinese glyphs.
FONT_ENV = "CLEARHALL_CJK_FONT"

# Error correction M survives a smudged thermal print and still keeps a phone
# URL with its key at version 5 or so; native and drawn QR codes use the same.
QR_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M


class FontMissingError(RuntimeError):
    """No CJK font was found: raster tickets and previews cannot be drawn."""


@lru_cache(maxsize=4)
def find_cjk_font(*, bold: bool = False, mono: bool = False) -> tuple[str, int]:
    """Return (path, face index) of Noto Sans CJK SC, or raise FontMissingError.

    `mono` picks "Noto Sans Mono CJK SC", whose Latin letters are exactly half
    the width of a Chinese character, like a receipt printer's own font.
    """
    override = os.environ.get(FONT_ENV)
    if override:
        if not Path(override).is_file():
            raise FontMissingError(f"{FONT_ENV}={override} is not a font file")
        return override, 0
    weight = "Bold" if bold else "Regular"
    for directory in FONT_DIRS:
        path = Path(directory) / f"NotoSansCJK-{weight}.ttc"
        if path.is_file():
            return str(path), _face_index(str(path), mono)
    if bold:  # a Regular-only install still draws, just lighter
        try:
            return find_cjk_font(bold=False, mono=mono)
        except FontMissingError:
            pass
    raise FontMissingError(
        "no Noto Sans CJK font found (looked for NotoSansCJK-Regular.ttc in "
        + ", ".join(FONT_DIRS)
        + "); install it with `apt-get install fonts-noto-cjk`, "
        + f"or set {FONT_ENV} to a font file with Chinese glyphs"
    )


def _face_index(path: str, mono: bool) -> int:
    wanted = "Noto Sans Mono CJK SC" if mono else "Noto Sans CJK SC"
    for index in range(16):
        try:
            family, _style = ImageFont.truetype(path, 12, index=index).getname()
        except OSError:
            break
        if family == wanted:
            return index
    return 0


@lru_cache(maxsize=64)
def cjk_font(size: int, *, bold: bool = False, mono: bool = False) -> ImageFont.FreeTypeFont:
    """The CJK font at `size` pixels, cached (loading a .ttc face takes milliseconds)."""
    path, index = find_cjk_font(bold=bold, mono=mono)
    return ImageFont.truetype(path, size, index=index)


def qr_modules(data: str) -> list[list[bool]]:
    """The QR code's modules (True is dark), without quiet zone."""
    code = qrcode.QRCode(error_correction=QR_ERROR_CORRECTION, border=0)
    code.add_data(data)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    return matrix


def qr_image(data: str, module: int, *, quiet: int = 0) -> Image.Image:
    """The QR code as a black-on-white "1" image, `module` pixels per module."""
    modules = qr_modules(data)
    side = len(modules) + 2 * quiet
    small = Image.new("1", (side, side), 1)
    pixels = small.load()
    assert pixels is not None
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                pixels[x + quiet, y + quiet] = 0
    return small.resize((side * module, side * module), Image.Resampling.NEAREST)
