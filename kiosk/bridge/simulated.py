"""The simulated reader: the demo's and the tests' ID card reader, with no device.

In the same process a card is placed with `place(card)` and taken away with
`remove()`. From outside (the demo, a test driving `clearhall kiosk-bridge` as a
subprocess) the reader watches a card file instead, read at every poll:

    {"name": "张三", "id_number": "11010519491231002X"}    a card lies on the reader
    {}  (or an empty file, or no file)                   no card

Write the file whole and rename it into place (`mv`), so that no poll reads it
half-written; a file that is not such JSON puts the reader in the error state
until it is fixed.
"""

from __future__ import annotations

import json
from pathlib import Path

from clearhall.kiosk.bridge.readers import Card, ReaderError


class SimulatedReader:
    name = "simulated"

    def __init__(self, card_file: Path | None = None) -> None:
        self.card_file = card_file
        self._card: Card | None = None

    def place(self, card: Card) -> None:
        self._card = card

    def remove(self) -> None:
        self._card = None

    def open(self) -> None:
        pass

    def read(self) -> Card | None:
        if self.card_file is None:
            return self._card
        return card_in_file(self.card_file)

    def close(self) -> None:
        pass


def card_in_file(path: Path) -> Card | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReaderError(f"cannot read the simulated card file {path}: {exc}") from None
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        raise ReaderError(f"the simulated card file {path} is not JSON") from None
    if data == {}:
        return None
    if not (isinstance(data, dict) and isinstance(data.get("name"), str)
            and isinstance(data.get("id_number"), str)):  # fmt: skip
        raise ReaderError(f'the simulated card file {path} must hold {{"name": …, "id_number": …}} or {{}}')
    return Card(name=data["name"], id_number=data["id_number"])
