"""The bridge: the card reader's cards to the kiosk page, on ws://127.0.0.1:PORT/.

Messages are JSON text, from the bridge to the page (the page sends nothing):

    {"type": "hello", "reader": "sdt", "version": 1}             first, on connecting
    {"type": "reader", "state": "ready"|"error", "message": …}   next, and on each change
    {"type": "card", "name": "张三", "id_number": "…"}           a card placed: once per placement
    {"type": "unreadable"}                                       a card placed that gave no valid number
    {"type": "removed"}                                          the card taken away

Any web page the kiosk's browser opens can knock on ws://127.0.0.1, so:

- it listens on a loopback address only (`BridgeConf` refuses any other);
- a page is let in only when its `Origin` is the hall server's (`--allow-origin`)
  and the `Host` it asked for is a loopback name (a DNS-rebound name is not);
  others are answered 403 before any WebSocket exists;
- a card goes to the pages connected when it is placed and is kept for none:
  a page that connects later never sees it;
- the number is normalised (NFKC) and checked (GB 11643: format, date of birth,
  check character) before it is sent; the log shows it masked
  (4306**********1234) and never shows the name.

The reader is polled every `poll_s` on one worker thread of its own: a blocking
C call never stalls the event loop, and two calls never run at once. A reader
that fails is closed, said to be in error, and opened again every `retry_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import unicodedata
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from aiohttp import WSCloseCode, web
from yarl import URL

from clearhall.kiosk.bridge.readers import UNREADABLE, Card, Placements, Reader, ReaderError, UnreadableCard
from clearhall.server.domain.idcard import id_problem, mask, normalise_id

log = logging.getLogger("clearhall.kiosk_bridge")

VERSION: Final = 1
DEFAULT_PORT: Final = 47810
LOOPBACK_NAMES: Final = frozenset({"127.0.0.1", "localhost", "::1"})
HEARTBEAT_S: Final = 20.0
OUTBOX: Final = 16  # messages waiting for one page; a page that far behind is dropped
NAME_LONGEST: Final = 40

T = TypeVar("T")


def origin(text: str) -> str:
    """An http(s) origin as browsers send it: scheme://host[:port], lower case, no default port."""
    try:
        url = URL(text.strip())
    except ValueError:
        url = URL()
    if url.scheme not in ("http", "https") or not url.host or url.path not in ("", "/") or url.user \
            or url.query_string or url.fragment:  # fmt: skip
        raise ValueError(f"not an origin (http(s)://host[:port], nothing after it): {text!r}")
    return str(url.origin())


def is_loopback(host: str) -> bool:
    try:
        return host in LOOPBACK_NAMES or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Origins:
    """The pages that may have cards: the hall server's origins, and with `loopback_pages`
    (the simulated reader's default, for a demo hall on this machine) any page of this machine."""

    def __init__(self, allowed: Iterable[str], loopback_pages: bool = False) -> None:
        self.allowed = frozenset(origin(a) for a in allowed)
        self.loopback_pages = loopback_pages

    def allow(self, header: str | None) -> bool:
        try:
            asked = origin(header or "")
        except ValueError:
            return False  # none, "null" (a sandboxed frame, a file), or not a web page's
        return asked in self.allowed or (self.loopback_pages and is_loopback(URL(asked).host or ""))


@dataclass(frozen=True)
class BridgeConf:
    origins: Origins
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    poll_s: float = 0.3
    retry_s: float = 3.0
    misses_to_remove: int = 3
    most_pages: int = 8

    def __post_init__(self) -> None:
        if not is_loopback(self.host):
            raise ValueError(f"the card bridge listens on this machine's loopback only, not on {self.host}")


@dataclass(eq=False)
class Page:
    """A connected kiosk page: its socket and its outbox, emptied by its own writer."""

    ws: web.WebSocketResponse
    outbox: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(OUTBOX))
    dropping: asyncio.Task[bool] | None = None

    def send(self, text: str) -> None:
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            if self.dropping is None:
                log.warning("a page fell behind: dropped (it reconnects)")
                self.dropping = asyncio.create_task(self.ws.close(code=WSCloseCode.TRY_AGAIN_LATER))

    async def write(self) -> None:
        while True:
            await self.ws.send_str(await self.outbox.get())


def message(**fields: Any) -> str:
    return json.dumps(fields, ensure_ascii=False)


def clean_name(name: str) -> str:
    """The name as printed on the card, without padding, control or invisible characters;
    private-use characters stay (some rare characters of names are written with them)."""
    kept = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    return kept.strip()[:NAME_LONGEST]


class Bridge:
    def __init__(self, conf: BridgeConf, reader: Reader) -> None:
        self.conf = conf
        self.reader = reader
        self.pages: set[Page] = set()
        self.placements = Placements(conf.misses_to_remove)
        self.state = message(type="reader", state="error", message="the reader is not open yet")
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="card-reader")

    def hello(self, page: Page) -> None:
        page.send(message(type="hello", reader=self.reader.name, version=VERSION))
        page.send(self.state)

    def broadcast(self, text: str) -> None:
        for page in list(self.pages):
            page.send(text)

    def set_state(self, state: str, text: str = "") -> None:
        now = message(type="reader", state=state, message=text)
        if now != self.state:
            (log.info if state == "ready" else log.warning)("reader %s: %s", state, text or "ready")
            self.state = now
            self.broadcast(now)

    async def call(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, work)

    async def open(self) -> bool:
        try:
            await self.call(self.reader.open)
        except Exception as exc:
            await self.fail(exc)
            return False
        self.set_state("ready")
        return True

    async def fail(self, exc: Exception) -> None:
        if not isinstance(exc, ReaderError):  # a driver's bug, not the device: its trace, no card in it
            log.error("the %s driver failed", self.reader.name, exc_info=exc)
        said = str(exc) if isinstance(exc, ReaderError) else f"the driver failed ({type(exc).__name__})"
        self.set_state("error", said)
        if self.placements.forget():
            self.broadcast(message(type="removed"))
        with contextlib.suppress(Exception):
            await self.call(self.reader.close)

    async def watch(self, opened: bool) -> None:
        """Poll the reader for ever; a failure closes it, and it is opened again after `retry_s`."""
        while True:
            while not opened:
                await asyncio.sleep(self.conf.retry_s)
                opened = await self.open()
            try:
                await self.poll()
            except Exception as exc:
                await self.fail(exc)
                opened = False
                continue
            await asyncio.sleep(self.conf.poll_s)

    async def poll(self) -> None:
        unreadable = None
        try:
            card: Card | None = await self.call(self.reader.read)
        except UnreadableCard as exc:
            card, unreadable = UNREADABLE, exc
        seen = self.placements.see(card)
        if seen == "removed":
            log.info("card removed")
            self.broadcast(message(type="removed"))
        elif isinstance(seen, Card):
            if unreadable is not None:  # said once per placement, as the card is
                log.warning("a card could not be read: %s", unreadable)
            self.deliver(seen)

    def deliver(self, card: Card) -> None:
        number = normalise_id(card.id_number)
        problem = id_problem(number)
        if problem is not None:
            if card is not UNREADABLE:
                log.warning("a card's number was not sent: %s", problem.en)
            self.broadcast(message(type="unreadable"))
            return
        log.info("card %s read: sent to %d page(s)", mask(number), len(self.pages))
        self.broadcast(message(type="card", name=clean_name(card.name), id_number=number))

    async def running(self, app: web.Application) -> AsyncIterator[None]:
        """cleanup_ctx: the reader opened before the first page is let in, polled while serving."""
        watching = asyncio.create_task(self.watch(await self.open()))
        yield
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
        with contextlib.suppress(Exception):
            await self.call(self.reader.close)
        self._thread.shutdown(wait=False, cancel_futures=True)


BRIDGE: Final = web.AppKey("bridge", Bridge)


def refuse(why: str) -> web.Response:
    return web.Response(status=403, text=f"clearhall kiosk-bridge: {why}\n")


async def connect(request: web.Request) -> web.StreamResponse:
    bridge = request.app[BRIDGE]
    asked = request.headers.get("Origin")
    if not is_loopback(request.url.host or ""):
        log.warning("refused a page that asked for another host")
        return refuse("this bridge answers on the loopback address only")
    if not bridge.conf.origins.allow(asked):
        log.warning("refused a page from %.100s", asked or "no origin")
        return refuse("pages of the hall server only (--allow-origin)")
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S)
    if not ws.can_prepare(request).ok:
        return web.Response(status=400, text="clearhall kiosk-bridge: a WebSocket, ws://127.0.0.1:PORT/\n")
    if len(bridge.pages) >= bridge.conf.most_pages:
        return web.Response(status=503, text="clearhall kiosk-bridge: too many pages\n")
    await ws.prepare(request)
    page = Page(ws)
    bridge.hello(page)
    bridge.pages.add(page)
    log.info("a page of %s connected", asked)
    writer = asyncio.create_task(page.write())
    try:
        async for _ in ws:  # the page says nothing; reading keeps pings and the close going
            pass
    finally:
        bridge.pages.discard(page)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await writer
    return ws


async def going_away(app: web.Application) -> None:
    for page in list(app[BRIDGE].pages):
        await page.ws.close(code=WSCloseCode.GOING_AWAY, message=b"the bridge stops")


def create_app(conf: BridgeConf, reader: Reader) -> web.Application:
    app = web.Application()
    bridge = Bridge(conf, reader)
    app[BRIDGE] = bridge
    app.router.add_get("/", connect)
    app.cleanup_ctx.append(bridge.running)
    app.on_shutdown.append(going_away)
    return app
