"""The driver side of the card bridge without a socket: placements from polls, the
simulated reader's card file, the registry of drivers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clearhall.kiosk.bridge.drivers import ReaderOptions, make_reader
from clearhall.kiosk.bridge.readers import UNREADABLE, Card, Placements, ReaderError
from clearhall.kiosk.bridge.sdt import SdtReader
from clearhall.kiosk.bridge.simulated import SimulatedReader
from tests.helpers import valid_id

ONE = Card("欧阳青禾", valid_id(7_100_001))
OTHER = Card("李四", valid_id(7_100_002))


def test_a_card_is_placed_once_however_long_it_lies_there() -> None:
    seen = Placements(misses_to_remove=3)
    assert [seen.see(c) for c in (None, ONE, ONE, ONE)] == [None, ONE, None, None]
    # a reader that misses the lying card now and then does not take it away
    assert [seen.see(c) for c in (None, None, ONE, None, None)] == [None] * 5
    assert seen.see(None) == "removed"
    assert seen.see(None) is None
    assert seen.see(ONE) == ONE  # placed again: a new placement


def test_another_card_put_in_its_place_is_a_new_placement() -> None:
    seen = Placements(misses_to_remove=2)
    assert [seen.see(c) for c in (ONE, OTHER, OTHER)] == [ONE, OTHER, None]


def test_an_unreadable_card_counts_once_and_never_after_a_good_read() -> None:
    seen = Placements(misses_to_remove=2)
    assert [seen.see(c) for c in (UNREADABLE, UNREADABLE, ONE)] == [UNREADABLE, None, ONE]
    assert seen.see(UNREADABLE) is None  # the card moved while it was read again: read already
    assert [seen.see(c) for c in (None, None)] == [None, "removed"]


def test_forgetting_says_whether_a_card_was_lying() -> None:
    seen = Placements()
    assert not seen.forget()
    seen.see(ONE)
    assert seen.forget()
    assert seen.see(ONE) == ONE


def test_the_simulated_reader_holds_what_is_placed_on_it() -> None:
    reader = SimulatedReader()
    reader.open()
    assert reader.read() is None
    reader.place(ONE)
    assert reader.read() == ONE
    reader.remove()
    assert reader.read() is None


def test_the_simulated_card_file_is_the_card_on_the_reader(tmp_path: Path) -> None:
    card_file = tmp_path / "card.json"
    reader = SimulatedReader(card_file)
    assert reader.read() is None  # no file
    card_file.write_text(json.dumps({"name": ONE.name, "id_number": ONE.id_number}), encoding="utf-8")
    assert reader.read() == ONE
    for nothing in ("{}", "", "\n"):
        card_file.write_text(nothing, encoding="utf-8")
        assert reader.read() is None
    for wrong, said in (("{not json", "is not JSON"), ('{"name": "x"}', "must hold"), ("[1]", "must hold")):
        card_file.write_text(wrong, encoding="utf-8")
        with pytest.raises(ReaderError, match=said):
            reader.read()


def test_a_cards_repr_is_masked() -> None:
    assert repr(ONE) == f"Card({ONE.id_number[:4]}{'*' * 10}{ONE.id_number[-4:]})"
    assert ONE.name not in repr(ONE)


def test_drivers_are_picked_by_name(tmp_path: Path) -> None:
    sdt = make_reader("sdt", ReaderOptions(library="/opt/x/libsdtapi.so", port_number=1002))
    assert isinstance(sdt, SdtReader) and (sdt.library, sdt.port) == ("/opt/x/libsdtapi.so", 1002)
    simulated = make_reader("simulated", ReaderOptions(card_file=tmp_path / "c.json"))
    assert isinstance(simulated, SimulatedReader) and simulated.card_file == tmp_path / "c.json"
    with pytest.raises(ValueError, match="no card reader driver 'acme'"):
        make_reader("acme", ReaderOptions())
