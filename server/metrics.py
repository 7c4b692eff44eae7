"""Metrics for Prometheus: `GET /metrics`, and what it counts (docs/observability.md).

Each app has its own registry (several apps in one test process never share a
series). Two kinds of figures:

- Counted as requests are answered, by the middleware `measure` (outermost, so
  it sees the status the error middleware gave): requests by method, route
  *pattern* and status, and the time a successful issue, call-next and
  办结并叫号 took. A path the router does not know is one label value,
  `unmatched`; a method outside HTTP's usual seven is `other`. No label ever
  holds a ticket, a key, a token or anything else a client chooses.
- Read when scraped: tickets waiting per service, printer states, the outboxes'
  backlogs and the action log's unchained tail from the database
  (`domain/readings.py`, one query each, bounded by what is current); this
  process's sockets by kind, its pool and its event listener; and the process
  itself (prometheus_client's default collectors).

Who may scrape: with `CLEARHALL_METRICS_TOKEN` set, whoever sends that bearer
token; without it, a client on this machine (a loopback address) that did not
come through a proxy. Anyone else gets the contract's 401 or 403.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import asyncpg
from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from clearhall.printer.status import PrinterState
from clearhall.server.api.routes import Handler
from clearhall.server.domain import errors, messages
from clearhall.server.domain.events import CLIENT_KINDS
from clearhall.server.domain.readings import Readings, read
from clearhall.server.domain.window_calls import Call
from clearhall.server.keys import DB, HALL, HUB, METRICS, PRINTING
from clearhall.server.store.credentials import bearer
from clearhall.server.store.db import DATABASE_DOWN

log = logging.getLogger(__name__)

TOKEN_ENV: Final = "CLEARHALL_METRICS_TOKEN"
# Headers a reverse proxy adds: a request that bears one came from elsewhere,
# even when the proxy on this machine made it look local.
PROXY_HEADERS: Final = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
READ_TIMEOUT_S: Final = 5.0  # a scrape never waits longer for the database

METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED: Final = "unmatched"  # every path the router does not know
# The requests whose duration is measured, by the name they have in the metrics.
TIMED: Final = {
    ("POST", "/api/tickets"): "issue",
    ("POST", f"/api/windows/{{n}}/{Call.CALL_NEXT}"): "call_next",
    ("POST", f"/api/windows/{{n}}/{Call.FINISH_AND_NEXT}"): "finish_and_call_next",
}
# From a millisecond to the 1.5 s wait for the printer and past it.
BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
PRINT_AGENT: Final = "print_agent"  # the print agents' sockets (printing/agents.py), beside the hub's


@dataclass(frozen=True)
class Now:
    """What a scrape read: the hall, the database's readings (None when the
    database did not answer in time) and this process's own state."""

    hall: str
    readings: Readings | None
    sockets: dict[str, int]
    pool_busy: int
    pool_idle: int
    listening: bool


class Metrics:
    """One app's registry: the counters the middleware moves, and the gauges of `Now`."""

    def __init__(self) -> None:
        disable_created_metrics()  # no `_created` twin of every counter (process-wide, and the same for all)
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.requests = Counter(
            "clearhall_http_requests",
            "HTTP requests answered, by method, route pattern and status",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.durations = Histogram(
            "clearhall_queue_action_seconds",
            "Time to answer a successful issue, call-next or finish-and-call-next, in seconds",
            ("action",),
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.timed = {action: self.durations.labels(action) for action in TIMED.values()}
        self.counted: dict[tuple[str, str, int], Counter] = {}  # label lookups are slow: once each
        self.current = Current()
        self.registry.register(self.current)
        self.database_read = True  # at the last scrape (a failure is logged when it starts and ends)

    def answered(self, request: web.Request, status: int, started: float) -> None:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else UNMATCHED
        method = request.method if request.method in METHODS else "other"
        key = (method, route, status)
        counter = self.counted.get(key)
        if counter is None:
            counter = self.counted[key] = self.requests.labels(method, route, str(status))
        counter.inc()
        action = TIMED.get((method, route))
        if action is not None and 200 <= status < 300:
            self.timed[action].observe(time.perf_counter() - started)

    def render(self, now: Now) -> bytes:
        """The text exposition, with `now` as the gauges (no await in between: scrapes don't mix)."""
        self.current.now = now
        try:
            return generate_latest(self.registry)
        finally:
            self.current.now = None


class Current:
    """The collector of the gauges read at scrape time."""

    def __init__(self) -> None:
        self.now: Now | None = None

    def collect(self) -> Iterator[Metric]:
        if self.now is not None:
            yield from gauges(self.now)


def gauges(now: Now) -> Iterator[Metric]:
    yield InfoMetricFamily("clearhall_hall", "The hall this process serves", value={"hall": now.hall})
    yield gauge(
        "clearhall_database_up", "1 when this scrape read the database in time", now.readings is not None
    )
    sockets = GaugeMetricFamily("clearhall_sockets", "Sockets open to this process, by kind", labels=["kind"])
    for kind, count in sorted(now.sockets.items()):
        sockets.add_metric([kind], count)
    yield sockets
    pool = GaugeMetricFamily(
        "clearhall_db_pool_connections", "This process's database connections, busy or idle", labels=["state"]
    )
    pool.add_metric(["busy"], now.pool_busy)
    pool.add_metric(["idle"], now.pool_idle)
    yield pool
    yield gauge(
        "clearhall_event_listener_up", "1 while this process has its LISTEN connection", now.listening
    )
    if now.readings is not None:
        yield from readings(now.readings)


def readings(r: Readings) -> Iterator[Metric]:
    waiting = GaugeMetricFamily("clearhall_tickets_waiting", "Tickets waiting by service", labels=["service"])
    for code, count in r.waiting.items():
        waiting.add_metric([code], count)
    yield waiting
    printers = GaugeMetricFamily(
        "clearhall_printer_state", "1 for each active printer's current state, 0 for the others",
        labels=["printer", "state"],
    )  # fmt: skip
    for name, state in r.printers.items():
        for each in PrinterState:
            printers.add_metric([name, each.value], int(each.value == state))
    yield printers
    depth = GaugeMetricFamily(
        "clearhall_outbox_depth", "Outbox rows not delivered yet: waiting their turn, or being sent",
        labels=["outbox", "status"],
    )  # fmt: skip
    oldest = GaugeMetricFamily(
        "clearhall_outbox_oldest_seconds", "Age of an outbox's oldest undelivered row (0: none)",
        labels=["outbox"],
    )  # fmt: skip
    for outbox, backlog in (("forward", r.forwarding), ("notify", r.notifying)):
        depth.add_metric([outbox, "waiting"], backlog.waiting)
        depth.add_metric([outbox, "sending"], backlog.sending)
        oldest.add_metric([outbox], backlog.oldest_s)
    yield depth
    yield oldest
    yield gauge("clearhall_chain_unsealed_entries", "Action log entries not chained yet", r.unsealed)
    yield gauge(
        "clearhall_chain_lag_seconds", "Age of the oldest action log entry not chained yet (0: none)",
        r.unsealed_oldest_s,
    )  # fmt: skip


def gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)


def measure(metrics: Metrics) -> Middleware:
    """The outermost middleware: count every answer, time the issues and calls."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # a redirect (the error middleware answers the rest)
            metrics.answered(request, exc.status, started)
            raise
        except Exception:
            metrics.answered(request, 500, started)
            raise
        metrics.answered(request, response.status, started)
        return response

    return middleware


# ------------------------------------------------------------------ GET /metrics


def may_scrape(request: web.Request) -> None:
    """The bearer token of CLEARHALL_METRICS_TOKEN when it is set (401 otherwise);
    without it, a loopback client not behind a proxy (403 otherwise)."""
    expected = os.environ.get(TOKEN_ENV, "").strip()
    if expected:
        given = bearer(request) or ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise errors.unauthorized()
        return
    if not from_this_machine(request):
        raise errors.forbidden(messages.METRICS_FROM_THIS_MACHINE)


def from_this_machine(request: web.Request) -> bool:
    if any(header in request.headers for header in PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.remote or "")
    except ValueError:
        return False  # a Unix socket, or nothing known: not provably local
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


async def scrape(request: web.Request) -> web.Response:
    may_scrape(request)
    app = request.app
    found: Readings | None = None
    metrics = app[METRICS]
    try:
        async with asyncio.timeout(READ_TIMEOUT_S), app[DB].acquire() as conn:
            found = await read(conn, app[HALL].id)
    except (TimeoutError, *DATABASE_DOWN, asyncpg.PostgresError) as exc:
        if metrics.database_read:  # once, not at every scrape while it lasts
            log.warning("/metrics could not read the database: %s", exc or type(exc).__name__)
        metrics.database_read = False
    else:
        if not metrics.database_read:
            log.info("/metrics reads the database again")
        metrics.database_read = True
    pool = app[DB]
    now = Now(
        hall=app[HALL].code,
        readings=found,
        sockets=sockets(app),
        pool_busy=pool.get_size() - pool.get_idle_size(),
        pool_idle=pool.get_idle_size(),
        listening=HUB in app and app[HUB].listener is not None,
    )
    return web.Response(body=metrics.render(now), headers={"Content-Type": CONTENT_TYPE_LATEST})


def sockets(app: web.Application) -> dict[str, int]:
    counts = dict.fromkeys((*CLIENT_KINDS, PRINT_AGENT), 0)
    if HUB in app:
        for client in app[HUB].clients:
            if not client.dropped:
                counts[client.kind] = counts.get(client.kind, 0) + 1
    if PRINTING in app:
        counts[PRINT_AGENT] = len(app[PRINTING].agents.links)
    return counts
