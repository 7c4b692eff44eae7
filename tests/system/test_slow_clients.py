"""Slow and silent clients are cut off (issue 8, finding 11): a real `clearhall serve`
with `--idle-timeout 1`, and raw sockets that never finish their request, or stay
silent on a kept-alive connection after one."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

from aiohttp import ClientSession

from tests.helpers import serve_process


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """What the server sent before it closed the connection; fails if it stays open."""
    return await asyncio.wait_for(reader.read(), seconds)


async def test_silent_and_half_sent_requests_are_cut_off(db_url: str, tmp_path: Path) -> None:
    async with serve_process(db_url, tmp_path / "serve.log", "--idle-timeout", "1") as base:
        port = int(base.rsplit(":", 1)[1])
        async with ClientSession() as session:
            silent = [await asyncio.open_connection("127.0.0.1", port) for _ in range(20)]
            slow_headers = [await asyncio.open_connection("127.0.0.1", port) for _ in range(5)]
            for _, writer in slow_headers:
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            half_body = [await asyncio.open_connection("127.0.0.1", port) for _ in range(5)]
            for _, writer in half_body:
                writer.write(
                    b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b'Content-Length: 100\r\n\r\n{"username": '
                )
            started = time.monotonic()

            async def trickle() -> None:  # a header line now and then keeps nothing alive
                for _ in range(10):
                    await asyncio.sleep(0.3)
                    for _, writer in slow_headers:
                        if not writer.is_closing():
                            writer.write(b"X-Slow: 1\r\n")

            trickling = asyncio.create_task(trickle())
            for reader, _ in silent + slow_headers:
                assert await closed_within(reader, 4.0) == b""
            for reader, _ in half_body:  # answered 408; the server then lingers a little, as HTTP asks
                answer = await asyncio.wait_for(reader.read(200), 4.0)
                assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
            assert time.monotonic() - started < 4.0
            trickling.cancel()
            for _, writer in silent + slow_headers + half_body:
                writer.close()
            # Meanwhile the server answers everyone else.
            async with session.get(base + "/healthz") as r:
                assert r.status == 200


async def one_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    """Send GET /healthz on a kept-alive connection; the status line of its whole answer."""
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 4.0)
    length = re.search(rb"(?im)^content-length: *(\d+)", head)
    assert length, head
    await asyncio.wait_for(reader.readexactly(int(length[1])), 4.0)
    return head.split(b"\r\n", 1)[0]


async def test_a_kept_alive_connection_left_silent_is_cut_off(db_url: str, tmp_path: Path) -> None:
    async with serve_process(db_url, tmp_path / "serve.log", "--idle-timeout", "1") as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        # Two whole requests on one connection: it is kept alive between them…
        assert await one_answer(reader, writer) == b"HTTP/1.1 200 OK"
        assert await one_answer(reader, writer) == b"HTTP/1.1 200 OK"
        # … and then, unused, closed once the idle timeout has passed.
        answered = time.monotonic()
        assert await closed_within(reader, 4.0) == b""
        assert 0.5 < time.monotonic() - answered < 4.0
        writer.close()
