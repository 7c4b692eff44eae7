"""A sample ticket, and the example previews in docs/.

Owns `sample_ticket` (what a test page or a benchmark prints) and the command
that redraws docs/receipt-*.png after a layout change:

    python -m printer.samples docs
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from clearhall.printer.preview import preview_png
from clearhall.printer.render import TicketPrint, render

CHINA: timezone = timezone(timedelta(hours=8), "Asia/Shanghai")


def sample_ticket(*, number: str = "A023", reprint: bool = False) -> TicketPrint:
    """A realistic ticket: long Chinese names, Chinese punctuation, a keyed URL."""
    return TicketPrint(
        hall_name="杭州市西湖区政务服务中心",
        service_name="不动产登记（二手房交易）",
        number=number,
        category="老年人",
        ahead=7,
        issued_at=datetime(2024, 5, 6, 9, 41, tzinfo=CHINA),
        url="https://hall.example.gov.cn/t/8f3a2c1e-4b7d-4e19-9c55-0d2f6a1b3c4d?k=Zx7qP2mN9vR4tY8w",
        reprint=reprint,
    )


EXAMPLES: dict[str, dict[str, str]] = {
    "receipt-80mm.png": {"paper": "80mm"},
    "receipt-58mm.png": {"paper": "58mm"},
    "receipt-80mm-raster.png": {"paper": "80mm", "mode": "raster"},
    "receipt-58mm-reprint.png": {"paper": "58mm"},
}


def write_examples(directory: Path) -> list[Path]:
    """Write the example previews into `directory`; returns their paths."""
    written = []
    for name, options in EXAMPLES.items():
        ticket = sample_ticket(reprint="reprint" in name)
        data = render(ticket, **options)
        path = directory / name
        path.write_bytes(preview_png(data, options["paper"]))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0] if args else "docs")
    for path in write_examples(directory):
        print(path)


if __name__ == "__main__":
    main()
