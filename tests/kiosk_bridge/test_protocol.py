"""The card bridge's protocol with the simulated reader, over a real WebSocket on
127.0.0.1: the greeting, a card once per placement and only to the pages there,
removal, the Origin and Host checks an attacker's page meets, a number that is
not valid never sent, a failing reader said and reopened, and a log that shows
numbers masked and names never."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import ClientSession, WSMsgType, WSServerHandshakeError
from aiohttp.test_utils import TestServer

from clearhall.kiosk.bridge.readers import Card, ReaderError, UnreadableCard
from clearhall.kiosk.bridge.server import BridgeConf, Origins, create_app, origin
from clearhall.kiosk.bridge.simulated import SimulatedReader
from clearhall.server.domain.idcard import check_digit
from tests.conftest import SECRETS
from tests.helpers import valid_id

HALL = "http://192.168.1.10:8080"
NAME = "欧阳青禾"
SECRETS.add(NAME)  # the whole run's log must not hold it either (tests/conftest.py)
READY = {"type": "reader", "state": "ready", "message": ""}


def id_ending_in_x() -> str:
    for n in range(7_200_000, 7_300_000):
        number = valid_id(n)
        if number.endswith("X"):
            return number
    raise AssertionError("no ID number ends in X")


@asynccontextmanager
async def bridge(reader: SimulatedReader, origins: Origins | None = None) -> AsyncIterator[str]:
    conf = BridgeConf(origins or Origins([HALL]), poll_s=0.02, retry_s=0.1, misses_to_remove=2)
    server = TestServer(create_app(conf, reader), host="127.0.0.1")
    await server.start_server()
    try:
        yield f"ws://127.0.0.1:{server.port}/"
    finally:
        await server.close()


@asynccontextmanager
async def page(url: str, origin: str = HALL, **kw: Any) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """A kiosk page connected to the bridge, once it has been greeted."""
    async with ClientSession() as session, session.ws_connect(url, origin=origin, **kw) as ws:
        assert await receive(ws) == {"type": "hello", "reader": "simulated", "version": 1}
        yield ws


async def receive(ws: aiohttp.ClientWebSocketResponse, within: float = 3.0) -> dict[str, Any]:
    message = await ws.receive(timeout=within)
    assert message.type == WSMsgType.TEXT, message
    data: dict[str, Any] = message.json()
    return data


async def nothing_more(ws: aiohttp.ClientWebSocketResponse, polls: int = 10) -> None:
    """Nothing arrives over `polls` polls of the reader."""
    with pytest.raises(asyncio.TimeoutError):
        await ws.receive(timeout=polls * 0.02)


async def test_a_page_is_greeted_and_told_the_readers_state() -> None:
    async with bridge(SimulatedReader()) as url, page(url) as ws:
        assert await receive(ws) == READY
        await nothing_more(ws)


async def test_a_card_is_sent_once_per_placement_and_its_removal_said() -> None:
    reader = SimulatedReader()
    number = valid_id(7_100_101)
    async with bridge(reader) as url, page(url) as ws:
        assert await receive(ws) == READY
        reader.place(Card(NAME, number))
        assert await receive(ws) == {"type": "card", "name": NAME, "id_number": number}
        await nothing_more(ws)  # it lies there: said once
        reader.remove()
        assert await receive(ws) == {"type": "removed"}
        reader.place(Card(NAME, number))
        assert (await receive(ws))["type"] == "card"  # placed again: said again


async def test_the_number_is_normalised_and_the_name_cleaned_before_it_is_sent() -> None:
    number = id_ending_in_x()
    wide = "".join(chr(ord(c) + 0xFEE0) for c in number[:-1]) + " x"  # full-width digits, a spaced small x
    reader = SimulatedReader()
    async with bridge(reader) as url, page(url) as ws:
        await receive(ws)
        reader.place(Card(f" {NAME}\u200b\x00  ", wide))
        assert await receive(ws) == {"type": "card", "name": NAME, "id_number": number}


async def test_a_number_that_is_not_valid_is_never_sent() -> None:
    number = valid_id(7_100_102)
    wrong = number[:17] + next(c for c in "0123456789X" if c != check_digit(number[:17]))
    reader = SimulatedReader()
    async with bridge(reader) as url, page(url) as ws:
        await receive(ws)
        for bad in (wrong, number[:17], "١" + number[1:], "99999999999999999" + number[17]):
            reader.place(Card(NAME, bad))
            message = await receive(ws)
            assert message == {"type": "unreadable"}, bad
            reader.remove()
            assert await receive(ws) == {"type": "removed"}


class Failing(SimulatedReader):
    """A simulated reader that can be made to fail (device gone) or to give garbage."""

    def __init__(self) -> None:
        super().__init__()
        self.broken = False
        self.garbage = False
        self.opened = 0

    def open(self) -> None:
        if self.broken:
            raise ReaderError("the reader is unplugged")
        self.opened += 1

    def read(self) -> Card | None:
        if self.broken:
            raise ReaderError("the reader is unplugged")
        if self.garbage:
            raise UnreadableCard("the card's base message is 12 bytes, not 256")
        return super().read()


async def test_a_failing_reader_is_said_and_opened_again() -> None:
    reader = Failing()
    async with bridge(reader) as url, page(url) as ws:
        assert await receive(ws) == READY
        reader.place(Card(NAME, valid_id(7_100_103)))
        assert (await receive(ws))["type"] == "card"
        reader.broken = True
        assert await receive(ws) == {"type": "reader", "state": "error", "message": "the reader is unplugged"}
        assert await receive(ws) == {"type": "removed"}  # whatever lay there is gone with the reader
        await nothing_more(ws)  # tried again and again: said once
        reader.broken = False
        assert await receive(ws) == READY
        assert reader.opened == 2
        assert (await receive(ws))["type"] == "card"  # found again on the reopened reader


async def test_a_reader_that_cannot_open_at_start_is_said_first() -> None:
    reader = Failing()
    reader.broken = True
    async with bridge(reader) as url, page(url) as ws:
        assert await receive(ws) == {"type": "reader", "state": "error", "message": "the reader is unplugged"}
        reader.broken = False
        assert await receive(ws) == READY


async def test_a_card_that_cannot_be_read_is_said_once(caplog: pytest.LogCaptureFixture) -> None:
    reader = Failing()
    with caplog.at_level(logging.INFO, logger="clearhall.kiosk_bridge"):
        async with bridge(reader) as url, page(url) as ws:
            await receive(ws)
            reader.garbage = True
            assert await receive(ws) == {"type": "unreadable"}
            await nothing_more(ws)
    assert caplog.text.count("a card could not be read: the card's base message is 12 bytes") == 1


async def test_a_card_goes_only_to_the_pages_connected_when_it_is_placed() -> None:
    reader = SimulatedReader()
    number = valid_id(7_100_104)
    async with bridge(reader) as url, page(url) as first:
        await receive(first)
        reader.place(Card(NAME, number))
        assert (await receive(first))["id_number"] == number
        async with page(url) as later:
            assert await receive(later) == READY
            await nothing_more(later)  # the card lies there, but was placed before this page came


@pytest.mark.parametrize(
    "stranger",
    [
        "http://evil.example",
        "http://192.168.1.10:8081",  # the hall's host, another port
        "https://192.168.1.10:8080",
        "http://192.168.1.10:8080.evil.example",
        "null",  # a sandboxed frame or a file
        "",
    ],
)
async def test_pages_of_other_origins_are_refused_with_403(stranger: str) -> None:
    reader = SimulatedReader()
    async with bridge(reader) as url:
        async with ClientSession() as session:
            headers = {"Origin": stranger} if stranger else {}
            with pytest.raises(WSServerHandshakeError) as refused:
                await session.ws_connect(url, headers=headers)
            assert refused.value.status == 403
        async with page(url) as ws:  # the hall's page still gets in
            assert await receive(ws) == READY


async def test_a_dns_rebound_host_and_a_plain_request_are_refused() -> None:
    async with bridge(SimulatedReader()) as url, ClientSession() as session:
        port = url.rsplit(":", 1)[1].strip("/")
        with pytest.raises(WSServerHandshakeError) as refused:
            await session.ws_connect(url, origin=HALL, headers={"Host": f"evil.example:{port}"})
        assert refused.value.status == 403
        async with session.get(url, headers={"Origin": HALL}) as plain:
            assert plain.status == 400


async def test_without_allowed_origins_only_pages_of_this_machine_get_in() -> None:
    loopback = Origins([], loopback_pages=True)
    async with bridge(SimulatedReader(), loopback) as url:
        for mine in ("http://127.0.0.1:8080", "http://localhost:9000", "http://[::1]:8080"):
            async with page(url, origin=mine) as ws:
                assert await receive(ws) == READY
        async with ClientSession() as session:
            with pytest.raises(WSServerHandshakeError):
                await session.ws_connect(url, origin=HALL)


def test_origins_are_compared_as_browsers_send_them() -> None:
    assert origin("HTTP://Hall.Example.CN:80/") == "http://hall.example.cn"
    assert origin("https://hall.example.cn:8443") == "https://hall.example.cn:8443"
    for wrong in ("hall.example.cn", "ftp://hall.example.cn", "https://hall.example.cn/kiosk", "null", ""):
        with pytest.raises(ValueError, match="not an origin"):
            origin(wrong)
    assert Origins(["http://Hall.example.cn:80"]).allow("http://hall.example.cn")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "hall.example.cn"])
def test_the_bridge_listens_on_the_loopback_address_only(host: str) -> None:
    with pytest.raises(ValueError, match="loopback only"):
        BridgeConf(Origins([HALL]), host=host)
    assert BridgeConf(Origins([HALL]), host="::1").host == "::1"


class Slow(SimulatedReader):
    def read(self) -> Card | None:
        time.sleep(0.5)  # a vendor's C call that takes its time
        return super().read()


async def test_a_slow_reader_never_stalls_the_bridge() -> None:
    async with bridge(Slow()) as url:
        await asyncio.sleep(0.1)  # a read is under way
        started = time.monotonic()
        async with page(url) as ws:
            assert await receive(ws) == READY
        assert time.monotonic() - started < 0.3


async def test_the_log_shows_numbers_masked_and_never_names(caplog: pytest.LogCaptureFixture) -> None:
    reader = SimulatedReader()
    number = valid_id(7_100_105)
    with caplog.at_level(logging.INFO, logger="clearhall.kiosk_bridge"):
        async with bridge(reader) as url, page(url) as ws:
            await receive(ws)
            reader.place(Card(NAME, number))
            await receive(ws)
            reader.place(Card(NAME, number[:17] + ("0" if number[17] != "0" else "1")))
            await receive(ws)
    text = caplog.text
    assert f"card {number[:4]}{'*' * 10}{number[-4:]} read: sent to 1 page(s)" in text
    assert "a card's number was not sent: The ID number's check digit is wrong" in text
    assert number not in text and number[:17] not in text and NAME not in text


async def test_pages_are_told_the_bridge_is_going_away() -> None:
    conf = BridgeConf(Origins([HALL]), poll_s=0.02)
    server = TestServer(create_app(conf, SimulatedReader()), host="127.0.0.1")
    await server.start_server()
    try:
        async with page(f"ws://127.0.0.1:{server.port}/") as ws:
            await receive(ws)
            closing = asyncio.create_task(server.close())
            message = await ws.receive(timeout=5)
            assert message.type == WSMsgType.CLOSE and message.data == 1001, message
            await closing
    finally:
        with contextlib.suppress(Exception):
            await server.close()
