"""The WebSocket hub (CONTRACT §6): `GET /ws`, a snapshot first, then events.

- One LISTEN connection per process, not from the pool, straight to PostgreSQL
  (LISTEN_DATABASE_URL when the pool goes through a pooler). After a lost
  connection it LISTENs again first and re-reads the state second (sending a
  fresh snapshot to every socket), so nothing that happened in between is
  missed. It checks itself with a self-notify every ~10 s.
- Every event is serialised once (it arrives serialised, from pg_notify) and
  the same text goes to every socket that may see it.
- Each socket has a bounded outgoing queue and its own writer task; the hub
  never awaits a socket. A socket that falls behind is closed, and its client
  reconnects to a fresh snapshot.
- Who receives an event is the event catalogue's word (`domain/events.py`):
  a rating pad hears only its window's own events, a citizen only its ticket's.
- After each burst of events the hub re-reads the queue once (debounced) and
  sends it as `queue.changed`, so screens never poll or re-fetch.
- A staff socket lives no longer than its log-in: a log-out anywhere arrives
  as `session.ended` on the channel and closes that log-in's sockets in every
  process; every ~30 s the hub also closes those whose session expired or
  whose staff member was made inactive. Closed with 4401 and a reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import socket
from dataclasses import dataclass, field

import asyncpg
from aiohttp import WSCloseCode, web

from clearhall.server.domain import auth, events
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.events import CHANNEL, SCREENS
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.token_cache import TokenCache
from clearhall.server.domain.views import queue_state
from clearhall.server.store.db import DATABASE_DOWN, Connection

log = logging.getLogger(__name__)

QUEUE_LIMIT = 64  # messages waiting for one socket before it counts as fallen behind
HEARTBEAT_S = 20.0
SELF_CHECK_S = 10.0
DEBOUNCE_S = 0.25
SESSION_CHECK_S = 30.0
SESSION_ENDED_CLOSE = 4401  # like HTTP 401: log in again, reconnecting alone will not do


@dataclass(eq=False)
class Client:
    ws: web.WebSocketResponse
    kind: str  # one of events.CLIENT_KINDS
    window: int | None = None  # a rating pad's or window screen's window number
    session: int | None = None  # a staff socket's log-in (sessions.id)
    ticket: str | None = None  # a citizen socket's ticket (tickets.id)
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    dropped: bool = False  # to be closed by its writer, with this code and reason:
    close_code: int = WSCloseCode.TRY_AGAIN_LATER
    close_reason: bytes = b"fell behind"

    def wants(self, event: events.Event, window: int | None, ticket: str | None = None) -> bool:
        """The catalogue says who receives an event; a window's own events only its pad,
        a ticket's own events only the citizen holding that ticket."""
        if self.kind not in event.audience:
            return False
        if event.own_ticket and self.kind == events.CITIZEN:
            return self.ticket is not None and self.ticket == ticket
        return not event.own_window or self.window == window


class Hub:
    def __init__(self, pool: asyncpg.Pool, hall: Hall, url: str, tokens: TokenCache[Principal]) -> None:
        self.pool, self.hall, self.url = pool, hall, url
        self.tokens = tokens  # emptied by what the channel says; on only while listening
        self.clients: set[Client] = set()
        self.listener: Connection | None = None
        self.ping_token = ""
        self.pong = asyncio.Event()
        self.lost = asyncio.Event()  # set by asyncpg when the listener's connection ends
        self.dirty = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------ sending

    def send(self, client: Client, text: str) -> None:
        if client.dropped:
            return
        try:
            client.queue.put_nowait(text)
        except asyncio.QueueFull:
            # Fallen behind: close it; the client reconnects to a fresh snapshot.
            client.dropped = True
            client.queue = asyncio.Queue(1)
            client.queue.put_nowait("")  # wakes the writer, which then closes
            log.info("dropped a %s socket that fell behind", client.kind)

    def close(self, client: Client, code: int, reason: bytes) -> None:
        """Have the client's writer close it (the hub never awaits a socket)."""
        if client.dropped:
            return
        client.dropped, client.close_code, client.close_reason = True, code, reason
        # Wakes a writer waiting on an empty queue; a full one is read on anyway.
        with contextlib.suppress(asyncio.QueueFull):
            client.queue.put_nowait("")

    def end_sessions(self, ended: set[int], reason: bytes) -> None:
        for client in list(self.clients):
            if client.session is not None and client.session in ended:
                self.close(client, SESSION_ENDED_CLOSE, reason)

    def broadcast(
        self, text: str, event: events.Event, window: int | None, ticket: str | None = None
    ) -> None:
        for client in list(self.clients):
            if client.wants(event, window, ticket):
                self.send(client, text)

    async def writer(self, client: Client) -> None:
        while True:
            text = await client.queue.get()
            if client.dropped:
                await client.ws.close(code=client.close_code, message=client.close_reason)
                return
            await client.ws.send_str(text)

    # ------------------------------------------------------------ state

    async def snapshot(self) -> str:
        async with self.pool.acquire() as conn:
            state = await queue_state(conn, self.hall)
        return json.dumps({"type": "snapshot", **state}, ensure_ascii=False, separators=(",", ":"))

    async def refresher(self) -> None:
        """After a burst of events, re-read the queue once and send it to everyone."""
        while True:
            await self.dirty.wait()
            await asyncio.sleep(DEBOUNCE_S)
            self.dirty.clear()
            try:
                async with self.pool.acquire() as conn:
                    state = await queue_state(conn, self.hall)
            except (*DATABASE_DOWN, asyncpg.PostgresError) as exc:
                log.warning("could not re-read the queue: %s", exc)
                self.dirty.set()
                await asyncio.sleep(1)
                continue
            self.broadcast(events.QUEUE_CHANGED.serialise(state), events.QUEUE_CHANGED, None)

    # ------------------------------------------------------------ listening

    def on_notify(self, conn: Connection, pid: int, channel: str, payload: object) -> None:
        try:
            message = json.loads(str(payload))
        except ValueError:
            return
        if message.get("type") == "ping":
            if message.get("token") == self.ping_token:
                self.pong.set()
            return
        if message.pop("hall", None) != self.hall.id:
            return
        if message.get("type") == auth.CREDENTIALS_CHANGED:
            self.tokens.forget()
            return
        if message.get("type") == auth.SESSION_ENDED:
            self.tokens.forget()
            self.end_sessions({message.get("session")}, b"logged out")
            return
        event = events.BY_NAME.get(message.get("event", ""))
        if event is None:
            return
        # Serialised once more, without the hall's internal id, and the same
        # text goes to every socket that may see it.
        text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
        about = message.get("ticket")
        ticket = about.get("id") if isinstance(about, dict) else None
        self.broadcast(text, event, message.get("window"), ticket)
        if event.audience & SCREENS and not (event.own_window or event.own_ticket):
            # The queue may have changed: screens get it whole, soon. (An event
            # for one pad or one phone says nothing about the hall's queue.)
            self.dirty.set()

    async def listen(self) -> None:
        """Keep one LISTEN connection alive; after a loss, LISTEN first, then re-read."""
        first = True
        while True:
            try:
                self.listener = await asyncpg.connect(
                    self.url,
                    server_settings={
                        "application_name": "clearhall-listener",
                        "tcp_keepalives_idle": "30",
                        "tcp_keepalives_interval": "10",
                        "tcp_keepalives_count": "3",
                    },
                )
                keep_alive(self.listener)
                self.lost.clear()
                self.listener.add_termination_listener(lambda _conn: self.lost.set())
                await self.listener.add_listener(CHANNEL, self.on_notify)
                self.tokens.listening(True)
                if not first:
                    # Events may have been missed while we were away: everyone gets the state again.
                    text = await self.snapshot()
                    for client in list(self.clients):
                        self.send(client, text)
                    log.info("listening again after a lost connection; snapshots resent")
                first = False
                await self.self_check()
            except (*DATABASE_DOWN, asyncpg.PostgresError) as exc:
                # (ConnectionError is an OSError)
                log.warning("event listener lost its connection (%s); reconnecting", exc)
            finally:
                self.tokens.listening(False)
                if self.listener is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(self.listener.close(), 2)
                    self.listener = None
            await asyncio.sleep(1)

    async def self_check(self) -> None:
        """Every ~10 s, notify ourselves; no echo within 5 s means the connection is dead."""
        assert self.listener is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.lost.wait(), SELF_CHECK_S)
                raise ConnectionError("the server closed the listener's connection")
            self.ping_token = secrets.token_hex(8)
            self.pong.clear()
            ping = json.dumps({"type": "ping", "token": self.ping_token})
            await asyncio.wait_for(self.listener.execute("SELECT pg_notify($1, $2)", CHANNEL, ping), 5)
            await asyncio.wait_for(self.pong.wait(), 5)

    # ------------------------------------------------------------ log-ins

    async def check_sessions(self) -> None:
        """Close the staff sockets whose session expired or whose staff member is inactive."""
        sessions = {c.session for c in self.clients if c.session is not None and not c.dropped}
        if not sessions:
            return
        async with self.pool.acquire() as conn:
            alive = await auth.live_sessions(conn, sorted(sessions))
        self.end_sessions(sessions - alive, b"session ended")

    async def session_watch(self) -> None:
        while True:
            await asyncio.sleep(SESSION_CHECK_S)
            try:
                await self.check_sessions()
            except (*DATABASE_DOWN, asyncpg.PostgresError) as exc:
                log.warning("could not check the sockets' sessions: %s", exc)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self.tasks = [
            asyncio.create_task(self.listen()),
            asyncio.create_task(self.refresher()),
            asyncio.create_task(self.session_watch()),
        ]

    async def close_sockets(self) -> None:
        for client in list(self.clients):
            await client.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.close_sockets()


def keep_alive(conn: Connection) -> None:
    """TCP keepalive on our side of the listener's connection too (the server side
    is set by tcp_keepalives_* above): a dead peer is noticed even between
    self-checks. asyncpg has no option for it, so the socket is reached directly."""
    sock = conn._transport.get_extra_info("socket")  # type: ignore[union-attr]
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # a Unix socket has no keepalive
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)
