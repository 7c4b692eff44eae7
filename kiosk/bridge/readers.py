"""What an ID card reader is to the bridge: a driver that says which card lies on it now.

A driver (one per vendor SDK, `sdt.py` for the common one, `simulated.py` for
demos and tests; listed by name in `drivers.py`) has three blocking calls. The
bridge makes them from one thread of its own, never two at once: vendor
libraries are rarely safe to call from two threads.

    open()   find and open the device; ReaderError when it cannot
    read()   the card on the reader now, or None; ReaderError when the device
             fails, UnreadableCard when a card is there but its data make no sense
    close()  let the device go (called after a failure too, before opening again)

A driver only reports what it sees at each poll. `Placements` turns that into
what the kiosk cares about: a card newly placed, once however long it lies
there, and a card taken away, only after a few polls without it (some readers
miss a card that has not moved now and then).

A `Card` holds the name and the ID number and nothing else of the card (no
address, no photo). Its repr is masked, so that a stray log line or traceback
never shows whose card it was.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from clearhall.server.domain.idcard import mask


class ReaderError(Exception):
    """The reader cannot be used now (not found, unplugged, refused): said to the page, retried."""


class UnreadableCard(Exception):
    """A card is on the reader, but what the driver got from it is not a card's data."""


@dataclass(frozen=True)
class Card:
    name: str
    id_number: str

    def __repr__(self) -> str:
        return f"Card({mask(self.id_number)})"


# What a card that could not be read counts as: a placement with nothing valid on it.
UNREADABLE: Final = Card(name="", id_number="")


class Reader(Protocol):
    name: str  # the driver's name, told to the page in the bridge's hello

    def open(self) -> None: ...

    def read(self) -> Card | None: ...

    def close(self) -> None: ...


class Placements:
    """A reader's polls, one `see` each, turned into placements and removals."""

    def __init__(self, misses_to_remove: int = 3) -> None:
        self.misses_to_remove = misses_to_remove
        self._on_reader: bytes | None = None  # a digest of the lying card's number, not the number
        self._misses = 0

    def see(self, card: Card | None) -> Card | Literal["removed"] | None:
        """The card if it was just placed, "removed" if it was just taken away, else None."""
        if card is None:
            if self._on_reader is None:
                return None
            self._misses += 1
            if self._misses < self.misses_to_remove:
                return None
            self._on_reader = None
            return "removed"
        self._misses = 0
        if card is UNREADABLE and self._on_reader is not None:
            return None  # a card that moved while it was read: it was read before
        digest = hashlib.sha256(card.id_number.encode()).digest()
        if digest == self._on_reader:
            return None
        self._on_reader = digest
        return card

    def forget(self) -> bool:
        """The reader failed: no card lies on it any more. True when one did."""
        had, self._on_reader, self._misses = self._on_reader is not None, None, 0
        return had
