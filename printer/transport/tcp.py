"""Network printers, ``tcp://HOST:PORT``: the raw port 9100, over asyncio streams.

Owns the three things done on a printer's port: `send` (the job, then close),
`send_confirmed` (the job and a status request after it, whose answer proves
the printer took every byte) and `probe` (DLE EOT 1, 2, 4 on a connection of
its own). Each is bounded by `timeout` seconds from the first byte to the last.
"""

# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib

from clearhall.printer.status import (
    STATUS_PRINTER,
    STATUS_REQUESTS,
    PrinterState,
    parse_replies,
    status_request,
)
from clearhall.printer.transport.address import TcpAddress
from clearhall.printer.transport.errors import PrintError


async def send(target: TcpAddress, data: bytes, timeout: float) -> None:
    """Deliver `data`: delivered once the printer's side has taken the last byte."""
    stage = "connecting to"
    writer: asyncio.StreamWriter | None = None
    delivered = False
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(target.host, target.port)
            stage = "sending to"
            writer.write(data)
            await writer.drain()
            # Closing flushes what asyncio still buffers: the job is only
            # delivered once the printer has taken the last byte.
            stage = "finishing the job on"
            writer.close()
            await writer.wait_closed()
            delivered = True
    except TimeoutError:
        raise PrintError(f"timed out after {timeout:g} s {stage} printer {target}") from None
    except ConnectionRefusedError:
        raise PrintError(
            f"printer {target} refused the connection (is it switched on, is the port right?)"
        ) from None
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise PrintError(f"{stage} printer {target} failed: {reason}") from None
    finally:
        if writer is not None and not delivered:
            writer.transport.abort()


async def send_confirmed(target: TcpAddress, data: bytes, timeout: float) -> None:
    """Deliver `data` followed by DLE EOT 1 on the same connection, and read the answer.

    A printer answers the status request only after it has read the whole job
    before it, so the answer proves every byte arrived, where `send` cannot tell
    a printer that reset halfway through a big job from one that printed it.
    Only for printers known to answer status requests (see `probe`).
    """
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(target.host, target.port)
            writer.write(data + status_request(STATUS_PRINTER))
            await writer.drain()
            await reader.readexactly(1)
    except TimeoutError:
        raise PrintError(f"timed out after {timeout:g} s sending the job to printer {target}") from None
    except asyncio.IncompleteReadError:
        raise PrintError(f"printer {target} closed the connection in the middle of the job") from None
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise PrintError(f"sending to printer {target} failed: {reason}") from None
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                async with asyncio.timeout(0.2):
                    await writer.wait_closed()


async def probe(target: TcpAddress, timeout: float) -> PrinterState:
    """The printer's state; ``offline`` when nothing answers, never an error."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        async with asyncio.timeout_at(deadline):
            reader, writer = await asyncio.open_connection(target.host, target.port)
    except (OSError, TimeoutError):
        return PrinterState.OFFLINE
    replies = bytearray()
    try:
        for n in STATUS_REQUESTS:
            writer.write(status_request(n))
            async with asyncio.timeout_at(deadline):
                await writer.drain()
                replies += await reader.readexactly(1)
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        # Silence from the start means nobody is printing there; silence after
        # a first answer is a printer we do not understand.
        return PrinterState.UNKNOWN if replies else PrinterState.OFFLINE
    finally:
        writer.transport.abort()
    return parse_replies(bytes(replies))
