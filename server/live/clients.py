"""One WebSocket as the hub sees it: who it belongs to, and sending to it.

- Who receives an event is the catalogue's word (`domain/events.py`), asked in
  `Client.wants`: a rating pad hears only its window's own events, a citizen
  only its own ticket's (by the ticket's id or its number).
- The hub writes a small frame at once to a socket with nothing pending
  (`ready`). Otherwise the socket has a bounded backlog (QUEUE_LIMIT
  messages), sent by a writer task that runs only while there is something to
  send: an idle socket holds no task and no queue (what an idle socket costs
  is measured by bench/fanout.py). Messages arrive encoded, the same bytes for
  every socket, and go out as text frames as they are.
- A socket that falls behind is closed (1013); its client reconnects to a
  fresh snapshot. Closing is the writer's job too, after what it is sending.
- What the sockets cost the garbage collector (`Collector`): thousands of open
  sockets are ~70 tracked objects each, and CPython's full collection walks
  them all, stopping the process (320 ms at 5,000 sockets, measured by
  bench/fanout.py: a call then reached its last screen 260 ms late). Sockets
  that have settled are frozen (`gc.freeze`: left out of every collection). A
  closed socket's objects are cycles, which a frozen object never leaves, so
  once a quarter as many sockets as are open (at least THAW_AFTER) have closed,
  all is thawed, collected in full once, and frozen again: one such pause per
  quarter of the sockets renewed, where before the objects each refresh leaves
  behind set one off about once a minute with no socket renewed at all. A
  freeze takes in whatever else is alive then, so the thaw also comes at least
  every THAW_EVERY_S: no cycle waits longer than that to be collected.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections import deque
from dataclasses import dataclass

from aiohttp import WSCloseCode, WSMsgType, web

from clearhall.server.domain import events
from clearhall.server.domain.tickets import Place

log = logging.getLogger(__name__)

QUEUE_LIMIT = 64  # messages waiting for one socket before it counts as fallen behind
SETTLE_S = 2.0  # sockets are frozen this long after the first of them opened
THAW_AFTER = 256  # closed sockets, at least, before a full collection
THAW_EVERY_S = 600.0  # and a full collection at least this often while anything is frozen


@dataclass(eq=False, slots=True)
class Client:
    ws: web.WebSocketResponse
    kind: str  # one of events.CLIENT_KINDS
    transport: asyncio.Transport | None = None  # the socket's connection, once upgraded
    window: int | None = None  # a rating pad's or window screen's window number
    session: int | None = None  # a staff socket's log-in (sessions.id)
    ticket: str | None = None  # a citizen socket's ticket (tickets.id) …
    number: str | None = None  # … and its number, by which most of its events name it
    backlog: deque[bytes] | None = None  # what is still to be sent; None while idle
    writer: asyncio.Task[None] | None = None  # sends the backlog, and ends with it
    place: Place | None = None  # the last ticket.place a citizen socket was sent
    held: list[bytes] | None = None  # events for a new socket, kept until its snapshot is sent
    dropped: bool = False  # to be closed by its writer, with this code and reason:
    close_code: int = WSCloseCode.TRY_AGAIN_LATER
    close_reason: bytes = b"fell behind"

    def wants(
        self, event: events.Event, window: int | None, ticket: str | None = None, number: str | None = None
    ) -> bool:
        """The catalogue says who receives an event; a window's own events only its pad,
        a ticket's own events only the citizen holding that ticket (by its id or number)."""
        if self.kind not in event.audience:
            return False
        if event.own_ticket and self.kind == events.CITIZEN:
            return (ticket is not None and ticket == self.ticket) or (
                number is not None and number == self.number
            )
        return not event.own_window or self.window == window

    def ready(self) -> bool:
        """Nothing is pending for this socket: a frame written now goes out at once."""
        return (
            self.backlog is None
            and not self.dropped
            and self.transport is not None
            and not self.transport.is_closing()
            and self.transport.get_write_buffer_size() == 0
        )

    def send(self, data: bytes) -> None:
        if self.dropped:
            return
        if self.backlog is None:
            self.backlog = deque((data,))
            self.writer = asyncio.create_task(self.write())
        elif len(self.backlog) < QUEUE_LIMIT:
            self.backlog.append(data)
        else:
            # Fallen behind: close it; the client reconnects to a fresh snapshot.
            log.info("dropped a %s socket that fell behind", self.kind)
            self.close(WSCloseCode.TRY_AGAIN_LATER, b"fell behind")

    def close(self, code: int, reason: bytes) -> None:
        """Have the writer close the socket (nobody awaits a socket)."""
        if self.dropped:
            return
        self.dropped, self.close_code, self.close_reason = True, code, reason
        if self.backlog is None:
            self.backlog = deque()
            self.writer = asyncio.create_task(self.write())
        else:
            self.backlog.clear()  # the writer closes it after the message it is sending

    async def write(self) -> None:
        """Send the backlog in order, then end: an idle socket holds no task."""
        backlog = self.backlog
        assert backlog is not None
        try:
            while backlog and not self.dropped:
                await self.ws.send_frame(backlog.popleft(), WSMsgType.TEXT)
            if self.dropped:
                await self.ws.close(code=self.close_code, message=self.close_reason)
        except ConnectionResetError:
            self.dropped = True  # closing already: its handler ends with it
        finally:
            self.backlog = self.writer = None

    def stop(self) -> None:
        """The socket has ended: nothing more is sent to it, and its writer stops."""
        self.dropped = True
        if self.writer is not None:
            self.writer.cancel()


class Collector:
    """Keeps open sockets out of the garbage collector's full collections (see above)."""

    def __init__(self) -> None:
        self.sockets = 0  # open now
        self.closed = 0  # since the last full collection
        self.settling: asyncio.TimerHandle | None = None
        self.thawing: asyncio.TimerHandle | None = None

    def open(self) -> None:
        self.sockets += 1
        if self.settling is None:
            self.settling = asyncio.get_running_loop().call_later(SETTLE_S, self.settle)

    def settle(self) -> None:
        """Freeze what is alive now, after a young collection (its garbage is not kept)."""
        self.settling = None
        gc.collect(1)
        gc.freeze()
        if self.thawing is None:
            self.thawing = asyncio.get_running_loop().call_later(THAW_EVERY_S, self.thaw)

    def close(self) -> None:
        self.sockets -= 1
        self.closed += 1
        if self.closed < max(THAW_AFTER, self.sockets // 4):
            return
        loop = asyncio.get_running_loop()
        if self.thawing is None or self.thawing.when() > loop.time() + SETTLE_S:
            if self.thawing is not None:
                self.thawing.cancel()
            # once the handlers of the sockets just closed have ended too
            self.thawing = loop.call_later(SETTLE_S, self.thaw)

    def thaw(self) -> None:
        """Collect everything once (the closed sockets' cycles with it), and freeze the rest."""
        self.thawing = None
        self.closed = 0
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def stop(self) -> None:
        for handle in (self.settling, self.thawing):
            if handle is not None:
                handle.cancel()
        self.settling = self.thawing = None
        gc.unfreeze()  # a process that goes on (tests) collects them again
