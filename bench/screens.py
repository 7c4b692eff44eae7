"""The screens of bench/fanout.py, in a client process of their own: opening many
WebSockets, reading them, and noting when each `ticket.called` arrives.

Each client process is started by fanout.py with its share of socket paths and
one end of a pipe. It opens its sockets (each must first get its snapshot),
says `("ready", n)`, then reads every socket; when all of its sockets have one
call it says `("got", number)`, when a socket ends early `("closed", path)`.
On any message from fanout.py it answers `("arrivals", {number: [monotonic
times]})` and exits. CLOCK_MONOTONIC is one clock for every process on the
machine, so fanout.py compares these times with its own.
"""

from __future__ import annotations

import asyncio
import json
import time
from multiprocessing.connection import Connection

import aiohttp

BATCH = 50  # sockets opened at once by one client process, as screens come up


async def open_socket(session: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(url)
    first = await ws.receive(timeout=120)
    if first.type != aiohttp.WSMsgType.TEXT or json.loads(first.data).get("type") != "snapshot":
        raise RuntimeError(f"the first message was not a snapshot: {first.type} {str(first.data)[:200]}")
    return ws


async def screens(base: str, paths: list[str], pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_reader(pipe.fileno(), stop.set)  # fanout.py only ever says "stop"
    arrivals: dict[str, list[float]] = {}
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=120)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
        sockets: list[tuple[str, aiohttp.ClientWebSocketResponse]] = []
        for start in range(0, len(paths), BATCH):
            batch = paths[start : start + BATCH]
            opened = await asyncio.gather(*(open_socket(session, base + p) for p in batch))
            sockets += zip(batch, opened, strict=True)
        pipe.send(("ready", len(sockets)))

        async def read(path: str, ws: aiohttp.ClientWebSocketResponse) -> None:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                if '"ticket.called"' in message.data:
                    at = time.monotonic()
                    number = json.loads(message.data)["ticket"]["number"]
                    seen = arrivals.setdefault(number, [])
                    seen.append(at)
                    if len(seen) == len(sockets):
                        pipe.send(("got", number))
            if not stop.is_set():
                pipe.send(("closed", path.split("&key=")[0]))  # never a citizen's key

        readers = [asyncio.create_task(read(path, ws)) for path, ws in sockets]
        await stop.wait()
        pipe.send(("arrivals", arrivals))
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)


def run(base: str, paths: list[str], pipe: Connection) -> None:
    """A client process's entry point (multiprocessing, spawned)."""
    try:
        asyncio.run(screens(base, paths, pipe))
    except Exception as exc:  # told to fanout.py, which fails the run with it
        pipe.send(("error", f"{type(exc).__name__}: {exc}"))
