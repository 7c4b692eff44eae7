"""The card reader drivers, by the name `clearhall kiosk-bridge --driver NAME` gives.

A driver for another vendor's SDK is a module beside `sdt.py` with a class
that has `name`, `open()`, `read()` and `close()` (readers.Reader), and one
line here that makes it from the command line's options.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from clearhall.kiosk.bridge.readers import Reader
from clearhall.kiosk.bridge.sdt import DEFAULT_LIBRARY, USB_PORT, SdtReader
from clearhall.kiosk.bridge.simulated import SimulatedReader


@dataclass(frozen=True)
class ReaderOptions:
    library: str = DEFAULT_LIBRARY  # sdt: the vendor's library, a path or a name the loader finds
    port_number: int = USB_PORT  # sdt: the reader's port
    card_file: Path | None = None  # simulated: the file that holds the card on the reader


DRIVERS: Final[dict[str, Callable[[ReaderOptions], Reader]]] = {
    "sdt": lambda o: SdtReader(o.library, o.port_number),
    "simulated": lambda o: SimulatedReader(o.card_file),
}


def make_reader(driver: str, options: ReaderOptions) -> Reader:
    if driver not in DRIVERS:
        raise ValueError(f"no card reader driver {driver!r} (there are: {', '.join(sorted(DRIVERS))})")
    return DRIVERS[driver](options)
