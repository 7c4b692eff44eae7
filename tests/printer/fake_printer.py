"""A network receipt printer on a loopback port, for transport tests.

Owns `FakePrinter`, an asyncio server that behaves like a raw port 9100
printer in one of a few ways (`Mode`): it prints (records what it receives and
answers DLE EOT status requests), never answers (accepts, then neither reads
nor replies), refuses connections (nothing listens on its port), is out of
paper, or drops the connection in the middle of a job.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from enum import StrEnum
from types import TracebackType

from clearhall.printer.status import DLE_EOT, STATUS_REQUESTS, PrinterState, status_replies


class Mode(StrEnum):
    PRINTS = "prints"
    NEVER_ANSWERS = "never_answers"
    REFUSES = "refuses"
    PAPER_OUT = "paper_out"
    DROPS_MID_JOB = "drops_mid_job"


class FakePrinter:
    """``async with FakePrinter(Mode.PRINTS) as fake:`` then use `fake.address`."""

    def __init__(
        self,
        mode: Mode,
        *,
        state: PrinterState | None = None,
        drop_after: int = 1024,
    ) -> None:
        self.mode = mode
        if state is None:
            state = PrinterState.PAPER_OUT if mode is Mode.PAPER_OUT else PrinterState.READY
        self.replies = dict(zip(STATUS_REQUESTS, status_replies(state), strict=True))
        self.drop_after = drop_after
        self.port = 0
        self.jobs: list[bytes] = []  # everything received, one entry per connection
        self.connections = 0
        self.job_done = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    @property
    def received(self) -> bytes:
        return b"".join(self.jobs)

    async def __aenter__(self) -> FakePrinter:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.mode is Mode.NEVER_ANSWERS:
            # A small receive window (inherited by accepted sockets) so a big
            # job really stalls instead of vanishing into kernel buffers.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        if self.mode is Mode.REFUSES:
            sock.close()  # the port was free a moment ago; now nobody listens
            return self
        self._server = await asyncio.start_server(self._handle, sock=sock)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for writer in self._writers:
            writer.transport.abort()
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        self.connections += 1
        received = bytearray()
        try:
            if self.mode is Mode.NEVER_ANSWERS:
                await asyncio.Event().wait()  # hold the connection, read nothing
            scanned = 0
            while chunk := await reader.read(65536):
                received += chunk
                # Status requests are answered as they arrive, even mid-job,
                # like a printer's real-time command handling.
                while (found := received.find(DLE_EOT, scanned)) != -1 and found + 2 < len(received):
                    n = received[found + 2]
                    if n in self.replies:
                        writer.write(bytes((self.replies[n],)))
                    scanned = found + 3
                scanned = max(scanned, len(received) - 2)
                if self.mode is Mode.DROPS_MID_JOB and len(received) >= self.drop_after:
                    # SO_LINGER 0: close with a reset, as a printer rebooting does.
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    break
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            self.jobs.append(bytes(received))
            if self.mode is Mode.DROPS_MID_JOB:
                writer.transport.abort()
            else:
                writer.close()
            self._writers.discard(writer)
            self._handlers.discard(task)
            self.job_done.set()
