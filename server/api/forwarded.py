"""The client's address behind a proxy: `clearhall serve --trusted-proxy ADDRESS`.

Behind nginx every connection comes from nginx, so `request.remote` is its
address, and the per-address log-in throttle would count a whole hall as one
client. A proxy named with `--trusted-proxy` (an address or a network, e.g.
`127.0.0.1` or `10.0.0.0/24`) tells who its client was in `X-Forwarded-For`.
The server believes that header only from a connection that comes from a
trusted proxy, and only its last address: the one the nearest proxy appended
itself (nginx: `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`).
The addresses before it are the client's own words and never read, and anyone
else's X-Forwarded-For is ignored. Without `--trusted-proxy` nothing changes.

Handlers, the throttles and the access log take the address from
`client_address(request)`, never from `request.remote`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp.web_request import BaseRequest

from clearhall.server.api.routes import Handler

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

CLIENT: Final = web.RequestKey("client", str)  # the client's address, set when a trusted proxy told it


def trusted(peer: str | None, proxies: Sequence[Network]) -> bool:
    if not peer:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack socket's view of an IPv4 peer
    return any(address in network for network in proxies)


def forwarded_client(header: str) -> str | None:
    """The last address of an X-Forwarded-For value, if it is one."""
    last = header.rpartition(",")[2].strip()
    try:
        return str(ipaddress.ip_address(last))
    except ValueError:
        return None


def from_trusted_proxies(proxies: Sequence[Network]) -> list[Middleware]:
    """The middleware that learns the client's address from a trusted proxy (none without proxies)."""
    if not proxies:
        return []

    @web.middleware
    async def client_from_proxy(request: web.Request, handler: Handler) -> web.StreamResponse:
        if trusted(request.remote, proxies):
            headers = request.headers.getall("X-Forwarded-For", [])
            client = forwarded_client(headers[-1]) if headers else None
            if client is not None:
                request[CLIENT] = client
        return await handler(request)

    return [client_from_proxy]


def client_address(request: BaseRequest) -> str | None:
    """The client's address: a trusted proxy's word for it, else the connection's peer."""
    return request.get(CLIENT) or request.remote
