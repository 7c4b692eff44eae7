"""The SDT driver against a real C library: tests/kiosk_bridge/fake_sdtapi.c, built
with gcc for the test and loaded with ctypes as a vendor's libsdtapi.so would be.
The fake lays its card out from the specification's field table by itself, so
a wrong offset in the driver cannot hide behind the same wrong offset here."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, WSMsgType
from aiohttp.test_utils import TestServer

from clearhall.kiosk.bridge.readers import Card, ReaderError, UnreadableCard
from clearhall.kiosk.bridge.sdt import SdtReader, decode_base_message
from clearhall.kiosk.bridge.server import BridgeConf, Origins, create_app

SOURCE = Path(__file__).with_name("fake_sdtapi.c")
CARD, NO_CARD, SHORT, OPEN_FAILS, NOT_TEXT, READ_FAILS = range(6)  # fake_mode, as in the C source
HALL = "http://127.0.0.1:8080"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> str:
    gcc = shutil.which("gcc")
    if gcc is None:
        if os.environ.get("CI"):  # in CI the driver is tested for real, never skipped
            pytest.fail("no gcc: the SDT driver's test builds its fake library with it")
        pytest.skip("no gcc to build the fake SDT library")
    built = tmp_path_factory.mktemp("sdt") / "libsdtapi.so"
    subprocess.run([gcc, "-shared", "-fPIC", "-Wall", "-Werror", "-o", str(built), str(SOURCE)], check=True)
    return str(built)


class Fake:
    """The fake library's knobs: the same handle the driver gets (dlopen loads a library once)."""

    def __init__(self, library: str) -> None:
        self.lib = ctypes.CDLL(library)

    def __getitem__(self, name: str) -> int:
        return ctypes.c_int.in_dll(self.lib, name).value

    def __setitem__(self, name: str, value: int) -> None:
        ctypes.c_int.in_dll(self.lib, name).value = value


@pytest.fixture
def fake(library: str) -> Iterator[Fake]:
    knobs = Fake(library)
    knobs["fake_mode"], knobs["fake_closed"], knobs["fake_port"] = CARD, 0, -1
    yield knobs
    knobs["fake_mode"] = CARD


def test_the_driver_reads_the_name_and_number_and_keeps_the_port_open(library: str, fake: Fake) -> None:
    reader = SdtReader(library, port=1001)
    reader.open()
    assert fake["fake_port"] == 1001
    card = reader.read()
    assert card == Card(name="张三", id_number="11010519491231002X")  # padding spaces stripped
    assert fake["fake_if_open"] == 0  # "the port is already open": it is not opened per read
    assert reader.read() == card
    assert "11010519491231002X" not in repr(card) and "张三" not in repr(card)
    reader.close()
    assert fake["fake_closed"] == 1
    reader.close()
    assert fake["fake_closed"] == 1  # closed once


def test_no_card_and_a_card_that_moved_mid_read_are_no_card(library: str, fake: Fake) -> None:
    reader = SdtReader(library)
    reader.open()
    fake["fake_mode"] = NO_CARD
    assert reader.read() is None
    fake["fake_mode"] = READ_FAILS
    assert reader.read() is None
    reader.close()


@pytest.mark.parametrize(("mode", "said"), [(SHORT, "100 bytes, not 256"), (NOT_TEXT, "not UCS-2")])
def test_a_message_that_is_not_a_cards_is_an_unreadable_card(
    library: str, fake: Fake, mode: int, said: str
) -> None:
    reader = SdtReader(library)
    reader.open()
    fake["fake_mode"] = mode
    with pytest.raises(UnreadableCard, match=said):
        reader.read()
    reader.close()


def test_a_port_that_will_not_open_is_a_clear_reader_error(library: str, fake: Fake) -> None:
    fake["fake_mode"] = OPEN_FAILS
    reader = SdtReader(library, port=1003)
    with pytest.raises(ReaderError, match=r"SDT_OpenPort\(1003\) answered 0x01, not 0x90") as failed:
        reader.open()
    assert "1001–1016 USB" in str(failed.value)
    with pytest.raises(ReaderError, match="not open"):
        reader.read()


def test_a_missing_or_foreign_library_is_a_clear_reader_error(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="cannot load the SDT library"):
        SdtReader(str(tmp_path / "libsdtapi.so")).open()
    libm = ctypes.util.find_library("m")
    assert libm is not None
    with pytest.raises(ReaderError, match="has no SDT_OpenPort"):
        SdtReader(libm).open()


def test_decoding_takes_the_fields_at_their_offsets_and_refuses_short_messages() -> None:
    widths = [("name", 30), ("sex", 2), ("nation", 4), ("birth", 16), ("address", 70), ("number", 36),
              ("authority", 30), ("from", 16), ("to", 16), ("reserved", 36)]  # fmt: skip
    values = {"name": "欧阳青禾", "number": "11010519491231002X", "address": "某地某街"}
    message = b"".join(values.get(f, "").ljust(n // 2).encode("utf-16-le") for f, n in widths)
    assert len(message) == 256
    assert decode_base_message(message) == Card("欧阳青禾", "11010519491231002X")
    with pytest.raises(UnreadableCard, match="255 bytes"):
        decode_base_message(message[:255])


@pytest.fixture
async def bridge_url(library: str, fake: Fake) -> AsyncIterator[str]:
    fake["fake_mode"] = NO_CARD  # until the page is there: a card is only for the pages connected
    app = create_app(BridgeConf(Origins([HALL]), poll_s=0.02), SdtReader(library))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield f"ws://127.0.0.1:{server.port}/"
    await server.close()


async def test_the_bridge_hands_the_sdt_readers_card_to_the_page(bridge_url: str, fake: Fake) -> None:
    async with ClientSession() as session, session.ws_connect(bridge_url, origin=HALL) as ws:
        got: list[dict[str, Any]] = []
        while len(got) < 3:
            message = await ws.receive(timeout=5)
            assert message.type == WSMsgType.TEXT, message
            got.append(message.json())
            fake["fake_mode"] = CARD  # the card placed once the page is greeted
    assert got == [
        {"type": "hello", "reader": "sdt", "version": 1},
        {"type": "reader", "state": "ready", "message": ""},
        {"type": "card", "name": "张三", "id_number": "11010519491231002X"},
    ]
