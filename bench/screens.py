"""The screens and phones of bench/fanout.py, in a client process of their own: opening
many WebSockets, reading them, and noting when each call and each new place arrives.

Each client process is started by fanout.py with its share of sockets, each a path
and, for a phone page, its ticket's number, and one end of a pipe. It opens its
sockets as a browser does (offering permessage-deflate; each must first get its
snapshot), freezes what it holds from the garbage collector's full passes (one
process reading thousands of sockets would otherwise stall on its own
collections, which no browser has), says `("ready", n)`, then reads every
socket. A screen must hear every
`ticket.called`, a phone only its own ticket's (and `ticket.place`): when every
socket that should have one call has it, it says `("got", number)`; when a socket
ends early `("closed", path)`. On any message from fanout.py it answers
`("arrivals", {number: [monotonic times]}, [times of ticket.place], strays)`
(strays: messages a phone got that were not about its ticket) and exits.
CLOCK_MONOTONIC is one clock for every process on the machine, so fanout.py
compares these times with its own.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from multiprocessing.connection import Connection

import aiohttp

BATCH = 50  # sockets opened at once by one client process, as screens come up
DEFLATE = 15  # what browsers offer (permessage-deflate); the server may decline it
PHONE_HEARS = ("ticket.called", "ticket.finished", "ticket.no_show", "ticket.rejoined", "rating.closed")


async def open_socket(session: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(url, compress=DEFLATE)
    first = await ws.receive(timeout=120)
    if first.type != aiohttp.WSMsgType.TEXT or json.loads(first.data).get("type") != "snapshot":
        raise RuntimeError(f"the first message was not a snapshot: {first.type} {str(first.data)[:200]}")
    return ws


async def screens(base: str, sockets: list[tuple[str, str | None]], pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_reader(pipe.fileno(), stop.set)  # fanout.py only ever says "stop"
    arrivals: dict[str, list[float]] = {}
    places: list[float] = []
    strays = 0
    hall_screens = sum(1 for _, number in sockets if number is None)
    phones = {number for _, number in sockets if number is not None}

    def expected(number: str) -> int:
        return hall_screens + (number in phones)

    timeout = aiohttp.ClientTimeout(total=None, sock_connect=120)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
        opened: list[tuple[str, str | None, aiohttp.ClientWebSocketResponse]] = []
        for start in range(0, len(sockets), BATCH):
            batch = sockets[start : start + BATCH]
            done = await asyncio.gather(*(open_socket(session, base + path) for path, _ in batch))
            opened += [(path, number, ws) for (path, number), ws in zip(batch, done, strict=True)]
        # Thousands of sockets' objects in one process: frozen, so that this process's own
        # full collections (a browser has one socket, not thousands) do not stall its reading.
        gc.collect()
        gc.freeze()
        pipe.send(("ready", len(opened)))

        async def read(path: str, mine: str | None, ws: aiohttp.ClientWebSocketResponse) -> None:
            nonlocal strays
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                if mine is not None and '"ticket.place"' in message.data:
                    places.append(time.monotonic())
                    continue
                if '"ticket.called"' in message.data:
                    at = time.monotonic()
                    number = json.loads(message.data)["ticket"]["number"]
                    seen = arrivals.setdefault(number, [])
                    seen.append(at)
                    if len(seen) == expected(number):
                        pipe.send(("got", number))
                if mine is not None:
                    got = json.loads(message.data)
                    if got.get("event") not in PHONE_HEARS or got["ticket"].get("number") != mine:
                        strays += 1
            if not stop.is_set():
                pipe.send(("closed", path.split("&key=")[0]))  # never a citizen's key

        readers = [asyncio.create_task(read(path, number, ws)) for path, number, ws in opened]
        await stop.wait()
        pipe.send(("arrivals", arrivals, places, strays))
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)


def run(base: str, sockets: list[tuple[str, str | None]], pipe: Connection) -> None:
    """A client process's entry point (multiprocessing, spawned)."""
    try:
        asyncio.run(screens(base, sockets, pipe))
    except Exception as exc:  # told to fanout.py, which fails the run with it
        pipe.send(("error", f"{type(exc).__name__}: {exc}"))
