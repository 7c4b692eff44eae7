"""The WebSocket hub (CONTRACT §6): `GET /ws`, a snapshot first, then events.

- One LISTEN connection per process, not from the pool, straight to PostgreSQL
  (LISTEN_DATABASE_URL when the pool goes through a pooler). After a lost
  connection it LISTENs again first and re-reads the state second (sending a
  fresh snapshot to every socket), so nothing that happened in between is
  missed. It checks itself with a self-notify every ~10 s.
- Every event is serialised and encoded once, and the same bytes go to every
  socket that may see it (`send_frame`).
- Every message goes out through one queue, in order, sent by one task: one
  message to all its sockets, then the next (a call reaches the last screen
  before anyone is sent the window's new state). A small frame goes straight
  to each socket with nothing pending (it is written at once, nothing to wait
  for); a socket with something pending gets it in its own bounded backlog,
  sent by its own writer task (`clients.Client`). The hub never waits for a
  socket; one that falls behind is closed and reconnects to a fresh snapshot.
- Who receives an event is the event catalogue's word (`domain/events.py`):
  a rating pad hears only its window's own events, a citizen only its ticket's.
- After each burst of events the hub re-reads the queue once (debounced) and
  sends it as `queue.changed`, so screens never poll or re-fetch; it keeps it,
  serialised, as the snapshot a new socket gets, so a reconnect storm is not a
  query per socket. A new socket is in `clients` from the moment it is given
  that snapshot, so every later refresh and event reaches it. The kept
  snapshot is used only while listening, while no refresh is due (it shows
  every event heard) and for SNAPSHOT_MAX_AGE_S; otherwise a new socket waits
  for the next read, and the events meant for it meanwhile are held and sent
  after its snapshot.
- In the same pass, the places of the citizens' tickets (one query for all of
  this process's citizen sockets), sent as `ticket.place` to those whose place
  changed, and once to each new citizen socket.
- A staff socket lives no longer than its log-in: a log-out anywhere arrives
  as `session.ended` on the channel and closes that log-in's sockets in every
  process; every ~30 s the hub also closes those whose session expired or
  whose staff member was made inactive. Closed with 4401 and a reason.
- Open sockets are kept out of the garbage collector's full collections once
  they settle (`clients.Collector`): a full one stopped every call for 320 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import socket
import time
from collections import deque
from collections.abc import Collection
from typing import Any

import asyncpg
from aiohttp import WSCloseCode, WSMsgType

from clearhall.server.domain import auth, events, tickets
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.events import CHANNEL, SCREENS
from clearhall.server.domain.hall import Hall
from clearhall.server.domain.tickets import Place
from clearhall.server.domain.token_cache import TokenCache
from clearhall.server.domain.views import queue_state
from clearhall.server.live.clients import QUEUE_LIMIT, Client, Collector
from clearhall.server.store.db import DATABASE_DOWN, Connection

log = logging.getLogger(__name__)

HEARTBEAT_S = 20.0
SELF_CHECK_S = 10.0
DEBOUNCE_S = 0.25
# What changes with no event (waits estimated from the last two hours' finishes,
# the day's notices) is read again for a new socket after this long.
SNAPSHOT_MAX_AGE_S = 10.0
# A frame up to this size is written at once to a socket with nothing pending
# (far below the transport's high-water mark: sending it never waits).
INLINE_MAX = 16 * 1024
SESSION_CHECK_S = 30.0
SESSION_ENDED_CLOSE = 4401  # like HTTP 401: log in again, reconnecting alone will not do


def dumps(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


class Hub:
    def __init__(self, pool: asyncpg.Pool, hall: Hall, url: str, tokens: TokenCache[Principal]) -> None:
        self.pool, self._hall, self.url = pool, hall, url
        self.tokens = tokens  # emptied by what the channel says; on only while listening
        self.clients: set[Client] = set()
        self.joining: set[Client] = set()  # new sockets waiting for a snapshot to be read
        self.kept: bytes | None = None  # the snapshot a new socket gets, while fresh
        self.kept_at = 0.0
        self.listener: Connection | None = None
        self.listening = False
        self.ping_token = ""
        self.pong = asyncio.Event()
        self.lost = asyncio.Event()  # set by asyncpg when the listener's connection ends
        self.due = asyncio.Event()  # the refresher has something to read, for these reasons:
        self.changed = False  # events arrived: the queue and the places may have changed
        self.resend = False  # listening again after a loss: everyone gets the state again
        self.placing = False  # new citizen sockets wait for their place
        self.outbox: deque[tuple[bytes, list[Client]]] = deque()  # in order, for these sockets
        self.sender: asyncio.Task[None] | None = None  # sends the outbox, and ends with it
        self.tasks: list[asyncio.Task[None]] = []
        self.collector = Collector()  # open sockets out of the full garbage collections

    @property
    def hall(self) -> Hall:
        return self._hall

    @hall.setter
    def hall(self, hall: Hall) -> None:
        """A reloaded hall file (server/reload.py): the kept snapshot showed the old one."""
        self._hall, self.kept = hall, None

    # ------------------------------------------------------------ sockets

    def join(self, client: Client) -> None:
        """A new socket: the kept snapshot at once, if it shows every event heard so far
        (no refresh is due: a rating pad, say, would not hear the refresh), or the next read's."""
        self.collector.open()
        fresh = not (self.changed or self.resend) and time.monotonic() - self.kept_at < SNAPSHOT_MAX_AGE_S
        if self.kept is not None and fresh:
            self.enter(client, self.kept)
        else:
            client.held = []
            self.joining.add(client)
            self.due.set()

    def enter(self, client: Client, snapshot: bytes) -> None:
        # In `clients` with its snapshot queued first: every refresh and event after
        # the one this snapshot shows reaches it, after it.
        self.clients.add(client)
        self.deliver(snapshot, [client])
        held, client.held = client.held or [], None
        for data in held:
            self.deliver(data, [client])
        if client.ticket is not None:
            self.placing = True
            self.due.set()

    def leave(self, client: Client) -> None:
        self.collector.close()
        self.clients.discard(client)
        self.joining.discard(client)
        client.stop()

    # ------------------------------------------------------------ sending

    def end_sessions(self, ended: set[int], reason: bytes) -> None:
        for client in [*self.clients, *self.joining]:
            if client.session is not None and client.session in ended:
                client.close(SESSION_ENDED_CLOSE, reason)

    def broadcast(
        self,
        data: bytes,
        event: events.Event,
        window: int | None,
        ticket: str | None = None,
        number: str | None = None,
    ) -> None:
        self.deliver(data, [c for c in self.clients if c.wants(event, window, ticket, number)])
        for client in self.joining:  # no snapshot yet: theirs come after it
            if client.held is not None and client.wants(event, window, ticket, number):
                if len(client.held) < QUEUE_LIMIT:
                    client.held.append(data)
                else:
                    client.close(WSCloseCode.TRY_AGAIN_LATER, b"fell behind")

    def deliver(self, data: bytes, clients: list[Client]) -> None:
        """Queue a message for these sockets, after every message queued before it."""
        self.outbox.append((data, clients))
        if self.sender is None:
            self.sender = asyncio.create_task(self.flush())

    async def flush(self) -> None:
        """Send the outbox in order, then end. Nothing is pending for most sockets: a small
        frame is written to them at once (this awaits nothing); the others queue it."""
        try:
            while self.outbox:
                data, clients = self.outbox.popleft()
                small = len(data) <= INLINE_MAX
                for client in clients:
                    if small and client.ready():
                        try:
                            await client.ws.send_frame(data, WSMsgType.TEXT)
                        except ConnectionResetError:
                            client.dropped = True  # closing already: its handler ends with it
                    else:
                        client.send(data)
        finally:
            self.sender = None

    # ------------------------------------------------------------ state

    async def refresher(self) -> None:
        """Once per burst of events, or for new sockets: read the queue and the citizens'
        places, and send them where they are wanted."""
        while True:
            await self.due.wait()
            if not self.joining:  # nobody waits for a first snapshot: let the burst end
                await asyncio.sleep(DEBOUNCE_S)
            self.due.clear()
            changed, resend, placing = self.changed, self.resend, self.placing
            self.changed = self.resend = self.placing = False
            everyone = changed or resend
            try:
                async with self.pool.acquire() as conn:
                    state = await queue_state(conn, self.hall) if everyone or self.joining else None
                    places = await self.read_places(conn, everyone) if everyone or placing else {}
            except (*DATABASE_DOWN, asyncpg.PostgresError) as exc:
                log.warning("could not re-read the queue: %s", exc)
                self.changed, self.resend = self.changed or changed, self.resend or resend
                self.placing = self.placing or placing
                self.due.set()
                await asyncio.sleep(1)
                continue
            if state is not None:
                self.take(state, changed, resend)
            self.tell(places)

    def take(self, state: dict[str, Any], changed: bool, resend: bool) -> None:
        """A fresh read of the queue: to the screens, to the new sockets, and kept."""
        snapshot = dumps({"type": "snapshot", **state})
        if self.listening:  # else events may be missed: nothing is kept
            self.kept, self.kept_at = snapshot, time.monotonic()
        joining, self.joining = self.joining, set()  # this state is their snapshot, not a change
        if resend:
            self.deliver(snapshot, list(self.clients))
        elif changed:
            self.broadcast(events.QUEUE_CHANGED.serialise(state).encode(), events.QUEUE_CHANGED, None)
        for client in joining:
            self.enter(client, snapshot)

    async def read_places(self, conn: Connection, everyone: bool) -> dict[str, Place]:
        """The places of the citizen sockets' tickets: all of them, or the new sockets' only."""
        wanted: Collection[str] = {
            c.ticket for c in self.clients if c.ticket is not None and (everyone or c.place is None)
        }
        return await tickets.places_in_line(conn, self.hall.id, wanted) if wanted else {}

    def tell(self, places: dict[str, Place]) -> None:
        """`ticket.place` to each citizen socket whose place changed (serialised once per ticket)."""
        told: dict[str, tuple[bytes, list[Client]]] = {}
        for client in list(self.clients):
            ticket = client.ticket
            place = places.get(ticket) if ticket is not None else None
            if ticket is None or place is None or place == client.place:
                continue
            client.place = place
            if ticket not in told:
                told[ticket] = (events.TICKET_PLACE.serialise({"ticket": place.json()}).encode(), [])
            told[ticket][1].append(client)
        for data, clients in told.values():
            self.deliver(data, clients)

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
        # bytes go to every socket that may see it.
        about = message.get("ticket")
        ticket, number = (about.get("id"), about.get("number")) if isinstance(about, dict) else (None, None)
        self.broadcast(dumps(message), event, message.get("window"), ticket, number)
        if event.audience & SCREENS and not event.own_window:
            # The queue and the citizens' places may have changed: screens get the
            # queue whole, phones their place, soon. (An event for one pad or one
            # phone only says nothing about the hall's queue.)
            self.changed = True
            self.due.set()

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
                self.listening = True
                if not first:
                    # Events may have been missed while we were away: everyone gets the
                    # state again, read from now on (the refresher's next pass).
                    self.resend = True
                    self.due.set()
                    log.info("listening again after a lost connection; snapshots to be resent")
                first = False
                await self.self_check()
            except (*DATABASE_DOWN, asyncpg.PostgresError) as exc:
                # (ConnectionError is an OSError)
                log.warning("event listener lost its connection (%s); reconnecting", exc)
            finally:
                self.tokens.listening(False)
                self.listening, self.kept = False, None
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
        for client in [*self.clients, *self.joining]:
            await client.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")

    async def stop(self) -> None:
        if self.sender is not None:
            self.tasks.append(self.sender)
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.close_sockets()
        self.collector.stop()


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
