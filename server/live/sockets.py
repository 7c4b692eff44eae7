"""`GET /ws`: who a socket belongs to, and serving it from the hub (CONTRACT §6).

A display, kiosk, rating pad, printer or staff token (in `?token=`, since
browsers cannot set headers on a WebSocket, or as a bearer header), or a
citizen's `?ticket=ID&key=KEY`. Without a valid credential: 401, no upgrade.
The first message is the snapshot; then the events the catalogue sends this
kind of client (a citizen's socket remembers its ticket and its number, for
the events about that ticket only). A staff socket carries its log-in, and is
closed when that log-in ends (the hub).

No permessage-deflate: browsers offer it, and it would give every socket a
zlib compressor of its own (~260 KiB, measured) and compress every message
once per socket, where the hub sends the same bytes to all.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from clearhall.server.domain import auth, errors, events, messages, tickets
from clearhall.server.domain.auth import Principal
from clearhall.server.domain.token_cache import TokenCache
from clearhall.server.keys import DB, HALL, HUB, LISTEN_URL, TOKENS
from clearhall.server.live.hub import HEARTBEAT_S, Client, Hub
from clearhall.server.store.credentials import bearer

ENDED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED)  # what ends `async for` too


def origin_allowed(request: web.Request) -> bool:
    """Browsers send Origin: it must be the hall's public URL, or this server as addressed.

    "As addressed" trusts the Host header, which DNS rebinding controls: a name
    the attacker owns, pointed at the hall's address, makes Host and Origin
    agree. So when the hall has a `public_url`, another origin is accepted only
    when it names this server by IP address (the screens on the hall's own
    network), which a rebinding page cannot have.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser: print agents, tools
    origin = origin.rstrip("/")
    public = request.app[HALL].public_url
    if public and origin == public.rstrip("/"):
        return True
    if origin != f"{request.scheme}://{request.host}":
        return False
    return not public or is_address(urlsplit(origin).hostname or "")


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost"
    return True


async def who(request: web.Request) -> Client | None:
    """The socket's client, from a device or staff token, or a citizen's ticket and key."""
    hall = request.app[HALL]
    ticket_id, key = request.query.get("ticket"), request.query.get("key")
    async with request.app[DB].acquire() as conn:
        if ticket_id and key:
            found = await tickets.fetch(conn, hall.id, ticket_id)
            if found and tickets.key_matches(found[1], key):
                return _client(events.CITIZEN, ticket=found[0].id, number=found[0].number)
            return None
        token = request.query.get("token") or bearer(request)
        if not token or len(token) > 200:
            return None
        p: Principal | None = await auth.principal_for_token(conn, hall.id, token, request.app.get(TOKENS))
        if p is None:
            return None
        window = None
        if p.window_id is not None:
            window = await conn.fetchval("SELECT number FROM windows WHERE id = $1", p.window_id)
    kind = p.device_kind or (events.SUPERVISOR if p.is_supervisor else events.STAFF)
    return _client(kind, window, p.session_id)


def _client(
    kind: str,
    window: int | None = None,
    session: int | None = None,
    ticket: str | None = None,
    number: str | None = None,
) -> Client:
    return Client(
        ws=web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=4096, compress=False),
        kind=kind,
        window=window,
        session=session,
        ticket=ticket,
        number=number,
    )


async def websocket(request: web.Request) -> web.StreamResponse:
    if not origin_allowed(request):
        raise errors.forbidden(messages.BAD_ORIGIN)
    client = await who(request)
    if client is None:
        raise errors.unauthorized()
    hub = request.app[HUB]
    await client.ws.prepare(request)
    client.transport = request.transport
    # Sent: kept no longer (~1 KB a socket; only the status is read after this).
    client.ws.headers.clear()
    hub.join(client)  # its snapshot, then its events
    try:
        # Clients only listen; pings and pongs are handled by aiohttp. (Not `async for`:
        # one coroutine fewer held by every idle socket.)
        while (await client.ws.receive()).type not in ENDED:
            pass
    finally:
        hub.leave(client)
    return client.ws


async def close_sockets(app: web.Application) -> None:
    """on_shutdown: sockets are closed before the server waits for its handlers to end."""
    if HUB in app:
        await app[HUB].close_sockets()


async def hub_context(app: web.Application) -> AsyncIterator[None]:
    tokens: TokenCache[Principal] = TokenCache()
    app[TOKENS] = tokens
    hub = Hub(app[DB], app[HALL], app[LISTEN_URL], tokens)
    app[HUB] = hub
    hub.start()
    yield
    await hub.stop()
