"""The WebSocket hub (CONTRACT §6): `GET /ws`, a snapshot first, then events.

- One LISTEN connection per process, not from the pool. After a lost
  connection it LISTENs again first and re-reads the state second (sending a
  fresh snapshot to every socket), so nothing that happened in between is
  missed. It checks itself with a self-notify every ~10 s.
- Every event is serialised once (it arrives serialised, from pg_notify) and
  the same text goes to every socket that may see it.
- Each socket has a bounded outgoing queue and its own writer task; the hub
  never awaits a socket. A socket that falls behind is closed, and its client
  reconnects to a fresh snapshot.
- After each burst of events the hub re-reads the queue once (debounced) and
  sends it as `queue.changed`, so screens never poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
from aiohttp import WSCloseCode, web
from clearhall.server.api import errors
from clearhall.server.api.handlers import queue_state
from clearhall.server.domain import auth, tickets
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.events import CHANNEL
from clearhall.server.domain.hall import Hall
from clearhall.server.keys import DB, DB_URL, HALL, HUB

log = logging.getLogger(__name__)

QUEUE_LIMIT = 64  # messages waiting for one socket before it counts as fallen behind
HEARTBEAT_S = 20.0
SELF_CHECK_S = 10.0
DEBOUNCE_S = 0.25
# Only the rating pad of the window sees a rating request: it carries the ticket id.
PRIVATE_EVENTS = {"rating.requested"}


@dataclass(eq=False)
class Client:
    ws: web.WebSocketResponse
    kind: str  # display | kiosk | rating | printer | staff | citizen
    window: int | None = None  # a rating pad's or window screen's window number
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    dropped: bool = False

    def wants(self, name: str, window: int | None) -> bool:
        if name in PRIVATE_EVENTS:
            return self.kind == "rating" and self.window == window
        return self.kind != "rating" or name in ("window.changed", "ticket.finished")


class Hub:
    def __init__(self, pool: asyncpg.Pool, hall: Hall, url: str) -> None:
        self.pool, self.hall, self.url = pool, hall, url
        self.clients: set[Client] = set()
        self.listener: asyncpg.Connection | None = None
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

    def broadcast(self, text: str, name: str, window: int | None) -> None:
        for client in list(self.clients):
            if client.wants(name, window):
                self.send(client, text)

    async def writer(self, client: Client) -> None:
        while True:
            text = await client.queue.get()
            if client.dropped:
                await client.ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"fell behind")
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
            except (*errors.DATABASE_DOWN, asyncpg.PostgresError) as exc:
                log.warning("could not re-read the queue: %s", exc)
                self.dirty.set()
                await asyncio.sleep(1)
                continue
            text = json.dumps(
                {"type": "event", "event": "queue.changed", **state},
                ensure_ascii=False,
                separators=(",", ":"),
            )
            self.broadcast(text, "queue.changed", None)

    # ------------------------------------------------------------ listening

    def on_notify(self, conn: object, pid: int, channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if message.get("type") == "ping":
            if message.get("token") == self.ping_token:
                self.pong.set()
            return
        if message.get("hall") != self.hall.id:
            return
        name = message.get("event", "")
        self.broadcast(payload, name, message.get("window"))
        if name not in PRIVATE_EVENTS:
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
                if not first:
                    # Events may have been missed while we were away: everyone gets the state again.
                    text = await self.snapshot()
                    for client in list(self.clients):
                        self.send(client, text)
                    log.info("listening again after a lost connection; snapshots resent")
                first = False
                await self.self_check()
            except (*errors.DATABASE_DOWN, asyncpg.PostgresError) as exc:
                # (ConnectionError is an OSError)
                log.warning("event listener lost its connection (%s); reconnecting", exc)
            finally:
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

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self.listen()), asyncio.create_task(self.refresher())]

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


async def close_sockets(app: web.Application) -> None:
    """on_shutdown: sockets are closed before the server waits for its handlers to end."""
    if HUB in app:
        await app[HUB].close_sockets()


async def hub_context(app: web.Application) -> AsyncIterator[None]:
    hub = Hub(app[DB], app[HALL], app[DB_URL])
    app[HUB] = hub
    hub.start()
    yield
    await hub.stop()


def keep_alive(conn: asyncpg.Connection) -> None:
    """TCP keepalive on our side of the listener's connection too (the server side
    is set by tcp_keepalives_* above): a dead peer is noticed even between
    self-checks. asyncpg has no option for it, so the socket is reached directly."""
    sock = conn._transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # a Unix socket has no keepalive
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


def origin_allowed(request: web.Request) -> bool:
    """Browsers send Origin: it must be this server (or the hall's public URL)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser: print agents, tools
    hall = request.app[HALL]
    allowed = {f"{request.scheme}://{request.host}"}
    if hall.public_url:
        allowed.add(hall.public_url)
    return origin.rstrip("/") in allowed


async def who(request: web.Request) -> Client | None:
    """The socket's client, from a device or staff token, or a citizen's ticket and key."""
    hall = request.app[HALL]
    ticket_id, key = request.query.get("ticket"), request.query.get("key")
    async with request.app[DB].acquire() as conn:
        if ticket_id and key:
            found = await tickets.fetch(conn, hall.id, ticket_id)
            if found and tickets.key_matches(found[1], key):
                return _client("citizen")
            return None
        token = request.query.get("token") or auth.bearer(request)
        if not token or len(token) > 200:
            return None
        p: Principal | None = await auth.principal_for_token(conn, hall.id, token)
        if p is None:
            return None
        window = None
        if p.window_id is not None:
            window = await conn.fetchval("SELECT number FROM windows WHERE id = $1", p.window_id)
    return _client(p.device_kind or "staff", window)


def _client(kind: str, window: int | None = None) -> Client:
    return Client(
        ws=web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=4096), kind=kind, window=window
    )


async def websocket(request: web.Request) -> web.StreamResponse:
    if not origin_allowed(request):
        raise errors.forbidden("不允许的来源 (this Origin may not connect)")
    client = await who(request)
    if client is None:
        raise errors.unauthorized()
    hub = request.app[HUB]
    await client.ws.prepare(request)
    text = await hub.snapshot()
    await client.ws.send_str(text)
    hub.clients.add(client)
    writer = asyncio.create_task(hub.writer(client))
    try:
        async for _message in client.ws:
            pass  # clients only listen; pings and pongs are handled by aiohttp
    finally:
        hub.clients.discard(client)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
            await writer
    return client.ws
