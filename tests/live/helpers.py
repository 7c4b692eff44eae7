"""What the tests of tests/live share: a stand-in for the server's side of a WebSocket,
for tests of the hub alone (what the hub sent it, and a way to stall it: a peer that
stopped reading) and its connection, and waiting for a hub to send and to listen."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import WSMsgType

from clearhall.server.live.clients import Client
from clearhall.server.live.hub import Hub
from tests.conftest import Api
from tests.helpers import next_event


async def sent(hub: Hub, *clients: Client) -> None:
    """Until the hub's outbox is sent, and the backlogs of these sockets."""
    if hub.sender is not None:
        await hub.sender
    for client in clients:
        if client.writer is not None:
            await client.writer


async def listening(hub: Hub) -> None:
    """Until the hub's LISTEN connection is up (it connects as the server starts)."""
    for _ in range(100):
        if hub.listening:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the hub is not listening")


class Socket:
    def __init__(self, written: list[tuple[Socket, bytes]] | None = None) -> None:
        self.written = written  # every frame of every socket, in the order sent
        self.frames: list[bytes] = []
        self.reading = asyncio.Event()
        self.reading.set()
        self.closed: tuple[int, bytes] | None = None

    async def send_frame(self, message: bytes, opcode: WSMsgType, compress: int | None = None) -> None:
        assert opcode == WSMsgType.TEXT
        await self.reading.wait()
        self.frames.append(message)
        if self.written is not None:
            self.written.append((self, message))

    async def close(self, *, code: int, message: bytes = b"") -> bool:
        self.closed = (code, message)
        return True


class Transport:
    """A stand-in for a socket's connection: how much is waiting in its buffer."""

    def __init__(self, pending: int = 0) -> None:
        self.pending = pending

    def get_write_buffer_size(self) -> int:
        return self.pending

    def is_closing(self) -> bool:
        return False


async def closed(ws: aiohttp.ClientWebSocketResponse, within: float = 3.0) -> aiohttp.WSMessage:
    """The close that ends the socket, skipping the events still on their way."""
    while True:
        message = await ws.receive(timeout=within)
        if message.type != WSMsgType.TEXT:
            return message


async def still_open(ws: aiohttp.ClientWebSocketResponse, api: Api) -> None:
    await api.issue("C")
    await next_event(ws, "ticket.issued")
