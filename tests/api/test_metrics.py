"""GET /metrics (issue 13, Production 5; docs/observability.md): a real server is used,
then scraped and parsed as Prometheus does, and every figure is checked against what
the test did; no label holds a ticket, key or token; and only this machine, or the
holder of CLEARHALL_METRICS_TOKEN, may read it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from clearhall.server.api.middleware import AccessLogger
from clearhall.server.app import create_app
from clearhall.server.cli import machine_addresses
from clearhall.server.domain import integrity
from clearhall.server.keys import DB, HALL, METRICS
from clearhall.server.metrics import TOKEN_ENV
from clearhall.server.sealing import OFF_ENV
from tests.conftest import DISPLAY, KIOSK, Api, app_client, settings_for
from tests.helpers import eventually

DOCS = Path(__file__).resolve().parents[2] / "docs"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(api: Api, **kw: Any) -> tuple[str, Samples]:
    """The exposition's text, and every sample by (name, labels)."""
    r = await api.get("/metrics", **kw)
    assert r.status == 200, r.body
    assert r.headers["Content-Type"].startswith("text/plain; version="), r.headers
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(r.body)
        for s in family.samples
    }
    return r.body, samples


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def requests(samples: Samples, method: str, route: str, status: int) -> float:
    return (
        sample(samples, "clearhall_http_requests_total", method=method, route=route, status=str(status)) or 0
    )


def timed(samples: Samples, action: str) -> float | None:
    return sample(samples, "clearhall_queue_action_seconds_count", action=action)


async def add_printers_and_outboxes(conn: asyncpg.Connection, ticket: dict[str, Any]) -> None:
    """Two agent printers (the poller leaves those alone), one inactive, and one
    undelivered row in each outbox (the test hall neither forwards nor notifies)."""
    await conn.execute(
        """INSERT INTO printers (hall_id, name, kiosk_id, address, active, state)
           SELECT d.hall_id, p.name, d.id, 'agent://', p.active, p.state FROM devices d,
                  (VALUES ('lobby', true, 'ready'), ('east', true, 'paper_out'), ('old', false, 'offline'))
                  AS p(name, active, state)
           WHERE d.kind = 'kiosk'"""
    )
    hall_id = await conn.fetchval("SELECT hall_id FROM tickets WHERE id = $1", ticket["id"])
    await conn.execute(
        "INSERT INTO forward_outbox (hall_id, kind, ref_id, idempotency_key) VALUES ($1, 'rating', 1, 'k-1')",
        hall_id,
    )
    await conn.execute(
        "INSERT INTO notify_outbox (hall_id, ticket_id, kind, ticket_number) VALUES ($1, $2, 'near', $3)",
        hall_id, ticket["id"], ticket["number"],
    )  # fmt: skip


async def test_the_figures_follow_what_happened(
    db_url: str, conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(OFF_ENV, "1")  # the test seals the log itself, to see the lag before and after
    async with app_client(create_app(settings_for(db_url))) as (server, api):
        _, before = await scrape(api)
        assert sample(before, "clearhall_database_up") == 1
        assert timed(before, "issue") == 0 and timed(before, "call_next") == 0

        tickets = [await api.issue("A") for _ in range(3)] + [await api.issue("C")]
        await api.sign_in("s1", 1)  # window 1 serves A
        first = await api.window("s1", 1, "call-next")
        assert first.status == 200 and first.body["ticket"]["number"] == tickets[0]["number"]
        both = await api.window("s1", 1, "finish-and-call-next")
        assert both.status == 200 and both.body["ticket"]["number"] == tickets[1]["number"]
        busy = await api.window("s1", 1, "call-next")  # its ticket is not finished: refused, not timed
        assert busy.status == 409, busy.body
        got = await api.get(f"/api/tickets/{tickets[2]['id']}?key={tickets[2]['key']}")
        assert got.status == 200
        missing = await api.get(f"/api/nothing/{tickets[3]['id']}")
        assert missing.status == 404
        odd = await api.request("PROPFIND", "/api/tickets")  # WebDAV: known to HTTP parsers, not to us
        assert odd.status == 405
        await add_printers_and_outboxes(conn, tickets[3])

        async with api.session.ws_connect(f"{api.base}/ws?token={DISPLAY}") as ws:
            assert json.loads((await ws.receive(timeout=5)).data)["type"] == "snapshot"
            text, now = await scrape(api)

        # requests, by the route's pattern and the status the client got
        assert requests(now, "GET", "/metrics", 200) == 1  # the scrape before: this one counts next time
        assert requests(now, "POST", "/api/tickets", 201) == 4
        assert requests(now, "POST", "/api/windows/{n}/sign-in", 200) == 1
        assert requests(now, "POST", "/api/windows/{n}/call-next", 200) == 1
        assert requests(now, "POST", "/api/windows/{n}/call-next", 409) == 1
        assert requests(now, "POST", "/api/windows/{n}/finish-and-call-next", 200) == 1
        assert requests(now, "GET", "/api/tickets/{id}", 200) == 1
        assert requests(now, "GET", "unmatched", 404) == 1
        assert requests(now, "other", "unmatched", 405) == 1
        assert requests(now, "GET", "/ws", 101) == 0  # a socket counts when it closes
        # the durations of the successful issues and calls only
        assert timed(now, "issue") == 4
        assert timed(now, "call_next") == 1
        assert timed(now, "finish_and_call_next") == 1
        bucket = sample(now, "clearhall_queue_action_seconds_bucket", action="issue", le="+Inf")
        assert bucket == 4
        assert 0 < (sample(now, "clearhall_queue_action_seconds_sum", action="issue") or 0) < 10
        # read from the database as it is now
        assert sample(now, "clearhall_tickets_waiting", service="A") == 1
        assert sample(now, "clearhall_tickets_waiting", service="B") == 0
        assert sample(now, "clearhall_tickets_waiting", service="C") == 1
        assert sample(now, "clearhall_printer_state", printer="lobby", state="ready") == 1
        assert sample(now, "clearhall_printer_state", printer="lobby", state="paper_out") == 0
        assert sample(now, "clearhall_printer_state", printer="east", state="paper_out") == 1
        assert sample(now, "clearhall_printer_state", printer="east", state="ready") == 0
        assert not any(n == "clearhall_printer_state" and ("printer", "old") in labels for n, labels in now)
        assert sample(now, "clearhall_outbox_depth", outbox="forward", status="waiting") == 1
        assert sample(now, "clearhall_outbox_depth", outbox="notify", status="waiting") == 1
        assert sample(now, "clearhall_outbox_depth", outbox="notify", status="sending") == 0
        assert 0 <= (sample(now, "clearhall_outbox_oldest_seconds", outbox="forward") or -1) < 60
        # this process: its sockets, its pool, its listener, the process itself
        assert sample(now, "clearhall_sockets", kind="display") == 1
        assert sample(now, "clearhall_sockets", kind="kiosk") == 0
        assert sample(now, "clearhall_sockets", kind="print_agent") == 0
        assert sample(now, "clearhall_event_listener_up") == 1
        pool = server.app[DB]
        assert sample(now, "clearhall_db_pool_connections", state="idle") == pool.get_idle_size()
        assert (
            sample(now, "clearhall_db_pool_connections", state="busy")
            == pool.get_size() - pool.get_idle_size()
        )
        assert sample(now, "clearhall_hall_info", hall=server.app[HALL].code) == 1
        assert (sample(now, "process_resident_memory_bytes") or 0) > 0
        # the log is not chained while the sealer is off: the lag shows, then goes
        assert (sample(now, "clearhall_chain_unsealed_entries") or 0) >= 7  # 4 issues, sign-in, 2 calls
        assert (sample(now, "clearhall_chain_lag_seconds") or 0) > 0
        hall_id = await conn.fetchval("SELECT hall_id FROM tickets WHERE id = $1", tickets[0]["id"])
        await integrity.seal(conn, hall_id)

        async def socket_ended() -> bool:  # its handler returns just after the client saw it close
            return ("GET", "/ws", 101) in server.app[METRICS].counted

        await eventually(socket_ended)
        _, sealed = await scrape(api)
        assert sample(sealed, "clearhall_chain_unsealed_entries") == 0
        assert sample(sealed, "clearhall_chain_lag_seconds") == 0
        assert sample(sealed, "clearhall_sockets", kind="display") == 0  # closed
        assert requests(sealed, "GET", "/ws", 101) == 1
        assert requests(sealed, "GET", "/metrics", 200) == 2

        # nothing a client chose, and nothing secret, is a label
        for ticket in tickets:
            for field in ("id", "key", "number"):
                assert ticket[field] not in text, (field, ticket[field])
        for secret in (KIOSK, DISPLAY, *api.tokens.values()):
            assert secret not in text
        routes = {dict(labels)["route"] for name, labels in now if name == "clearhall_http_requests_total"}
        patterns = {resource.canonical for resource in server.app.router.resources()}
        assert routes <= patterns | {"unmatched"}, routes - patterns


async def test_the_hall_is_named_and_the_database_gauges_are_hall_wide(api: Api) -> None:
    _, now = await scrape(api)
    halls = [dict(labels)["hall"] for name, labels in now if name == "clearhall_hall_info"]
    assert len(halls) == 1 and halls[0]
    assert {dict(labels)["service"] for name, labels in now if name == "clearhall_tickets_waiting"} == {
        "A",
        "B",
        "C",
    }


async def test_without_the_database_a_scrape_still_answers(db_url: str, pg_url: str) -> None:
    """The process's own figures, and `clearhall_database_up 0` instead of the hall's."""
    async with app_client(create_app(settings_for(db_url))) as (_, api):
        _, up = await scrape(api)
        assert (
            sample(up, "clearhall_database_up") == 1
            and sample(up, "clearhall_tickets_waiting", service="A") == 0
        )
        admin = await asyncpg.connect(pg_url)
        try:  # gone for good: the pool's connections are cut and new ones refused
            await admin.execute(f"DROP DATABASE {db_url.partition('?')[0].rpartition('/')[2]} WITH (FORCE)")
        finally:
            await admin.close()
        for _ in range(2):  # the first finds the pool's connections cut, the second cannot connect
            _, down = await scrape(api)
            assert sample(down, "clearhall_database_up") == 0
            assert not any(
                name.startswith(("clearhall_tickets", "clearhall_chain", "clearhall_outbox"))
                for name, _ in down
            )
            assert sample(down, "clearhall_sockets", kind="display") == 0
            assert (sample(down, "process_resident_memory_bytes") or 0) > 0


async def test_a_request_through_a_proxy_is_refused(api: Api) -> None:
    """A proxy on this machine makes every client look local: its headers give it away."""
    for header in (
        {"X-Forwarded-For": "203.0.113.9"},
        {"X-Real-IP": "203.0.113.9"},
        {"Forwarded": "for=1.2.3.4"},
    ):
        r = await api.get("/metrics", headers=header)
        assert r.status == 403 and r.body["ok"] is False and r.body["error"]["code"] == "forbidden", r.body


async def test_with_a_token_only_its_holder_may_scrape(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    token = "metrics-token-for-a-test-9f2c"
    monkeypatch.setenv(TOKEN_ENV, token)
    for wrong in (None, "not-the-token", token + "x"):
        r = await api.get("/metrics", token=wrong)
        assert r.status == 401 and r.body["error"]["code"] == "unauthorized", r.body
    await scrape(api, token=token)
    # from anywhere, a proxy too, with the token
    await scrape(api, token=token, headers={"X-Forwarded-For": "203.0.113.9"})


async def test_another_machine_is_refused(db_url: str) -> None:
    """A real request from a non-loopback address of this machine (the server listens on all)."""
    addresses = machine_addresses()
    if not addresses:
        pytest.skip("this machine has no network address besides loopback")
    server = TestServer(create_app(settings_for(db_url)), host="0.0.0.0")
    await server.start_server(access_log_class=AccessLogger)
    try:
        async with ClientSession() as session:
            async with session.get(f"http://{addresses[0]}:{server.port}/metrics") as r:
                body = await r.json()
                assert r.status == 403 and body["error"]["code"] == "forbidden", body
            async with session.get(f"http://127.0.0.1:{server.port}/metrics") as r:
                assert r.status == 200
    finally:
        await server.close()


def test_each_app_has_its_own_registry(db_url: str) -> None:
    one, two = create_app(settings_for(db_url)), create_app(settings_for(db_url))
    assert one[METRICS].registry is not two[METRICS].registry
    assert REGISTRY not in (one[METRICS].registry, two[METRICS].registry)


async def test_the_guide_and_the_dashboard_name_real_metrics(api: Api) -> None:
    """docs/observability.md lists every clearhall_ metric; the Grafana dashboard uses
    only metrics the server has, with the datasource as a variable."""
    text, _ = await scrape(api)
    families = {f.name for f in text_string_to_metric_families(text)}
    ours = {name for name in families if name.startswith("clearhall_")}
    guide = (DOCS / "observability.md").read_text(encoding="utf-8")
    assert not [name for name in ours if f"`{name}" not in guide]

    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text(encoding="utf-8"))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["DS_PROMETHEUS"]["query"] == "prometheus"
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len(panels) >= 7
    used = set()
    for panel in panels:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
            used |= set(re.findall(r"\b(?:clearhall|process|python)_\w+", target["expr"]))
    known = {re.sub(r"_(bucket|count|sum|total|info)$", "", name) for name in used}
    assert known <= families, known - families
    assert {"clearhall_http_requests", "clearhall_queue_action_seconds", "clearhall_tickets_waiting",
            "clearhall_sockets", "clearhall_printer_state", "clearhall_outbox_depth",
            "clearhall_chain_lag_seconds"} <= known  # fmt: skip
