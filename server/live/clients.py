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
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass

from aiohttp import WSCloseCode, WSMsgType, web

from clearhall.server.domain import events
from clearhall.server.domain.tickets import Place

log = logging.getLogger(__name__)

QUEUE_LIMIT = 64  # messages waiting for one socket before it counts as fallen behind


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
